import type { Tensor } from '../tensor.js';
import { noGrad } from '../engine/grad-mode.js';
import { eye } from '../creation.js';
import { narrow, reshape } from '../ops/shape.js';
import { treeMap, type WithLeaves } from '../tree.js';
import { checkFunction, flatten, hasAuxOption, positions, splitAux, vjp, type Argnums, type ArgnumsOption, type GradsAt, type NoArgnums } from '../functional.js';
import { checkOptions } from '../options.js';
import { vmap } from './vmap.js';

/**
 * The Jacobian of f by reverse mode, as JAX's `jacrev` and `torch.func.jacrev`: the pullback of
 * f mapped with `vmap` over the rows of the identity, so every row comes from one batched pass
 * instead of one backward pass per output element (`jacobian` loops). Same results and structure
 * as `jacobian`: for a Tensor output and argument, shape [...output.shape, ...input.shape];
 * structures nest as JAX nests them. Composes with vmap and grad (`vmap(jacrev(f))` gives
 * per-example Jacobians; `jacrev(jacrev(f))` a Hessian). With `hasAux`, f returns `[output, aux]`
 * and the result is `[jacobian, aux]`, aux taken at the primals (JAX's `has_aux`).
 *
 * NOTE: the forward runs inside the vmap over the rows (batched), so that the rows' pullbacks are
 * each a batch of an ordinary backward: every op's batching rule applies, and no VJP needs one.
 * @throws ArgumentError as `jacobian`, or (naming the op) for an op of f without a batching rule.
 * @example jacrev((x: Tensor) => x.sin())(x) // diag(cos x)
 */
export function jacrev<A extends unknown[], O>(f: (...args: A) => O, options?: NoArgnums & { hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, 0>>;
export function jacrev<A extends unknown[], O, const N extends Argnums>(f: (...args: A) => O, options: { argnums: N; hasAux?: false }): (...args: A) => WithLeaves<O, GradsAt<A, N>>;
export function jacrev<A extends unknown[], O, Aux>(f: (...args: A) => readonly [O, Aux], options: NoArgnums & { hasAux: true }): (...args: A) => [WithLeaves<O, GradsAt<A, 0>>, Aux];
export function jacrev<A extends unknown[], O, Aux, const N extends Argnums>(
  f: (...args: A) => readonly [O, Aux],
  options: { argnums: N; hasAux: true },
): (...args: A) => [WithLeaves<O, GradsAt<A, N>>, Aux];
export function jacrev(f: (...args: unknown[]) => unknown, options: ArgnumsOption & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  checkFunction('jacrev', f);
  checkOptions('jacrev', options, ['argnums', 'hasAux']);
  const { argnums = 0 } = options;
  const hasAux = hasAuxOption('jacrev', options);
  return (...args: unknown[]) => {
    const which = positions('jacrev', argnums, args.length);
    // One forward for the output's structure and sizes, which give the rows; aux is taken from
    // it, at the primals, as JAX's has_aux.
    const [first, aux] = splitAux('jacrev', noGrad(() => f(...args)), hasAux);
    const { leaves: ys, def: outDef } = flatten('jacrev', "the function's output", first);
    const total = ys.reduce((n, y) => n + y.size, 0);
    const offsets: number[] = [];
    const basis = ys.map((y) => {
      offsets.push(offsets.length === 0 ? 0 : offsets[offsets.length - 1]! + ys[offsets.length - 1]!.size);
      return reshape(narrow(eye(total, total, { dtype: y.dtype }), 1, offsets[offsets.length - 1]!, y.size), [total, ...y.shape]);
    });
    const rowsOf = (...cotangents: Tensor[]): unknown[] => {
      const call = (...primals: unknown[]): unknown => {
        const full = [...args];
        which.forEach((i, k) => (full[i] = primals[k]));
        return splitAux('jacrev', f(...full), hasAux)[0];
      };
      const { pullback } = vjp(call, ...which.map((i) => args[i]));
      return pullback(outDef.unflatten(cotangents) as never) as unknown[];
    };
    const rows = vmap(rowsOf)(...basis);
    const perOutput = ys.map((y, k) => {
      const grouped = rows.map((struct) => treeMap((leaf: Tensor) => reshape(narrow(leaf, 0, offsets[k]!, y.size), [...y.shape, ...leaf.shape.slice(1)]), struct));
      return typeof argnums === 'number' ? grouped[0] : grouped;
    });
    const jac = outDef.unflatten(perOutput);
    return hasAux ? [jac, aux] : jac;
  };
}

import { ArgumentError, GraphError } from './errors.js';
import { formatShape } from './shape.js';
import { makeOutput, scalarTensor, Tensor, type TensorLike } from './tensor.js';
import { noGrad } from './engine/grad-mode.js';
import { checkSameDType } from './ops/operands.js';
import { takeFresh } from './engine/fresh-grads.js';
import { primitive } from './engine/dispatch.js';

/** What a custom op's backward receives besides the output gradient. */
export interface CustomOpContext {
  /** The op's inputs, as tensors (numbers were turned into 0-d tensors). */
  readonly inputs: readonly Tensor[];
  /** The forward result. */
  readonly output: Tensor;
}

/** The definition of a custom op. */
export interface CustomOpDefinition {
  /** Shown in errors and graph dumps. */
  name: string;
  /**
   * Computes the result; runs with graph recording off, so it may use Tensor ops or build the
   * result from raw typed arrays (`new Tensor(data, shape)`).
   */
  forward: (...inputs: Tensor[]) => Tensor;
  /**
   * The vector-Jacobian product: one gradient per input (null for none), each of that input's
   * shape, or of the output's shape where forward broadcast the input (the engine sums it back).
   * Written in Tensor ops, it is differentiable and the op supports higher-order gradients.
   */
  backward: (grad: Tensor, ctx: CustomOpContext) => Tensor | null | readonly (Tensor | null)[];
  /**
   * The op's batching rule, for `vmap`: gets the inputs with the batch as dimension 0
   * (`batched[i]` false for an input that has none, which broadcasts as it is) and returns the
   * output with the batch as dimension 0, usually by calling the op itself on them. Without it,
   * vmap of the op is an error naming it.
   */
  vmap?: (inputs: Tensor[], batched: boolean[]) => Tensor;
  /**
   * The Jacobian-vector product, for forward mode (`jvp`, `jacfwd`, `hessian`): the output's
   * tangent (of the output's shape, or null for zero) from one tangent per input (null where an
   * input has none). Written in Tensor ops, so it nests. Optional: without it, a tangent reaching
   * the op is a GraphError naming it.
   */
  jvp?: (tangents: readonly (Tensor | null)[], ctx: CustomOpContext) => Tensor | null;
}

/**
 * Defines a differentiable op from a forward and its vector-Jacobian product. The result behaves
 * as a built-in op: it records the graph only when an input requires grad (so it works under
 * `noGrad`), its name appears in errors and `toDot`, and gradcheck validates it. PyTorch's
 * counterpart is a `torch.autograd.Function` subclass.
 * @throws ArgumentError (when defined) unless the definition has a non-empty name and two functions;
 * (when called) for an argument that is neither a Tensor nor a number, no Tensor argument, or a
 * forward that returns no Tensor.
 * @throws GraphError (in backward) if backward returns a wrong number of gradients or one of the
 * wrong shape, naming the op.
 * @example
 * const logCosh = customOp({
 *   name: 'logCosh',
 *   forward: (x) => x.abs().add(x.abs().mul(-2).exp().log1p()).sub(Math.LN2),
 *   backward: (g, { inputs: [x] }) => g.mul(x!.tanh()),
 * });
 */
export function customOp(definition: CustomOpDefinition): (...inputs: TensorLike[]) => Tensor {
  const { name, forward, backward, vmap, jvp } = definition;
  if (typeof name !== 'string' || name === '' || typeof forward !== 'function' || typeof backward !== 'function') {
    throw new ArgumentError('customOp: needs { name, forward, backward } with a non-empty name and two functions');
  }
  if (vmap !== undefined && typeof vmap !== 'function') throw new ArgumentError(`customOp: ${name}'s vmap rule must be a function`);
  if (jvp !== undefined && typeof jvp !== 'function') throw new ArgumentError(`customOp: jvp of '${name}' must be a function when given`);
  return primitive(name, { kind: 'other', rule: 'custom', customRule: vmap }, (...args: TensorLike[]) => {
    const reference = args.find((a): a is Tensor => a instanceof Tensor);
    if (reference === undefined) throw new ArgumentError(`${name}: needs at least one Tensor argument`);
    const inputs = args.map((a, i) => {
      if (typeof a === 'number') return scalarTensor(a, reference.dtype);
      if (!(a instanceof Tensor)) throw new ArgumentError(`${name}: argument ${i} must be a Tensor or a number`);
      return a;
    });
    checkSameDType(name, ...inputs);
    const result: unknown = noGrad(() => forward(...inputs.map((t) => t.detach())));
    if (!(result instanceof Tensor)) {
      throw new ArgumentError(`${name}: forward must return a Tensor, got ${describeValue(result)}`);
    }
    // The forward's storage may be anything the user holds: never a fresh gradient.
    return makeOutput(name, result.data, result.shape, inputs, (g, output) => {
      // User code may keep the gradient it sees, so no .grad may take that buffer as its own.
      takeFresh(g);
      const raw: unknown = backward(g, { inputs, output });
      const grads = raw === null || raw instanceof Tensor ? [raw] : Array.isArray(raw) ? [...(raw as unknown[])] : null;
      if (grads === null) {
        throw new GraphError(
          `${name}: backward must return a Tensor, null, or an array with one of those per input, got ${describeValue(raw)}`,
        );
      }
      if (grads.length !== inputs.length) {
        throw new GraphError(`${name}: backward returned ${grads.length} gradient(s) for ${inputs.length} input(s) (${inputs.map((t) => formatShape(t.shape)).join(', ')})`);
      }
      grads.forEach((gi, i) => {
        if (gi !== null && gi !== undefined && !(gi instanceof Tensor)) {
          throw new GraphError(`${name}: backward returned ${describeValue(gi)} as the gradient of input ${i} (shape ${formatShape(inputs[i]!.shape)}); return a Tensor of that shape, or null`);
        }
      });
      // Nor what it returns: user code may keep it.
      for (const gi of grads) if (gi instanceof Tensor) takeFresh(gi);
      return grads as (Tensor | null)[];
      // The backward may read any input and the output: the default saves all of them.
    }, {
      storage: 'shared',
      jvp: jvp === undefined ? undefined : (tangents, output) => {
        // User code may keep the tangents it sees and what it returns: never storage jvp gives back.
        for (const ti of tangents) if (ti !== null) takeFresh(ti);
        const t: unknown = jvp(tangents, { inputs, output });
        if (t !== null && !(t instanceof Tensor)) throw new GraphError(`${name}: jvp must return a Tensor or null, got ${describeValue(t)}`);
        if (t !== null) takeFresh(t);
        return t;
      },
    });
  });
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : `${typeof value} ${String(value)}`;
}

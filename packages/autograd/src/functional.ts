import { ArgumentError } from './errors.js';
import { formatShape } from './shape.js';
import { Tensor } from './tensor.js';
import { enableGrad, isGradEnabled } from './engine/grad-mode.js';
import { gradients } from './engine/gradients.js';
import { zeros } from './creation.js';
import { concat, reshape, stack } from './ops/shape.js';

/** An argument of a transformed function: a tensor or a list of tensors (e.g. a model's parameters). */
export type Arg = Tensor | readonly Tensor[];

/** Which arguments to differentiate with respect to. */
export interface ArgnumsOption {
  /** An argument position, or several (default 0). */
  argnums?: number | readonly number[];
}

/**
 * NOTE: transforms run f with recording on even inside `noGrad`, as torch.func does: a function
 * transform's result must not depend on a context outside f. The outer mode only decides
 * whether the results themselves stay on a graph (`nested`).
 */

/**
 * Inputs to differentiate with respect to: tensors already on a graph are used as they are
 * (so transforms nest), others become fresh leaves sharing their storage.
 */
function track(arg: Arg): Arg {
  const one = (t: Tensor): Tensor => {
    if (!(t instanceof Tensor)) throw new ArgumentError('grad: arguments to differentiate must be Tensors or arrays of Tensors');
    return t.requiresGrad ? t : new Tensor(t.data, t.shape, { requiresGrad: true });
  };
  return arg instanceof Tensor ? one(arg) : arg.map(one);
}

function leaves(arg: Arg): readonly Tensor[] {
  return arg instanceof Tensor ? [arg] : arg;
}

function regroup(args: readonly Arg[], flat: readonly Tensor[]): Tensor | Tensor[] | (Tensor | Tensor[])[] {
  let at = 0;
  return args.map((a) => {
    if (a instanceof Tensor) return flat[at++]!;
    const n = a.length;
    at += n;
    return flat.slice(at - n, at);
  });
}

function positions(op: string, argnums: number | readonly number[], count: number): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      throw new ArgumentError(`${op}: argnums ${JSON.stringify(argnums)} is out of range for ${count} argument(s)`);
    }
  }
  return list;
}

function expectScalar(op: string, out: unknown): Tensor {
  if (!(out instanceof Tensor)) throw new ArgumentError(`${op}: the function must return a Tensor`);
  if (out.size !== 1) {
    throw new ArgumentError(`${op}: the function must return a one-element tensor, got shape ${formatShape(out.shape)}; use vjp or jacobian for other outputs`);
  }
  return out;
}

/** Result of `valueAndGrad`. */
export interface ValueAndGrad<Aux = undefined> {
  /** f's value, a one-element tensor (on the graph when the transform is nested). */
  value: Tensor;
  /** One entry per argnum: a Tensor, or an array for an array argument. With a single argnum, that entry alone. */
  grads: Tensor | Tensor[] | (Tensor | Tensor[])[];
  /** What f returned beside its value with `hasAux` (undefined without). */
  aux: Aux;
}

/**
 * Transforms f (returning a scalar Tensor) into a function returning its value and its gradient
 * with respect to the arguments in `argnums`. With `hasAux`, f returns `[value, aux]`.
 * The result stays on the graph when an input does, so transforms nest. JAX's `value_and_grad`;
 * an input f does not use gets a zero gradient (JAX's behaviour; PyTorch's autograd.grad throws).
 * @throws ArgumentError if f returns something other than a one-element Tensor, or an argnum is
 * out of range; f's own errors pass through.
 * @example const { value, grads } = valueAndGrad((w: Tensor) => loss(w))(w)
 */
export function valueAndGrad<Args extends Arg[], Aux = undefined>(
  f: (...args: Args) => Tensor | [Tensor, Aux],
  options: ArgnumsOption & { hasAux?: boolean } = {},
): (...args: Args) => ValueAndGrad<Aux> {
  const { argnums = 0, hasAux = false } = options;
  return (...args: Args) => {
    const which = positions('valueAndGrad', argnums, args.length);
    const nested = isGradEnabled() && which.some((i) => leaves(args[i]!).some((t) => t.requiresGrad));
    const callArgs = [...args] as Arg[];
    for (const i of which) callArgs[i] = track(args[i]!);
    const result = enableGrad(() => f(...(callArgs as Args)));
    if (hasAux && !(Array.isArray(result) && result.length === 2)) {
      throw new ArgumentError(`valueAndGrad: with hasAux the function must return [output, aux], got ${result instanceof Tensor ? 'a Tensor' : typeof result}`);
    }
    const [raw, aux] = hasAux ? (result as [Tensor, Aux]) : [result as Tensor, undefined as Aux];
    const value = expectScalar('valueAndGrad', raw);
    const wrt = which.map((i) => callArgs[i]!);
    const flat = value.requiresGrad
      ? enableGrad(() => gradients([value], wrt.flatMap(leaves), { createGraph: nested, allowUnused: true }))
      : wrt.flatMap(leaves).map((t) => zeros(t.shape, { dtype: t.dtype }));
    const grouped = regroup(wrt, flat) as (Tensor | Tensor[])[];
    return { value: nested ? value : value.detach(), grads: typeof argnums === 'number' ? grouped[0]! : grouped, aux };
  };
}

/**
 * Transforms f (returning a scalar Tensor) into its gradient function, as JAX's `grad` (and
 * `torch.func.grad`). Nests: `grad(grad(f))`. With an array `argnums` the result is an array.
 * @throws ArgumentError as `valueAndGrad`.
 * @example grad((x: Tensor) => x.pow(3).sum())(x) // 3x²
 */
export function grad<Args extends Arg[]>(f: (...args: Args) => Tensor, options: ArgnumsOption = {}): (...args: Args) => Tensor {
  const vg = valueAndGrad(f, options);
  return (...args: Args) => vg(...args).grads as Tensor;
}

/** Result of `vjp`: f's output and its pullback. */
export interface VjpResult {
  /** f's output at the primals. */
  output: Tensor;
  /** Maps a cotangent of the output's shape to one gradient per primal. Callable many times. */
  pullback: (cotangent: Tensor) => Tensor[];
}

/**
 * Evaluates f at `primals` and returns the output with its vector-Jacobian pullback, as JAX's
 * `vjp` (and `torch.func.vjp`).
 * @throws ArgumentError if f does not return a Tensor; the pullback throws a ShapeError for a
 * cotangent of another shape than the output's.
 * @example const { output, pullback } = vjp((x: Tensor) => x.sin(), x); pullback(ones(x.shape))
 */
export function vjp(f: (...primals: Tensor[]) => Tensor, ...primals: Tensor[]): VjpResult {
  const nested = isGradEnabled() && primals.some((t) => t.requiresGrad);
  const xs = primals.map((p) => track(p) as Tensor);
  const output = enableGrad(() => f(...xs));
  if (!(output instanceof Tensor)) throw new ArgumentError('vjp: the function must return a Tensor');
  return {
    output: nested ? output : output.detach(),
    pullback: (cotangent: Tensor) => {
      if (!output.requiresGrad) return xs.map((x) => zeros(x.shape, { dtype: x.dtype }));
      return enableGrad(() => gradients([output], xs, { gradOutputs: [cotangent], retainGraph: true, createGraph: nested, allowUnused: true }));
    },
  };
}

/** Result of `jvp`. */
export interface JvpResult {
  /** f's output at the primals. */
  output: Tensor;
  /** J·v: the directional derivative of the output along the tangents. */
  tangent: Tensor;
}

/**
 * Forward-mode product J·v, computed by the double-VJP trick: u ↦ Jᵀu is linear in u, and its
 * own VJP with cotangent v is J·v. (JAX's `jvp` is true forward mode; this costs two reverse
 * passes but gives the same numbers.)
 * @throws ArgumentError if tangents and primals differ in number or f does not return a Tensor.
 * @throws ShapeError if a tangent's shape differs from its primal's.
 * @example jvp((x: Tensor) => x.exp(), [x], [v]).tangent // exp(x)·v
 */
export function jvp(f: (...primals: Tensor[]) => Tensor, primals: readonly Tensor[], tangents: readonly Tensor[]): JvpResult {
  if (primals.length !== tangents.length) {
    throw new ArgumentError(`jvp: got ${tangents.length} tangents for ${primals.length} primals`);
  }
  const nested = isGradEnabled() && primals.some((t) => t.requiresGrad);
  return enableGrad(() => jvpRecorded(f, primals, tangents, nested));
}

function jvpRecorded(f: (...primals: Tensor[]) => Tensor, primals: readonly Tensor[], tangents: readonly Tensor[], nested: boolean): JvpResult {
  const xs = primals.map((p) => track(p) as Tensor);
  const output = f(...xs);
  if (!(output instanceof Tensor)) throw new ArgumentError('jvp: the function must return a Tensor');
  if (!output.requiresGrad) return { output, tangent: zeros(output.shape, { dtype: output.dtype }) };
  const u = zeros(output.shape, { dtype: output.dtype, requiresGrad: true });
  const jtu = gradients([output], xs, { gradOutputs: [u], createGraph: true, allowUnused: true });
  const live = jtu.map((g, i) => [g, tangents[i]!] as const).filter(([g]) => g.requiresGrad);
  if (live.length === 0) return { output: nested ? output : output.detach(), tangent: zeros(output.shape, { dtype: output.dtype }) };
  const [tangent] = gradients(live.map(([g]) => g), [u], { gradOutputs: live.map(([, t]) => t), createGraph: nested, allowUnused: true });
  return { output: nested ? output : output.detach(), tangent: tangent! };
}

/** Result of `hvp`. */
export interface HvpResult {
  /** f's value at the primals. */
  output: Tensor;
  /** H·v, one tensor per primal. */
  hvp: Tensor[];
}

/**
 * Hessian-vector product of a scalar f: the gradient of <∇f, v>, without forming the Hessian
 * (`torch.autograd.functional.hvp`).
 * @throws ArgumentError if vectors and primals differ in number or f does not return a one-element Tensor.
 * @throws ShapeError if a vector's shape differs from its primal's.
 * @example hvp((x: Tensor) => x.pow(3).sum(), [x], [v]).hvp[0] // 6x·v
 */
export function hvp(f: (...primals: Tensor[]) => Tensor, primals: readonly Tensor[], v: readonly Tensor[]): HvpResult {
  if (primals.length !== v.length) throw new ArgumentError(`hvp: got ${v.length} vectors for ${primals.length} primals`);
  const nested = isGradEnabled() && primals.some((t) => t.requiresGrad);
  return enableGrad(() => hvpRecorded(f, primals, v, nested));
}

function hvpRecorded(f: (...primals: Tensor[]) => Tensor, primals: readonly Tensor[], v: readonly Tensor[], nested: boolean): HvpResult {
  const xs = primals.map((p) => track(p) as Tensor);
  const output = expectScalar('hvp', f(...xs));
  const zerosFor = (): Tensor[] => xs.map((x) => zeros(x.shape, { dtype: x.dtype }));
  if (!output.requiresGrad) return { output, hvp: zerosFor() };
  const g = gradients([output], xs, { createGraph: true, allowUnused: true });
  const live = g.map((gi, i) => [gi, v[i]!] as const).filter(([gi]) => gi.requiresGrad);
  const result = live.length === 0
    ? zerosFor()
    : gradients(live.map(([gi]) => gi), xs, { gradOutputs: live.map(([, vi]) => vi), createGraph: nested, allowUnused: true });
  return { output: nested ? output : output.detach(), hvp: result };
}

/**
 * The Jacobian of f with respect to argument `argnums` (reverse mode: one pullback per output
 * element), of shape [...output.shape, ...input.shape], as `torch.func.jacrev` / JAX's `jacrev`.
 * @throws ArgumentError if f does not return a Tensor or `argnums` is out of range.
 * @example jacobian((x: Tensor) => x.softmax())(x) // [n, n]
 */
export function jacobian(f: (...args: Tensor[]) => Tensor, options: { argnums?: number } = {}): (...args: Tensor[]) => Tensor {
  const { argnums = 0 } = options;
  return (...args: Tensor[]) => {
    positions('jacobian', argnums, args.length);
    const nested = isGradEnabled() && args[argnums]!.requiresGrad;
    const callArgs = [...args];
    const x = track(args[argnums]!) as Tensor;
    callArgs[argnums] = x;
    const out = enableGrad(() => f(...callArgs));
    if (!(out instanceof Tensor)) throw new ArgumentError('jacobian: the function must return a Tensor');
    if (!out.requiresGrad || out.size === 0) return zeros([...out.shape, ...x.shape], { dtype: x.dtype });
    const rows: Tensor[] = [];
    const flatOut = reshape(out, [out.size]);
    for (let j = 0; j < out.size; j++) {
      const e = zeros([out.size], { dtype: out.dtype });
      e.data[j] = 1;
      rows.push(enableGrad(() => gradients([flatOut], [x], { gradOutputs: [e], retainGraph: true, createGraph: nested, allowUnused: true }))[0]!);
    }
    return reshape(stack(rows, 0), [...out.shape, ...x.shape]);
  };
}

/**
 * The Hessian of a scalar f with respect to argument `argnums`: the Jacobian of its gradient,
 * of shape [...x.shape, ...x.shape], as `torch.func.hessian`.
 * @throws ArgumentError if f does not return a one-element Tensor or `argnums` is out of range.
 * @example hessian((x: Tensor) => x.pow(3).sum())(x) // diag(6x)
 */
export function hessian(f: (...args: Tensor[]) => Tensor, options: { argnums?: number } = {}): (...args: Tensor[]) => Tensor {
  const { argnums = 0 } = options;
  return jacobian((...args: Tensor[]) => grad(f, { argnums })(...args), { argnums });
}

/** Every element of the tensors, in order, as one vector: how several gradients are compared at once. */
export function flattenAll(ts: readonly Tensor[]): Tensor {
  if (ts.length === 0) return zeros([0], { dtype: 'float64' });
  return concat(ts.map((t) => reshape(t, [t.size])), 0);
}

import { ArgumentError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, type Shape } from '../shape.js';
import { Tensor, describe } from '../tensor.js';
import { activeInterpreters, belowLevel, splitArguments, withInterpreter, type Interpreter, type Primitive } from '../engine/dispatch.js';
import { expand, reshape, unsqueeze } from '../ops/shape.js';
import { movedim } from '../ops/rearrange.js';
import { argsort } from '../ops/order.js';
import { rand } from '../creation.js';
import type { Generator } from '../random.js';
import { flattenTree, isTensor, treeBroadcastPrefix, treeFlatten, treeUnflatten } from '../tree.js';
import { BatchedTensor } from './batched.js';
import { ruleFor, wrap, type BatchContext, type Randomness } from './rules.js';

export type { Randomness } from './rules.js';

/**
 * Where the batch dimension is, per argument (`inAxes`) or per output (`outAxes`): a number (an
 * axis, negative from the end), null (not batched), or a structure of those matching the
 * arguments down to some depth (JAX's tree prefix: `[null, 0, 0]` for three arguments, `{ w: 0,
 * b: null }` inside one).
 */
export type Axes = number | null | undefined | readonly Axes[] | { readonly [key: string]: Axes };

/** Options of `vmap`. */
export interface VmapOptions {
  /** The batch axis of each argument (default 0 for every tensor); see `Axes`. */
  inAxes?: Axes;
  /** Where the batch axis goes in each output (default 0); see `Axes`. */
  outAxes?: Axes;
  /**
   * What a random draw inside f does (PyTorch's `randomness`): 'error' (the default) refuses it;
   * 'different' gives each example its own draws; 'same' draws once for the whole batch.
   */
  randomness?: Randomness;
  /** The batch size, needed only when no argument is batched. */
  axisSize?: number;
}

/** The rules that batch tensors given inside an options object. */
const OPTION_TENSORS: ReadonlySet<string> = new Set(['searchsorted', 'bincount']);

class BatchInterpreter implements Interpreter, BatchContext {
  constructor(
    readonly level: number,
    readonly size: number,
    readonly randomness: Randomness,
  ) {}

  process(prim: Primitive, args: unknown[]): unknown {
    const { tensors } = splitArguments(args);
    let batched = false;
    for (const t of tensors) {
      if (!(t instanceof BatchedTensor)) continue;
      if (t.level > this.level) {
        throw new ArgumentError(`vmap: '${prim.name}' got a tensor batched by a vmap that has already returned (it escaped through a closure or a side effect)`);
      }
      if (t.level === this.level) batched = true;
    }
    // Tensors in an options object (bincount's weights, searchsorted's sorter): only rules that read them may see them batched.
    for (const a of args) {
      if (a === null || typeof a !== 'object' || Array.isArray(a) || a instanceof Tensor) continue;
      for (const [key, v] of Object.entries(a)) {
        if (!(v instanceof BatchedTensor) || v.level !== this.level) continue;
        if (!OPTION_TENSORS.has(prim.spec.rule ?? 'none')) {
          throw new ArgumentError(`vmap: '${prim.name}' has no batching rule for a batched option '${key}' (shape ${formatShape(v.shape)}); vmap never loops over the batch, so pass it unbatched or compute it outside vmap`);
        }
        batched = true;
      }
    }
    if (prim.spec.kind === 'random') return this.random(prim, args, batched);
    if (!batched) return prim.bind(...args);
    return ruleFor(prim)(this, prim, args);
  }

  /** Random draws, by `randomness`: never a silent choice. */
  private random(prim: Primitive, args: unknown[], batched: boolean): unknown {
    if (this.randomness === 'error') {
      throw new ArgumentError(
        `${prim.name}: random draws inside vmap need vmap's randomness option: 'different' (each example draws its own numbers) or 'same' (one draw shared by the batch), as torch.func.vmap`,
      );
    }
    if (this.randomness === 'same') {
      if (!batched) return prim.bind(...args);
      // dropout is a mask drawn for one example's shape times its input: run at this level, the
      // draw (unbatched) is made once and the mask applies to every example, as torch.func's 'same'.
      if (prim.name === 'dropout') return belowLevel(this.level + 1, () => prim.impl(...args));
      throw new ArgumentError(`${prim.name}: randomness 'same' is not supported for draws whose parameters are batched`);
    }
    const size = this.size;
    const own = (t: unknown): t is BatchedTensor => t instanceof BatchedTensor && t.level === this.level;
    const full = (t: Tensor): Tensor => (own(t) ? t.value : expand(unsqueeze(t, 0), [size, ...t.shape]));
    switch (prim.name) {
      case 'rand':
      case 'randn':
        return wrap(this, prim.bind([size, ...(args[0] as Shape)], args[1]));
      case 'randint':
        return wrap(this, prim.bind(args[0], args[1], [size, ...(args[2] as Shape)], args[3]));
      case 'randperm': {
        // Each example's permutation: the order of its own n uniform draws (every order equally likely).
        const [n, options = {}] = args as [number, { generator?: Generator; seed?: number }];
        if (!Number.isInteger(n) || n < 0 || n > 2147483647) return prim.bind(...args); // the op's own error
        const source = options.generator !== undefined ? { generator: options.generator } : options.seed !== undefined ? { seed: options.seed } : {};
        return wrap(this, argsort(rand([size, n], { dtype: 'float64', ...source }), -1));
      }
      case 'dropout':
        return wrap(this, prim.bind(full(args[0] as Tensor), ...args.slice(1)));
      case 'bernoulli': {
        const [p, options = {}] = args as [Tensor | number, { shape?: Shape }];
        if (p instanceof Tensor) return wrap(this, prim.bind(full(p), options));
        return wrap(this, prim.bind(p, { ...options, shape: [size, ...(options.shape ?? [])] }));
      }
      case 'normal':
      case 'uniform': {
        const [a, b, shape, options] = args as [Tensor | number, Tensor | number, Shape | undefined, unknown];
        const shapeOf = (t: Tensor | number): Shape => (t instanceof Tensor ? t.shape : []);
        const logical = shape ?? broadcastShapes(prim.name, shapeOf(a), shapeOf(b));
        const pad = (t: Tensor | number): Tensor | number =>
          own(t) ? reshape(t.value, [size, ...Array<number>(logical.length - t.ndim).fill(1), ...t.shape]) : t;
        return wrap(this, prim.bind(pad(a), pad(b), [size, ...logical], options));
      }
      case 'multinomial':
      case 'categorical': {
        const p = full(args[0] as Tensor);
        const rows = reshape(p, [-1, p.shape[p.ndim - 1]!]);
        const out = prim.bind(rows, ...args.slice(1)) as Tensor;
        return wrap(this, reshape(out, [...p.shape.slice(0, -1), ...out.shape.slice(1)]));
      }
      default:
        throw new ArgumentError(`vmap: '${prim.name}' has no batching rule for randomness 'different'; draw outside vmap and pass the draws in`);
    }
  }
}

const isAxisLeaf = (v: unknown): boolean => v === null || v === undefined || typeof v === 'number';
// Arguments: tensors are leaves, and so is anything else that is not an array or plain object
// (numbers, strings, functions), passed through unbatched.
const isArgLeaf = (v: unknown): boolean =>
  v instanceof Tensor || (v !== null && v !== undefined && !Array.isArray(v) && (typeof v !== 'object' || (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)));

function checkAxisValue(where: string, axis: unknown, rank: number, shape: Shape): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`vmap: ${where} ${String(axis)} is out of range for a tensor of shape ${formatShape(shape)}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Vectorising map (JAX's `vmap`, `torch.func.vmap`): `vmap(f)` maps f over a batch axis of its
 * arguments, as if f ran on each example and the results were stacked, but in one pass: every
 * op applies a batching rule that carries the batch dimension through (there is no loop over
 * the batch). f is written for one example; it sees each batched argument with the batch axis
 * removed.
 *
 * `inAxes` gives the batch axis of each argument (default 0; null: the same argument for every
 * example), as a number for all, or one entry per argument, or a structure matching an argument
 * (`{ w: 0, b: null }`). `outAxes` places the batch axis in each output (default 0). Arguments
 * and outputs may be structures of tensors; other arguments (numbers, strings) pass through.
 * Random draws inside f are an error unless `randomness` is 'different' or 'same'.
 *
 * Composes with itself (`vmap(vmap(f))`) and with `grad`, `vjp`, `jacrev` in both orders:
 * `vmap(grad(loss), { inAxes: [null, 0, 0] })(params, x, y)` gives per-example gradients.
 * @throws ArgumentError for a bad `inAxes`/`outAxes` (naming where it fails to match), no batched
 * argument without `axisSize`, an op without a batching rule (naming it), a random draw under
 * randomness 'error', or reading a batched tensor's values (`data`, `item()`) inside f.
 * @throws ShapeError for an axis out of range or batch sizes that differ between arguments.
 * @example vmap((x: Tensor) => x.dot(w))(xs) // one dot product per row of xs
 * @example vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, ys) // per-example gradients
 */
export function vmap<A extends unknown[], R>(f: (...args: A) => R, options: VmapOptions = {}): (...args: A) => R {
  if (typeof f !== 'function') throw new ArgumentError(`vmap: the function to transform must be a function, got ${describe(f)}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`vmap: options must be an object such as { inAxes: [0, null] }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!['inAxes', 'outAxes', 'randomness', 'axisSize'].includes(key)) {
      throw new ArgumentError(`vmap: unknown option '${key}' (the options are inAxes, outAxes, randomness, axisSize)`);
    }
  }
  const { inAxes = 0, outAxes = 0, randomness = 'error', axisSize } = options;
  if (!['error', 'different', 'same'].includes(randomness)) {
    throw new ArgumentError(`vmap: randomness must be 'error', 'different' or 'same', got ${String(randomness)}`);
  }
  return (...args: A): R => {
    const { leaves, def } = treeFlatten<unknown>(args, { isLeaf: isArgLeaf });
    const axes = treeBroadcastPrefix<number | null | undefined>(inAxes, args, { isLeaf: isArgLeaf, isPrefixLeaf: isAxisLeaf, name: 'vmap: inAxes' });
    let size = axisSize;
    let sizeFrom = axisSize === undefined ? '' : 'axisSize';
    const moved = leaves.map((leaf, i) => {
      const axis = axes[i];
      if (axis === null || axis === undefined) return leaf;
      if (!(leaf instanceof Tensor)) throw new ArgumentError(`vmap: inAxes gives axis ${axis} to argument leaf ${i}, which is ${describe(leaf)}, not a Tensor; give it null`);
      const a = checkAxisValue(`inAxes ${axis} of argument leaf ${i}:`, axis, leaf.ndim, leaf.shape);
      const n = leaf.shape[a]!;
      if (size === undefined) {
        size = n;
        sizeFrom = `argument leaf ${i} (shape ${formatShape(leaf.shape)}, axis ${axis})`;
      } else if (n !== size) {
        throw new ShapeError(`vmap: batch sizes differ: ${size} from ${sizeFrom}, ${n} from argument leaf ${i} (shape ${formatShape(leaf.shape)}, axis ${axis})`);
      }
      return a === 0 ? leaf : movedim(leaf, a, 0);
    });
    if (size === undefined) throw new ArgumentError('vmap: no argument is batched (every inAxes is null); give axisSize for the batch size');
    const batchSize = size;
    const level = activeInterpreters().length + 1;
    const result = withInterpreter(
      (l) => new BatchInterpreter(l, batchSize, randomness),
      () => {
        const inner = moved.map((leaf, i) => (axes[i] === null || axes[i] === undefined ? leaf : new BatchedTensor(leaf as Tensor, level)));
        return f(...(treeUnflatten(def, inner) as A));
      },
    );
    return unbatchOutputs(result, outAxes, level, batchSize) as R;
  };
}

/** f's outputs with the batch dimension moved to `outAxes` (an unbatched output is repeated along it). */
function unbatchOutputs(result: unknown, outAxes: Axes, level: number, size: number): unknown {
  const { leaves, def } = flattenTree<Tensor>(result, isTensor, (path) => `vmap: the function's output${path === '' ? '' : ` at ${path}`}`);
  const axes = treeBroadcastPrefix<number | null | undefined>(outAxes, result, { isPrefixLeaf: isAxisLeaf, name: 'vmap: outAxes' });
  const out = leaves.map((leaf, i) => {
    const axis = axes[i];
    if (leaf instanceof BatchedTensor && leaf.level > level) {
      throw new ArgumentError(`vmap: output leaf ${i} is batched by an inner vmap that has returned`);
    }
    const mine = leaf instanceof BatchedTensor && leaf.level === level;
    if (axis === null || axis === undefined) {
      if (mine) throw new ArgumentError(`vmap: outAxes null for output leaf ${i} (shape ${formatShape(leaf.shape)}), which varies across the batch`);
      return leaf;
    }
    const rank = leaf.ndim + 1;
    const a = checkAxisValue(`outAxes ${axis} of output leaf ${i}:`, axis, rank, [...leaf.shape, size]);
    const v = mine ? leaf.value : expand(unsqueeze(leaf, 0), [size, ...leaf.shape]);
    return a === 0 ? v : movedim(v, 0, a);
  });
  return treeUnflatten(def, out);
}

/** The active vmaps, outermost first: their levels and batch sizes. @internal */
export function batchLevels(): readonly { level: number; size: number }[] {
  return activeInterpreters().filter((i): i is BatchInterpreter => i instanceof BatchInterpreter);
}

/**
 * `t` as one plain tensor holding every batch of the active vmaps `levels` (outermost first),
 * their batch dimensions first in that order, then t's own shape; a level t is not batched at
 * repeats it. Differentiable (the ops are recorded): grad and vjp inside vmap differentiate
 * through these plain tensors, so that each example's gradient stays its own. @internal
 */
export function unbatchAll(op: string, t: Tensor, levels: readonly { level: number; size: number }[]): Tensor {
  let v = t;
  const top = levels.length === 0 ? 0 : levels[levels.length - 1]!.level;
  if (v instanceof BatchedTensor && v.level > top) {
    throw new ArgumentError(
      `${op}: a tensor batched by a vmap inside the transform (shape ${formatShape(v.shape)}) met tensors traced outside it; call the transform inside that vmap instead`,
    );
  }
  for (let k = levels.length - 1; k >= 0; k--) {
    const { level, size } = levels[k]!;
    const u = v;
    v = belowLevel(level, () => (u instanceof BatchedTensor && u.level === level ? u.value : expand(unsqueeze(u, 0), [size, ...u.shape])));
  }
  return v;
}

/** The inverse of `unbatchAll`: a plain tensor of batches seen as batched at `levels` again. @internal */
export function rebatchAll(raw: Tensor, levels: readonly { level: number }[]): Tensor {
  let w = raw;
  for (const { level } of levels) w = new BatchedTensor(w, level);
  return w;
}

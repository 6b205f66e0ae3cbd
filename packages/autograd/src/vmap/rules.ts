/**
 * vmap's batching rules. A rule gets the primitive and its arguments, some of them batched at the
 * rule's level (`ctx.level`), and returns the op's result with the batch carried through: it calls
 * ops on the batches (`value`, dimension 0 the batch), which run at the outer levels, and wraps
 * the results. Most ops share a family rule chosen by their spec (engine/dispatch.ts); the rest
 * have one of the rules named in `BatchRuleName`. No rule loops over the batch.
 */
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape, shapesEqual, sizeOf, type Shape } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { tensor } from '../creation.js';
import { belowLevel, type BatchRuleName, type Primitive } from '../engine/dispatch.js';
import { BatchedTensor, batchedAt } from './batched.js';
import { expand, reshape, squeeze, unsqueeze } from '../ops/shape.js';
import { movedim as movedimOp } from '../ops/rearrange.js';
import { add, mul } from '../ops/binary.js';
import { where } from '../ops/where.js';
import { toDtype } from '../ops/cast.js';
import { scatterAdd } from '../ops/indexing.js';
import { full, zeros } from '../creation.js';
import { sum } from '../ops/reduce.js';
import { matmul, matmulT } from '../ops/matmul.js';
import { einsum } from '../ops/einsum.js';
import { diagEmbed as diagEmbedOp, diagonal } from '../ops/diagonal.js';
import { relu } from '../ops/unary.js';
import { gather as gatherOp } from '../ops/gather.js';
import { where as whereOp } from '../ops/where.js';
import type { CrossEntropyOpOptions } from '../ops/cross-entropy.js';
import type { EmbeddingOptions } from '../ops/indexing.js';
import { BroadcastLeaf, perExampleMatmul, perExampleSum } from './per-example.js';
import { layerNormComposed } from '../ops/layer-norm.js';

/** How vmap treats random draws (PyTorch's `randomness`). */
export type Randomness = 'error' | 'different' | 'same';

/** What a rule knows of the vmap it runs for. */
export interface BatchContext {
  /** The vmap's level: arguments batched at it are this rule's to handle. */
  readonly level: number;
  /** The batch size. */
  readonly size: number;
  readonly randomness: Randomness;
}

type Rule = (ctx: BatchContext, prim: Primitive, args: unknown[]) => unknown;

/** Whether `t` is batched at the rule's level. */
function mine(ctx: BatchContext, t: unknown): t is BatchedTensor {
  return batchedAt(t, ctx.level);
}

/** The op's result with every tensor in it (a list, an object of them) batched at this level. */
export function wrap(ctx: BatchContext, out: unknown): unknown {
  if (out instanceof Tensor) return new BatchedTensor(out, ctx.level);
  if (Array.isArray(out)) return out.map((o) => wrap(ctx, o));
  if (out !== null && typeof out === 'object') {
    const wrapped: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out)) wrapped[k] = wrap(ctx, v);
    return wrapped;
  }
  return out;
}

/** `t`'s batch, batch first: its value if batched here, else `t` repeated along a new dimension 0. */
function batch(ctx: BatchContext, t: Tensor): Tensor {
  return mine(ctx, t) ? t.value : expand(unsqueeze(t, 0), [ctx.size, ...t.shape]);
}

/** A batch (batch first) of logical rank `n` given `rank` logical dimensions by 1s after the batch. */
function padRank(v: Tensor, n: number, rank: number): Tensor {
  return n >= rank ? v : reshape(v, [v.shape[0]!, ...Array<number>(rank - n).fill(1), ...v.shape.slice(1)]);
}

/**
 * Runs a layout op on `x`'s batch; a 0-d example (whose axis 0 or -1 the op reads as its one
 * element) runs as [B, 1] and goes back to [B] after.
 */
function asRow(ctx: BatchContext, x: BatchedTensor, run: (v: Tensor) => unknown): Tensor {
  if (x.ndim !== 0) return run(x.value) as Tensor;
  return reshape(run(reshape(x.value, [ctx.size, 1])) as Tensor, [ctx.size]);
}

/** Runs `body` with ops going to this level's rules: for ops composed of others. */
function here<R>(ctx: BatchContext, body: () => R): R {
  return belowLevel(ctx.level + 1, body);
}

function checkAxis(op: string, axis: unknown, n: number, shape: Shape): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -Math.max(n, 1) || axis >= Math.max(n, 1)) {
    throw new ShapeError(`${op}: axis ${String(axis)} is out of range for a tensor of shape ${formatShape(shape)} (inside vmap)`);
  }
  return axis < 0 ? axis + Math.max(n, 1) : axis;
}

/** An axis argument (a number or a list) of a tensor of logical shape `shape`, moved past the batch dimension. */
function shiftAxes(op: string, axes: unknown, shape: Shape): number | number[] {
  if (Array.isArray(axes)) return axes.map((a: unknown) => checkAxis(op, a, shape.length, shape) + 1);
  return checkAxis(op, axes, shape.length, shape) + 1;
}

/**
 * An index given as a (nested) array, as the op reads it: an int32 tensor, the same for every
 * example (so it batches as any unbatched operand). A value that is no int32 is the op's error.
 */
function indexArgument(prim: Primitive, index: unknown): Tensor {
  if (index instanceof Tensor) return index;
  try {
    return tensor(index as NestedArray, { dtype: 'int32' });
  } catch (e) {
    throw new ArgumentError(`${prim.name}: the index ${e instanceof Error ? e.message.replace(/^tensor: /, '') : String(e)}`);
  }
}

function noRule(prim: Primitive, detail = ''): never {
  throw new ArgumentError(`vmap: '${prim.name}' has no batching rule${detail === '' ? '' : ` ${detail}`}; vmap never loops over the batch, so compute it outside vmap`);
}

/** Elementwise ops: batched operands get 1s after the batch up to the widest rank, so broadcasting from the right never meets the batch. */
const elementwise: Rule = (ctx, prim, args) => {
  if (prim.name === 'where' && args[1] === undefined && args[2] === undefined) {
    noRule(prim, "with the condition alone (nonzero's indices, whose length depends on the values)");
  }
  let rank = 0;
  for (const a of args) if (a instanceof Tensor) rank = Math.max(rank, a.ndim);
  if ((prim.name === 'add' || prim.name === 'sub') && args.length === 2 && ctx.level === 1) {
    // A bias shared by the batch (per-example gradients): added once, not copied per example.
    const [a, b] = args;
    const sharedAt = [a, b].findIndex((t) => mine(ctx, t) && t.value instanceof BroadcastLeaf);
    const other = sharedAt === 0 ? b : a;
    if (sharedAt >= 0 && mine(ctx, other) && !(other.value instanceof BroadcastLeaf)) {
      const w = (sharedAt === 0 ? a : b) as BatchedTensor;
      const out = perExampleSum(prim.name, padRank(other.value, other.ndim, rank), w.value as BroadcastLeaf, sharedAt === 0, rank);
      if (out !== null) return wrap(ctx, out);
    }
  }
  return wrap(ctx, prim.bind(...args.map((a) => (mine(ctx, a) ? padRank(a.value, a.ndim, rank) : a))));
};

/** Ops along axes (reductions, scans, sorts, softmax, slices): the axes move past the batch. */
const alongAxes: Rule = (ctx, prim, args) => {
  const { axisArg, absent } = prim.spec;
  const x = args[0];
  for (let i = 1; i < args.length; i++) if (mine(ctx, args[i])) noRule(prim, `for a batched argument ${i}`);
  if (!mine(ctx, x) || axisArg === undefined) return noRule(prim);
  const n = x.ndim;
  const next = [...args];
  let v = x.value;
  let flattened = false;
  const axis = args[axisArg];
  // quantile of a 1-D tensor q puts q's axis first, before the batch: moved back behind it.
  const q = prim.name === 'quantile' || prim.name === 'nanquantile' ? args[1] : undefined;
  const qShape = q instanceof Tensor && q.ndim === 1 ? q.shape : [];
  const batchFirst = (out: unknown): unknown => (qShape.length === 0 ? out : movedimOp(out as Tensor, 1, 0));
  if (n === 0 && (axis === undefined || axis === 0 || axis === -1 || (Array.isArray(axis) && axis.every((a) => a === 0 || a === -1)))) {
    // A 0-d tensor reduces as one element, as PyTorch's dim 0 of a scalar: the result stays 0-d.
    v = reshape(v, [ctx.size, 1]);
    next[axisArg] = Array.isArray(axis) ? [1] : 1;
    next[0] = v;
    const out = batchFirst(prim.bind(...next));
    // repeatInterleave grows the element into a 1-D result, as the op does on a 0-d tensor.
    if (prim.name === 'repeatInterleave') return wrap(ctx, out);
    // Without an axis, median gives its value alone.
    const value = prim.name === 'median' && axis === undefined ? (out as { values: Tensor }).values : out;
    return wrap(ctx, mapTensors(value, (t) => reshape(t, [ctx.size, ...qShape])));
  }
  if (axis === undefined && absent !== undefined) {
    if (absent === 'all') next[axisArg] = Array.from({ length: n }, (_, i) => i + 1);
    else if (absent === 'flatten') {
      // The median of no elements is NaN, as the op gives (along an axis, an empty one is its error).
      if (prim.name === 'median' && x.size === 0 && (x.dtype === 'float32' || x.dtype === 'float64')) return wrap(ctx, full([ctx.size], NaN, { dtype: x.dtype }));
      v = reshape(v, [ctx.size, x.size]);
      next[axisArg] = 1;
      flattened = true;
    } else next[axisArg] = checkAxis(prim.name, absent, n, x.shape) + 1;
  } else if (axis !== undefined) next[axisArg] = shiftAxes(prim.name, axis, x.shape);
  next[0] = v;
  let out = batchFirst(prim.bind(...next));
  if (flattened) {
    // Without an axis these ops see the flattened tensor: median gives its value alone, and
    // keepdims a result of n 1s (quantile's keepdims is an option).
    if (prim.name === 'median') out = (out as { values: Tensor }).values;
    const keepdims = q === undefined ? args[axisArg + 1] === true : (args[axisArg + 1] as { keepdims?: boolean } | undefined)?.keepdims === true;
    if (keepdims) out = mapTensors(out, (t) => reshape(t, [ctx.size, ...qShape, ...Array<number>(n).fill(1)]));
  }
  return wrap(ctx, out);
};

function mapTensors(out: unknown, f: (t: Tensor) => Tensor): unknown {
  if (out instanceof Tensor) return f(out);
  if (Array.isArray(out)) return out.map((o) => mapTensors(o, f));
  if (out !== null && typeof out === 'object') {
    const mapped: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out)) mapped[k] = mapTensors(v, f);
    return mapped;
  }
  return out;
}

/** The one batched tensor argument of a layout op (its other tensor arguments must not be batched). */
function only(ctx: BatchContext, prim: Primitive, args: unknown[], at = 0): BatchedTensor {
  const x = args[at];
  if (!mine(ctx, x)) return noRule(prim, `for an unbatched argument ${at} beside batched ones`);
  args.forEach((a, i) => {
    if (i !== at && mine(ctx, a)) noRule(prim, `for a batched argument ${i}`);
  });
  return x;
}

function logicalAxis(op: string, axis: number, n: number, shape: Shape): number {
  return checkAxis(op, axis, n, shape) + 1;
}

/** Matrix multiplication: batched 1-D operands become matrices, and ranks are padded so batch dimensions never meet. */
function batchedMatmul(ctx: BatchContext, a: Tensor, b: Tensor): Tensor {
  const ma = mine(ctx, a);
  const mb = mine(ctx, b);
  if (ma && mb && ctx.level === 1 && b.ndim === 2 && b.value instanceof BroadcastLeaf) return perExampleMatmul(a.value, b.value, false);
  let av = ma ? a.value : a;
  let bv = mb ? b.value : b;
  let ra = a.ndim;
  let rb = b.ndim;
  if (ma && ra === 1) {
    av = unsqueeze(av, 1);
    ra = 2;
  }
  if (mb && rb === 1) {
    bv = unsqueeze(bv, -1);
    rb = 2;
  }
  const rank = Math.max(ra, rb, 2);
  if (ma) av = padRank(av, ra, rank);
  if (mb) bv = padRank(bv, rb, rank);
  let out = matmul(av, bv);
  // a's added row goes first, while b's added column (if any) is still last.
  if (ma && a.ndim === 1) out = squeeze(out, b.ndim === 1 && !mb ? -1 : -2);
  if (mb && b.ndim === 1) out = squeeze(out, -1);
  return out;
}

/** The output labels of an einsum equation, implicit outputs written out (ellipsis, then labels used once, A-Z before a-z). */
function einsumTerms(equation: string): { inputs: string[]; output: string } {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const inputs = (arrow >= 0 ? eq.slice(0, arrow) : eq).split(',');
  if (arrow >= 0) return { inputs, output: eq.slice(arrow + 2) };
  const counts = new Map<string, number>();
  for (const term of inputs) for (const c of term.replace(/\.\.\./g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
  const once = [...counts].filter(([, k]) => k === 1).map(([c]) => c).sort();
  return { inputs, output: (inputs.some((t) => t.includes('...')) ? '...' : '') + once.join('') };
}

function freeLetter(equation: string): string {
  for (const c of 'zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA') if (!equation.includes(c)) return c;
  throw new ArgumentError(`einsum: '${equation}' uses every letter, leaving none for vmap's batch dimension`);
}

/** Folds the batch into a leading dimension of the op (N for conv and pooling), runs it, unfolds. */
function foldIntoLeading(v: Tensor, keep: number, run: (folded: Tensor) => unknown): unknown {
  const lead = v.shape.slice(0, v.ndim - keep);
  // Sizes written out, never -1: a zero-size dimension leaves -1 undetermined.
  const folded = reshape(v, [sizeOf(lead), ...v.shape.slice(v.ndim - keep)]);
  return mapTensors(run(folded), (t) => reshape(t, [...lead, ...t.shape.slice(1)]));
}

const SPATIAL: Record<string, number> = {
  avgPool1d: 1, maxPool1d: 1, avgPool2d: 2, maxPool2d: 2, adaptiveAvgPool2d: 2, adaptiveMaxPool2d: 2, pixelShuffle: 2, pixelUnshuffle: 2,
};

/** Ops whose result's shape depends on their input's values: no batch of them has one shape. */
const VALUE_SHAPED: ReadonlySet<string> = new Set(['nonzero', 'unique', 'maskedSelect']);

/** The rules named in op specs; tsc checks each name has one. */
const RULES: Record<BatchRuleName, Rule> = {
  reshape: (ctx, prim, args) => {
    only(ctx, prim, args);
    const x = args[0] as BatchedTensor;
    return wrap(ctx, prim.bind(x.value, [ctx.size, ...(args[1] as Shape)]));
  },
  expand: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const shape = args[1] as Shape;
    const v = padRank(x.value, x.ndim, shape.length);
    return wrap(ctx, prim.bind(v, [ctx.size, ...shape.map((d, i) => (d === -1 ? v.shape[i + 1]! : d))]));
  },
  permute: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const axes = args[1] as readonly number[];
    if (axes.length !== x.ndim) return prim.bind(x, axes); // the op's own error, named
    return wrap(ctx, prim.bind(x.value, [0, ...axes.map((a) => logicalAxis(prim.name, a, x.ndim, x.shape))]));
  },
  transpose: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const [a0 = -2, a1 = -1] = args.slice(1) as (number | undefined)[];
    // As the op: the default swap of a 0-d or 1-D tensor is the tensor itself.
    if (x.ndim < 2 && a0 === -2 && a1 === -1) return x;
    return wrap(ctx, asRow(ctx, x, (v) => prim.bind(v, logicalAxis(prim.name, a0, x.ndim, x.shape), logicalAxis(prim.name, a1, x.ndim, x.shape))));
  },
  squeeze: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const axis = args[1] as number | undefined;
    // Without an axis, every logical dimension of size 1 goes, never the batch (which may be 1).
    if (axis === undefined) return wrap(ctx, reshape(x.value, [ctx.size, ...x.shape.filter((d) => d !== 1)]));
    return wrap(ctx, asRow(ctx, x, (v) => prim.bind(v, logicalAxis(prim.name, axis, x.ndim, x.shape))));
  },
  unsqueeze: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    return wrap(ctx, prim.bind(x.value, checkAxis(prim.name, args[1], x.ndim + 1, [...x.shape, 1]) + 1));
  },
  concat: (ctx, prim, args) => {
    const list = args[0] as readonly Tensor[];
    const first = list[0]!;
    const rank = prim.name === 'stack' ? first.ndim + 1 : first.ndim;
    const axis = checkAxis(prim.name, args[1] ?? 0, rank, first.shape) + 1;
    return wrap(ctx, prim.bind(list.map((t) => batch(ctx, t)), axis));
  },
  split: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const at = prim.name === 'unbind' ? 1 : 2;
    const next = [...args];
    next[0] = x.value;
    next[at] = logicalAxis(prim.name, (args[at] as number | undefined) ?? 0, x.ndim, x.shape);
    return wrap(ctx, prim.bind(...next));
  },
  movedim: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    return wrap(ctx, asRow(ctx, x, (v) => prim.bind(v, shiftAxes(prim.name, args[1], x.shape), shiftAxes(prim.name, args[2], x.shape))));
  },
  flip: (ctx, prim, args) => alongAxes(ctx, prim, args),
  roll: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    if (args[2] === undefined) {
      // Without dims, roll shifts the flattened tensor.
      const flat = prim.bind(reshape(x.value, [ctx.size, -1]), args[1], 1) as Tensor;
      return wrap(ctx, reshape(flat, x.value.shape));
    }
    return wrap(ctx, asRow(ctx, x, (v) => prim.bind(v, args[1], shiftAxes(prim.name, args[2], x.shape))));
  },
  pad: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    // Padding counts from the last dimension; the batch is beyond the padded ones.
    if ((args[1] as readonly number[]).length / 2 > x.ndim) return prim.bind(...args.map((a) => (a === x ? x.value : a)));
    return wrap(ctx, prim.bind(x.value, ...args.slice(1)));
  },
  tile: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const reps = args[1] as readonly number[];
    const rank = Math.max(reps.length, x.ndim);
    const full = [...Array<number>(rank - reps.length).fill(1), ...reps];
    return wrap(ctx, prim.bind(padRank(x.value, x.ndim, rank), [1, ...full]));
  },
  sumTo: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const shape = args[1] as Shape;
    const extra = x.ndim - shape.length;
    const v = extra > 0 ? sum(x.value, Array.from({ length: extra }, (_, i) => i + 1)) : x.value;
    return wrap(ctx, prim.bind(v, [ctx.size, ...shape]));
  },
  gather: (ctx, prim, args) => {
    const [x, axis] = args as [Tensor, number];
    const index = indexArgument(prim, args[2]);
    return wrap(ctx, prim.bind(batch(ctx, x), logicalAxis(prim.name, axis, x.ndim, x.shape), batch(ctx, index)));
  },
  indexSelect: (ctx, prim, args) => {
    const [x, axis, index] = args as [Tensor, number, Tensor];
    const ax = logicalAxis(prim.name, axis, x.ndim, x.shape);
    if (!mine(ctx, index)) return wrap(ctx, prim.bind(batch(ctx, x), ax, index));
    // A batched index: a gather along the axis, the index spread over the other dimensions.
    const xv = movedimOp(batch(ctx, x), ax, -1);
    const k = index.shape[0] ?? 1;
    const idx = expand(reshape(index.value, [ctx.size, ...Array<number>(xv.ndim - 2).fill(1), k]), [...xv.shape.slice(0, -1), k]);
    return wrap(ctx, movedimOp(gatherLast(xv, idx), -1, ax));
  },
  scatter: (ctx, prim, args) => {
    // scatter and scatterAdd: input, index and src all get the batch, and the axis moves past it.
    const [input, axis, , src, ...rest] = args as [Tensor, number, unknown, Tensor | number, ...unknown[]];
    const index = indexArgument(prim, args[2]);
    const s = src instanceof Tensor ? batch(ctx, src) : src;
    return wrap(ctx, prim.bind(batch(ctx, input), logicalAxis(prim.name, axis, input.ndim, input.shape), batch(ctx, index), s, ...rest));
  },
  indexAdd: (ctx, prim, args) => {
    const [input, axis, index, src, options] = args as [Tensor, number, Tensor, Tensor, unknown];
    if (mine(ctx, index)) return noRule(prim, 'for a batched index');
    return wrap(ctx, prim.bind(batch(ctx, input), logicalAxis(prim.name, axis, input.ndim, input.shape), index, batch(ctx, src), options));
  },
  searchsorted: (ctx, prim, args) => {
    const [sorted, values, options = {}] = args as [Tensor, Tensor | number, { sorter?: unknown }];
    const { sorter, ...order } = options;
    // A 1-D sequence shared by the batch serves values of any shape: the batch is one more axis of them.
    if (!mine(ctx, sorted) && !mine(ctx, sorter) && sorted.ndim === 1) return wrap(ctx, prim.bind(sorted, (values as BatchedTensor).value, options));
    // Otherwise each example searches rows of its own: an n-D sequence is rows already, matched by
    // values of its leading dimensions; a 1-D one becomes one row per example, its values flattened.
    let seq = batch(ctx, sorted);
    if (sorter !== undefined) {
      // The rows read in the sorter's order are what the op searches: gathered so, no tensor rides in the options (which jit cannot follow).
      const by = indexArgument(prim, sorter);
      if (by.dtype !== 'int32') throw new DTypeError(`searchsorted: sorter must be an int32 tensor, got ${by.dtype} of shape ${formatShape(by.shape)}; convert it with toDtype('int32')`);
      if (!shapesEqual(by.shape, sorted.shape)) throw new ShapeError(`searchsorted: sorter of shape ${formatShape(by.shape)} must have sortedSequence's shape ${formatShape(sorted.shape)}`);
      seq = gatherOp(seq, -1, batch(ctx, by));
    }
    if (sorted.ndim > 1) return wrap(ctx, prim.bind(seq, values instanceof Tensor ? batch(ctx, values) : values, order));
    const v = values instanceof Tensor ? values : tensor(values, { dtype: sorted.dtype === 'float32' ? 'float32' : 'float64' });
    const found = prim.bind(seq, reshape(batch(ctx, v), [ctx.size, v.size]), order) as Tensor;
    return wrap(ctx, reshape(found, [ctx.size, ...v.shape]));
  },
  index: (ctx, prim, args) => {
    const [x, given] = args as [Tensor, unknown];
    if (mine(ctx, given)) {
      if (given.dtype === 'bool') return noRule(prim, `for a batched bool mask (shape ${formatShape(given.shape)}): each example would keep its own number of elements, so the result has no one shape`);
      // Each example's integer indices pick along its own first axis.
      if (!mine(ctx, x)) return wrap(ctx, prim.bind(x, given.value));
      if (x.ndim === 0) throw new ShapeError('index: a 0-d tensor has no axis to index with integers');
      const idx = reshape(given.value, [ctx.size, given.size, ...x.shape.slice(1).map(() => 1)]);
      const picked = gatherOp(x.value, 1, expand(idx, [ctx.size, given.size, ...x.shape.slice(1)]));
      return wrap(ctx, reshape(picked, [ctx.size, ...given.shape, ...x.shape.slice(1)]));
    }
    const v = (x as BatchedTensor).value;
    const mask = given instanceof Tensor ? given : isBooleans(given) ? tensor(given as NestedArray) : null;
    if (mask !== null && mask.dtype === 'bool') {
      // A mask shared by the batch keeps the same slices of every example: the batch moves behind its axes.
      const k = mask.ndim;
      if (k > x.ndim || !shapesEqual(mask.shape, x.shape.slice(0, k))) {
        throw new ShapeError(`index: a bool mask of shape ${formatShape(mask.shape)} must match the leading axes of input ${formatShape(x.shape)}`);
      }
      // Passed on as given: a mask of array values is a constant to jit, a tensor one is not.
      return wrap(ctx, movedimOp(prim.bind(movedimOp(v, 0, k), given) as Tensor, 1, 0));
    }
    if (x.ndim === 0) throw new ShapeError('index: a 0-d tensor has no axis to index with integers');
    const idx = indexArgument(prim, given);
    return wrap(ctx, movedimOp(prim.bind(movedimOp(v, 0, 1), idx) as Tensor, idx.ndim, 0));
  },
  maskedFill: (ctx, prim, args) => {
    const [x, mask, value] = args as [Tensor, Tensor, Tensor | number];
    if (!mine(ctx, value)) return elementwise(ctx, prim, args);
    // Each example's own fill value: where(mask, value, x), whose gradients are maskedFill's.
    if (value.ndim !== 0) throw new ShapeError(`maskedFill: value must be a number or a 0-d tensor, got shape ${formatShape(value.shape)}`);
    return here(ctx, () => where(mask, value.dtype === x.dtype ? value : toDtype(value, x.dtype), x));
  },
  bincount: (ctx, prim, args) => {
    const [x, options = {}] = args as [Tensor, { weights?: Tensor; minlength?: number }];
    if (mine(ctx, x)) return noRule(prim, `for a batched input (shape ${formatShape(x.shape)}): the result's length is its largest value, which differs between examples`);
    const { weights, ...rest } = options;
    if (!mine(ctx, weights)) return prim.bind(x, options);
    // Values shared by the batch: each example sums its own weights into the same bins.
    const bins = (prim.bind(x, rest) as Tensor).shape[0]!;
    const w = weights.dtype === 'float32' || weights.dtype === 'float64' ? weights.value : toDtype(weights.value, 'float64');
    if (x.ndim !== 1 || !shapesEqual(x.shape, weights.shape)) return prim.bind(x, { ...options, weights: w }); // the op's own error
    const into = zeros([ctx.size, bins], { dtype: w.dtype });
    return wrap(ctx, scatterAdd(into, 1, expand(unsqueeze(x, 0), [ctx.size, x.shape[0]!]), w));
  },
  broadcast: (ctx, prim, args) => {
    // Operands broadcast together, then their last axis is reduced (pairwiseDistance): batched ones
    // get 1s after the batch up to the widest rank, 0-d ones one element along that last axis.
    let rank = 1;
    for (const a of args) if (a instanceof Tensor) rank = Math.max(rank, a.ndim);
    return wrap(ctx, prim.bind(...args.map((a) => (mine(ctx, a) ? padRank(a.value, a.ndim, rank) : a))));
  },
  take: (ctx, prim, args) => {
    const [x, given] = args as [Tensor, unknown];
    const index = indexArgument(prim, given);
    if (!mine(ctx, x)) return wrap(ctx, prim.bind(x, mine(ctx, index) ? index.value : index));
    const flat = reshape(x.value, [ctx.size, -1]);
    const idx = batch(ctx, index);
    return wrap(ctx, reshape(gatherLast(flat, reshape(idx, [ctx.size, -1])), idx.shape));
  },
  embedding: (ctx, prim, args) => {
    const [weight, given, options = {}] = args as [Tensor, unknown, EmbeddingOptions | undefined];
    if (!mine(ctx, weight)) return wrap(ctx, prim.bind(weight, (given as BatchedTensor).value, options));
    const other = Object.keys(options).find((k) => k !== 'paddingIdx');
    if (other !== undefined) return noRule(prim, `for a batched weight with option '${other}'`);
    const indices = indexArgument(prim, given);
    // Each example's rows of its own weight: a gather along the vocabulary axis.
    const w = weight.value;
    const [n, dim] = weight.shape as [number, number];
    const idx = reshape(batch(ctx, indices), [ctx.size, -1, 1]);
    const at = expand(idx, [ctx.size, idx.shape[1]!, dim]);
    let rows = gatherOp(w, 1, at);
    const p = options.paddingIdx;
    if (p !== undefined) {
      if (!Number.isInteger(p) || p < -n || p >= n) throw new ShapeError(`embedding: paddingIdx ${p} is not an integer in [${-n}, ${n}) for weight of shape ${formatShape(weight.shape)}`);
      // The padding row's lookups read the weight as a constant: no gradient, no tangent, as the op's.
      const pad = p < 0 ? p + n : p;
      const wrapped = whereOp(idx.lt(0), idx.add(n), idx);
      rows = whereOp(wrapped.eq(pad), gatherOp(w.detach(), 1, at), rows);
    }
    return wrap(ctx, reshape(rows, [ctx.size, ...indices.shape, dim]));
  },
  oneHot: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const classes = (args[1] as number | undefined) ?? -1;
    if (classes < 0) {
      throw new ArgumentError(`oneHot: inside vmap give numClasses: inferred from the values, the class count would depend on the whole batch (indices ${formatShape(x.shape)})`);
    }
    return wrap(ctx, prim.bind(x.value, classes));
  },
  matmul: (ctx, _prim, args) => wrap(ctx, batchedMatmul(ctx, args[0] as Tensor, args[1] as Tensor)),
  bmm: (ctx, _prim, args) => wrap(ctx, batchedMatmul(ctx, args[0] as Tensor, args[1] as Tensor)),
  matmulT: (ctx, prim, args) => {
    // Both operands are at least matrices: batched ones get 1s after the batch up to the wider rank.
    const [a, b, transA, transB] = args as [Tensor, Tensor, boolean, boolean];
    const rank = Math.max(a.ndim, b.ndim);
    const at = (t: Tensor): Tensor => (mine(ctx, t) ? padRank(t.value, t.ndim, rank) : t);
    return wrap(ctx, prim.bind(at(a), at(b), transA, transB));
  },
  softmaxGrad: (ctx, prim, args) => {
    // g and y have one shape: both batch first (an unbatched one repeated), the axis past the batch.
    const [g, y, axis] = args as [Tensor, Tensor, number];
    const logical = mine(ctx, y) ? y : g;
    return wrap(ctx, prim.bind(batch(ctx, g), batch(ctx, y), checkAxis(prim.name, axis, logical.ndim, logical.shape) + 1));
  },
  // Ops over the last axis whose tensor arguments share their leading axes (lstmCell): every tensor batch first.
  rowwise: (ctx, prim, args) => wrap(ctx, prim.bind(...args.map((a) => (a instanceof Tensor ? batch(ctx, a) : a)))),
  layerNorm: (ctx, prim, args) => {
    // Over trailing axes, so a batched input alone keeps the fused op; a batched weight or bias
    // takes the same maths in ops, each batched by its own rule.
    const [x, shape, w = null, b = null, eps = 1e-5] = args as [Tensor, number | number[], Tensor | null, Tensor | null, number];
    if (!mine(ctx, w) && !mine(ctx, b)) {
      if (!mine(ctx, x)) return noRule(prim);
      return wrap(ctx, prim.bind(x.value, shape, w, b, eps));
    }
    const k = typeof shape === 'number' ? 1 : shape.length;
    return here(ctx, () => layerNormComposed(x, Array.from({ length: k }, (_, i) => i - k), w, b, eps));
  },
  axisOption: (ctx, prim, args) => {
    // normalize and cosineSimilarity: the axis is an option (default 1), counted in the broadcast rank.
    const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
    const options = (args[tensors.length] ?? {}) as { axis?: number };
    // 0-d operands are one element along their axis (0 or -1), as the op reads them.
    const rank = Math.max(1, ...tensors.map((t) => t.ndim));
    const ax = logicalAxis(prim.name, options.axis ?? 1, Math.max(...tensors.map((t) => t.ndim)), tensors[0]!.shape);
    const aligned = tensors.map((t) => (mine(ctx, t) ? padRank(t.value, t.ndim, rank) : t));
    const out = prim.bind(...aligned, { ...options, axis: ax }) as Tensor;
    return wrap(ctx, out.ndim === 2 && rank > Math.max(...tensors.map((t) => t.ndim)) ? reshape(out, [ctx.size]) : out);
  },
  outer: (ctx, _prim, args) => here(ctx, () => einsum('i,j->ij', args[0] as Tensor, args[1] as Tensor)),
  tensordot: (ctx, prim, args) => {
    const [a, b, dims = 2] = args as [Tensor, Tensor, number | readonly [readonly number[], readonly number[]]];
    const letters = 'abcdefghijklmnopqrstuvwxy';
    if (a.ndim + b.ndim > letters.length) return noRule(prim, `for operands of ${a.ndim + b.ndim} dimensions`);
    const [ia, ib] = typeof dims === 'number'
      ? [Array.from({ length: dims }, (_, i) => a.ndim - dims + i), Array.from({ length: dims }, (_, i) => i)]
      : [dims[0].map((d) => checkAxis(prim.name, d, a.ndim, a.shape)), dims[1].map((d) => checkAxis(prim.name, d, b.ndim, b.shape))];
    const la = letters.slice(0, a.ndim).split('');
    const lb = letters.slice(a.ndim, a.ndim + b.ndim).split('');
    ib.forEach((d, k) => (lb[d] = la[ia[k]!]!));
    const out = [...la.filter((_, i) => !ia.includes(i)), ...lb.filter((_, i) => !ib.includes(i))];
    return here(ctx, () => einsum(`${la.join('')},${lb.join('')}->${out.join('')}`, a, b));
  },
  addmm: (ctx, _prim, args) => {
    const [input, m1, m2, options = {}] = args as [Tensor, Tensor, Tensor, { beta?: number; alpha?: number }];
    const { beta = 1, alpha = 1 } = options;
    return here(ctx, () => {
      const p = matmul(m1, m2);
      const scaled = alpha === 1 ? p : mul(p, alpha);
      // beta = 0 ignores the input, NaN included, as the op does.
      return beta === 0 ? scaled : add(beta === 1 ? input : mul(input, beta), scaled);
    });
  },
  linear: (ctx, prim, args) => {
    const [x, w, b, activation = 'none'] = args as [Tensor, Tensor, Tensor | null | undefined, 'none' | 'relu'];
    if (!mine(ctx, w) && !mine(ctx, b)) return wrap(ctx, prim.bind(batch(ctx, x), w, b, activation));
    if (mine(ctx, w) && w.value instanceof BroadcastLeaf && ctx.level === 1) {
      // Each example's copy of shared weights (per-example gradients): one product with the shared matrix.
      const y = wrap(ctx, perExampleMatmul(batch(ctx, x), w.value, true)) as Tensor;
      return here(ctx, () => {
        const z = b === null || b === undefined ? y : add(y, b);
        return activation === 'relu' ? relu(z) : z;
      });
    }
    // A batched weight (model ensembles): the same maths, each step batched by its own rule.
    // matmulT reads the weight transposed in place, and so do its VJPs: no transposed copies of n weights.
    return here(ctx, () => {
      const rows = x.ndim === 1 ? reshape(x, [1, -1]) : x;
      let y = matmulT(rows, w, false, true);
      if (x.ndim === 1) y = reshape(y, [-1]);
      if (b !== null && b !== undefined) y = add(y, b);
      return activation === 'relu' ? relu(y) : y;
    });
  },
  einsum: (ctx, prim, args) => {
    const equation = args[0] as string;
    const operands = args.slice(1) as Tensor[];
    const letter = freeLetter(equation);
    const { inputs, output } = einsumTerms(equation);
    const terms = inputs.map((t, i) => (mine(ctx, operands[i]) ? letter + t : t));
    const values = operands.map((t) => (mine(ctx, t) ? t.value : t));
    return wrap(ctx, prim.bind(`${terms.join(',')}->${letter}${output}`, ...values));
  },
  conv: (ctx, prim, args) => {
    const [input, weight, bias, options] = args as [Tensor, Tensor, Tensor | null | undefined, unknown];
    if (prim.name === 'fold' || prim.name === 'unfold') {
      const x = only(ctx, prim, args);
      return wrap(ctx, foldIntoLeading(x.value, x.ndim === 2 || (prim.name === 'unfold' && x.ndim === 3) ? x.ndim : x.ndim - 1, (f) => prim.bind(f, ...args.slice(1))));
    }
    const spatial = weight.ndim - 2;
    if (!mine(ctx, weight) && !mine(ctx, bias)) {
      // The batch folds into N: a logical [N, C, ...] becomes [B·N, C, ...]; an unbatched [C, ...] takes the batch as N.
      const x = batch(ctx, input);
      const withN = input.ndim === spatial + 2;
      if (!withN) return wrap(ctx, prim.bind(x, weight, bias, options));
      return wrap(ctx, foldIntoLeading(x, spatial + 1, (f) => prim.bind(f, weight, bias, options)));
    }
    // A batched weight: the batch folds into the channels and the groups, so each example's filters see only its input.
    const groups = (options as { groups?: number } | undefined)?.groups ?? 1;
    const x = input.ndim === spatial + 2 ? batch(ctx, input) : unsqueeze(batch(ctx, input), 1);
    const n = x.shape[1]!;
    const xs = reshape(movedimOp(x, 0, 1), [n, ctx.size * x.shape[2]!, ...x.shape.slice(3)]);
    const w = batch(ctx, weight);
    const ws = reshape(w, [ctx.size * w.shape[1]!, ...w.shape.slice(2)]);
    const bs = bias === null || bias === undefined ? bias : reshape(batch(ctx, bias), [-1]);
    const out = prim.bind(xs, ws, bs, { ...(options as object), groups: groups * ctx.size }) as Tensor;
    const perExample = reshape(out, [n, ctx.size, out.shape[1]! / ctx.size, ...out.shape.slice(2)]);
    const result = movedimOp(perExample, 1, 0);
    return wrap(ctx, input.ndim === spatial + 2 ? result : squeeze(result, 1));
  },
  pool: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const keep = prim.name === 'interpolate' ? x.ndim - 1 : (SPATIAL[prim.name] ?? 2) + 1;
    return wrap(ctx, foldIntoLeading(x.value, keep, (f) => prim.bind(f, ...args.slice(1))));
  },
  matrix: (ctx, prim, args) => {
    const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
    if (tensors.length === 1) return wrap(ctx, prim.bind(...args.map((a) => (mine(ctx, a) ? a.value : a))));
    if (prim.name === 'solve') {
      // A vector right-hand side (1-D, or A's shape without its last axis) stays one: batched with
      // A's leading dimensions written out, as the op reads a vector batch only in that form.
      const [a, b] = args as [Tensor, Tensor];
      if (a.ndim >= 2 && (b.ndim === 1 || (b.ndim === a.ndim - 1 && shapesEqual(b.shape, a.shape.slice(0, -1))))) {
        const lead = a.shape.slice(0, -1);
        return wrap(ctx, prim.bind(batch(ctx, a), expand(padRank(batch(ctx, b), b.ndim, lead.length), [ctx.size, ...lead]), ...args.slice(2)));
      }
    }
    // Two operands (solve, lstsq...): both batched, of one rank, so leading dimensions line up; a vector right-hand side stays a vector.
    const rank = Math.max(...tensors.map((t) => t.ndim));
    return wrap(ctx, prim.bind(...args.map((a) => (a instanceof Tensor ? (a.ndim === 1 ? batch(ctx, a) : padRank(batch(ctx, a), a.ndim, rank)) : a))));
  },
  diag: (ctx, prim, args) => {
    const x = only(ctx, prim, args);
    const offset = (args[1] as number | undefined) ?? 0;
    if (prim.name === 'diagonal') {
      const [d1 = 0, d2 = 1] = args.slice(2) as (number | undefined)[];
      return wrap(ctx, prim.bind(x.value, offset, logicalAxis(prim.name, d1, x.ndim, x.shape), logicalAxis(prim.name, d2, x.ndim, x.shape)));
    }
    if (prim.name === 'diagEmbed') {
      const [d1 = -2, d2 = -1] = args.slice(2) as (number | undefined)[];
      const out = [...x.shape, 1];
      return wrap(ctx, prim.bind(x.value, offset, logicalAxis(prim.name, d1, x.ndim + 1, out), logicalAxis(prim.name, d2, x.ndim + 1, out)));
    }
    if (prim.name === 'trace') {
      if (x.ndim !== 2) return prim.bind(x.value); // the op's own error
      return wrap(ctx, sum(diagonal(x.value, 0, 1, 2), -1));
    }
    // diag: a vector's diagonal matrix, or a matrix's diagonal.
    if (x.ndim === 1) return wrap(ctx, diagEmbedOf(x.value, offset));
    if (x.ndim === 2) return wrap(ctx, diagonal(x.value, offset, 1, 2));
    return prim.bind(x.value, offset);
  },
  crossEntropy: (ctx, prim, args) => {
    const [logits, given, options = {}] = args as [Tensor, unknown, CrossEntropyOpOptions];
    // Targets given as an array are class indices, the same for every example.
    const target = indexArgument(prim, given);
    const reduction = options.reduction ?? 'mean';
    // An unknown reduction: the op's own error, before the rule reads it as one of the three.
    if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') return prim.bind(batch(ctx, logits), [], options);
    // Per-example logits [N, C, d1, ...] have their classes on axis 1 (2 here): moved last, with
    // probability targets alike, every position is a row as the [N, C] form's.
    const raw = batch(ctx, logits);
    const classesInside = raw.ndim >= 4;
    const lv = classesInside ? movedimOp(raw, 2, -1) : raw;
    const tb = batch(ctx, target);
    const probabilities = tb.ndim === raw.ndim;
    const tv = classesInside && probabilities ? movedimOp(tb, 2, -1) : tb;
    // Per-example losses over the folded batch (the other options apply row by row), then each
    // example's own reduction.
    const folded = prim.bind(reshape(lv, [-1, lv.shape[lv.ndim - 1]!]), reshape(tv, probabilities ? [-1, tv.shape[tv.ndim - 1]!] : [-1]), { ...options, reduction: 'none' }) as Tensor;
    const losses = reshape(folded, [ctx.size, -1]);
    if (reduction === 'none') return wrap(ctx, reshape(losses, lv.shape.slice(0, -1)));
    if (reduction === 'sum') return wrap(ctx, sum(losses, 1));
    if (probabilities) return wrap(ctx, losses.shape[1] === 1 ? reshape(losses, [ctx.size]) : sum(losses, 1).div(losses.shape[1]!));
    // Class indices: each example's mean divides by its summed weight of targets not ignored.
    const labels = reshape(tv, [ctx.size, -1]);
    const valid = labels.ne(options.ignoreIndex ?? -100);
    const weights = options.weight === undefined
      ? valid.toDtype(losses.dtype)
      : whereOp(valid, reshape(gatherOp(options.weight, 0, reshape(whereOp(valid, labels, 0), [-1])), losses.shape), 0);
    return wrap(ctx, sum(losses, 1).div(sum(weights, 1)));
  },
  composite: (ctx, prim, args) => here(ctx, () => prim.impl(...args)),
  custom: (ctx, prim, args) => {
    const rule = prim.spec.customRule;
    if (rule === undefined) {
      return noRule(prim, "(a customOp: give its definition a vmap rule, { vmap: (inputs, batched) => output }, with the batch as dimension 0)");
    }
    const inputs = args.map((a) => (mine(ctx, a) ? a.value : a)) as Tensor[];
    const out = rule(inputs, args.map((a) => mine(ctx, a)));
    if (!(out instanceof Tensor) || out.shape[0] !== ctx.size) {
      throw new ShapeError(`${prim.name}: its vmap rule must return a Tensor with the batch (${ctx.size}) as dimension 0, got ${out instanceof Tensor ? formatShape(out.shape) : typeof out}`);
    }
    return wrap(ctx, out);
  },
  none: (_ctx, prim) => noRule(prim, VALUE_SHAPED.has(prim.name) ? "(its result's shape depends on each example's values)" : ''),
};

/** Whether an index given as nested arrays is a bool mask. */
function isBooleans(v: unknown): boolean {
  return typeof v === 'boolean' || (Array.isArray(v) && v.length > 0 && isBooleans(v[0]));
}

function gatherLast(x: Tensor, index: Tensor): Tensor {
  return gatherOp(x, -1, index);
}

function diagEmbedOf(v: Tensor, offset: number): Tensor {
  return diagEmbedOp(v, offset, -2, -1);
}

/** The rule for a primitive, by its spec. */
export function ruleFor(prim: Primitive): Rule {
  const { kind, rule, axisArg } = prim.spec;
  if (rule !== undefined) return RULES[rule];
  if (kind === 'unary' || kind === 'binary' || kind === 'elementwise') return elementwise;
  if (axisArg !== undefined) return alongAxes;
  return RULES.none;
}

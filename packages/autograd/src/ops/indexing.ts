import { allocate, allocateUnset, isFloatDType, type DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import { indexAddRows, indexSelectRows, nonzeroPositions, scatterAlong, unravelPositions } from '../kernels/indexing.js';
import { broadcastCopy } from '../kernels/layout.js';
import { constant, expectFloat, expectTensor, makeOutput, scalarTensor, Tensor, type FloatTensor, type NestedArray } from '../tensor.js';
import { tensor, type NestedBooleans } from '../creation.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { forwardActive } from '../engine/forward.js';
import { axisIndex, gatherIndexed, kernelShape, runChecking, scatterAddInto, toIndex, type AxisIndex } from './gather.js';
import { reshape, slice } from './shape.js';
import { where } from './where.js';
import { toDtype } from './cast.js';
import { primitive } from '../engine/dispatch.js';
import { checkOptions } from '../options.js';

// The option names each op takes: an unknown one is an error (checkOptions).
const SCATTER_OPTIONS = ['reduce'];
const INDEX_ADD_OPTIONS = ['alpha'];
const EMBEDDING_OPTIONS = ['paddingIdx'];
const NONZERO_OPTIONS = ['asTuple'];

// Indexing and scatter ops. Two pairs of primitives carry hand-written VJPs, each the other's
// adjoint: gather/scatter-add along an axis (ops/gather.ts and scatterAdd here) and
// indexSelect/indexAdd of whole slices. take, embedding, maskedSelect and integer-array
// indexing are built on indexSelect; maskedFill is a `where`.

/** Options of `scatter`. */
export interface ScatterOptions {
  /**
   * How src combines with the input at the indexed places, as `torch.scatter`'s `reduce`:
   * left out, src replaces it (the last write wins among duplicate indices); 'add' sums, as
   * `scatterAdd`; 'multiply' multiplies (no gradient, as in PyTorch).
   */
  reduce?: 'add' | 'multiply';
}

/** Options of `indexAdd`. */
export interface IndexAddOptions {
  /** The factor src is multiplied by before it is added (default 1; an integer for int32, 1 for bool). */
  alpha?: number;
}

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** A row of weight (negative counts from the end) that gets no gradient, as PyTorch's padding_idx. */
  paddingIdx?: number;
}

/** Options of `nonzero`. */
export interface NonzeroOptions {
  /** Return one 1-D int32 tensor of coordinates per axis instead of an [n, ndim] tensor. */
  asTuple?: boolean;
}

/** Inputs and src of one dtype, as PyTorch's scatter and index_add require. */
function checkSrcDType(op: string, x: Tensor, src: Tensor): void {
  if (x.dtype !== src.dtype) {
    throw new DTypeError(`${op}: src must have the input's dtype, got input ${formatShape(x.shape)} ${x.dtype} and src ${formatShape(src.shape)} ${src.dtype}; convert one with toDtype()`);
  }
}

/** `value` as stored in a tensor of `dtype`: a fraction or non-finite value into int32 is an error, not a truncation. */
function fillValue(op: string, value: number, dtype: DType): number {
  if (typeof value !== 'number') throw new ArgumentError(`${op}: value must be a number or a 0-d Tensor, got ${typeof value}`);
  if (dtype === 'int32' && !(Number.isInteger(value) && value >= -2147483648 && value <= 2147483647)) {
    throw new ArgumentError(`${op}: value ${value} is not an int32, the input's dtype`);
  }
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  return value;
}

/** src cut down to `shape` (the index's) on every axis where it is larger: PyTorch reads only that corner. */
function fitTo(src: Tensor, shape: readonly number[]): Tensor {
  let s = src;
  for (let d = 0; d < shape.length; d++) if (s.shape[d]! > shape[d]!) s = slice(s, d, 0, shape[d]!);
  return s;
}

/**
 * The input with src added at the places `index` names along `axis`, as `torch.scatter_add`:
 * out[..., index[..., i, ...], ...] += src[..., i, ...]. `index` has the input's rank and is no
 * larger than the input off `axis` and than src on every axis (only that corner of src is read).
 * Duplicate indices sum. Gradients: the input's is g; src's is g gathered at the indices.
 * Bool tensors combine with logical or, as PyTorch's bool addition.
 * @throws ShapeError for an index of another rank or too large, or an index value outside [-n, n) (its value, position and the axis size named).
 * @throws DTypeError for an index tensor that is not int32, or src of another dtype than the input.
 * @example scatterAdd(zeros([3]), 0, [0, 2, 0], tensor([1, 2, 3])) // [4, 0, 2]
 */
export const scatterAdd = primitive('scatterAdd', { kind: 'layout', rule: 'scatter' }, function (input: Tensor, axis: number, index: Tensor | NestedArray, src: Tensor): Tensor {
  const x = expectTensor('scatterAdd', 'input', input);
  const s = expectTensor('scatterAdd', 'src', src);
  checkSrcDType('scatterAdd', x, s);
  const idx = axisIndex('scatterAdd', x.shape, axis, index, s.shape, false);
  return scatterAddIndexed(x, idx, fitTo(s, idx.shape));
});

/** scatterAdd with src of the index's shape; the index is checked (and wrapped) as the kernel runs. */
function scatterAddIndexed(x: Tensor, raw: AxisIndex, src: Tensor): Tensor {
  // The kernel starts from a copy of the input: no clearing before it.
  const out = allocateUnset(x.dtype, x.size, 'scatterAdd', x.shape);
  const mode = x.dtype === 'bool' ? 'or' : 'add';
  const idx = runChecking('scatterAdd', raw, x.ndim === 0 ? 1 : x.shape[raw.axis]!, (i) =>
    scatterAlong(out, kernelShape(x.shape), i.axis, i.values, kernelShape(i.shape), src.data, mode, x.data));
  return makeOutput('scatterAdd', out, x.shape, [x, src], (g) => [g, src.requiresGrad ? gatherIndexed(g, idx) : null], {
    saves: [[], []],
    jvp: ([tx, ts]) => {
      const placed = ts === null || ts === undefined ? null : scatterAddInto(expectFloat('scatterAdd', ts), x.shape, idx);
      return placed === null ? tx! : tx === null || tx === undefined ? placed : tx.add(placed);
    },
  });
}

/**
 * The input with src written at the places `index` names along `axis`, as `torch.scatter`:
 * out[..., index[..., i, ...], ...] = src[..., i, ...]; `src` is a tensor (index no larger than it
 * on every axis) or a number. Where indices repeat, the last write in row-major order of `index`
 * wins (PyTorch leaves the winner unspecified), and only that element of src gets a gradient.
 * Gradients: the input's is g except at the places written (zero there); src's is g gathered at
 * the indices. `reduce: 'add'` is `scatterAdd`; `reduce: 'multiply'` has no gradient, as in PyTorch.
 * @throws ShapeError, DTypeError as `scatterAdd`; ArgumentError for a number that the input's dtype cannot hold, an unknown reduce, or 'multiply' on tensors that require grad.
 * @example scatter(zeros([2, 3]), 1, [[2], [0]], 1) // [[0, 0, 1], [1, 0, 0]]
 */
export const scatter = primitive('scatter', { kind: 'layout', rule: 'scatter' }, function (input: Tensor, axis: number, index: Tensor | NestedArray, src: Tensor | number, options: ScatterOptions = {}): Tensor {
  checkOptions('scatter', options, SCATTER_OPTIONS);
  const x = expectTensor('scatter', 'input', input);
  const reduce = options.reduce;
  if (reduce !== undefined && reduce !== 'add' && reduce !== 'multiply') {
    throw new ArgumentError(`scatter: reduce must be 'add' or 'multiply' (or left out), got ${JSON.stringify(reduce)}`);
  }
  let s: Tensor;
  let idx: AxisIndex;
  if (typeof src === 'number') {
    idx = axisIndex('scatter', x.shape, axis, index);
    s = constant(allocate(x.dtype, idx.values.length).fill(fillValue('scatter', src, x.dtype)), idx.shape);
  } else {
    s = expectTensor('scatter', 'src', src);
    checkSrcDType('scatter', x, s);
    idx = axisIndex('scatter', x.shape, axis, index, s.shape);
    s = fitTo(s, idx.shape);
  }
  if (reduce === 'add') return scatterAddIndexed(x, idx, s);
  const out = allocateUnset(x.dtype, x.size, 'scatter', x.shape);
  out.set(x.data);
  const shape = kernelShape(x.shape);
  const indexShape = kernelShape(idx.shape);
  if (reduce === 'multiply') {
    if (isGradEnabled() && (x.requiresGrad || s.requiresGrad)) {
      throw new ArgumentError("scatter: reduce 'multiply' has no gradient (as in PyTorch); call it under noGrad() or on tensors that do not require grad");
    }
    scatterAlong(out, shape, idx.axis, idx.values, indexShape, s.data, 'multiply');
    // No JVP either: through makeOutput while a jvp runs, so a tangent reaching it is an error naming it.
    return forwardActive() ? makeOutput("scatter (reduce 'multiply')", out, x.shape, [x, s], () => [null, null]) : constant(out, x.shape);
  }
  scatterAlong(out, shape, idx.axis, idx.values, indexShape, s.data, 'set');
  if (!forwardActive() && (!isGradEnabled() || !(x.requiresGrad || s.requiresGrad))) return constant(out, x.shape);
  // Which element of src each place was last written by (-1: never): the places x's gradient
  // skips, and the one element of src per place that reaches the output.
  const writer = new Int32Array(x.size).fill(-1);
  const order = new Int32Array(idx.values.length);
  for (let p = 0; p < order.length; p++) order[p] = p;
  scatterAlong(writer, shape, idx.axis, idx.values, indexShape, order, 'set');
  const written = allocate('bool', x.size);
  for (let i = 0; i < written.length; i++) written[i] = writer[i]! >= 0 ? 1 : 0;
  const winner = allocate('bool', order.length);
  const won = gatherIndexed(constant(writer, x.shape), idx).data;
  for (let p = 0; p < winner.length; p++) winner[p] = won[p] === p ? 1 : 0;
  const overwritten = constant(written, x.shape);
  const kept = constant(winner, idx.shape);
  return makeOutput('scatter', out, x.shape, [x, s], (g) => [
    x.requiresGrad ? where(overwritten, 0, g) : null,
    s.requiresGrad ? where(kept, gatherIndexed(g, idx), 0) : null,
  ], {
    saves: [[], []],
    // x's tangent where not overwritten, plus each place's winning src tangent.
    jvp: ([tx, ts]) => {
      const terms: Tensor[] = [];
      if (tx !== null && tx !== undefined) terms.push(where(overwritten, 0, tx));
      if (ts !== null && ts !== undefined) terms.push(scatterAddInto(expectFloat('scatter', where(kept, ts, 0)), x.shape, idx));
      return terms.reduce((a, b) => a.add(b));
    },
  });
});

/** A checked index of one axis for indexSelect and indexAdd: a 0-d or 1-D index. */
function vectorIndex(op: string, x: Tensor, axis: number, index: Tensor | NestedArray): { axis: number; values: Int32Array } {
  const ax = normalizeAxis(op, axis, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[ax]!;
  const idx = toIndex(op, index, n);
  if (idx.shape.length > 1) throw new ShapeError(`${op}: index must be 0-d or 1-D, got shape ${formatShape(idx.shape)}`);
  return { axis: ax, values: idx.values };
}

/** [outer, n, inner] of `shape` around `axis` (a 0-d shape is [1, 1, 1]). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/**
 * The slices of the input at `index` along `axis`, as `torch.index_select`: the result has the
 * input's shape with that axis `index.length` long. Indices may repeat; negative ones count from
 * the end. The gradient adds g's slices back at the indices (`indexAdd`), repeats summed.
 * @throws ShapeError for an index that is not 0-d or 1-D or a value outside [-n, n); DTypeError for an index tensor that is not int32.
 * @example indexSelect(x, 0, [2, 0]) // rows 2 and 0
 */
export const indexSelect = primitive('indexSelect', { kind: 'layout', rule: 'indexSelect' }, function (input: Tensor, axis: number, index: Tensor | NestedArray): Tensor {
  const x = expectTensor('indexSelect', 'input', input);
  const { axis: ax, values } = vectorIndex('indexSelect', x, axis, index);
  const shape = x.ndim === 0 ? (values.length === 1 ? [] : [values.length]) : x.shape.map((d, i) => (i === ax ? values.length : d));
  return indexSelectRaw(x, ax, values, shape);
});

/** indexSelect with checked, non-negative indices, giving `shape` (the input's with the axis replaced, or a reshape of it). */
function indexSelectRaw(x: Tensor, ax: number, values: Int32Array, shape: readonly number[], op = 'indexSelect'): Tensor {
  const [outer, n, inner] = around(x.shape, ax);
  const out = allocate(x.dtype, outer * values.length * inner, op, shape);
  indexSelectRows(x.data, n, values, outer, inner, out);
  return makeOutput(op, out, shape, [x], (g) => [placeRows(expectFloat(op, g), x.shape, ax, values)], { saves: [[]], jvp: ([t]) => indexSelectRaw(t!, ax, values, shape, op) });
}

/**
 * Zeros of `shape` with g's slices added at `values` along `ax`: the adjoint of indexSelect
 * (indexAdd into zeros, without allocating the zeros twice), whose own adjoint is indexSelect.
 */
function placeRows(g: FloatTensor, shape: readonly number[], ax: number, values: Int32Array): Tensor {
  const [outer, n, inner] = around(shape, ax);
  // The kernel starts from zeros: no clearing before it.
  const out = allocateUnset(g.dtype, sizeOf(shape), 'indexAdd', shape);
  indexAddRows(out, n, values, g.data, outer, inner, 1, 'add', null);
  return makeOutput('indexAdd', out, shape, [g], (gg) => [indexSelectRaw(gg, ax, values, g.shape)], { saves: [[]], jvp: ([t]) => placeRows(expectFloat('indexAdd', t!), shape, ax, values) });
}

/**
 * The input with alpha·src's slices added at `index` along `axis`, as `torch.index_add`: src
 * has the input's shape with that axis `index.length` long; repeated indices sum. Gradients:
 * the input's is g; src's is alpha·indexSelect(g, axis, index). Bool tensors combine with or.
 * @throws ShapeError for an index that is not 0-d or 1-D or out of range, or src of the wrong shape; DTypeError for an index tensor that is not int32 or src of another dtype; ArgumentError for a fractional alpha on int32 or alpha other than 1 on bool.
 * @example indexAdd(zeros([3, 2]), 0, [0, 0], ones([2, 2])) // row 0 gets 2s
 */
export const indexAdd = primitive('indexAdd', { kind: 'layout', rule: 'indexAdd' }, function (input: Tensor, axis: number, index: Tensor | NestedArray, src: Tensor, options: IndexAddOptions = {}): Tensor {
  checkOptions('indexAdd', options, INDEX_ADD_OPTIONS);
  const x = expectTensor('indexAdd', 'input', input);
  const s = expectTensor('indexAdd', 'src', src);
  checkSrcDType('indexAdd', x, s);
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || (x.dtype === 'int32' && !Number.isInteger(alpha)) || (x.dtype === 'bool' && alpha !== 1)) {
    throw new ArgumentError(`indexAdd: alpha ${String(alpha)} does not suit a ${x.dtype} input (a finite number; an integer for int32, 1 for bool)`);
  }
  const { axis: ax, values } = vectorIndex('indexAdd', x, axis, index);
  const want = x.ndim === 0 ? [values.length] : x.shape.map((d, i) => (i === ax ? values.length : d));
  // A 0-d input takes src as indexSelect of it gives it: 0-d for one index, else 1-D.
  if (!shapesEqual(s.shape, want) && !(x.ndim === 0 && s.ndim <= 1 && s.size === values.length)) {
    throw new ShapeError(`indexAdd: src of shape ${formatShape(s.shape)} must be ${formatShape(want)} (the input ${formatShape(x.shape)} with axis ${ax} as long as the ${values.length} indices)`);
  }
  return indexAddRaw(x, ax, values, s, alpha);
});

/** indexAdd with checked, non-negative indices. */
function indexAddRaw(x: Tensor, ax: number, values: Int32Array, src: Tensor, alpha: number): Tensor {
  const [outer, n, inner] = around(x.shape, ax);
  // The kernel starts from a copy of the input: no clearing before it.
  const out = allocateUnset(x.dtype, x.size, 'indexAdd', x.shape);
  indexAddRows(out, n, values, src.data, outer, inner, alpha, x.dtype === 'bool' ? 'or' : 'add', x.data);
  return makeOutput('indexAdd', out, x.shape, [x, src], (g) => {
    if (!src.requiresGrad) return [g, null];
    const back = indexSelectRaw(g, ax, values, src.shape);
    return [g, alpha === 1 ? back : back.mul(alpha)];
  }, {
    saves: [[], []],
    jvp: ([tx, ts]) => {
      if (ts === null || ts === undefined) return tx!;
      const placed = placeRows(expectFloat('indexAdd', alpha === 1 ? ts : ts.mul(alpha)), x.shape, ax, values);
      return tx === null || tx === undefined ? placed : tx.add(placed);
    },
  });
}

/**
 * The elements of the input at flat (row-major) positions `index`, as `torch.take`: the result
 * has the index's shape; negative positions count from the end. Gradient as `indexSelect`.
 * @throws ShapeError for a position outside [-size, size); DTypeError for an index tensor that is not int32.
 * @example take(tensor([[1, 2], [3, 4]]), [3, 0]) // [4, 1]
 */
export const take = primitive('take', { kind: 'layout', rule: 'take' }, function (input: Tensor, index: Tensor | NestedArray): Tensor {
  const x = expectTensor('take', 'input', input);
  const idx = toIndex('take', index, x.size);
  return indexSelectRaw(reshape(x, [x.size]), 0, idx.values, idx.shape, 'take');
});

/**
 * Rows of `weight` ([numEmbeddings, dim]) looked up by integer `indices` of any shape, as
 * `torch.nn.functional.embedding`: the result is [...indices.shape, dim]. The gradient is a
 * scatter-add of g's rows into weight's (repeats summed), with no dense one-hot; the
 * `paddingIdx` row gets none. Negative indices count from the end.
 * @throws ShapeError if weight is not 2-D, or an index or paddingIdx is outside [-n, n); DTypeError for an indices tensor that is not int32.
 * @example embedding(weight, tensor([[1, 4], [0, 1]], { dtype: 'int32' })) // [2, 2, dim]
 */
export const embedding = primitive('embedding', { kind: 'layout', rule: 'embedding' }, function (weight: Tensor, indices: Tensor | NestedArray, options: EmbeddingOptions = {}): Tensor {
  checkOptions('embedding', options, EMBEDDING_OPTIONS);
  const w = expectTensor('embedding', 'weight', weight);
  if (w.ndim !== 2) throw new ShapeError(`embedding: weight must be 2-D [numEmbeddings, dim], got shape ${formatShape(w.shape)}`);
  const [n, dim] = w.shape as [number, number];
  const idx = toIndex('embedding', indices, n);
  const values = idx.values;
  const shape = [...idx.shape, dim];
  let pad = -1;
  if (options.paddingIdx !== undefined) {
    const p = options.paddingIdx;
    if (!Number.isInteger(p) || p < -n || p >= n) throw new ShapeError(`embedding: paddingIdx ${p} is not an integer in [${-n}, ${n}) for weight of shape ${formatShape(w.shape)}`);
    pad = p < 0 ? p + n : p;
  }
  // Every row is copied in: no clearing first.
  const out = allocateUnset(w.dtype, values.length * dim, 'embedding', shape);
  indexSelectRows(w.data, n, values, 1, dim, out);
  return makeOutput('embedding', out, shape, [w], (g) => {
    const rows = reshape(g, [values.length, dim]);
    return [placeRows(expectFloat('embedding', pad >= 0 ? where(notPadding(values, pad), rows, 0) : rows), w.shape, 0, values)];
  }, {
    saves: [[]],
    // The rows' tangents, none at the padding index, as its gradient.
    jvp: ([t]) => {
      const rows = indexSelectRaw(t!, 0, values, [values.length, dim], 'embedding');
      return reshape(pad >= 0 ? where(notPadding(values, pad), rows, 0) : rows, shape);
    },
  });
});

/** [values.length, 1]: false at the lookups of the padding row, whose gradient and tangent are zero. */
function notPadding(values: Int32Array, pad: number): Tensor {
  const keep = allocate('bool', values.length);
  for (let k = 0; k < keep.length; k++) keep[k] = values[k] === pad ? 0 : 1;
  return constant(keep, [values.length, 1]);
}

/** A bool mask argument, as PyTorch's masked ops require. */
function expectMask(op: string, mask: unknown): Tensor {
  const m = expectTensor(op, 'mask', mask);
  if (m.dtype !== 'bool') {
    throw new DTypeError(`${op}: mask must be a bool tensor, got ${m.dtype} of shape ${formatShape(m.shape)}; make one with a comparison or toDtype('bool')`);
  }
  return m;
}

/**
 * The input with `value` where `mask` is true, as `torch.masked_fill`: mask (bool) and input
 * broadcast together. `value` is a number (stored in the input's dtype) or a 0-d tensor (whose
 * gradient is the sum of g over the filled places). The input's gradient is zero where filled.
 * @throws DTypeError if mask is not bool, or value is a float tensor of the other float width; ShapeError if mask and input do not broadcast or value is not 0-d; ArgumentError for a number the input's dtype cannot hold.
 * @example maskedFill(scores, causal.logicalNot(), -Infinity)
 */
export const maskedFill = primitive('maskedFill', { kind: 'elementwise', rule: 'maskedFill' }, function (input: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  const x = expectTensor('maskedFill', 'input', input);
  const m = expectMask('maskedFill', mask);
  broadcastShapes('maskedFill', x.shape, m.shape);
  let v: Tensor;
  if (value instanceof Tensor) {
    if (value.ndim !== 0) throw new ShapeError(`maskedFill: value must be a number or a 0-d tensor, got shape ${formatShape(value.shape)}`);
    if (value.dtype !== x.dtype && isFloatDType(value.dtype) && isFloatDType(x.dtype)) {
      throw new DTypeError(`maskedFill: value ${value.dtype} and input ${formatShape(x.shape)} ${x.dtype} differ; convert one with toDtype()`);
    }
    v = value.dtype === x.dtype ? value : toDtype(value, x.dtype);
  } else {
    v = scalarTensor(fillValue('maskedFill', value, x.dtype), x.dtype);
  }
  return where(m, v, x);
});

/**
 * The flat positions of the true elements of `mask` broadcast to `shape` (itself when equal).
 */
function maskPositions(m: Tensor, shape: readonly number[]): Int32Array {
  if (shapesEqual(m.shape, shape)) return nonzeroPositions(m.data);
  const full = allocate('bool', sizeOf(shape));
  broadcastCopy(m.data, m.shape, full, shape);
  return nonzeroPositions(full);
}

/**
 * The elements of the input where `mask` is true, as a 1-D tensor in row-major order, as
 * `torch.masked_select`: mask (bool) and input broadcast together. The gradient places g back
 * at those elements (summed over broadcast dimensions).
 * @throws DTypeError if mask is not bool; ShapeError if mask and input do not broadcast.
 * @example maskedSelect(x, x.gt(0)) // the positive elements
 */
export const maskedSelect = primitive('maskedSelect', { kind: 'other', rule: 'none' }, function (input: Tensor, mask: Tensor): Tensor {
  const x = expectTensor('maskedSelect', 'input', input);
  const m = expectMask('maskedSelect', mask);
  const shape = broadcastShapes('maskedSelect', x.shape, m.shape);
  const positions = maskPositions(m, shape);
  const xb = shapesEqual(x.shape, shape) ? x : x.expand(shape);
  return indexSelectRaw(reshape(xb, [xb.size]), 0, positions, [positions.length], 'maskedSelect');
});

/**
 * The coordinates of the non-zero elements of the input (of any dtype; NaN counts as non-zero),
 * in row-major order, as `torch.nonzero`: an int32 tensor [n, ndim], or with `asTuple` one 1-D
 * int32 tensor per axis (a 0-d input is taken as 1-D, as PyTorch). Never differentiable.
 * @example nonzero(tensor([[0, 1], [1, 0]])) // [[0, 1], [1, 0]]
 */
export const nonzero = primitive('nonzero', { kind: 'other', rule: 'none' }, nonzeroImpl);
function nonzeroImpl(input: Tensor, options: { asTuple: true }): Tensor[];
function nonzeroImpl(input: Tensor, options?: { asTuple?: false }): Tensor;
function nonzeroImpl(input: Tensor, options?: NonzeroOptions): Tensor | Tensor[];
function nonzeroImpl(input: Tensor, options: NonzeroOptions = {}): Tensor | Tensor[] {
  checkOptions('nonzero', options, NONZERO_OPTIONS);
  const x = expectTensor('nonzero', 'input', input);
  const positions = nonzeroPositions(x.data);
  const n = positions.length;
  if (options.asTuple === true) {
    if (x.ndim === 0) return [constant(new Int32Array(n), [n])];
    const coords = new Int32Array(n * x.ndim);
    unravelPositions(positions, x.shape, coords);
    return x.shape.map((_, d) => {
      const col = new Int32Array(n);
      for (let k = 0; k < n; k++) col[k] = coords[k * x.ndim + d]!;
      return constant(col, [n]);
    });
  }
  const out = new Int32Array(n * x.ndim);
  unravelPositions(positions, x.shape, out);
  return constant(out, [n, x.ndim]);
}

/**
 * One-hot encoding of integer class indices, as `torch.nn.functional.one_hot`: an int32 tensor
 * [...indices.shape, numClasses] (PyTorch's is int64), 1 at each index. `numClasses` -1 (the
 * default) takes the largest index + 1.
 * @throws ArgumentError for a negative index, one ≥ numClasses, a non-integer, or an empty input with numClasses -1; DTypeError for a tensor that is not int32.
 * @example oneHot(tensor([0, 2], { dtype: 'int32' }), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export const oneHot = primitive('oneHot', { kind: 'layout', rule: 'oneHot' }, function (indices: Tensor | NestedArray, numClasses = -1): Tensor {
  if (indices instanceof Tensor && indices.dtype !== 'int32') {
    throw new DTypeError(`oneHot: indices must be an int32 tensor, got ${indices.dtype} of shape ${formatShape(indices.shape)}; convert it with toDtype('int32')`);
  }
  const t = indices instanceof Tensor ? indices : tensor(indices, { dtype: 'float64' });
  if (!Number.isInteger(numClasses) || numClasses < -1) throw new ArgumentError(`oneHot: numClasses must be a non-negative integer or -1, got ${numClasses}`);
  let max = -1;
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i]!;
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`oneHot: index ${v} at position ${i} is not a non-negative integer`);
    if (numClasses >= 0 && v >= numClasses) throw new ArgumentError(`oneHot: index ${v} at position ${i} is not below numClasses ${numClasses}`);
    if (v > max) max = v;
  }
  if (numClasses === -1 && t.size === 0) throw new ArgumentError('oneHot: cannot infer numClasses from an empty input; pass it');
  const c = numClasses === -1 ? max + 1 : numClasses;
  const shape = [...t.shape, c];
  const out = allocate('int32', t.size * c, 'oneHot', shape);
  for (let i = 0; i < t.size; i++) out[i * c + t.data[i]!] = 1;
  return constant(out, shape);
});

/**
 * `x[index]` with an integer or bool tensor, as PyTorch indexes the leading axis:
 * - integer indices (an int32 tensor or nested arrays of integers, negative counting from the
 *   end) pick slices of the first axis: the result is [...index.shape, ...x.shape.slice(1)];
 * - a bool mask over the first k axes (its shape equal to theirs) keeps the slices where it is
 *   true: [count, ...x.shape.slice(k)].
 * The gradient adds g back at the picked slices (repeats summed).
 * @throws ShapeError for an index out of range, integer indexing of a 0-d tensor, or a mask whose shape does not match the leading axes; DTypeError for a float index tensor.
 * @example index(x, [2, 0]); index(x, x.sum(1).gt(0))
 */
export const index = primitive('index', { kind: 'other', rule: 'index' }, function (input: Tensor, idx: Tensor | NestedArray | NestedBooleans): Tensor {
  const x = expectTensor('index', 'input', input);
  const t = idx instanceof Tensor ? idx : containsBoolean(idx) ? tensor(idx as NestedBooleans) : (idx as NestedArray);
  if (t instanceof Tensor && t.dtype === 'bool') {
    const k = t.ndim;
    if (k > x.ndim || !shapesEqual(t.shape, x.shape.slice(0, k))) {
      throw new ShapeError(`index: a bool mask of shape ${formatShape(t.shape)} must match the leading axes of input ${formatShape(x.shape)}`);
    }
    const positions = nonzeroPositions(t.data);
    const rest = x.shape.slice(k);
    return indexSelectRaw(reshape(x, [sizeOf(t.shape), ...rest]), 0, positions, [positions.length, ...rest], 'index');
  }
  if (x.ndim === 0) throw new ShapeError('index: a 0-d tensor has no axis to index with integers');
  const picked = toIndex('index', t, x.shape[0]!);
  return indexSelectRaw(x, 0, picked.values, [...picked.shape, ...x.shape.slice(1)], 'index');
});

function containsBoolean(v: unknown): boolean {
  return typeof v === 'boolean' || (Array.isArray(v) && v.length > 0 && containsBoolean(v[0]));
}

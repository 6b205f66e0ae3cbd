import { allocate, type FloatArray } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/fused.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { constant, expectTensor, makeOutput, Tensor } from '../tensor.js';
import { checkSameDType } from './operands.js';
import { logSoftmax, softmax } from './softmax.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

/** How `crossEntropy` combines the per-sample losses. */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

/** Options of `crossEntropy`. */
export interface CrossEntropyOpOptions {
  /** 'mean' over the N samples (default), 'sum', or 'none' (the [N] losses). */
  reduction?: CrossEntropyReduction;
}

/**
 * Softmax cross-entropy of logits [N, C] against class indices (N integers in [0, C): a Tensor
 * of shape [N] or an array) or target probabilities (a Tensor of shape [N, C]), in one op:
 * `-Σ_c target_c · logSoftmax(logits)_c` per sample, computed stably (logits of 1000 are fine).
 * Its VJP is (softmax - target)·g in one pass, softmax·Σtarget - target for targets that do not
 * sum to 1; probability targets that require grad get -logSoftmax·g. While a graph is recorded
 * through the backward pass (createGraph), the VJP is the same maths in differentiable Tensor
 * ops instead.
 * @throws ShapeError if the logits are not [N, C], the target fits neither form, or a class index is out of [0, C).
 * @throws ArgumentError for an unknown reduction.
 * @throws DTypeError if probability targets differ from the logits in dtype.
 * @example crossEntropy(logits, [2, 0, 1]) // mean loss of 3 samples
 */
export function crossEntropy(logits: Tensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOpOptions = {}): Tensor {
  const op = 'crossEntropy';
  const x = expectTensor(op, 'logits', logits);
  const { reduction = 'mean' } = options;
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  if (x.ndim !== 2) throw new ShapeError(`${op}: logits must be [N, C], got ${formatShape(x.shape)}`);
  const [rows, classes] = x.shape as [number, number];
  const probs = target instanceof Tensor && target.ndim === 2 ? target : null;
  const labels = probs === null ? classLabels(op, target, rows, classes, x.shape) : null;
  if (probs !== null) {
    checkSameDType(op, x, probs);
    if (probs.shape[0] !== rows || probs.shape[1] !== classes) {
      throw new ShapeError(`${op}: target probabilities ${formatShape(probs.shape)} must have the logits' shape ${formatShape(x.shape)}`);
    }
  }
  const stats = new Float64Array(2 * rows);
  const losses = new Float64Array(rows);
  crossEntropyForward(x.data, rows, classes, labels, probs === null ? null : probs.data, stats, losses);
  let data: FloatArray;
  if (reduction === 'none') {
    data = allocate(x.dtype, rows);
    data.set(losses);
  } else {
    let total = 0;
    for (let r = 0; r < rows; r++) total += losses[r]!;
    data = allocate(x.dtype, 1);
    data[0] = reduction === 'mean' ? total / rows : total;
  }
  const inputs = probs === null ? [x] : [x, probs];
  return makeOutput(op, data, reduction === 'none' ? [rows] : [], inputs, (g) => {
    if (isGradEnabled()) return composedVjp(g, x, labels, probs, reduction);
    // Each row's loss gradient: g for a sum, g/N for a mean, g[r] for unreduced losses.
    const scale = new Float64Array(rows);
    if (reduction === 'none') scale.set(g.data);
    else scale.fill(reduction === 'mean' ? g.data[0]! / rows : g.data[0]!);
    const dx = allocate(x.dtype, x.size);
    const dp = probs !== null && probs.requiresGrad ? allocate(x.dtype, x.size) : null;
    crossEntropyBackward(x.data, rows, classes, labels, probs === null ? null : probs.data, stats, scale, dx, dp);
    const dLogits = x.requiresGrad ? constant(dx, x.shape) : null;
    if (probs === null) return [dLogits];
    return [dLogits, dp === null ? null : constant(dp, x.shape)];
  });
}

/** Class labels from a [N] tensor or an array, each an integer in [0, C). */
function classLabels(op: string, target: Tensor | ArrayLike<number>, rows: number, classes: number, shape: readonly number[]): Int32Array {
  const isTensor = target instanceof Tensor;
  if (isTensor ? target.ndim !== 1 || target.shape[0] !== rows : typeof target?.length !== 'number' || target.length !== rows) {
    const got = isTensor ? formatShape(target.shape) : typeof target?.length === 'number' ? `${target.length} labels` : String(target);
    throw new ShapeError(`${op}: target must be ${rows} class indices (shape [${rows}]) or probabilities of shape ${formatShape(shape)}, got ${got}`);
  }
  const values: ArrayLike<number> = isTensor ? target.data : target;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = values[r]!;
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ShapeError(`${op}: target class ${v} at position ${r} is out of range [0, ${classes}) for logits ${formatShape(shape)}`);
    }
    labels[r] = v;
  }
  return labels;
}

/** The VJP in Tensor ops, recorded on the graph so it can be differentiated again. */
function composedVjp(g: Tensor, x: Tensor, labels: Int32Array | null, probs: Tensor | null, reduction: CrossEntropyReduction): (Tensor | null)[] {
  const [rows, classes] = x.shape as [number, number];
  // The gradient of each row's loss, shaped to broadcast over the row.
  const scale = reduction === 'none' ? reshape(g, [rows, 1]) : reduction === 'mean' ? g.div(rows) : g;
  if (probs === null) {
    const oneHot = allocate(x.dtype, x.size);
    for (let r = 0; r < rows; r++) oneHot[r * classes + labels![r]!] = 1;
    return [x.requiresGrad ? softmax(x, 1).sub(constant(oneHot, x.shape)).mul(scale) : null];
  }
  return [
    x.requiresGrad ? softmax(x, 1).mul(sum(probs, 1, true)).sub(probs).mul(scale) : null,
    probs.requiresGrad ? logSoftmax(x, 1).neg().mul(scale) : null,
  ];
}

import { ArgumentError, ShapeError, type Tensor } from '@chainrule/autograd';
import { formatShape } from '../format.js';

/** A metric as `fit` and `evaluate` use it: its mean over a batch (averaged over batches by sample count). */
export type MetricFunction = (prediction: Tensor, target: Tensor) => number;

/** Options of `accuracy` and `confusionMatrix`. */
export interface ClassificationOptions {
  /** Single-output predictions count as class 1 above this (default 0.5, for probabilities; use 0 for logits). */
  threshold?: number;
}

/**
 * Predicted and true class per sample: argmax over classes for [N, C] with C > 1; for a single
 * output ([N] or [N, 1]) 1 where the prediction exceeds the threshold. Targets are class indices
 * ([N]), one-hot or probability rows ([N, C], by argmax), or 0/1 values (single output).
 */
function labels(op: string, prediction: Tensor, target: Tensor, threshold: number): { predicted: Int32Array; actual: Int32Array; classes: number } {
  const n = prediction.ndim === 0 ? 1 : prediction.shape[0]!;
  const perSample = n === 0 ? 0 : prediction.size / n;
  if (prediction.ndim > 2 || (prediction.ndim === 2 && perSample < 1)) {
    throw new ShapeError(`${op}: prediction must be [N], [N, 1] or [N, C], got ${formatShape(prediction.shape)}`);
  }
  const binary = prediction.ndim < 2 || perSample === 1;
  const classes = binary ? 2 : perSample;
  const predicted = new Int32Array(n);
  const actual = new Int32Array(n);
  const p = prediction.data;
  for (let i = 0; i < n; i++) predicted[i] = binary ? (p[i]! > threshold ? 1 : 0) : argmax(p, i * classes, classes);
  const t = target.data;
  if (target.size === n && (target.ndim <= 1 || (target.ndim === 2 && target.shape[1] === 1))) {
    for (let i = 0; i < n; i++) {
      const v = binary ? (t[i]! > 0.5 ? 1 : 0) : t[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= classes) {
        throw new ShapeError(`${op}: target class ${t[i]} at position ${i} is out of range [0, ${classes}) (prediction ${formatShape(prediction.shape)})`);
      }
      actual[i] = v;
    }
  } else if (!binary && target.ndim === 2 && target.shape[0] === n && target.shape[1] === classes) {
    for (let i = 0; i < n; i++) actual[i] = argmax(t, i * classes, classes);
  } else {
    throw new ShapeError(
      `${op}: target ${formatShape(target.shape)} does not fit prediction ${formatShape(prediction.shape)}: expected [${n}] class labels${binary ? '' : ` or [${n}, ${classes}] one-hot rows`}`,
    );
  }
  return { predicted, actual, classes };
}

function argmax(data: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if (data[offset + j]! > data[offset + best]!) best = j;
  return best;
}

/**
 * Fraction of samples whose predicted class matches the target: argmax for multi-class outputs,
 * `> threshold` (0.5) for single-output probabilities. Targets are class indices ([N]), one-hot or
 * probability rows ([N, C], by argmax), or 0/1 values for a single output. NaN for an empty batch.
 * @throws ShapeError if the prediction is not [N], [N, 1] or [N, C], the target does not fit it,
 * or a target class is out of range.
 * @throws ArgumentError if `threshold` is not finite.
 * @example accuracy(model.forward(x), y) // 0.97
 */
export function accuracy(prediction: Tensor, target: Tensor, options: ClassificationOptions = {}): number {
  const { threshold = 0.5 } = options;
  if (!Number.isFinite(threshold)) throw new ArgumentError(`accuracy: threshold must be finite, got ${threshold}`);
  const { predicted, actual } = labels('accuracy', prediction, target, threshold);
  if (predicted.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === actual[i]) hits++;
  return hits / predicted.length;
}

/**
 * Counts per (true class, predicted class): rows are targets, columns predictions, as
 * scikit-learn and torchmetrics. Classes are read as `accuracy` reads them; `numClasses` widens the
 * matrix for classes a batch may lack.
 * @throws ShapeError as `accuracy`.
 * @throws ArgumentError if `numClasses` is not an integer at least the prediction's class count.
 * @example confusionMatrix(logits, y) // [[5, 1], [0, 6]]
 */
export function confusionMatrix(prediction: Tensor, target: Tensor, options: ClassificationOptions & { numClasses?: number } = {}): number[][] {
  const { threshold = 0.5 } = options;
  const { predicted, actual, classes } = labels('confusionMatrix', prediction, target, threshold);
  const k = options.numClasses ?? classes;
  if (!Number.isInteger(k) || k < classes) {
    throw new ArgumentError(`confusionMatrix: numClasses must be an integer >= ${classes} (the prediction's classes), got ${options.numClasses}`);
  }
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < predicted.length; i++) m[actual[i]!]![predicted[i]!]! += 1;
  return m;
}

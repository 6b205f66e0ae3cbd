import { ArgumentError, DTypeError, ShapeError, Tensor, concat, logsumexp, stack, tensor, where } from '@chainrule/autograd';
import { formatShape } from '../format.js';
import { reduce, type Reduction } from './reduction.js';

/** Options of `ctcLoss`. */
export interface CTCOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** 'mean' (default: each sequence's loss divided by its target length, then the batch mean), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Give sequences with no possible alignment (input too short) a loss and gradient of 0 instead of Infinity (default false). */
  zeroInfinity?: boolean;
}

// A log-probability of "impossible" that keeps logsumexp and its gradient finite (-Infinity
// would give 0/0 in the gradient where every term is impossible).
const IMPOSSIBLE = -1e30;

function mask(values: boolean[], shape: number[]): Tensor {
  return tensor(values, { dtype: 'bool' }).reshape(shape);
}

function lengths(op: string, what: string, v: Tensor | ArrayLike<number>, n: number): number[] {
  const out = Array.from(v instanceof Tensor ? v.data : v);
  if (out.length !== n || !out.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new ShapeError(`${op}: ${what} must hold ${n} non-negative integers (one per sequence), got ${JSON.stringify(out)}`);
  }
  return out;
}

/**
 * Connectionist temporal classification loss (Graves et al. 2006), as PyTorch's ctc_loss: the
 * negative log-probability of each target summed over every alignment of it to the input, by the
 * forward (alpha) recursion in log space; gradients come from autograd through that recursion.
 * `logProbs` is [T, N, C] (or [T, C] for one sequence) of log-probabilities (log-softmaxed);
 * `targets` is [N, S] padded (or one sequence [S]), or the targets concatenated into one 1-D
 * tensor of length Σ targetLengths, as PyTorch; lengths are per sequence. A sequence whose input is
 * shorter than its target needs (its length plus its repeated neighbours) has loss Infinity, or
 * 0 with `zeroInfinity`.
 * @throws ShapeError for shapes or lengths that do not fit (an input length over T, a target length
 * over S), or a target class out of [0, C) or equal to blank.
 * @throws DTypeError if targets are not int32; ArgumentError for a blank out of range or an unknown reduction.
 * @example ctcLoss(logits.logSoftmax(2), targets, inputLengths, targetLengths)
 */
export function ctcLoss(
  logProbs: Tensor, targets: Tensor, inputLengths: Tensor | ArrayLike<number>, targetLengths: Tensor | ArrayLike<number>, options: CTCOptions = {},
): Tensor {
  const op = 'ctcLoss';
  const { blank = 0, reduction = 'mean', zeroInfinity = false } = options;
  if (!(logProbs instanceof Tensor) || (logProbs.ndim !== 3 && logProbs.ndim !== 2)) {
    throw new ShapeError(`${op}: logProbs must be [T, N, C] or [T, C], got ${logProbs instanceof Tensor ? formatShape(logProbs.shape) : typeof logProbs}`);
  }
  if (!(targets instanceof Tensor) || targets.dtype !== 'int32') {
    throw new DTypeError(`${op}: targets must be an int32 tensor, got ${targets instanceof Tensor ? targets.dtype : typeof targets}`);
  }
  const unbatched = logProbs.ndim === 2;
  const lp = unbatched ? logProbs.unsqueeze(1) : logProbs;
  const [T, N, C] = lp.shape as [number, number, number];
  if (!(Number.isInteger(blank) && blank >= 0 && blank < C)) throw new ArgumentError(`${op}: blank must be a class in [0, ${C}), got ${blank}`);
  const inLen = lengths(op, 'inputLengths', inputLengths, N);
  const tgLen = lengths(op, 'targetLengths', targetLengths, N);
  if (inLen.some((l) => l > T)) throw new ShapeError(`${op}: inputLengths ${JSON.stringify(inLen)} exceed the input's ${T} steps`);
  // Each sequence's labels, from the padded [N, S] (or [S]) form or the concatenated 1-D form.
  const labels: number[][] = [];
  const padded = unbatched ? targets.ndim === 1 : targets.ndim === 2;
  if (padded) {
    const S = targets.shape[targets.ndim - 1]!;
    if (!unbatched && targets.shape[0] !== N) throw new ShapeError(`${op}: targets ${formatShape(targets.shape)} must have ${N} rows, one per sequence`);
    for (let n = 0; n < N; n++) {
      if (tgLen[n]! > S) throw new ShapeError(`${op}: targetLengths[${n}] = ${tgLen[n]} exceeds the targets' ${S} columns`);
      labels.push(Array.from(targets.data.subarray(n * S, n * S + tgLen[n]!)));
    }
  } else if (targets.ndim === 1) {
    let at = 0;
    for (let n = 0; n < N; n++) {
      labels.push(Array.from(targets.data.subarray(at, at + tgLen[n]!)));
      at += tgLen[n]!;
    }
    if (at !== targets.size) throw new ShapeError(`${op}: concatenated targets ${formatShape(targets.shape)} must hold Σ targetLengths = ${at} labels`);
  } else {
    throw new ShapeError(`${op}: targets must be [N, S] or 1-D, got ${formatShape(targets.shape)}`);
  }
  for (const row of labels) {
    const bad = row.find((c) => !(c >= 0 && c < C) || c === blank);
    if (bad !== undefined) throw new ShapeError(`${op}: target label ${bad} is out of [0, ${C}) or is the blank ${blank}`);
  }
  // Extended labels: blank, l1, blank, l2, ..., blank (2·Smax + 1 states, padded with blanks).
  const L = 2 * Math.max(0, ...tgLen) + 1;
  const ext = new Int32Array(N * L).fill(blank);
  const skip = new Array<boolean>(N * L).fill(false);
  const start = new Array<boolean>(N * L).fill(false);
  const last = new Int32Array(N * 2);
  for (let n = 0; n < N; n++) {
    const row = labels[n]!;
    row.forEach((c, i) => {
      ext[n * L + 2 * i + 1] = c;
      // A label may be reached from two states back unless it repeats the label before it.
      if (i > 0 && row[i - 1] !== c) skip[n * L + 2 * i + 1] = true;
    });
    start[n * L] = true;
    if (row.length > 0) start[n * L + 1] = true;
    last[2 * n] = 2 * row.length;
    last[2 * n + 1] = row.length > 0 ? 2 * row.length - 1 : L; // L: an appended impossible state
  }
  const extIdx = new Tensor(ext, [N, L]);
  const emit = (t: number) => lp.narrow(0, t, 1).squeeze(0).gather(1, extIdx);
  const impossible = (cols: number) => new Tensor(lp.dtype === 'float32' ? new Float32Array(N * cols).fill(IMPOSSIBLE) : new Float64Array(N * cols).fill(IMPOSSIBLE), [N, cols]);
  const skipMask = mask(skip, [N, L]);
  let alpha = where(mask(start, [N, L]), emit(0), IMPOSSIBLE);
  for (let t = 1; t < T; t++) {
    const from1 = concat([impossible(1), alpha.narrow(1, 0, L - 1)], 1);
    const from2 = L > 2 ? where(skipMask, concat([impossible(2), alpha.narrow(1, 0, L - 2)], 1), IMPOSSIBLE) : impossible(L);
    const next = logsumexp(stack([alpha, from1, from2], 0), 0).add(emit(t));
    alpha = where(mask(Array.from({ length: N }, (_, n) => t < inLen[n]!), [N, 1]), next, alpha);
  }
  const ends = concat([alpha, impossible(1)], 1).gather(1, new Tensor(last, [N, 2]));
  let losses = logsumexp(ends, 1).neg();
  // No alignment exists when the input is shorter than the labels plus a blank between repeats.
  const infeasible = labels.map((row, n) => row.length + row.filter((c, i) => i > 0 && row[i - 1] === c).length > inLen[n]!);
  if (infeasible.some(Boolean)) losses = where(mask(infeasible, [N]), zeroInfinity ? 0 : Infinity, losses);
  if (reduction === 'mean') {
    const divisors = new Tensor(lp.dtype === 'float32' ? Float32Array.from(tgLen, (l) => Math.max(l, 1)) : Float64Array.from(tgLen, (l) => Math.max(l, 1)), [N]);
    return losses.div(divisors).mean();
  }
  const out = reduce(op, losses, reduction);
  return unbatched && reduction === 'none' ? out.reshape([]) : out;
}

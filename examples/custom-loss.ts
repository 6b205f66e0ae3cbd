/**
 * A loss of your own, written with Tensor ops: the binary focal loss of Lin et al. (2017),
 * FL = -α_t·(1 - p_t)^γ·log p_t, which down-weights easy examples so that a rare class is not
 * drowned out. Before training with it, `gradcheck` compares its autograd gradient with
 * central differences (in float64), at ordinary logits and at logits of ±800, where a naive
 * log(sigmoid(x)) is log(0); and with γ = 0 it must reduce to α-weighted cross-entropy.
 * Then a small network learns an imbalanced two-moons set with it.
 *
 *   pnpm example:custom-loss
 */
import { formatGradcheckReport, gradcheck, noGrad, randn, tensor, type Tensor } from '@chainrule/autograd';
import { moons } from '@chainrule/datasets';
import { Adam, MLP, bceWithLogitsLoss } from '@chainrule/nn';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** Options of `focalLoss`. */
export interface FocalLossOptions {
  /** Weight of the positive class, 1 - α for the negative one (default 0.25). */
  alpha?: number;
  /** Focusing exponent: 0 gives weighted cross-entropy (default 2). */
  gamma?: number;
}

/**
 * Mean binary focal loss of logits against 0/1 targets of the same shape.
 * @example focalLoss(model.forward(x), y, { gamma: 2 })
 */
export function focalLoss(logits: Tensor, target: Tensor, options: FocalLossOptions = {}): Tensor {
  const { alpha = 0.25, gamma = 2 } = options;
  // With s = 2y - 1, p_t = σ(s·x) and log p_t = -softplus(-s·x): finite for any logit.
  const s = target.mul(2).sub(1);
  const logPt = s.mul(logits).neg().softplus().neg();
  const pt = logPt.exp();
  const alphaT = target.mul(2 * alpha - 1).add(1 - alpha); // α where y = 1, 1 - α where y = 0
  return alphaT.mul(pt.neg().add(1).pow(gamma)).mul(logPt).neg().mean();
}

/** What the run found. */
export interface CustomLossResult {
  /** gradcheck at ordinary logits and at logits of ±40 and ±800. */
  gradcheckOk: boolean;
  gradcheckLargeOk: boolean;
  maxAbsError: number;
  /** |focal(γ = 0, α = ½) - ½·BCE| on random logits. */
  gammaZeroDifference: number;
  initialLoss: number;
  finalLoss: number;
  accuracy: number;
  /** Share of the rare class found. */
  minorityRecall: number;
  seconds: number;
}

/** Checks the focal loss, then trains with it; `quick` runs 300 iterations instead of 600. @example main().gradcheckOk */
export function main(options: ExampleOptions = {}): CustomLossResult {
  const { quick = false, seed = 0, log = silent } = options;
  const start = performance.now();

  // 1. Check the gradient before trusting it. gradcheck works in float64.
  const logits = randn([6, 1], { dtype: 'float64', seed, requiresGrad: true });
  const targets = tensor([[1], [0], [0], [1], [0], [0]], { dtype: 'float64' });
  const report = gradcheck((x) => focalLoss(x, targets), [logits]);
  log(`focal loss, logits ~ N(0, 1):\n${formatGradcheckReport(report)}`);
  // Two confident right answers, two confidently wrong ones (σ(-800) is 0 in float64).
  const large = tensor([[40], [-40], [800], [-800], [0.5], [-0.5]], { dtype: 'float64', requiresGrad: true });
  log(`naive log(sigmoid(-800)) = ${noGrad(() => tensor([-800], { dtype: 'float64' }).sigmoid().log().item())}`);
  const reportLarge = gradcheck((x) => focalLoss(x, targets), [large]);
  log(`focal loss, logits up to ±800:\n${formatGradcheckReport(reportLarge)}`);
  const gammaZeroDifference = noGrad(() =>
    Math.abs(focalLoss(logits, targets, { alpha: 0.5, gamma: 0 }).item() - 0.5 * bceWithLogitsLoss(logits, targets).item()),
  );
  log(`γ = 0, α = ½ against ½·bceWithLogitsLoss: |difference| = ${gammaZeroDifference.toExponential(2)}`);

  // 2. Train with it: two moons with 9 in 10 samples of class 1 removed.
  const data = moons({ n: 1200, noise: 0.15, seed });
  const keep: number[] = [];
  data.y.forEach((label, i) => {
    if (label === 0 || i % 10 === 0) keep.push(i);
  });
  const x = tensor(Float32Array.from(keep.flatMap((i) => [data.x[2 * i]!, data.x[2 * i + 1]!])), { shape: [keep.length, 2] });
  const y = tensor(Float32Array.from(keep, (i) => data.y[i]!), { shape: [keep.length, 1] });
  const positives = keep.filter((i) => data.y[i] === 1).length;
  log(`\nImbalanced moons: ${keep.length} points, ${positives} of them in class 1`);

  const model = new MLP([2, 16, 16, 1], { activation: 'tanh', seed });
  const optimizer = new Adam(model.parameters(), { lr: 0.02 });
  const iterations = quick ? 300 : 600;
  let initialLoss = NaN;
  let finalLoss = NaN;
  for (let i = 0; i < iterations; i++) {
    optimizer.zeroGrad();
    const loss = focalLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    if (i === 0) initialLoss = loss.item();
    finalLoss = loss.item();
    if (i % 100 === 0 || i === iterations - 1) log(`iteration ${String(i).padStart(3)}: focal loss ${loss.item().toFixed(5)}`);
  }

  const predicted = noGrad(() => model.forward(x)).data;
  let correct = 0;
  let found = 0;
  for (let i = 0; i < keep.length; i++) {
    const p = predicted[i]! > 0 ? 1 : 0;
    if (p === y.data[i]) correct++;
    if (p === 1 && y.data[i] === 1) found++;
  }
  const accuracy = correct / keep.length;
  const minorityRecall = found / positives;
  log(`training accuracy ${(100 * accuracy).toFixed(1)}%, class-1 recall ${(100 * minorityRecall).toFixed(1)}%`);
  return {
    gradcheckOk: report.ok,
    gradcheckLargeOk: reportLarge.ok,
    maxAbsError: Math.max(report.maxAbsError, reportLarge.maxAbsError),
    gammaZeroDifference,
    initialLoss,
    finalLoss,
    accuracy,
    minorityRecall,
    seconds: secondsSince(start),
  };
}

if (isMain(import.meta.url)) main({ log: console.log });

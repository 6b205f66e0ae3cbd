/**
 * Differentially private SGD (DP-SGD, Abadi et al. 2016) on the handwritten digits: every step
 * takes each example's own gradient with `vmap(grad(loss))`, clips each one to norm C, sums
 * them, adds Gaussian noise of standard deviation σ·C and steps along the noisy mean. Clipping
 * needs the per-example gradients themselves, which a batch gradient sums away; vmap computes
 * them in one batched pass instead of a loop of 64 backward passes.
 *
 *   pnpm example:per-sample
 */
import { Generator, argmax, crossEntropy, grad, randn, treeMap, vmap, zeros, type FloatDType, type Tensor } from '@chainrule/autograd';
import { mnistDigits } from '@chainrule/datasets/node';
import { batches, toTensors } from './lib/data.js';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** The 784-128-10 ReLU network's parameters, as a structure the transforms take. */
export interface Params {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

/** DP-SGD's settings. */
export interface DpSgdOptions {
  /** Each example's gradient is scaled down to this norm when longer (C). */
  clipNorm: number;
  /** Noise standard deviation in units of clipNorm (σ). */
  noiseMultiplier: number;
  lr: number;
  batchSize: number;
}

/** What the run found. */
export interface PerSampleResult {
  /** Mean (clipped-gradient) training loss per epoch. */
  trainLoss: number[];
  testAccuracy: number;
  /** The share of per-example gradients that clipping shortened, over the whole run. */
  clippedShare: number;
  seconds: number;
}

export function logits(p: Params, x: Tensor): Tensor {
  return x.matmul(p.w1).add(p.b1).relu().matmul(p.w2).add(p.b2);
}

/** One example's loss: x of shape [784], y a 0-d class index. */
export function exampleLoss(p: Params, x: Tensor, y: Tensor): Tensor {
  return crossEntropy(logits(p, x.reshape([1, -1])), y.reshape([1]));
}

/** Each example's gradient: the structure of Params, each leaf with the batch first. */
export const perExampleGrads = vmap(grad(exampleLoss), { inAxes: [null, 0, 0] });

/**
 * One DP-SGD step on a batch: per-example gradients, each clipped to `clipNorm`, summed, noised
 * and averaged. Returns the new parameters and how many examples were clipped.
 */
export function dpSgdStep(p: Params, x: Tensor, y: Tensor, o: DpSgdOptions, noise: Generator): { params: Params; clipped: number } {
  const g = perExampleGrads(p, x, y);
  const n = x.shape[0]!;
  // Each example's norm over all of its parameters' gradients: [n].
  const sq = Object.values(g).map((t) => t.reshape([n, -1]).square().sum(1));
  const norms = sq.reduce((a, b) => a.add(b)).sqrt();
  const scale = norms.add(1e-12).reciprocal().mul(o.clipNorm).clamp(undefined, 1); // min(1, C/‖g‖)
  const clipped = norms.gt(o.clipNorm).toDtype('int32').sum().item();
  const params = treeMap((w: Tensor, gw: Tensor) => {
    const summed = gw.mul(scale.reshape([n, ...Array<number>(gw.ndim - 1).fill(1)])).sum(0);
    // No noise at σ = 0 (not 0·C, which is NaN for an unbounded C).
    const noisy = o.noiseMultiplier === 0 ? summed : summed.add(randn(w.shape, { generator: noise, dtype: w.dtype as FloatDType }).mul(o.noiseMultiplier * o.clipNorm));
    return w.sub(noisy.mul(o.lr / n));
  }, p, g) as Params;
  return { params, clipped };
}

function initParams(seed: number): Params {
  // He initialisation for the ReLU layer, Glorot-like for the output.
  return {
    w1: randn([784, 128], { seed }).mul(Math.sqrt(2 / 784)),
    b1: zeros([128]),
    w2: randn([128, 10], { seed: seed + 1 }).mul(Math.sqrt(1 / 128)),
    b2: zeros([10]),
  };
}

function accuracy(p: Params, x: Tensor, y: Tensor): number {
  const predicted = argmax(logits(p, x), 1);
  return predicted.eq(y).toDtype('float32').mean().item();
}

/** Trains with DP-SGD; `quick` uses 1,280/500 digits and 3 epochs. @example main().testAccuracy */
export function main(options: ExampleOptions & Partial<DpSgdOptions> = {}): PerSampleResult {
  const { quick = false, seed = 0, log = silent } = options;
  const o: DpSgdOptions = { clipNorm: options.clipNorm ?? 1, noiseMultiplier: options.noiseMultiplier ?? 1.1, lr: options.lr ?? 0.25, batchSize: options.batchSize ?? 64 };
  const start = performance.now();
  const data = mnistDigits(quick ? { train: 1280, test: 500, seed } : { train: 8000, test: 2000, seed });
  const test = toTensors(data.test);
  const epochs = quick ? 3 : 10;
  log(`DP-SGD on ${data.train.shape[0]} digits: clip ${o.clipNorm}, noise σ = ${o.noiseMultiplier}·C, lr ${o.lr}, batch ${o.batchSize}`);
  let params = initParams(seed);
  const noise = new Generator(seed + 7);
  const epoch = batches(data.train, { batchSize: o.batchSize, seed });
  const trainLoss: number[] = [];
  let clipped = 0;
  let seen = 0;
  for (let e = 0; e < epochs; e++) {
    let total = 0;
    let count = 0;
    for (const { x, y } of epoch()) {
      total += crossEntropy(logits(params, x), y).item() * x.shape[0]!;
      count += x.shape[0]!;
      const step = dpSgdStep(params, x, y, o, noise);
      params = step.params;
      clipped += step.clipped;
      seen += x.shape[0]!;
    }
    trainLoss.push(total / count);
    log(`epoch ${e + 1}: loss ${trainLoss[e]!.toFixed(4)}, test accuracy ${(100 * accuracy(params, test.x, test.y)).toFixed(1)}%`);
  }
  const testAccuracy = accuracy(params, test.x, test.y);
  const seconds = secondsSince(start);
  log(`test accuracy ${(100 * testAccuracy).toFixed(2)}% (${(100 * clipped / seen).toFixed(0)}% of per-example gradients clipped) in ${seconds} s`);
  return { trainLoss, testAccuracy, clippedShare: clipped / seen, seconds };
}

if (isMain(import.meta.url)) main({ log: console.log });

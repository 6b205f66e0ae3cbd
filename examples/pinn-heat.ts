/**
 * A physics-informed neural network (Raissi et al. 2019) for the heat equation
 *
 *   u_t = u_xx  on x in [0, 1], t in [0, 1],  u(x, 0) = sin(πx),  u(0, t) = u(1, t) = 0,
 *
 * whose exact solution is u = exp(-π²t)·sin(πx). An MLP 2-32-32-1 with tanh takes (x, t) to u;
 * the loss is the mean squared residual u_t - u_xx at 256 collocation points, drawn afresh each
 * step, plus the squared misfit at initial and boundary points. u_t and u_xx are gradients of
 * the network with respect to its inputs (u_xx a gradient of a gradient), and the step
 * differentiates that loss again with respect to the weights: third-order reverse mode, all of
 * it compiled into one program by `jit(valueAndGrad(loss))`, then an Adam update. Prints the
 * relative L2 error against the exact solution on a grid, and the time per step eager and jitted.
 *
 *   pnpm example:pinn
 */
import { Generator, concat, grad, jit, rand, randn, tensor, valueAndGrad, zeros, type Tensor } from '@chainrule/autograd';
import { Adam } from '@chainrule/nn';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** The network's weights, as the structure the transforms take. */
export interface Params {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  w3: Tensor;
  b3: Tensor;
}

/** The points one step fits: collocation (x, t) inside, t = 0 (initial), x = 0 and x = 1 (boundary); each [n, 1]. */
export interface Points {
  x: Tensor;
  t: Tensor;
  x0: Tensor;
  tb: Tensor;
}

/** What the run found. */
export interface PinnResult {
  /** The loss at every 100th step (and the last). */
  losses: number[];
  /** ‖u - u*‖ / ‖u*‖ over a 51×51 grid of [0, 1]². */
  relativeError: number;
  /** Median milliseconds per training step, eager and under jit (noisy: wall clock). */
  msPerStepEager: number;
  msPerStepJit: number;
  seconds: number;
}

/** u(x, t): x and t of shape [n, 1], u of shape [n, 1]. */
export function u(p: Params, x: Tensor, t: Tensor): Tensor {
  const h1 = concat([x, t], 1).matmul(p.w1).add(p.b1).tanh();
  const h2 = h1.matmul(p.w2).add(p.b2).tanh();
  return h2.matmul(p.w3).add(p.b3);
}

/** The exact solution exp(-π²t)·sin(πx). */
export function exact(x: Tensor, t: Tensor): Tensor {
  return t.mul(-Math.PI * Math.PI).exp().mul(x.mul(Math.PI).sin());
}

// Each u(x_i, t_i) depends on its own point only, so the gradient of the sum over points is
// every point's own derivative.
const uSum = (p: Params, x: Tensor, t: Tensor): Tensor => u(p, x, t).sum();
const uT = grad(uSum, { argnums: 2 });
const uX = grad(uSum, { argnums: 1 });
const uXX = grad((p: Params, x: Tensor, t: Tensor): Tensor => uX(p, x, t).sum(), { argnums: 1 });

/** The residual u_t - u_xx at (x, t). */
export function residual(p: Params, x: Tensor, t: Tensor): Tensor {
  return uT(p, x, t).sub(uXX(p, x, t));
}

/** Mean squared residual plus the initial and boundary misfits. */
export function loss(p: Params, pts: Points): Tensor {
  const pde = residual(p, pts.x, pts.t).square().mean();
  const initial = u(p, pts.x0, zeros(pts.x0.shape)).sub(pts.x0.mul(Math.PI).sin()).square().mean();
  const left = u(p, zeros(pts.tb.shape), pts.tb).square().mean();
  const right = u(p, zeros(pts.tb.shape).add(1), pts.tb).square().mean();
  return pde.add(initial).add(left).add(right);
}

/** Fresh points from `g`: 256 collocation points, 64 initial and 64 on each boundary. */
export function samplePoints(g: Generator, collocation = 256, edge = 64): Points {
  return {
    x: rand([collocation, 1], { generator: g }),
    t: rand([collocation, 1], { generator: g }),
    x0: rand([edge, 1], { generator: g }),
    tb: rand([edge, 1], { generator: g }),
  };
}

/** Glorot-normal weights, zero biases. */
export function initParams(seed: number): Params {
  const layer = (fanIn: number, fanOut: number, s: number): Tensor => randn([fanIn, fanOut], { seed: s }).mul(Math.sqrt(2 / (fanIn + fanOut)));
  return { w1: layer(2, 32, seed), b1: zeros([32]), w2: layer(32, 32, seed + 1), b2: zeros([32]), w3: layer(32, 1, seed + 2), b3: zeros([1]) };
}

/** ‖u - u*‖ / ‖u*‖ on an n×n grid of [0, 1]². */
export function relativeError(p: Params, n = 51): number {
  const xs: number[] = [];
  const ts: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    xs.push(i / (n - 1));
    ts.push(j / (n - 1));
  }
  const x = tensor(xs, { shape: [n * n, 1] });
  const t = tensor(ts, { shape: [n * n, 1] });
  const want = exact(x, t);
  return u(p, x, t).sub(want).square().sum().sqrt().div(want.square().sum().sqrt()).item();
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Trains with Adam (lr 3e-3, then 1e-3 for the last third) under `jit(valueAndGrad(loss))`;
 * `quick` runs 400 steps instead of 5,000. Before training, times a few eager and jitted steps
 * on the same points (they are not kept).
 * @example main({ log: console.log }).relativeError
 */
export function main(options: ExampleOptions & { steps?: number } = {}): PinnResult {
  const { quick = false, seed = 0, log = silent } = options;
  const steps = options.steps ?? (quick ? 400 : 5000);
  const start = performance.now();
  const params = initParams(seed);
  const names = Object.keys(params) as (keyof Params)[];
  const g = new Generator(seed + 1);
  const eagerStep = valueAndGrad(loss);
  const jitStep = jit(eagerStep);
  log(`PINN for u_t = u_xx on [0, 1]²: MLP 2-32-32-1 tanh, ${steps} Adam steps, 256 collocation points a step`);

  // Timing: the same points and weights for both; the jitted step's first call traces, untimed.
  const pts = samplePoints(g);
  const timed = (step: typeof eagerStep, n: number): number => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      step(params, pts);
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  jitStep(params, pts);
  const reps = quick ? 5 : 20;
  const msPerStepEager = timed(eagerStep, reps);
  const msPerStepJit = timed(jitStep, reps);
  log(`time per step: eager ${msPerStepEager.toFixed(2)} ms, jit ${msPerStepJit.toFixed(2)} ms (${(msPerStepEager / msPerStepJit).toFixed(1)}x)`);
  log(jitStep.lower(params, pts).text.split('\n').length - 2 + ' equations in the compiled step');

  const opt = new Adam(names.map((k) => params[k]), { lr: 3e-3 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const lr = s < (2 * steps) / 3 ? 3e-3 : 1e-3;
    for (const group of opt.paramGroups) group.lr = lr;
    const { value, grads } = jitStep(params, samplePoints(g));
    for (const k of names) params[k].grad = grads[k];
    opt.step();
    if (s % 100 === 0 || s === steps - 1) {
      losses.push(value.item());
      log(`step ${s}: loss ${value.item().toExponential(3)}`);
    }
  }
  const err = relativeError(params);
  const seconds = secondsSince(start);
  log(`relative L2 error against exp(-π²t)·sin(πx): ${(100 * err).toFixed(2)}% after ${steps} steps in ${seconds} s`);
  return { losses, relativeError: err, msPerStepEager, msPerStepJit, seconds };
}

if (isMain(import.meta.url)) main({ log: console.log });

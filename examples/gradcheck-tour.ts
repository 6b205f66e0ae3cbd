/**
 * A tour of chainrule's gradient checks:
 *   1. gradcheck in full mode: every Jacobian entry against central differences (float64);
 *   2. fast mode: one random projection per input, two evaluations of f whatever its size;
 *   3. taylorTest: the step-size-free check (a correct gradient's remainder shrinks as h²);
 *   4. a hand-written op (customOp) whose backward forgot a square: all three checks catch
 *      it, and formatGradcheckReport names the worst element.
 *
 *   pnpm example:gradcheck
 */
import {
  GradcheckError, assertGradcheck, customOp, formatGradcheckReport, gradcheck, randn, taylorTest,
  type GradcheckWorst, type Tensor, type TaylorTestReport,
} from '@chainrule/autograd';
import { isMain, silent, type ExampleOptions } from './lib/main.js';

/** What the tour found. */
export interface GradcheckTourResult {
  /** The correct functions: full and fast gradcheck, taylorTest verdict. */
  fullOk: boolean;
  fastOk: boolean;
  fullMs: number;
  fastMs: number;
  /** Input elements of the fast/full comparison. */
  elements: number;
  taylorCorrect: TaylorTestReport['verdict'];
  /** The op with the wrong backward. */
  wrongFullOk: boolean;
  wrongFastOk: boolean;
  wrongWorst: GradcheckWorst | null;
  taylorWrong: TaylorTestReport['verdict'];
  /** Whether assertGradcheck threw a GradcheckError for it. */
  wrongCaught: boolean;
  /** The correct custom op passes. */
  rightOk: boolean;
}

/** softsign(x) = x / (1 + |x|), whose derivative is 1 / (1 + |x|)². */
const softsignForward = (x: Tensor): Tensor => x.div(x.abs().add(1));

const softsign = customOp({
  name: 'softsign',
  forward: softsignForward,
  backward: (g, { inputs: [x] }) => g.div(x!.abs().add(1).square()),
});

/** The same op with a classic slip: the square in the derivative is missing. */
const buggySoftsign = customOp({
  name: 'buggySoftsign',
  forward: softsignForward,
  backward: (g, { inputs: [x] }) => g.div(x!.abs().add(1)), // NOTE: wrong on purpose
});

/** Runs the tour; `quick` uses a 24×24 input for the full/fast comparison instead of 64×64. @example main().wrongWorst */
export function main(options: ExampleOptions = {}): GradcheckTourResult {
  const { quick = false, seed = 0, log = silent } = options;
  const section = (title: string): void => log(`\n== ${title}`);

  section('1. gradcheck, full mode: f(a, b) = sum(tanh(a @ b))');
  const a = randn([3, 4], { dtype: 'float64', seed, requiresGrad: true });
  const b = randn([4, 2], { dtype: 'float64', seed: seed + 1, requiresGrad: true });
  const f = (p: Tensor, q: Tensor): Tensor => p.matmul(q).tanh().sum();
  const small = gradcheck(f, [a, b]);
  log(formatGradcheckReport(small));

  const n = quick ? 24 : 64;
  section(`2. full against fast mode on a ${n}×${n} input (${n * n} elements)`);
  const w = randn([n, n], { dtype: 'float64', seed: seed + 2, requiresGrad: true });
  const x = randn([n, 8], { dtype: 'float64', seed: seed + 3 });
  const g = (m: Tensor): Tensor => m.matmul(x).tanh().square().mean();
  let start = performance.now();
  const full = gradcheck(g, [w]);
  const fullMs = performance.now() - start;
  log(`${formatGradcheckReport(full)}\n  ${fullMs.toFixed(1)} ms: two evaluations of f per element`);
  start = performance.now();
  const fast = gradcheck(g, [w], { mode: 'fast', seed });
  const fastMs = performance.now() - start;
  log(`${formatGradcheckReport(fast)}\n  ${fastMs.toFixed(1)} ms: two evaluations of f along one random direction`);

  section('3. taylorTest: |f(x + h·d) - f(x) - h·<∇f, d>| as h halves');
  const taylorRight = taylorTest((v) => softsign(v).sum(), randn([5], { dtype: 'float64', seed: seed + 4 }), undefined, { seed });
  log(`softsign: ${taylorRight.message}`);
  log(`  orders between steps: ${taylorRight.orders.map((o) => o.toFixed(2)).join(' ')}`);

  section('4. a customOp with a wrong backward');
  const v = randn([3, 3], { dtype: 'float64', seed: seed + 5, requiresGrad: true });
  const right = gradcheck((t) => softsign(t), [v]);
  log(`correct softsign:\n${formatGradcheckReport(right)}`);
  const wrongFull = gradcheck((t) => buggySoftsign(t), [v]);
  log(`buggySoftsign, full mode:\n${formatGradcheckReport(wrongFull)}`);
  const wrongFast = gradcheck((t) => buggySoftsign(t).sum(), [v], { mode: 'fast', seed });
  log(`buggySoftsign, fast mode (a failure re-runs in full to find the worst element):\n${formatGradcheckReport(wrongFast)}`);
  const taylorWrong = taylorTest((t) => buggySoftsign(t).sum(), v, undefined, { seed });
  log(`buggySoftsign, taylorTest: ${taylorWrong.message}`);
  log(`  orders between steps: ${taylorWrong.orders.map((o) => o.toFixed(2)).join(' ')}`);
  let wrongCaught = false;
  try {
    assertGradcheck((t) => buggySoftsign(t), [v]);
  } catch (e) {
    wrongCaught = e instanceof GradcheckError;
    log(`assertGradcheck threw ${(e as Error).name}; in a test it fails with the report above.`);
  }

  return {
    fullOk: small.ok && full.ok,
    fastOk: fast.ok,
    fullMs,
    fastMs,
    elements: n * n,
    taylorCorrect: taylorRight.verdict,
    wrongFullOk: wrongFull.ok,
    wrongFastOk: wrongFast.ok,
    wrongWorst: wrongFull.worst,
    taylorWrong: taylorWrong.verdict,
    wrongCaught,
    rightOk: right.ok,
  };
}

if (isMain(import.meta.url)) main({ log: console.log });

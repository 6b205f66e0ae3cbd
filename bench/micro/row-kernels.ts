/**
 * Row kernels micro-benchmark: softmax (forward, VJP) and layerNorm (forward, backward) at the
 * encoder step's sizes (attention scores 4096 rows of 64; 1024 tokens of 128 features), the
 * TypeScript loops against the WebAssembly kernels that give the same bits, alternated round by
 * round, medians of process CPU time (steadier than wall time on a shared machine, still noisy).
 *
 *   node scripts/run.mjs bench/micro/row-kernels.ts            # options: --rounds 25 --reps 10
 */
import { setKernelBackend } from '../../packages/autograd/src/kernels/backend.js';
import { layerNormBackward, layerNormForward } from '../../packages/autograd/src/kernels/layer-norm.js';
import { softmaxBackward, softmaxForward } from '../../packages/autograd/src/kernels/softmax.js';
import { Generator } from '../../packages/autograd/src/random.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const rounds = option('--rounds', 25);
const reps = option('--reps', 10);

const random = new Generator(0);
const filled = (n: number, low: number, high: number): Float32Array => Float32Array.from({ length: n }, () => random.uniform(low, high));

const [scoreRows, keys] = [4096, 64];
const scores = filled(scoreRows * keys, -3, 3), weights = new Float32Array(scoreRows * keys);
const upstream = filled(scoreRows * keys, -1, 1), scoresGrad = new Float32Array(scoreRows * keys);
const [tokens, features] = [1024, 128];
const x = filled(tokens * features, -2, 2), y = new Float32Array(tokens * features), stats = new Float64Array(2 * tokens);
const w = filled(features, 0.5, 1.5), b = filled(features, -0.1, 0.1), g = filled(tokens * features, -1, 1);
const dx = new Float32Array(tokens * features), dw = new Float64Array(features), db = new Float64Array(features);

const kernels: [string, () => void][] = [
  [`softmax ${scoreRows}×${keys}`, () => softmaxForward(scores, scoreRows, keys, 1, true, weights)],
  [`softmax VJP ${scoreRows}×${keys}`, () => softmaxBackward(upstream, weights, scoreRows, keys, 1, scoresGrad)],
  [`layerNorm ${tokens}×${features}`, () => layerNormForward(x, tokens, features, 1e-5, w, b, y, stats)],
  [`layerNorm backward ${tokens}×${features}`, () => {
    dw.fill(0);
    db.fill(0);
    layerNormBackward(x, g, tokens, features, w, stats, dx, dw, db);
  }],
];

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
const cpu: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const backend of ['js', 'wasm'] as const) {
    setKernelBackend(backend);
    for (const [name, run] of kernels) {
      run();
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) run();
      const c = process.cpuUsage(c0);
      (cpu[`${name} ${backend}`] ??= []).push((c.user + c.system) / 1000 / reps);
    }
  }
}
for (const [name] of kernels) {
  const js = median(cpu[`${name} js`]!), wasm = median(cpu[`${name} wasm`]!);
  console.log(`${name}: TypeScript ${js.toFixed(3)} ms, WebAssembly ${wasm.toFixed(3)} ms CPU (${(js / wasm).toFixed(2)}×)`);
}

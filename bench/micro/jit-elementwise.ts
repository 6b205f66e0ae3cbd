// A 10-op elementwise chain on 1M float32 values, eager against jit (one fused loop, one output
// buffer), alternating in one process: node scripts/run.mjs bench/micro/jit-elementwise.ts
// Also checks that both give the same bits. Figures from a shared machine are noisy.
import { jit, tensor, type Tensor } from '@chainrule/autograd';

const n = 1 << 20;
const values = new Float32Array(n);
let s = 131;
for (let i = 0; i < n; i++) {
  // A small LCG: seeded, reproducible, values in [-2, 2).
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  values[i] = (s / 2 ** 32) * 4 - 2;
}
const x = tensor(values, { shape: [n] });

// Two 10-op chains: one with three transcendental functions (tanh, exp, sigmoid), whose libm
// calls dominate the cost either way, and one of arithmetic only, where the passes over memory
// and the allocations that fusion removes are the cost.
const chains: [string, (v: Tensor) => Tensor][] = [
  ['with tanh, exp, sigmoid', (v) => v.mul(1.5).add(0.25).tanh().mul(v).sub(0.1).exp().mul(0.5).sigmoid().add(v).square()],
  ['arithmetic only', (v) => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).square()],
];

function time(f: () => void, runs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) f();
  return (performance.now() - t0) / runs;
}
const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1]!;

for (const [name, chain] of chains) {
  const compiled = jit(chain);
  const a = chain(x), b = compiled(x);
  for (let i = 0; i < n; i++) if (!Object.is(a.data[i], b.data[i])) throw new Error(`${name}, element ${i}: eager ${a.data[i]}, jit ${b.data[i]}`);
  console.log(compiled.lower(x).compiledText);
  for (let i = 0; i < 5; i++) {
    chain(x);
    compiled(x);
  }
  const eager: number[] = [], jitted: number[] = [];
  for (let round = 0; round < 9; round++) {
    eager.push(time(() => chain(x).data[0], 5));
    jitted.push(time(() => compiled(x).data[0], 5));
  }
  console.log(`${name}: eager ${median(eager).toFixed(2)} ms, jit ${median(jitted).toFixed(2)} ms, ${(median(eager) / median(jitted)).toFixed(2)}× (medians of 9 rounds of 5 runs; same bits)`);
}

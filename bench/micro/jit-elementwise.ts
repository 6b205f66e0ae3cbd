// A 10-op elementwise chain on 1M float32 values, eager against jit (one fused loop, one output
// buffer), alternating in one process: node scripts/run.mjs bench/micro/jit-elementwise.ts
// The jit runs twice: under the kernel backend in force (a float32 group of arithmetic and
// selects runs as a generated WebAssembly function) and under 'js' (the generated JavaScript
// loop). Times are medians of wall and CPU time (process.cpuUsage); checks that all
// give the same bits. Figures from a shared machine are noisy.
import { jit, kernelBackend, setKernelBackend, tensor, type Tensor } from '@chainrule/autograd';
import { elementwiseData } from '../src/data.js';

const n = 1 << 20;
// The bench row's values: seeded, in [-2, 2).
const x = tensor(elementwiseData(n), { shape: [n] });

// Two 10-op chains: one with three transcendental functions (tanh, exp, sigmoid), whose libm
// calls dominate the cost either way, and one of arithmetic only, where the passes over memory
// and the allocations that fusion removes are the cost.
const chains: [string, (v: Tensor) => Tensor][] = [
  ['with tanh, exp, sigmoid', (v) => v.mul(1.5).add(0.25).tanh().mul(v).sub(0.1).exp().mul(0.5).sigmoid().add(v).square()],
  ['arithmetic only', (v) => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).square()],
];

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Wall and CPU milliseconds per run of `f`. */
function time(f: () => void, runs: number): [number, number] {
  const t0 = performance.now(), c0 = cpu();
  for (let i = 0; i < runs; i++) f();
  return [(performance.now() - t0) / runs, (cpu() - c0) / runs];
}
const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1]!;
const backend = kernelBackend();
/** `f` under the 'js' kernel backend. */
const underJs = <T>(f: () => T): T => {
  setKernelBackend('js');
  try {
    return f();
  } finally {
    setKernelBackend(backend);
  }
};

for (const [name, chain] of chains) {
  const compiled = jit(chain);
  const a = chain(x), b = compiled(x), c = underJs(() => compiled(x));
  for (let i = 0; i < n; i++) {
    if (!Object.is(a.data[i], b.data[i]) || !Object.is(a.data[i], c.data[i])) {
      throw new Error(`${name}, element ${i}: eager ${a.data[i]}, jit ${b.data[i]}, jit under 'js' ${c.data[i]}`);
    }
  }
  console.log(compiled.lower(x).compiledText);
  const variants: [string, () => void][] = [
    ['eager', () => chain(x).data[0]],
    [`jit (${backend})`, () => compiled(x).data[0]],
    ["jit ('js')", () => underJs(() => compiled(x).data[0])],
  ];
  for (let i = 0; i < 5; i++) for (const [, f] of variants) f();
  const wall = variants.map((): number[] => []), cpus = variants.map((): number[] => []);
  for (let round = 0; round < 9; round++) {
    variants.forEach(([, f], v) => {
      const [w, c] = time(f, 5);
      wall[v]!.push(w);
      cpus[v]!.push(c);
    });
  }
  console.log(`${name} (medians of 9 rounds of 5 runs; same bits; noisy shared machine):`);
  variants.forEach(([label], v) => {
    const ratio = `eager/this: wall ${(median(wall[0]!) / median(wall[v]!)).toFixed(2)}×, cpu ${(median(cpus[0]!) / median(cpus[v]!)).toFixed(2)}×`;
    console.log(`  ${label.padEnd(12)} wall ${median(wall[v]!).toFixed(2).padStart(7)} ms  cpu ${median(cpus[v]!).toFixed(2).padStart(7)} ms  ${ratio}`);
  });
}

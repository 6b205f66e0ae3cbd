// Where a fused float32 group's WebAssembly function pays against its JavaScript loop, by size:
// the benchmark's 10-op arithmetic chain under jit, with the kernel backend 'wasm' (the
// generated WebAssembly function at every size) and 'js' (the generated JavaScript loop),
// alternating in one process; medians of CPU time (process.cpuUsage) and wall time per call.
//   node scripts/run.mjs bench/micro/jit-fused-sizes.ts
// Figures from a shared machine are noisy.
import { jit, setKernelBackend, tensor, type Tensor } from '@chainrule/autograd';
import { elementwiseData } from '../src/data.js';

const chain = (v: Tensor): Tensor => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).square();
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1]!;

for (const n of [16, 64, 256, 1024, 4096, 16384, 1 << 20]) {
  const x = tensor(elementwiseData(n), { shape: [n] });
  const compiled = jit(chain);
  const reps = Math.max(1, Math.round(8e6 / n));
  const stats = { wasm: { wall: [] as number[], cpu: [] as number[] }, js: { wall: [] as number[], cpu: [] as number[] } };
  for (let round = 0; round < 11; round++) {
    for (const backend of ['wasm', 'js'] as const) {
      setKernelBackend(backend);
      const w0 = performance.now(), c0 = cpu();
      for (let i = 0; i < reps; i++) compiled(x);
      stats[backend].wall.push(((performance.now() - w0) / reps) * 1000);
      stats[backend].cpu.push(((cpu() - c0) / reps) * 1000);
    }
  }
  const f = (xs: number[]): string => median(xs).toFixed(2).padStart(9);
  console.log(
    `n=${String(n).padStart(7)}: wasm cpu ${f(stats.wasm.cpu)} µs wall ${f(stats.wasm.wall)} µs | js cpu ${f(stats.js.cpu)} µs wall ${f(stats.js.wall)} µs | js/wasm cpu ${(median(stats.js.cpu) / median(stats.wasm.cpu)).toFixed(2)}×`,
  );
}

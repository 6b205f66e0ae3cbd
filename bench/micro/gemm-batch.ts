/**
 * Batched-product micro-benchmark: attention's products, batch × heads = 64 small products
 * ([64,64,32]·[64,32,64] for q·kᵀ and [64,64,64]·[64,64,32] for weights·v), made one `gemm` call
 * per product (each staging its own operands) against one `gemmBatch` call (staging once per
 * group). The two alternate within each round; figures are medians of the rounds, in CPU time
 * of the process (steadier than wall time on a shared machine) beside wall time.
 *
 *   node scripts/run.mjs bench/micro/gemm-batch.ts [--rounds N] [--reps N]
 */
import { Generator } from '../../packages/autograd/src/random.js';
import { gemm, gemmBatch, type GemmBatch } from '../../packages/autograd/src/kernels/gemm.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 9);
const reps = Number(option('--reps') ?? 200);

function filled(f32: boolean, size: number, seed: number): Float32Array | Float64Array {
  const out = f32 ? new Float32Array(size) : new Float64Array(size);
  const generator = new Generator(seed);
  for (let i = 0; i < size; i++) out[i] = generator.uniform() - 0.5;
  return out;
}

function batchOf(f32: boolean, count: number, m: number, n: number, k: number, transB: boolean): GemmBatch {
  const offsets = (size: number): number[] => Array.from({ length: count }, (_, i) => i * size);
  return {
    transA: false, transB, m, n, k,
    a: filled(f32, count * m * k, 1), aOffsets: offsets(m * k),
    b: filled(f32, count * k * n, 2), bOffsets: offsets(k * n),
    c: f32 ? new Float32Array(count * m * n) : new Float64Array(count * m * n),
  };
}

function perProduct(batch: GemmBatch): void {
  const { transA, transB, m, n, k, a, b, c, aOffsets, bOffsets } = batch;
  for (let i = 0; i < aOffsets.length; i++) gemm({ transA, transB, m, n, k, a, aOffset: aOffsets[i]!, b, bOffset: bOffsets[i]!, c, cOffset: i * m * n });
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

function time(run: () => void): { cpu: number; wall: number } {
  const cpu0 = process.cpuUsage(), wall0 = performance.now();
  for (let r = 0; r < reps; r++) run();
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / 1000 / reps, wall: (performance.now() - wall0) / reps };
}

for (const f32 of [true, false]) {
  for (const [label, batch] of [
    ['q·kᵀ [64,64,32]·[64,64,32]ᵀ', batchOf(f32, 64, 64, 64, 32, true)],
    ['w·v  [64,64,64]·[64,64,32]', batchOf(f32, 64, 64, 32, 64, false)],
  ] as const) {
    const results: Record<string, { cpu: number[]; wall: number[] }> = { 'per product': { cpu: [], wall: [] }, batched: { cpu: [], wall: [] } };
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of [['per product', () => perProduct(batch)], ['batched', () => gemmBatch(batch)]] as const) {
        const t = time(run);
        results[name]!.cpu.push(t.cpu);
        results[name]!.wall.push(t.wall);
      }
    }
    for (const [name, r] of Object.entries(results)) {
      console.log(`${f32 ? 'float32' : 'float64'} ${label} ${name.padEnd(12)} cpu ${median(r.cpu).toFixed(3)} ms  wall ${median(r.wall).toFixed(3)} ms`);
    }
  }
}

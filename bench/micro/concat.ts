/**
 * concat micro-benchmark: GB/s (bytes written) of joining thin pieces along the last axis
 * against the same bytes joined along axis 0, float32 and float64. Rounds alternate the cases
 * and each figure is the median, since timings on shared machines drift.
 *
 *   node scripts/run.mjs bench/micro/concat.ts [--rounds N] [--rows R]
 */
import { concat, cumsum, tensor, type Tensor } from '../../packages/autograd/src/index.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 7);
const rows = Number(option('--rows') ?? 8192);

function pieces(dtype: 'float32' | 'float64', count: number, shape: number[]): Tensor[] {
  return Array.from({ length: count }, (_, p) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i + p);
    return tensor(data, { shape });
  });
}

interface Case { label: string; run: () => Tensor; bytes: number }

const cases: Case[] = [];
for (const dtype of ['float32', 'float64'] as const) {
  const width = dtype === 'float32' ? 4 : 8;
  for (const cols of [1, 4, 16]) {
    const count = 16;
    const thin = pieces(dtype, count, [rows, cols]);
    const bytes = rows * cols * count * width;
    cases.push({ label: `${dtype} ${count} × [${rows},${cols}] axis -1`, run: () => concat(thin, -1), bytes });
    const tall = pieces(dtype, count, [rows, cols]);
    cases.push({ label: `${dtype} ${count} × [${rows},${cols}] axis 0`, run: () => concat(tall, 0), bytes });
  }
  const x = pieces(dtype, 1, [rows, 64])[0]!;
  cases.push({ label: `${dtype} cumsum [${rows},64] axis -1`, run: () => cumsum(x, -1), bytes: rows * 64 * width });
  cases.push({ label: `${dtype} cumsum [${rows},64] axis 0`, run: () => cumsum(x, 0), bytes: rows * 64 * width });
}

const times = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  cases.forEach((c, i) => {
    for (let w = 0; w < 3; w++) c.run();
    const reps = 20;
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) c.run();
    times[i]!.push((performance.now() - t0) / reps);
  });
}
for (const [i, c] of cases.entries()) {
  const sorted = [...times[i]!].sort((a, b) => a - b);
  const ms = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`${c.label.padEnd(44)} ${ms.toFixed(3).padStart(8)} ms  ${(c.bytes / (ms * 1e6)).toFixed(2).padStart(7)} GB/s`);
}

/**
 * einsum micro-benchmark: the bench's einsum rows in one process, einsum against the matmul
 * calls it stands for, alternating within each round; each figure is the median of the
 * rounds (timings on shared machines drift). Forward only, float32.
 *
 *   node scripts/run.mjs bench/micro/einsum.ts [--rounds N]
 */
import { einsum, tensor, type Tensor } from '@chainrule/autograd';
import { SEEDS, uniform } from '../src/data.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 7);

function operands(shapes: number[][]): Tensor[] {
  return shapes.map((shape, i) => tensor(uniform(shape.reduce((p, d) => p * d, 1), SEEDS.matA + i, -1, 1, 'float32'), { shape }));
}

/** Milliseconds per call of `f`, over enough calls to fill about 200 ms. */
function time(f: () => void): number {
  f();
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    const ms = performance.now() - t0;
    if (ms > 200) return ms / calls;
    calls *= 2;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const [b, n] = [16, 128];
const [i, j, k, l] = [64, 256, 256, 16];
const cases = [
  { label: `'bij,bjk->bik' [${b},${n},${n}]x2`, eq: 'bij,bjk->bik', xs: operands([[b, n, n], [b, n, n]]), flop: 2 * b * n ** 3 },
  { label: `'ij,jk,kl->il' [${i},${j}] [${j},${k}] [${k},${l}]`, eq: 'ij,jk,kl->il', xs: operands([[i, j], [j, k], [k, l]]), flop: 2 * (j * k * l + i * j * l) },
];

for (const c of cases) {
  const viaEinsum = (): void => void einsum(c.eq, ...c.xs).data[0];
  const viaMatmul = (): void => void (c.xs.length === 2 ? c.xs[0]!.matmul(c.xs[1]!) : c.xs[0]!.matmul(c.xs[1]!.matmul(c.xs[2]!))).data[0];
  const e: number[] = [], m: number[] = [];
  for (let r = 0; r < rounds; r++) {
    e.push(time(viaEinsum));
    m.push(time(viaMatmul));
  }
  const gflops = (ms: number): string => (c.flop / (ms * 1e6)).toFixed(2);
  console.log(`${c.label}: einsum ${median(e).toFixed(3)} ms (${gflops(median(e))} GFLOP/s), matmul ${median(m).toFixed(3)} ms (${gflops(median(m))} GFLOP/s), ratio ${(median(e) / median(m)).toFixed(2)}`);
}

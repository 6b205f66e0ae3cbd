/**
 * Linear algebra micro-benchmark: the bench's `solve-f64-256` and `cholesky-f64-256` rows (the
 * same matrices as bench/src/chainrule.ts `linalg()`), each as the op (the Cholesky's result also
 * disposed, as the bench row does, and not) and as its kernels alone (LU factorisation, the
 * TypeScript vector solve from its factors, the Cholesky factorisation), beside one 256³ float64
 * gemm, whose time sets the scale (a factorisation's O(n³) work is a third or two thirds of
 * it). Cases alternate within each round; each figure is the median over rounds of wall time
 * and of process CPU time (user + system, the helper thread included), steadier on a shared
 * machine, still noisy. `bench/micro/indexing.ts --base DIR --only solve,cholesky` compares the
 * ops with another checkout's sources in one process.
 *
 *   node scripts/run.mjs bench/micro/linalg.ts [--rounds N] [--n N] [--only solve,cholesky,...]
 */
import { cholesky, eye, solve, tensor } from '../../packages/autograd/src/index.js';
import { gemm } from '../../packages/autograd/src/kernels/gemm.js';
import { choleskyLower, luFactor, luSolve } from '../../packages/autograd/src/kernels/linalg.js';
import { SEEDS, uniform } from '../src/data.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 15);
const n = Number(option('--n') ?? 256);
const only = option('--only')?.split(',');

const u = tensor(uniform(n * n, SEEDS.matA, -1, 1, 'float64'), { shape: [n, n] });
const identity = eye(n, n, { dtype: 'float64' });
const a = u.add(identity.mul(n));
const b = tensor(uniform(n, SEEDS.matB, -1, 1, 'float64'));
const s = u.matmul(u.transpose()).div(n).add(identity);

const aData = a.data as Float64Array, bData = b.data as Float64Array, sData = s.data as Float64Array;
const work = new Float64Array(n * n), perm = new Int32Array(n), x = new Float64Array(n);
const lu = Float64Array.from(aData);
luFactor(lu, n, perm);
const luPerm = Int32Array.from(perm);
const gA = new Float64Array(n * n), gB = new Float64Array(n * n), gC = new Float64Array(n * n);
gA.set(aData);
gB.set(sData);

const cases: [string, () => void][] = ([
  ['solve (op)', () => void solve(a, b).data[0]],
  ['cholesky (op)', () => void cholesky(s).data[0]],
  // Disposed, its storage serves the next call (bench/src/chainrule.ts's readAndDispose): fresh
  // memory is what the op costs beyond its kernel otherwise.
  ['cholesky (op, disposed)', () => {
    const l = cholesky(s);
    void l.data[0];
    l.dispose();
  }],
  ['luFactor', () => {
    work.set(aData);
    luFactor(work, n, perm);
  }],
  ['luSolve (vector)', () => luSolve(lu, n, luPerm, bData, 1, x)],
  ['choleskyLower', () => {
    work.set(sData);
    choleskyLower(work, n);
  }],
  [`gemm ${n}³`, () => gemm({ transA: false, transB: false, m: n, n, k: n, a: gA, b: gB, c: gC })],
] as [string, () => void][]).filter(([name]) => only === undefined || only.some((o) => name.startsWith(o)));

/** Calls per timing, so that each fills about 20 ms. */
const reps = cases.map(([, run]) => {
  run();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < 20) {
    run();
    calls++;
  }
  return Math.max(1, calls);
});

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
const wall = cases.map(() => [] as number[]), cpu = cases.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  cases.forEach(([, run], i) => {
    run();
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let k = 0; k < reps[i]!; k++) run();
    const c = process.cpuUsage(c0);
    wall[i]!.push((performance.now() - t0) / reps[i]!);
    cpu[i]!.push((c.user + c.system) / 1000 / reps[i]!);
  });
}
for (const [i, [name]] of cases.entries()) {
  console.log(`${name.padEnd(24)} wall ${median(wall[i]!).toFixed(3).padStart(7)} ms   cpu ${median(cpu[i]!).toFixed(3).padStart(7)} ms`);
}

/**
 * Indexing, concat and solve micro-benchmark: the bench rows gather-4096x64-of-256,
 * scatterAdd-4096x64-into-256, embedding-bwd-8192-of-10000x64, concat-last-16x4 and
 * solve-f64-256 / cholesky-f64-256, with the bench's inputs. With `--base DIR` (a copy of
 * packages/autograd/src, e.g. from `git archive`), each round runs the base and this tree in
 * turn (A, B, A, B, ...) and prints both medians of wall and CPU time per run; CPU time
 * (process.cpuUsage) holds far better than wall time on a shared machine, and the minor page
 * faults per run (fresh memory touched) do not depend on load at all. `--reused` adds the
 * indexing and concat rows' kernels writing into outputs allocated once (indices taken as
 * checked): the op's time less what it costs to touch fresh memory, and less its checks.
 * Each run reads its result back and disposes it (where the sources have `dispose`), as the
 * bench's rows do.
 *
 *   node scripts/run.mjs bench/micro/indexing.ts [--base DIR] [--reused] [--rounds N] [--only a,b]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { labels, SEEDS, uniform } from '../src/data.js';
type IndexingKernels = typeof import('../../packages/autograd/src/kernels/indexing.js');
type LayoutKernels = typeof import('../../packages/autograd/src/kernels/layout.js');

type Api = typeof import('../../packages/autograd/src/index.js');
type Tensor = import('../../packages/autograd/src/index.js').Tensor;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 9);
const only = option('--only')?.split(',');
const baseDir = option('--base');

function rows(api: Api): Record<string, () => void> {
  const { concat, embedding, eye, gather, scatterAdd, solve, cholesky, tensor, zeros } = api;
  const index = tensor(labels(4096 * 64, SEEDS.index, 256), { shape: [4096, 64], dtype: 'int32' });
  const x = tensor(uniform(4096 * 256, SEEDS.index, -1, 1, 'float32'), { shape: [4096, 256] });
  const base = zeros([4096, 256]);
  const src = tensor(uniform(4096 * 64, SEEDS.index + 1, -1, 1, 'float32'), { shape: [4096, 64] });
  const weight = tensor(uniform(10000 * 64, SEEDS.index, -1, 1, 'float32'), { shape: [10000, 64], requiresGrad: true });
  const ids = tensor(labels(8192, SEEDS.index, 10000), { dtype: 'int32' });
  const g = tensor(uniform(8192 * 64, SEEDS.index + 1, -1, 1, 'float32'), { shape: [8192, 64] });
  const parts = Array.from({ length: 16 }, (_, p) => tensor(uniform(8192 * 4, SEEDS.layout + p, -1, 1, 'float32'), { shape: [8192, 4] }));
  const n = 256;
  const u = tensor(uniform(n * n, SEEDS.matA, -1, 1, 'float64'), { shape: [n, n] });
  const identity = eye(n, n, { dtype: 'float64' });
  const a = u.add(identity.mul(n));
  const b = tensor(uniform(n, SEEDS.matB, -1, 1, 'float64'));
  const s = u.matmul(u.transpose()).div(n).add(identity);
  // Each result is read back, then disposed where the API has dispose (as the TF.js rows do).
  const done = (t: Tensor): void => {
    void t.data[0];
    (t as { dispose?: () => void }).dispose?.();
  };
  return {
    gather: () => done(gather(x, 1, index)),
    scatterAdd: () => done(scatterAdd(base, 1, index, src)),
    embedding: () => {
      const y = embedding(weight, ids);
      y.backward(g);
      const dw = weight.grad!;
      weight.grad = null;
      (y as { dispose?: () => void }).dispose?.();
      done(dw);
    },
    concat: () => done(concat(parts, -1)),
    solve: () => done(solve(a, b)),
    cholesky: () => done(cholesky(s)),
  };
}

/** The rows' kernels (of the sources at `dir`) into outputs allocated once, with the bench's inputs. */
async function reusedRows(dir: string): Promise<Record<string, () => void>> {
  const { gatherAlong, indexAddRows, indexSelectRows, scatterAlong } = (await import(pathToFileURL(resolve(dir, 'kernels/indexing.ts')).href)) as IndexingKernels;
  const { concatAxis } = (await import(pathToFileURL(resolve(dir, 'kernels/layout.ts')).href)) as LayoutKernels;
  const index = labels(4096 * 64, SEEDS.index, 256);
  const x = uniform(4096 * 256, SEEDS.index, -1, 1, 'float32');
  const src = uniform(4096 * 64, SEEDS.index + 1, -1, 1, 'float32');
  const gathered = new Float32Array(4096 * 64);
  const base = new Float32Array(4096 * 256);
  const scattered = new Float32Array(4096 * 256);
  const weight = uniform(10000 * 64, SEEDS.index, -1, 1, 'float32');
  const ids = labels(8192, SEEDS.index, 10000);
  const g = uniform(8192 * 64, SEEDS.index + 1, -1, 1, 'float32');
  const looked = new Float32Array(8192 * 64);
  const table = new Float32Array(10000 * 64);
  const parts = Array.from({ length: 16 }, (_, p) => uniform(8192 * 4, SEEDS.layout + p, -1, 1, 'float32'));
  const joined = new Float32Array(8192 * 64);
  // Sources from before scatterAlong took `from` (its eighth parameter) update out in place.
  const starts = scatterAlong.length >= 8;
  return {
    gather: () => gatherAlong(x, [4096, 256], 1, index, [4096, 64], gathered),
    // Where the kernels take what their output starts as (`from`), they copy or clear it themselves.
    scatterAdd: starts
      ? () => scatterAlong(scattered, [4096, 256], 1, index, [4096, 64], src, 'add', base)
      : () => {
          scattered.set(base);
          scatterAlong(scattered, [4096, 256], 1, index, [4096, 64], src, 'add');
        },
    embedding: () => {
      indexSelectRows(weight, 10000, ids, 1, 64, looked);
      if (starts) {
        indexAddRows(table, 10000, ids, g, 1, 64, 1, 'add', null);
      } else {
        table.fill(0);
        indexAddRows(table, 10000, ids, g, 1, 64, 1, 'add');
      }
    },
    concat: () => concatAxis(parts, parts.map(() => 4), joined, 8192, 1),
  };
}

const here = await import('../../packages/autograd/src/index.js');
const variants: [string, Record<string, () => void>][] = [];
if (baseDir !== undefined) {
  const api = (await import(pathToFileURL(resolve(baseDir, 'index.ts')).href)) as Api;
  variants.push(['base', rows(api)]);
}
variants.push(['this', rows(here)]);
if (process.argv.includes('--reused')) {
  if (baseDir !== undefined) variants.push(['base reused', await reusedRows(baseDir)]);
  variants.push(['this reused', await reusedRows(new URL('../../packages/autograd/src/', import.meta.url).pathname)]);
}
const names = Object.keys(variants[0]![1]).filter((k) => only === undefined || only.includes(k));

const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const faults = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const name of names) {
    for (const [label, set] of variants) {
      const run = set[name];
      if (run === undefined) continue;
      for (let w = 0; w < 3; w++) run();
      const reps = 20;
      const f0 = process.resourceUsage().minorPageFault;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) run();
      const t1 = performance.now();
      const c = process.cpuUsage(c0);
      const f = process.resourceUsage().minorPageFault - f0;
      const key = `${name} ${label}`;
      if (!wall.has(key)) { wall.set(key, []); cpu.set(key, []); faults.set(key, []); }
      faults.get(key)!.push(f / reps);
      wall.get(key)!.push((t1 - t0) / reps);
      cpu.get(key)!.push((c.user + c.system) / 1000 / reps);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
for (const name of names) {
  for (const [label] of variants) {
    const key = `${name} ${label}`;
    if (!wall.has(key)) continue;
    console.log(`${key.padEnd(24)} wall ${median(wall.get(key)!).toFixed(3).padStart(7)} ms   cpu ${median(cpu.get(key)!).toFixed(3).padStart(7)} ms   ${median(faults.get(key)!).toFixed(0).padStart(6)} faults`);
  }
}

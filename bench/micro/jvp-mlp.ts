/**
 * jvp of the 784-128-10 MLP's logits along a tangent of its parameters (the bench rows
 * jvp-mlp-b64 and mlp-forward-b64), against the forward alone, alternating (A, B, A, B, ...),
 * medians of wall and CPU time per run (process.cpuUsage: far steadier than wall time on a
 * shared machine; figures are noisy all the same) and the best round's wall time. With `--base DIR` (a copy of
 * packages/autograd/src, e.g. from `git archive`) the same two rows run on those sources too,
 * in turn with this tree's. `--only forward,jvp` picks rows (also `layer1` and `layer1-jvp`: the
 * first layer's products alone, as `linear` makes them, output and tangent in one staging for
 * the latter: what jvp costs beyond the forward is nearly all the tangent's product, as many
 * multiply-adds as the output's); `--rounds N` (default 25) of
 * `--per-round N` runs (default 20; short rounds with many of them make the best round nearer
 * an idle machine's figure). The runs start once each tree's helper thread is up (unless
 * CHAINRULE_THREADS=1), as the bench's do.
 *
 *   node scripts/run.mjs bench/micro/jvp-mlp.ts [--base DIR] [--rounds N] [--per-round N] [--only a,b]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jvpTangents, MLP_SIZES, mlpData } from '../src/data.js';

type Api = typeof import('../../packages/autograd/src/index.js');
type Kernels = typeof import('../../packages/autograd/src/kernels/gemm.js');
type Helper = typeof import('../../packages/autograd/src/kernels/wasm/helper-thread.js');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 25);
const only = option('--only')?.split(',');
const baseDir = option('--base');
const perRound = Number(option('--per-round') ?? 20);

/** Transposes a row-major rows×cols matrix (the bench data's [in, out] into linear's [out, in]). */
function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** The bench's two rows on `api`, with the bench's data (batch 64), and the first layer's products through `kernels`. */
function rows(api: Api, kernels: Kernels): Record<string, () => void> {
  const { jvp, linear, tensor } = api;
  type T = ReturnType<typeof tensor>;
  const d = mlpData(64, 1);
  const t = jvpTangents();
  const [nIn, nHidden, nOut] = MLP_SIZES;
  const x = tensor(d.xs[0]!, { shape: [64, nIn] });
  const p = [tensor(transposed(d.w1, nIn, nHidden), { shape: [nHidden, nIn] }), tensor(d.b1), tensor(transposed(d.w2, nHidden, nOut), { shape: [nOut, nHidden] }), tensor(d.b2)] as [T, T, T, T];
  const v = [tensor(transposed(t.w1, nIn, nHidden), { shape: [nHidden, nIn] }), tensor(t.b1), tensor(transposed(t.w2, nHidden, nOut), { shape: [nOut, nHidden] }), tensor(t.b2)] as [T, T, T, T];
  const logits = (w1: T, b1: T, w2: T, b2: T): T => linear(linear(x, w1, b1, 'relu'), w2, b2);
  const h = new Float32Array(64 * nHidden), th = new Float32Array(64 * nHidden);
  const layer1 = { transA: false, transB: true, m: 64, n: nHidden, k: nIn, a: x.data as Float32Array, b: p[0].data as Float32Array, c: h, bias: d.b1, relu: true };
  return {
    forward: () => void logits(...p).data[0],
    jvp: () => void jvp(logits, p, v).tangent.data[0],
    layer1: () => kernels.gemm(layer1),
    'layer1-jvp': () => void kernels.gemmWithTangent(layer1, { a: null, b: v[0].data as Float32Array, bias: t.b1 }, th),
  };
}

const here = (await import('../../packages/autograd/src/index.js')) as Api;
const variants: [string, Record<string, () => void>][] = [['this tree', rows(here, await import('../../packages/autograd/src/kernels/gemm.js'))]];
const helpers: (() => Promise<boolean>)[] = [(await import('../../packages/autograd/src/kernels/wasm/helper-thread.js')).helperThreadReady];
if (baseDir !== undefined) {
  const from = (file: string): string => pathToFileURL(resolve(baseDir, 'packages/autograd/src', file)).href;
  const base = (await import(from('index.ts'))) as Api;
  variants.unshift(['base', rows(base, (await import(from('kernels/gemm.ts'))) as Kernels)]);
  helpers.push(((await import(from('kernels/wasm/helper-thread.ts'))) as Helper).helperThreadReady);
}
// The helper thread comes up with the first large product: time the runs as they will be made.
for (const [, cases] of variants) cases.forward!();
if (process.env.CHAINRULE_THREADS !== '1') console.log(`helper threads ready: ${(await Promise.all(helpers.map((ready) => ready()))).join(', ')}`);

const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
for (let round = 0; round < rounds + 3; round++) {
  for (const [variant, cases] of variants) {
    for (const [name, run] of Object.entries(cases)) {
      if (only !== undefined && !only.includes(name)) continue;
      const key = `${variant}: ${name}`;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) run();
      const ms = (performance.now() - t0) / perRound;
      const c = process.cpuUsage(c0);
      // The first rounds warm the JIT and the WebAssembly memory up.
      if (round < 3) continue;
      (wall.get(key) ?? wall.set(key, []).get(key)!).push(ms);
      (cpu.get(key) ?? cpu.set(key, []).get(key)!).push((c.user + c.system) / 1000 / perRound);
    }
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
const best = (xs: number[]): number => Math.min(...xs);
for (const key of wall.keys()) {
  console.log(`${key.padEnd(20)} wall ${median(wall.get(key)!).toFixed(3)} ms (best ${best(wall.get(key)!).toFixed(3)})  cpu ${median(cpu.get(key)!).toFixed(3)} ms (best ${best(cpu.get(key)!).toFixed(3)}) (medians of ${rounds} rounds)`);
}
for (const [variant] of variants) for (const [f, j] of [[`${variant}: forward`, `${variant}: jvp`], [`${variant}: layer1`, `${variant}: layer1-jvp`]] as const) {
  if (!wall.has(f) || !wall.has(j)) continue;
  console.log(`${j} / ${f.slice(variant.length + 2)}  wall ${(median(wall.get(j)!) / median(wall.get(f)!)).toFixed(2)}× (best ${(best(wall.get(j)!) / best(wall.get(f)!)).toFixed(2)}×)  cpu ${(median(cpu.get(j)!) / median(cpu.get(f)!)).toFixed(2)}× (best ${(best(cpu.get(j)!) / best(cpu.get(f)!)).toFixed(2)}×)`);
}

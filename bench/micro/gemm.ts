/**
 * gemm micro-benchmark: GFLOP/s of the TypeScript and WebAssembly kernels, float32 and
 * float64, square sizes and the products of a 784-128-10 MLP step at batch 64 (forward X·W,
 * weight gradient Xᵀ·dH, input gradient dH·Wᵀ). Contenders alternate within each round and
 * each figure is the median of the rounds, since timings on shared machines drift.
 *
 *   node scripts/run.mjs bench/micro/gemm.ts            # square sizes 64..1024 + MLP shapes
 *   node scripts/run.mjs bench/micro/gemm.ts --small    # small sizes: where WebAssembly starts to pay
 *   options: --rounds N (default 5), --sizes 64,128,...
 */
import { loadavg } from 'node:os';
import { Generator } from '../../packages/autograd/src/random.js';
import { gemmJs } from '../../packages/autograd/src/kernels/gemm-js.js';
import { gemmWasm } from '../../packages/autograd/src/kernels/wasm/gemm.js';
import { helperThreadReady, setKernelThreads } from '../../packages/autograd/src/kernels/wasm/helper-thread.js';
import { wasmGemmFlavour } from '../../packages/autograd/src/kernels/wasm/settings.js';

type Kernel = typeof gemmJs;
type DTypeName = 'float32' | 'float64';

interface Shape {
  readonly label: string;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(option('--rounds') ?? 5);
const small = process.argv.includes('--small');
const sizes = (option('--sizes') ?? (small ? '4,8,12,16,20,24,32,48' : '64,128,256,512,1024')).split(',').map(Number);

const withThreads = (count: 1 | 2): Kernel => (call) => {
  setKernelThreads(count);
  gemmWasm(call);
};

const contenders: [string, Kernel][] = [
  ['ts', gemmJs],
  ['wasm', withThreads(1)],
  ['wasm 2 threads', withThreads(2)],
];

function filled(dtype: DTypeName, size: number, seed: number): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  const generator = new Generator(seed);
  for (let i = 0; i < size; i++) out[i] = generator.uniform() - 0.5;
  return out;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Median GFLOP/s of each contender on one shape; each timed run lasts at least `minMs`. */
function measure(dtype: DTypeName, shape: Shape, minMs: number): number[] {
  const { transA, transB, m, n, k } = shape;
  const a = filled(dtype, m * k, 1);
  const b = filled(dtype, k * n, 2);
  const c = filled(dtype, m * n, 3);
  const call = { transA, transB, m, n, k, a, b, c };
  const flops = 2 * m * n * k;
  // Calls per timed run, from one warm-up call per contender (which also tiers the code up).
  const reps = contenders.map(([, kernel]) => {
    kernel(call);
    let calls = 0;
    const start = performance.now();
    do {
      kernel(call);
      calls++;
    } while (performance.now() - start < minMs / 4);
    return Math.max(1, Math.round((calls * minMs) / Math.max(1e-3, performance.now() - start)));
  });
  const rates: number[][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    // Alternate the order too, so neither contender always runs on a freshly idle core.
    const order = round % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    for (const i of order) {
      const kernel = contenders[i]![1];
      const start = performance.now();
      for (let r = 0; r < reps[i]!; r++) kernel(call);
      rates[i]!.push((flops * reps[i]!) / ((performance.now() - start) * 1e6));
    }
  }
  return rates.map(median);
}

function table(title: string, shapes: Shape[], minMs: number): void {
  console.log(`\n${title}\n`);
  const header = [
    'shape',
    ...(['float32', 'float64'] as const).flatMap((d) => contenders.map(([name]) => `${d} ${name}`)),
    ...(['f32', 'f64'] as const).flatMap((d) => [`${d} wasm/ts`, `${d} 2 threads/1`]),
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const shape of shapes) {
    const f32 = measure('float32', shape, minMs);
    const f64 = measure('float64', shape, minMs);
    const cells = [...f32, ...f64].map((x) => x.toFixed(small ? 2 : 1));
    const ratios = [f32[1]! / f32[0]!, f32[2]! / f32[1]!, f64[1]! / f64[0]!, f64[2]! / f64[1]!].map((x) => x.toFixed(2) + '×');
    console.log(`| ${[shape.label, ...cells, ...ratios].join(' | ')} |`);
  }
}

if (!(await helperThreadReady())) console.log('(no helper thread here: the 2-thread column runs on one thread)');
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(
  `gemm GFLOP/s, median of ${rounds} alternating rounds; node ${process.version}; WebAssembly build: ${wasmGemmFlavour() ?? 'unavailable'}; load average ${load()}`,
);
const square = sizes.map((s): Shape => ({ label: `${s}³`, transA: false, transB: false, m: s, n: s, k: s }));
table(small ? 'Small square products (m = n = k)' : 'Square products C = A·B (m = n = k)', square, small ? 20 : 60);
if (!small) {
  table(
    'MLP 784-128-10 at batch 64: the three products of the first layer',
    [
      { label: 'X·W 64×784·784×128', transA: false, transB: false, m: 64, n: 128, k: 784 },
      { label: 'Xᵀ·dH 784×64·64×128', transA: true, transB: false, m: 784, n: 128, k: 64 },
      { label: 'dH·Wᵀ 64×128·128×784', transA: false, transB: true, m: 64, n: 784, k: 128 },
      { label: 'Aᵀ·Bᵀ 256³', transA: true, transB: true, m: 256, n: 256, k: 256 },
    ],
    60,
  );
}
console.log(`\nload average at the end: ${load()} (other work on the machine skews absolute figures; the ratios come from alternating rounds)`);

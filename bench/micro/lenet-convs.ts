/**
 * The LeNet step's five convolution kernels (bench/src/chainrule.ts's lenet, batch 64): each
 * conv+pool forward, and the pooled backward's input and weight gradients, called on the
 * WebAssembly drivers directly, in one or more checkouts of the workspace loaded into this
 * process and alternated kernel by kernel. Medians of CPU time (user+system) per call; run with
 * CHAINRULE_THREADS=1 so that only the compute differs (each tree would start a helper thread
 * of its own). Figures are noisy on a loaded machine; compare trees within one run only.
 *
 *   CHAINRULE_THREADS=1 node scripts/run.mjs bench/micro/lenet-convs.ts --trees /path/to/old,.
 *   options: --rounds N (default 40), --calls N per timing (default 5)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { convAdjointWasm as Adjoint, convForwardWasm as Forward, convWeightGradWasm as WeightGrad } from '../../packages/autograd/src/kernels/wasm/conv.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

interface Drivers {
  convForwardWasm: typeof Forward;
  convAdjointWasm: typeof Adjoint;
  convWeightGradWasm: typeof WeightGrad;
}

const trees = option('--trees', '.').split(',').map((t) => resolve(t));
const rounds = Number(option('--rounds', '40'));
const calls = Number(option('--calls', '5'));
const drivers: Drivers[] = [];
for (const tree of trees) drivers.push((await import(pathToFileURL(resolve(tree, 'packages/autograd/src/kernels/wasm/conv.ts')).href)) as Drivers);

const n = 64;
let seed = 1;
const values = (k: number): Float32Array => Float32Array.from({ length: k }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
const g1 = { h: 28, w: 28, kh: 5, kw: 5, oh: 28, ow: 28, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1 };
const g2 = { h: 12, w: 12, kh: 5, kw: 5, oh: 8, ow: 8, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
const pool = (o: number, s: number) => ({ kh: 2, kw: 2, sh: 2, sw: 2, oh: s, ow: s, out: new Float32Array(n * o * s * s), argmax: new Int32Array(n * o * s * s) });
const x1 = values(n * 784), w1 = values(150), b1 = values(6), x2 = values(n * 6 * 144), w2 = values(2400), b2 = values(16);
const p1 = pool(6, 14), p2 = pool(16, 4);
drivers[0]!.convForwardWasm(x1, w1, b1, n, 1, 1, 6, g1, null, p1);
drivers[0]!.convForwardWasm(x2, w2, b2, n, 1, 6, 16, g2, null, p2);
const u1 = { g: values(n * 6 * 196), argmax: p1.argmax.slice(), inner: 196 }, u2 = { g: values(n * 16 * 16), argmax: p2.argmax.slice(), inner: 16 };
const dx2 = new Float32Array(n * 6 * 144), dw1 = new Float32Array(150), dw2 = new Float32Array(2400);
const kernels: [string, (d: Drivers) => void][] = [
  ['conv1 forward+pool', (d) => d.convForwardWasm(x1, w1, b1, n, 1, 1, 6, g1, null, p1)],
  ['conv2 forward+pool', (d) => d.convForwardWasm(x2, w2, b2, n, 1, 6, 16, g2, null, p2)],
  ['conv2 input grad', (d) => d.convAdjointWasm(u2, w2, null, n, 1, 6, 16, g2, dx2)],
  ['conv2 weight grad', (d) => d.convWeightGradWasm(x2, u2, n, 1, 6, 16, g2, dw2)],
  ['conv1 weight grad', (d) => d.convWeightGradWasm(x1, u1, n, 1, 1, 6, g1, dw1)],
];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (let i = 0; i < 20; i++) for (const d of drivers) for (const [, f] of kernels) f(d);
const cpu: number[][][] = kernels.map(() => drivers.map(() => []));
for (let round = 0; round < rounds; round++) {
  kernels.forEach(([, f], k) => {
    // Rotate which tree goes first, so a drift in load favours none.
    for (let j = 0; j < drivers.length; j++) {
      const t = (j + round) % drivers.length;
      const c0 = process.cpuUsage();
      for (let i = 0; i < calls; i++) f(drivers[t]!);
      const c = process.cpuUsage(c0);
      cpu[k]![t]!.push((c.user + c.system) / 1000 / calls);
    }
  });
}
const totals = drivers.map(() => 0);
kernels.forEach(([name], k) => {
  const ms = drivers.map((_, t) => median(cpu[k]![t]!));
  ms.forEach((m, t) => (totals[t]! += m));
  console.log(`${name.padEnd(20)} ${ms.map((m, t) => `${trees[t]!.split('/').pop()}: ${m.toFixed(3)} ms${t > 0 ? ` (${(m / ms[0]!).toFixed(3)}×)` : ''}`).join('  ')}`);
});
console.log(`${'sum'.padEnd(20)} ${totals.map((m, t) => `${trees[t]!.split('/').pop()}: ${m.toFixed(3)} ms${t > 0 ? ` (${(m / totals[0]!).toFixed(3)}×)` : ''}`).join('  ')}`);

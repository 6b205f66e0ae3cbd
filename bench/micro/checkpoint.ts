/**
 * What `checkpoint` saves, measured two ways on a deep MLP (tanh layers of width --width, a batch
 * of --batch, --depth layers in blocks of --per): the bytes the graph keeps for backward
 * (`retainedBytes`, exact) and the process's ArrayBuffer memory held by the graph, after a
 * forced GC, between the forward and backward (needs --expose-gc), and the time of a
 * forward+backward step (noisy on a shared machine: a guide only).
 *
 *   node --expose-gc scripts/run.mjs bench/micro/checkpoint.ts
 *   options: --depth 32  --width 256  --batch 256  --per 4  --rounds 5
 */
import { checkpoint, randn, retainedBytes, type Tensor } from '@chainrule/autograd';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const depth = option('--depth', 32);
const width = option('--width', 256);
const batch = option('--batch', 256);
const per = option('--per', 4);
const rounds = option('--rounds', 5);
const gc = (globalThis as { gc?: () => void }).gc;

type Layer = { w: Tensor; b: Tensor };
const layers: Layer[] = Array.from({ length: depth }, (_, i) => ({
  w: randn([width, width], { seed: 2 * i }).mul(1 / Math.sqrt(width)).detach().requiresGrad_(),
  b: randn([width], { seed: 2 * i + 1 }).requiresGrad_(),
}));
const x = randn([batch, width], { seed: 999 });
const layer = (h: Tensor, { w, b }: Layer): Tensor => h.matmul(w).add(b).tanh();

function loss(remat: boolean): Tensor {
  let h = x;
  for (let i = 0; i < depth; i += per) {
    const block = layers.slice(i, i + per);
    const run = (input: Tensor): Tensor => block.reduce(layer, input);
    h = remat ? checkpoint(run)(h) : run(h);
  }
  return h.square().mean();
}

function arrayBuffers(): number {
  gc?.();
  return process.memoryUsage().arrayBuffers;
}

const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
console.log(`MLP ${depth} x ${width}, batch ${batch}, float32, checkpointed in blocks of ${per}${gc ? '' : ' (run with --expose-gc for process figures)'}`);
for (const remat of [false, true]) {
  const base = arrayBuffers();
  let l: Tensor | null = loss(remat);
  const held = arrayBuffers() - base;
  const graph = retainedBytes(l);
  l.backward();
  l = null;
  for (const { w, b } of layers) w.grad = b.grad = null;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    loss(remat).backward();
    times.push(performance.now() - t0);
    for (const { w, b } of layers) w.grad = b.grad = null;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${remat ? 'checkpoint' : 'plain     '}: graph keeps ${mb(graph)}${gc ? `, process ArrayBuffers held ${mb(held)}` : ''}, step ${median.toFixed(1)} ms (median of ${rounds})`,
  );
}

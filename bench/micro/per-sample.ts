// Per-example gradients of the 784-128-10 ReLU MLP at batch 64 (vmap(grad)) against one batch
// gradient, in one process (figures are noisy on a loaded machine):
// node scripts/run.mjs bench/micro/per-sample.ts
import { crossEntropy, grad, linear, randn, vmap, type Tensor } from '@chainrule/autograd';

interface Params { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
const p: Params = {
  w1: randn([128, 784], { seed: 1 }).mul(0.03), b1: randn([128], { seed: 2 }).mul(0.03),
  w2: randn([10, 128], { seed: 3 }).mul(0.09), b2: randn([10], { seed: 4 }).mul(0.09),
};
const xs = randn([64, 784], { seed: 5 });
const ys = randn([64], { seed: 6 }).abs().mul(3).floor().toDtype('int32');
const logits = (q: Params, x: Tensor): Tensor => linear(linear(x, q.w1, q.b1, 'relu'), q.w2, q.b2);
const batchLoss = (q: Params, x: Tensor, y: Tensor): Tensor => crossEntropy(logits(q, x), y);
const oneLoss = (q: Params, x: Tensor, y: Tensor): Tensor => crossEntropy(logits(q, x.reshape([1, -1])), y.reshape([1]));
const perExample = vmap(grad(oneLoss), { inAxes: [null, 0, 0] });

function ms(f: () => unknown, runs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) f();
  return (performance.now() - t0) / runs;
}
for (let i = 0; i < 5; i++) {
  grad(batchLoss)(p, xs, ys);
  perExample(p, xs, ys);
}
const ratios: number[] = [];
const batchMs: number[] = [];
for (let r = 0; r < 9; r++) {
  const b = ms(() => grad(batchLoss)(p, xs, ys), 10);
  const s = ms(() => perExample(p, xs, ys), 3);
  ratios.push(s / b);
  batchMs.push(b);
}
ratios.sort((a, b) => a - b);
batchMs.sort((a, b) => a - b);
console.log(`batch gradient ${batchMs[4]!.toFixed(2)} ms; per-example gradients ${(batchMs[4]! * ratios[4]!).toFixed(2)} ms; median ratio ${ratios[4]!.toFixed(2)}×`);

// The bench's LeNet convolution step (bench/src/chainrule.ts) warmed up, and each convolution
// alone: `node ../scripts/run.mjs micro/conv-profile.ts` from bench/. Medians; a loaded machine moves them.
import { conv2d, tensor } from '@chainrule/autograd';

function median(f: () => void, runs = 15): number {
  // Warm up well past the JIT's tiers: the first runs of the im2col loops are interpreted.
  for (let i = 0; i < 10; i++) f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const batch = 64;
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const x1 = tensor(rand(batch * 784), { shape: [batch, 1, 28, 28] });
const x2 = tensor(rand(batch * 864), { shape: [batch, 6, 12, 12], requiresGrad: true });
const w1 = tensor(rand(150), { shape: [6, 1, 5, 5], requiresGrad: true });
const w2 = tensor(rand(2400), { shape: [16, 6, 5, 5], requiresGrad: true });
const b1 = tensor(rand(6), { requiresGrad: true });
const b2 = tensor(rand(16), { requiresGrad: true });
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
console.log('conv1 forward', fmt(median(() => void conv2d(x1, w1, b1).data[0])));
console.log('conv2 forward', fmt(median(() => void conv2d(x2, w2, b2).data[0])));
console.log('conv1 fwd+bwd', fmt(median(() => conv2d(x1, w1, b1).sum().backward())));
console.log('conv2 fwd+bwd', fmt(median(() => conv2d(x2, w2, b2).sum().backward())));
const params = [x2, w1, w2, b1, b2];
const step = median(() => {
  for (const p of params) p.grad = null;
  conv2d(x1, w1, b1).sum().add(conv2d(x2, w2, b2).sum()).backward();
}, 31);
console.log('whole step', fmt(step), `(${Math.round((batch * 1000) / step)} samples/s)`);

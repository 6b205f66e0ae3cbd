/**
 * The demo: a tiny network learns XOR with chainrule's Tensor, showing a training loop written
 * with nothing but autograd: forward, backward, an in-place SGD step.
 */
import { noGrad, randn, tensor, zeros, type Tensor } from '@chainrule/autograd';

const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[0], [1], [1], [0]]);
const params = [
  randn([2, 8], { seed: 1, requiresGrad: true }),
  zeros([8], { requiresGrad: true }),
  randn([8, 1], { seed: 2, requiresGrad: true }),
  zeros([1], { requiresGrad: true }),
];
const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];

let loss = Infinity;
for (let step = 0; step <= 2000; step++) {
  const h = x.matmul(w1).add(b1).tanh();
  const p = h.matmul(w2).add(b2).sigmoid();
  const l = p.sub(y).square().mean();
  l.backward();
  noGrad(() => {
    for (const t of params) {
      const g = t.grad!.data;
      for (let i = 0; i < t.data.length; i++) t.data[i] -= 1.0 * g[i]!;
      t.grad = null;
    }
  });
  loss = l.item();
  if (step % 500 === 0) console.log(`step ${step}: loss ${loss.toFixed(5)}`);
}
const out = noGrad(() => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sigmoid());
console.log('predictions', Array.from(out.data, (v) => v.toFixed(3)).join(' '), '(targets 0 1 1 0)');

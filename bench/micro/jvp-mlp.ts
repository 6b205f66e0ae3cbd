// jvp of the 784-128-10 MLP's logits along a tangent of its parameters, against the forward
// alone and against its parts, alternating, best of many rounds (the machine is shared: figures
// are noisy): node scripts/run.mjs bench/micro/jvp-mlp.ts
import { jvp, linear, matmul, randn, type Tensor } from '@chainrule/autograd';

const x = randn([64, 784], { seed: 1 });
const p = [randn([128, 784], { seed: 2 }).mul(0.03), randn([128], { seed: 3 }), randn([10, 128], { seed: 4 }).mul(0.1), randn([10], { seed: 5 })] as [Tensor, Tensor, Tensor, Tensor];
const t = [randn([128, 784], { seed: 6 }), randn([128], { seed: 7 }), randn([10, 128], { seed: 8 }), randn([10], { seed: 9 })] as [Tensor, Tensor, Tensor, Tensor];
const logits = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor => linear(linear(x, w1, b1, 'relu'), w2, b2);
const cases: Record<string, () => unknown> = {
  forward: () => logits(...p),
  jvp: () => jvp(logits, p, t),
  'one gemm x·W1ᵀ': () => matmul(x, t[0].transpose(0, 1)),
};
const best: Record<string, number> = {};
for (let round = 0; round < 40; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) run();
    const ms = (performance.now() - t0) / 20;
    if (round >= 5) best[name] = Math.min(best[name] ?? Infinity, ms);
  }
}
for (const [name, ms] of Object.entries(best)) console.log(`${name.padEnd(16)} ${ms.toFixed(3)} ms (best round)`);
console.log(`jvp / forward: ${(best.jvp! / best.forward!).toFixed(2)}×`);

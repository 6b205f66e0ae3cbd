// The tiny-op chain of `pnpm bench` (x·0.5, x+0.1, tanh on a [4] tensor, 1,000 ops, then
// backward) in a loop, for a CPU profile: node --cpu-prof scripts/run.mjs bench/micro/chain-profile.ts
import { tensor } from '@chainrule/autograd';

const x = tensor(new Float32Array([0.1, -0.2, 0.3, -0.4]), { requiresGrad: true });
const ops = ['mul', 'add', 'tanh'] as const;
function step(): void {
  let y = x;
  for (let i = 0; i < 1000; i++) {
    const op = ops[i % 3];
    y = op === 'mul' ? y.mul(0.5) : op === 'add' ? y.add(0.1) : y.tanh();
  }
  y.sum().backward();
  x.grad = null;
}
for (let i = 0; i < 300; i++) step();
const runs = 1000;
const t0 = performance.now();
for (let i = 0; i < runs; i++) step();
console.log(`${(((performance.now() - t0) / runs) * 1000) / 1000} µs/op`);

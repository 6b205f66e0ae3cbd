// The cost of primitive dispatch when no transform is active: the tiny-op chain of
// chain-profile.ts run through the public op functions and, interleaved in the same process,
// through their implementations (no dispatch). Prints the median of per-round ratios, so load
// on the machine cancels out: node scripts/run.mjs bench/micro/dispatch-overhead.ts
import { add, mul, tanh, tensor, type Tensor } from '@chainrule/autograd';
import { primitiveOf } from '../../packages/autograd/src/engine/dispatch.js';

type Op = (...args: never[]) => Tensor;
const direct = { mul: primitiveOf(mul)!.impl as Op, add: primitiveOf(add)!.impl as Op, tanh: primitiveOf(tanh)!.impl as Op };
const dispatched = { mul: mul as Op, add: add as Op, tanh: tanh as Op };

const x = tensor(new Float32Array([0.1, -0.2, 0.3, -0.4]), { requiresGrad: true });
function chain(ops: typeof direct): void {
  let y = x;
  for (let i = 0; i < 1000; i++) {
    const k = i % 3;
    y = k === 0 ? (ops.mul as (a: Tensor, b: number) => Tensor)(y, 0.5) : k === 1 ? (ops.add as (a: Tensor, b: number) => Tensor)(y, 0.1) : (ops.tanh as (a: Tensor) => Tensor)(y);
  }
  y.sum().backward();
  x.grad = null;
}
function time(ops: typeof direct, runs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) chain(ops);
  return (performance.now() - t0) / (runs * 1000);
}
for (let i = 0; i < 200; i++) {
  chain(direct);
  chain(dispatched);
}
const ratios: number[] = [];
const perOp: number[] = [];
for (let round = 0; round < 40; round++) {
  const a = time(direct, 20);
  const b = time(dispatched, 20);
  ratios.push(b / a);
  perOp.push(a * 1000);
}
ratios.sort((p, q) => p - q);
perOp.sort((p, q) => p - q);
console.log(`median dispatched/direct: ${ratios[20]!.toFixed(3)} (quartiles ${ratios[10]!.toFixed(3)}..${ratios[30]!.toFixed(3)}); direct ${perOp[20]!.toFixed(2)} µs/op (forward + backward)`);

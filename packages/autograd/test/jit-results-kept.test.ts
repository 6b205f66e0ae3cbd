import { describe, expect, test } from 'vitest';
import { Tensor, grad, jit, narrow, randn, treeLeaves, valueAndGrad } from '@chainrule/autograd';

// A compiled program keeps its intermediates' storage from call to call; its results must never
// be part of it. For each program: keep call 1's results, call again on other values, and call
// 1's results must hold the values eager code gives (never overwritten by call 2).

const r = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32'): Tensor => randn(shape, { seed, dtype });

function checkKept(name: string, f: (...args: never[]) => unknown, make: (seed: number) => unknown[]): void {
  test(name, () => {
    const jitted = jit(f as (...args: unknown[]) => unknown);
    const args1 = make(1);
    const first = treeLeaves(jitted(...args1));
    const eager1 = treeLeaves((f as (...args: unknown[]) => unknown)(...args1)).map((t) => Array.from(t.data));
    first.forEach((t, i) => expect(Array.from(t.data)).toEqual(eager1[i]));
    const second = treeLeaves(jitted(...make(2)));
    jitted(...make(3));
    first.forEach((t, i) => {
      expect(Array.from(t.data)).toEqual(eager1[i]);
      expect(t.data.buffer === second[i]!.data.buffer && t.data.byteOffset === second[i]!.data.byteOffset).toBe(false);
    });
  });
}

describe('jit results are not overwritten by later calls', () => {
  checkKept('a 2-D product', (a: Tensor, b: Tensor) => a.matmul(b), (s) => [r([64, 64], s), r([64, 64], s + 10)]);
  checkKept('a product then tanh', (a: Tensor, b: Tensor) => a.matmul(b).tanh(), (s) => [r([64, 32], s), r([32, 16], s + 10)]);
  checkKept('a reshape of a fused intermediate', (a: Tensor) => a.exp().mul(2).reshape([-1]), (s) => [r([32, 64], s)]);
  checkKept('a reshape of a product', (a: Tensor, b: Tensor) => a.matmul(b).reshape([-1]), (s) => [r([32, 32], s), r([32, 32], s + 10)]);
  checkKept('several results sharing intermediates', (a: Tensor) => [a.exp(), a.exp().mul(2), a.sum()], (s) => [r([4096], s)]);
  checkKept('a transpose and a slice of intermediates', (a: Tensor) => ({ t: a.exp().transpose(0, 1), n: narrow(a.tanh(), 0, 1, 10) }), (s) => [r([64, 64], s)]);
  checkKept('sums over an axis', (a: Tensor) => [a.exp().sum(0), a.square().sum(1)], (s) => [r([64, 64], s)]);
  checkKept('softmax', (a: Tensor) => a.softmax(-1), (s) => [r([64, 64], s)]);
  checkKept('a float64 chain', (a: Tensor) => a.exp().mul(2).add(1).tanh(), (s) => [r([4096], s, 'float64')]);
  checkKept('valueAndGrad of a layer', valueAndGrad((w: Tensor, x: Tensor) => x.matmul(w).tanh().square().mean()), (s) => [r([32, 16], s), r([64, 32], s + 10)]);
  checkKept('small float32 products of the sizes a PINN step runs (256x32 by 32x32, then 32x1)', (h: Tensor, w: Tensor, v: Tensor) => {
    const a = h.matmul(w).tanh();
    return [a, a.matmul(v)];
  }, (s) => [r([256, 32], s), r([32, 32], s + 1), r([32, 1], s + 2)]);
  checkKept(
    'valueAndGrad of a 2-32-32-1 network on 256 points',
    valueAndGrad((p: { w1: Tensor; w2: Tensor; w3: Tensor }, x: Tensor) => x.matmul(p.w1).tanh().matmul(p.w2).tanh().matmul(p.w3).square().mean()),
    (s) => [{ w1: r([2, 32], s), w2: r([32, 32], s + 1), w3: r([32, 1], s + 2) }, r([256, 2], s + 3)],
  );
  checkKept(
    'grad of a two-layer network in a dictionary',
    grad((p: { w1: Tensor; b1: Tensor; w2: Tensor }, x: Tensor) => x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).sum()),
    (s) => [{ w1: r([2, 32], s), b1: r([32], s + 1), w2: r([32, 1], s + 2) }, r([256, 2], s + 3)],
  );
});

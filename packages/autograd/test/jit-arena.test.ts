import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { grad, jit, valueAndGrad, type Tensor } from '@chainrule/autograd';
import { seededTensor } from '@chainrule/autograd/testing';
import type { KernelBackend } from '../src/kernels/backend.js';
import { gemmWasm } from '../src/kernels/wasm/gemm.js';
import { arenaArray, claimArena, copyIn, copyOut, releaseArena, staged } from '../src/kernels/wasm/memory.js';
import { loadKernels } from '../src/kernels/wasm/module.js';
import { withBackend } from './helpers/backend.js';

// Intermediates of a compiled program live in the kernels' WebAssembly memory (the arena) where
// it is shared, and kernels use them there with no copy.
const shared = loadKernels()?.shared === true;

function expectSameBits(actual: Tensor, expected: Tensor, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  expect(actual.dtype, what).toBe(expected.dtype);
  for (let i = 0; i < expected.size; i++) {
    if (!Object.is(actual.data[i], expected.data[i])) throw new Error(`${what}[${i}]: jit ${actual.data[i]}, eager ${expected.data[i]}`);
  }
}

describe.skipIf(!shared)('arena in WebAssembly memory', () => {
  test('staged uses an arena array in place and places its copies after the arena, which it leaves untouched', () => {
    const base = claimArena(4096)!;
    expect(base).not.toBeNull();
    try {
      // A nested claim (a compiled program running inside another's op) is refused.
      expect(claimArena(64)).toBeNull();
      const resident = arenaArray(true, base, 256);
      const beside = arenaArray(true, base + 1024, 256);
      resident.forEach((_, i, a) => (a[i] = i * 0.5));
      beside.fill(7);
      const other = new Float32Array(300).fill(1);
      const out = arenaArray(true, base + 2048, 16);
      const copied = new Float32Array(300);
      let addresses: number[] = [];
      expect(staged(true, [copyIn(resident, 16, 4), copyIn(other, 300), copyOut(out, 16), copyOut(copied, 300)], (_k, at) => (addresses = at.slice(0, 4)))).toBe(true);
      // In place: the array's own address (from the region's offset); copies: after the arena.
      expect(addresses[0]).toBe(base + 16);
      expect(addresses[2]).toBe(base + 2048);
      expect(addresses[1]).toBeGreaterThanOrEqual(base + 4096);
      expect(addresses[3]).toBeGreaterThanOrEqual(addresses[1]! + 1200);
      // A product with every operand copied, large enough to need more memory, leaves the arena as it was.
      const n = 96;
      const a = new Float32Array(n * n).fill(0.25), c = new Float32Array(n * n);
      expect(gemmWasm({ transA: false, transB: false, m: n, n, k: n, a, b: a, c })).toBe(true);
      expect(c[0]).toBe(n * 0.0625);
      expect(Array.from(resident)).toEqual(Array.from({ length: 256 }, (_, i) => i * 0.5));
      expect(Array.from(beside)).toEqual(new Array<number>(256).fill(7));
    } finally {
      releaseArena();
    }
    expect(claimArena(64)).toBe(base);
    releaseArena();
  });

  test('a product reading and writing arena arrays gives the bits of the staged one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean(), fc.nat(1000), (m, n, k, transA, transB, seed) => {
        const a = seededTensor([m * k], seed, { dtype: 'float32' }).data as Float32Array;
        const b = seededTensor([k * n], seed + 1, { dtype: 'float32' }).data as Float32Array;
        const expected = new Float32Array(m * n);
        expect(gemmWasm({ transA, transB, m, n, k, a, b, c: expected })).toBe(true);
        const base = claimArena(4 * (m * k + k * n + m * n) + 128)!;
        try {
          // Offsets that are not on a cache line, as a view into planned storage may be.
          const inA = arenaArray(true, base + 4, m * k);
          const inB = arenaArray(true, base + 4 + 4 * m * k, k * n);
          const out = arenaArray(true, base + 4 + 4 * (m * k + k * n), m * n);
          inA.set(a);
          inB.set(b);
          out.fill(Number.NaN);
          expect(gemmWasm({ transA, transB, m, n, k, a: inA, b: inB, c: out })).toBe(true);
          for (let i = 0; i < m * n; i++) if (!Object.is(out[i], expected[i])) throw new Error(`element ${i}: ${out[i]} against ${expected[i]}`);
        } finally {
          releaseArena();
        }
      }),
      { numRuns: 60 },
    );
  });

  // Width 24: the fused loops run in place in the arena (rows of 24); 23: chunked, their operands out of it.
  for (const [backend, width] of [['wasm', 24], ['js', 24], ['auto', 24], ['wasm', 23], ['auto', 23]] as [KernelBackend, number][]) {
    test(`a jitted network's second derivatives, intermediates in the arena, give the eager bits (${backend} kernels, width ${width})`, () => {
      withBackend(backend, () => {
        const w1 = seededTensor([2, width], 1, { dtype: 'float32', requiresGrad: false }) as Tensor;
        const b1 = seededTensor([width], 2, { dtype: 'float32', requiresGrad: false }) as Tensor;
        const w2 = seededTensor([width, width], 3, { dtype: 'float32', requiresGrad: false }) as Tensor;
        const w3 = seededTensor([width, 1], 4, { dtype: 'float32', requiresGrad: false }) as Tensor;
        const params = { w1, b1, w2, w3 };
        const u = (q: typeof params, y: Tensor): Tensor => y.matmul(q.w1).add(q.b1).tanh().matmul(q.w2).tanh().matmul(q.w3);
        const loss = (q: typeof params, pts: Tensor): Tensor => {
          const du = grad((y: Tensor) => u(q, y).sum());
          const second = grad((y: Tensor) => du(y).narrow(1, 0, 1).sum())(pts);
          return du(pts).narrow(1, 1, 1).sub(second.narrow(1, 0, 1)).square().mean();
        };
        const step = jit(valueAndGrad(loss));
        for (const seed of [5, 6, 7]) {
          const pts = seededTensor([70, 2], seed, { dtype: 'float32', requiresGrad: false }) as Tensor;
          const expected = valueAndGrad(loss)(params, pts);
          const got = step(params, pts);
          expectSameBits(got.value, expected.value, 'value');
          for (const key of Object.keys(params) as (keyof typeof params)[]) expectSameBits(got.grads[key], expected.grads[key], key);
        }
        // Called while the arena is held (as from inside another compiled program's op), the
        // program keeps its intermediates in storage of its own: the same bits.
        const pts = seededTensor([70, 2], 8, { dtype: 'float32', requiresGrad: false }) as Tensor;
        const expected = valueAndGrad(loss)(params, pts);
        expect(claimArena(64)).not.toBeNull();
        try {
          const got = step(params, pts);
          expectSameBits(got.value, expected.value, 'value (arena held)');
          for (const key of Object.keys(params) as (keyof typeof params)[]) expectSameBits(got.grads[key], expected.grads[key], `${key} (arena held)`);
        } finally {
          releaseArena();
        }
      });
    });
  }
});

describe('layout equations run by the executor', () => {
  test('reshape, expand, slices and the zero-padding of their gradients give the eager bits, call after call', () => {
    // Each padded value is planned into storage an earlier value of its size used in the same
    // call (and the last call): the zeros around the copy must be written every time.
    const f = (x: Tensor, s: Tensor): Tensor => {
      const rows = x.shape[0]!;
      const wide = x.mul(1.5).exp();
      const part = wide.narrow(1, 0, 2).mul(s.reshape([1, 1]).expand([rows, 1]));
      const g = grad((y: Tensor) => y.narrow(1, 1, 2).mul(part).sum())(x);
      return g.add(x.reshape([rows * 4]).narrow(0, 1, rows * 4 - 1).sum()).reshape([-1]);
    };
    const step = jit(f);
    for (const seed of [1, 2, 3, 4]) {
      const x = seededTensor([9, 4], seed, { dtype: 'float32', requiresGrad: false }) as Tensor;
      const s = seededTensor([], seed + 10, { dtype: 'float32', requiresGrad: false }) as Tensor;
      expectSameBits(step(x, s), f(x, s), `seed ${seed}`);
    }
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededTensor } from '@chainrule/autograd/testing';
import { gemmWasm, product } from '../src/kernels/wasm/gemm.js';
import { helperThreadReady, lastGemmThreads, setKernelThreads } from '../src/kernels/wasm/helper-thread.js';
import { arenaArray, claimArena, copyIn, copyInLate, copyInNow, copyOut, releaseArena, staged } from '../src/kernels/wasm/memory.js';
import { CALLER_JOB_AT, CONV_JOB, JOB, JOB_BYTES, UNARY_OPS } from '../src/kernels/wasm/layout.js';
import { loadKernels, loadLocalKernels } from '../src/kernels/wasm/module.js';

// The kernels run as two instances of one build: the main one over the memory the helper thread
// and the arena share, and a local one over an unshared memory, whose copies are cheaper, for
// every call the helper takes no part in. `staged` picks one per call; these check which, and
// that the pick never changes a bit.

type DTypeName = 'float32' | 'float64';

const shared = loadKernels()?.shared === true;

function filled(dtype: DTypeName, size: number, seed: number): Float32Array | Float64Array {
  return seededTensor([size], seed, { min: -0.5, max: 0.5, dtype, requiresGrad: false }).data;
}

function firstDifference(x: Float32Array | Float64Array, y: Float32Array | Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

interface Staged {
  c: Float32Array | Float64Array;
  /** Whether the call ran in the shared (main) instance. */
  inShared: boolean;
}

/** C = A·B (+ C's relu, through the elementwise kernel) staged by hand, declaring `helperWork`. */
function stagedProduct(dtype: DTypeName, m: number, n: number, k: number, seed: number, helperWork: number): Staged {
  const f32 = dtype === 'float32';
  const a = filled(dtype, m * k, seed), b = filled(dtype, k * n, seed + 1);
  const c = (f32 ? new Float32Array(m * n) : new Float64Array(m * n)).fill(NaN);
  let inShared = false;
  const ran = staged(f32, [copyIn(a, m * k), copyIn(b, k * n), copyOut(c, m * n)], (kernels, at, all) => {
    inShared = all.shared;
    product({ transA: false, transB: false, m, n, k }, f32, at[0]!, at[1]!, at[2]!, all, kernels);
    kernels.biasActivation(at[2]!, m, n, 0, 2);
  }, helperWork);
  expect(ran).toBe(true);
  return { c, inShared };
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe.skipIf(!shared)('the shared and the unshared instance', () => {
  beforeAll(async () => {
    setKernelThreads(2);
    expect(await helperThreadReady()).toBe(true);
  });
  afterAll(() => setKernelThreads(2));

  it('are two instances of one build, over a shared and an unshared memory', () => {
    const main = loadKernels()!, local = loadLocalKernels()!;
    expect(local).not.toBe(main);
    expect(local.flavour).toBe(main.flavour);
    expect(main.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(local.memory.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('a call that hands the helper nothing runs unshared; one that may, shared; the same bits either way', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<DTypeName>('float32', 'float64'),
        fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 }), fc.nat(1 << 20),
        (dtype, m, n, k, seed) => {
          setKernelThreads(2);
          const alone = stagedProduct(dtype, m, n, k, seed, 0);
          const beside = stagedProduct(dtype, m, n, k, seed, Infinity);
          expect(alone.inShared).toBe(false);
          expect(beside.inShared).toBe(true);
          expect(firstDifference(alone.c, beside.c)).toBe(-1);
          // A declared product below the threading threshold is the caller's alone too.
          expect(stagedProduct(dtype, m, n, k, seed, (1 << 18) - 1).inShared).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a large product still goes to the helper on two threads; on one thread it runs unshared, with the same bits', async () => {
    const [m, n, k] = [512, 384, 256];
    setKernelThreads(1);
    const one = stagedProduct('float32', m, n, k, 3, m * n * k);
    expect(one.inShared).toBe(false);
    expect(lastGemmThreads()).toBe(1);
    setKernelThreads(2);
    // A helper slow to wake (a loaded machine) may find every slab taken: tries spaced out in
    // time give the scheduler room to run it.
    let two = stagedProduct('float32', m, n, k, 3, m * n * k);
    for (let tries = 0; tries < 100 && lastGemmThreads() !== 2; tries++) {
      await pause();
      two = stagedProduct('float32', m, n, k, 3, m * n * k);
    }
    expect(two.inShared).toBe(true);
    expect(lastGemmThreads()).toBe(2);
    expect(firstDifference(one.c, two.c)).toBe(-1);
    // And through gemm's own staging.
    const a = filled('float32', m * k, 3), b = filled('float32', k * n, 4), c = new Float32Array(m * n);
    let threads = 0;
    for (let tries = 0; tries < 100 && threads !== 2; tries++) {
      if (tries > 0) await pause();
      expect(gemmWasm({ transA: false, transB: false, m, n, k, a, b, c })).toBe(true);
      threads = lastGemmThreads();
    }
    expect(threads).toBe(2);
  });

  it('grows only the memory a call runs in', () => {
    setKernelThreads(1);
    const main = loadKernels()!.memory, local = loadLocalKernels()!.memory;
    const before = main.buffer.byteLength;
    // Past both memories' sizes so far: 3·(1.5 M) float64 values, 36 MiB.
    const n = 1536, a = new Float64Array(n * n).fill(0.5), c = new Float64Array(n * n);
    expect(gemmWasm({ transA: false, transB: false, m: n, n, k: 1, a: a.subarray(0, n), b: a.subarray(0, n), c })).toBe(true);
    expect(c[n * n - 1]).toBe(0.25);
    expect(local.buffer.byteLength).toBeGreaterThanOrEqual(2 * n * 8 + n * n * 8);
    expect(main.buffer.byteLength).toBe(before);
    setKernelThreads(2);
  });

  it('copies into and out of the shared memory keep every byte, at any offset and size', () => {
    // Sizes on both sides of the point (64 KiB) from which the shared memory's copies are one memcpy.
    for (const f32 of [true, false]) {
      for (const length of [1, 16383, 16384, 65536 + 3, 300001]) {
        const size = f32 ? 4 : 8, pad = 5;
        const source = f32 ? new Float32Array(length + 2 * pad) : new Float64Array(length + 2 * pad);
        // Random bytes: NaNs with payloads, -0, subnormals, as the caller's arrays may hold.
        const bytes = new Uint8Array(source.buffer);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761 + length) >>> 24;
        const view = source.subarray(pad, pad + length);
        const out = f32 ? new Float32Array(length + 2 * pad) : new Float64Array(length + 2 * pad);
        const shifted = f32 ? new Float32Array(length + pad) : new Float64Array(length + pad);
        let inShared = false;
        const regions = [copyIn(view, length), copyOut(out.subarray(pad), length), copyIn(source, length, pad), copyOut(shifted, length, pad)];
        expect(staged(f32, regions, (_kernels, at, all) => {
          inShared = all.shared;
          // The kernel's own copy (add -0 is not one for NaN payloads): byte for byte through the memory.
          new Uint8Array(all.memory.buffer, at[1]!, length * size).set(new Uint8Array(all.memory.buffer, at[0]!, length * size));
          new Uint8Array(all.memory.buffer, at[3]!, length * size).set(new Uint8Array(all.memory.buffer, at[2]!, length * size));
        }, Infinity)).toBe(true);
        expect(inShared).toBe(true);
        const expected = new Uint8Array(view.buffer, view.byteOffset, length * size);
        // The bytes of `array` from element `from` differ from `expected` first at this byte (-1: none).
        const differs = (array: Float32Array | Float64Array, from: number): number => {
          const got = new Uint8Array(array.buffer, from * size, length * size);
          for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) return i;
          return -1;
        };
        expect(differs(out, pad)).toBe(-1);
        expect(differs(shifted, pad)).toBe(-1);
        // Nothing written around the results.
        expect(new Uint8Array(out.buffer, 0, pad * size).every((b) => b === 0)).toBe(true);
        expect(new Uint8Array(out.buffer, (pad + length) * size).every((b) => b === 0)).toBe(true);
        expect(new Uint8Array(shifted.buffer, 0, pad * size).every((b) => b === 0)).toBe(true);
      }
    }
  });

  it('a call with an operand in the arena runs shared, using it in place', () => {
    const base = claimArena(4096)!;
    expect(base).not.toBeNull();
    try {
      const x = arenaArray(true, base, 64);
      x.forEach((_, i, v) => (v[i] = i - 20));
      const out = new Float32Array(64);
      let inShared = false, xAt = -1;
      expect(staged(true, [copyIn(x, 64), copyOut(out, 64)], (kernels, at, all) => {
        inShared = all.shared;
        xAt = at[0]!;
        kernels.unary(UNARY_OPS.indexOf('neg'), at[0]!, at[1]!, 64);
      })).toBe(true);
      expect(inShared).toBe(true);
      expect(xAt).toBe(base);
      expect(Array.from(out)).toEqual(Array.from(x, (v) => -v));
    } finally {
      releaseArena();
    }
  });
});

describe('the job area', () => {
  it("holds the caller's own product record past every convolution word, with room for every job word", () => {
    const words = (record: Record<string, number>): number[] => Object.values(record);
    expect(CALLER_JOB_AT % 4).toBe(0);
    expect(CALLER_JOB_AT).toBeGreaterThanOrEqual(4 * (Math.max(...words(JOB), ...words(CONV_JOB)) + 1));
    expect(CALLER_JOB_AT + 4 * (Math.max(...words(JOB)) + 1)).toBeLessThanOrEqual(JOB_BYTES);
  });
});

describe('a region copied in late', () => {
  it('is copied by the kernel call when it asks, and only then', () => {
    for (const f32 of [true, false]) {
      const input = f32 ? Float32Array.from([1, 2, 3]) : Float64Array.from([1, 2, 3]);
      const before = f32 ? new Float32Array(3) : new Float64Array(3);
      const after = f32 ? new Float32Array(3) : new Float64Array(3);
      const ran = staged(f32, [copyInLate(input, 3), copyOut(before, 3), copyOut(after, 3)], (kernels, at, all) => {
        // Its bytes are whatever the memory held before the copy: a mark, set here.
        const size = f32 ? 4 : 8;
        new (f32 ? Float32Array : Float64Array)(all.memory.buffer).fill(-7, at[0]! / size, at[0]! / size + 3);
        kernels.unary(UNARY_OPS.indexOf('neg'), at[0]!, at[1]!, 3);
        copyInNow(0);
        kernels.unary(UNARY_OPS.indexOf('neg'), at[0]!, at[2]!, 3);
      });
      if (!ran) continue;
      expect(Array.from(before)).toEqual([7, 7, 7]);
      expect(Array.from(after)).toEqual([-1, -2, -3]);
    }
  });

  it('cannot be asked for outside its call, nor for a region copied in before it', () => {
    expect(() => copyInNow(0)).toThrow(/copyInNow: region 0/);
    staged(true, [copyIn(Float32Array.from([1]), 1)], () => {
      expect(() => copyInNow(0)).toThrow(/not one copied in late/);
    });
  });
});

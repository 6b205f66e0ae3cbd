import { afterEach, describe, expect, it } from 'vitest';
import {
  ArgumentError, GraphError, Tensor, dispose, gather, memoryPool, randn, setMemoryPoolLimit, tensor, zeros, type FloatArray,
} from '@chainrule/autograd';

// 64 Ki float32 elements: 256 KiB, well above the pool's lower bound.
const N = 1 << 16;
const big = (seed: number, requiresGrad = false): Tensor => randn([N], { seed, requiresGrad });
/** A new tensor of N float32 made by an op (storage allocated for it, nothing else holds it). */
const fresh = (seed: number): Tensor => big(seed).mul(2);
const pooled = (): number => memoryPool().bytes;
const copy = (t: Tensor): Float32Array => Float32Array.from(t.data as Float32Array);

afterEach(() => {
  // Empty the pool between cases, then back to the default bound.
  setMemoryPoolLimit(setMemoryPoolLimit(0));
});

describe('dispose: use after dispose', () => {
  it('throws a GraphError naming the op, with the shape and dtype, and keeps shape and dtype readable', () => {
    const y = tensor([[1, 2], [3, 4]]);
    y.dispose();
    expect(() => y.add(1)).toThrow(GraphError);
    expect(() => y.add(1)).toThrow(/^add: an input \(float32 \[2,2\]\) was disposed/);
    expect(() => y.matmul(tensor([[1], [1]]))).toThrow(/^matmul: an input \(float32 \[2,2\]\) was disposed/);
    expect(() => gather(y, 1, tensor([[0], [1]], { dtype: 'int32' }))).toThrow(/^gather: an input/);
    expect(() => y.data).toThrow(/^Tensor\.data: the tensor \(float32 \[2,2\]\) was disposed/);
    expect(() => y.item()).toThrow(GraphError);
    expect(() => y.grad).toThrow(/^Tensor\.grad: the tensor/);
    expect(y.shape).toEqual([2, 2]);
    expect(y.dtype).toBe('float32');
    expect(y.size).toBe(4);
    expect(String(y)).toBe('Tensor(float32 [2,2], disposed)');
  });

  it('names the op the caller called, not the one inside it that read the values', () => {
    const y = tensor([1, 2, 3]);
    y.dispose();
    expect(() => y.softmax()).toThrow(/^softmax: an input/);
  });

  it('does nothing the second time', () => {
    const y = fresh(1);
    y.dispose();
    const after = pooled();
    y.dispose();
    expect(pooled()).toBe(after);
  });

  it('refuses a disposed root or gradient in backward', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.mul(3).sum();
    y.dispose();
    expect(() => y.backward()).toThrow(/^backward: a root \(float32 \[\]\) was disposed/);
    const z = w.mul(3);
    const g = tensor([1, 1]);
    g.dispose();
    expect(() => z.backward(g)).toThrow(/^backward: a gradient/);
  });

  it('names backward when the pass reaches a disposed leaf', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.add(1).sum();
    w.dispose();
    expect(() => y.backward()).toThrow(/^backward: a tensor the pass reached \(float32 \[2\]\) was disposed/);
  });
});

describe('dispose: storage reuse', () => {
  it('gives the storage of a tensor nothing else holds to the next tensor of its size, cleared', () => {
    const y = fresh(1);
    const before = pooled();
    y.dispose();
    expect(pooled()).toBe(before + N * 4);
    const z = zeros([N]);
    expect(pooled()).toBe(before);
    expect(Array.from(z.data as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it('recycles int32 and bool storage, by byte length', () => {
    const idx = tensor(new Int32Array(N).fill(7), { dtype: 'int32' }).add(1);
    const mask = zeros([N]).lt(1);
    idx.dispose();
    expect(pooled()).toBe(N * 4);
    mask.dispose();
    expect(pooled()).toBe(N * 4 + N);
  });

  it('never recycles storage a view shares: dispose the view, the base keeps its values', () => {
    const x = fresh(2);
    const want = copy(x);
    const v = x.reshape([N / 4, 4]);
    const kept = x.reshape([N / 2, 2]);
    v.dispose();
    expect(pooled()).toBe(0);
    fresh(3);
    expect(copy(x)).toEqual(want);
    // Nor the base, while another view lives.
    x.dispose();
    expect(pooled()).toBe(0);
    fresh(4);
    expect(copy(kept)).toEqual(want);
  });

  it('never recycles storage shared by detach()', () => {
    const x = fresh(4);
    const want = copy(x);
    const d = x.detach();
    x.dispose();
    expect(pooled()).toBe(0);
    fresh(5);
    expect(copy(d)).toEqual(want);
  });

  it('refuses a backward through an op whose saved tensor was disposed, naming the op, before any VJP runs', () => {
    const w = big(6, true);
    const x = fresh(7);
    const y = x.mul(w).sum();
    x.dispose();
    // Reusing x's storage is safe: the graph that saved it can no longer run.
    expect(pooled()).toBe(N * 4);
    fresh(8);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/^backward of 'mul': input 0 \(float32 \[65536\]\) was disposed after the forward/);
    expect(w.grad).toBeNull();
  });

  it('refuses it for an output its op saved too (exp reads its output)', () => {
    const w = big(8, true);
    const e = w.exp();
    const loss = e.sum();
    e.dispose();
    expect(() => loss.backward()).toThrow(/^backward of 'exp': its output \(float32 \[65536\]\) was disposed/);
    expect(w.grad).toBeNull();
  });

  it('refuses a retained graph once a tensor it saved is disposed, and leaves the first gradients alone', () => {
    const w = big(9, true);
    const x = fresh(10);
    const xs = copy(x);
    const y = x.mul(w).sum();
    y.backward({ retainGraph: true });
    x.dispose();
    fresh(11);
    expect(() => y.backward()).toThrow(/^backward of 'mul'/);
    // d(Σ x·w)/dw = x, in storage of its own.
    expect(copy(w.grad!)).toEqual(xs);
  });

  it('never recycles a .grad still in place; does once it is taken off', () => {
    const w = big(11, true);
    w.mul(3).sum().backward();
    const g = w.grad!;
    // (The backward pass itself may have given its intermediate gradients to the pool.)
    const before = pooled();
    g.dispose();
    expect(pooled()).toBe(before);
    w.grad = null;
    w.mul(3).sum().backward();
    const g2 = w.grad!;
    expect(Array.from(g2.data as Float32Array).every((v) => v === 3)).toBe(true);
    w.grad = null;
    const after = pooled();
    g2.dispose();
    expect(pooled()).toBe(after + N * 4);
  });

  it('never recycles a typed array the caller gave', () => {
    const mine = new Float32Array(N).fill(5);
    const t = new Tensor(mine, [N]);
    t.dispose();
    expect(pooled()).toBe(0);
    zeros([N]);
    expect(mine.every((v) => v === 5)).toBe(true);
  });

  it('keeps nothing when the pool is off, and drops the oldest sizes beyond its bound', () => {
    setMemoryPoolLimit(0);
    fresh(12).dispose();
    expect(pooled()).toBe(0);
    setMemoryPoolLimit(N * 4 + N * 8);
    fresh(13).dispose();
    randn([N], { dtype: 'float64', seed: 14 }).mul(2).dispose();
    expect(memoryPool().buffers).toBe(2);
    randn([N / 2], { seed: 15 }).mul(2).dispose();
    // Over the bound: the float32 buffer, put back first, goes.
    expect(pooled()).toBe(N * 8 + N * 2);
  });

  it('refuses a bound that is not a number of bytes', () => {
    expect(() => setMemoryPoolLimit(-1)).toThrow(ArgumentError);
    expect(() => setMemoryPoolLimit(Number.NaN)).toThrow(/setMemoryPoolLimit/);
  });
});

describe('dispose(tree)', () => {
  it('disposes every tensor of a structure, each once', () => {
    const a = fresh(16);
    const b = fresh(17);
    dispose({ a, rest: [b, null, { again: a }] });
    expect(() => a.data).toThrow(GraphError);
    expect(() => b.data).toThrow(GraphError);
    expect(pooled()).toBe(2 * N * 4);
  });

  it('names the path of a value that is not a tensor', () => {
    expect(() => dispose({ w: tensor([1]), lr: 0.1 })).toThrow(/^dispose: the value at \.lr is a number/);
  });
});

describe('dispose: values stay right when storage is reused', () => {
  it('an op writing into recycled storage gives the same values as into fresh', () => {
    const x = big(18);
    const expected = copy(x.mul(x).add(1));
    for (let k = 0; k < 3; k++) {
      const junk = x.mul(100);
      junk.dispose();
      const y = x.mul(x).add(1);
      expect(copy(y)).toEqual(expected);
      y.dispose();
    }
    const idx = tensor(new Int32Array(N).map((_, i) => (i * 7) % N), { dtype: 'int32' });
    const picked = copy(gather(x, 0, idx));
    fresh(19).dispose();
    expect(copy(gather(x, 0, idx))).toEqual(picked);
    void (x.data as FloatArray);
  });
});

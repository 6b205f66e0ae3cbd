import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, DTypeError, Generator, GraphError, Tensor, checkpoint, grad, gradcheck, gradgradcheck, hessian, incrementVersion,
  jit, manualSeed, noGrad, numericGrad, rand, randn, retainedBytes, tensor, vmap,
} from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { f64, grad64 } from './helpers/tensors.js';

type Layer = { w: Tensor; b: Tensor };

function makeLayers(depth: number, width: number, seed: number): Layer[] {
  return Array.from({ length: depth }, (_, i) => ({
    w: randn([width, width], { dtype: 'float64', seed: seed + 2 * i, requiresGrad: true }).detach().mul(1 / Math.sqrt(width)).detach().requiresGrad_(),
    b: randn([width], { dtype: 'float64', seed: seed + 2 * i + 1 }).requiresGrad_(),
  }));
}

const layer = (h: Tensor, { w, b }: Layer): Tensor => h.matmul(w).add(b).tanh();

/** A deep MLP whose layers are run in blocks of `per`, each block checkpointed or not. */
function deep(layers: readonly Layer[], x: Tensor, per: number, remat: boolean): Tensor {
  let h = x;
  for (let i = 0; i < layers.length; i += per) {
    const block = layers.slice(i, i + per);
    const run = (input: Tensor): Tensor => block.reduce(layer, input);
    h = remat ? checkpoint(run)(h) : run(h);
  }
  return h.square().mean();
}

function gradsOf(layers: readonly Layer[]): Float64Array[] {
  return layers.flatMap(({ w, b }) => [w.grad!.data as Float64Array, b.grad!.data as Float64Array]);
}

function zeroGrads(layers: readonly Layer[], ...more: Tensor[]): void {
  for (const { w, b } of layers) w.grad = b.grad = null;
  for (const t of more) t.grad = null;
}

describe('checkpoint: the gradients are those of f', () => {
  test('property: a deep MLP in checkpointed blocks gives the same loss and gradients (closed-over parameters, input)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1000 }), (depth, per, width, seed) => {
        const layers = makeLayers(depth, width, seed);
        const x = randn([3, width], { dtype: 'float64', seed: seed + 99, requiresGrad: true });
        const plain = deep(layers, x, per, false);
        plain.backward();
        const expected = gradsOf(layers).map((g) => Float64Array.from(g));
        const dx = Float64Array.from(x.grad!.data);
        zeroGrads(layers, x);
        const remat = deep(layers, x, per, true);
        expect(remat.item()).toBe(plain.item());
        remat.backward();
        gradsOf(layers).forEach((g, i) => assertClose(g, expected[i]!, 1e-12, 1e-15));
        assertClose(x.grad!.data, dx, 1e-12, 1e-15);
      }),
      { numRuns: 30 },
    );
  });

  test('gradcheck and gradgradcheck pass through a checkpointed function (recomputation on the graph under createGraph)', () => {
    const w = f64([[0.3, -0.8], [1.1, 0.4]]);
    const f = (x: Tensor, v: Tensor): Tensor => checkpoint((a: Tensor, b: Tensor) => a.matmul(w).mul(b).sin().add(a.exp()))(x, v).sum();
    const x = grad64([[0.5, -0.2], [0.1, 0.9]]);
    const v = grad64([0.7, -1.3]);
    expect(gradcheck(f, [x, v]).ok).toBe(true);
    expect(gradgradcheck(f, [x, v]).ok).toBe(true);
  });

  test('hessian through checkpoint equals the hessian of f', () => {
    const f = (a: Tensor): Tensor => a.sin().mul(a.square()).sum().add(a.exp().sum().log());
    const x = f64([0.3, -1.1, 0.8]);
    const H = hessian((a: Tensor) => checkpoint(f)(a))(x);
    assertClose(H.data, hessian(f)(x).data, 1e-12, 1e-14);
  });

  test('structured arguments and outputs: one recomputation serves every output', () => {
    let runs = 0;
    const f = (p: { a: Tensor; b: Tensor }, x: Tensor): { u: Tensor; v: [Tensor] } => {
      runs++;
      return { u: p.a.mul(x).tanh(), v: [p.b.matmul(x).exp()] };
    };
    const p = { a: grad64([0.4, -0.6]), b: grad64([[0.2, 0.1], [-0.3, 0.5]]) };
    const x = grad64([1.2, 0.7]);
    const loss = (out: { u: Tensor; v: [Tensor] }): Tensor => out.u.square().sum().add(out.v[0].mul(f64([1, -2])).sum());
    loss(f(p, x)).backward();
    const expected = [p.a, p.b, x].map((t) => Float64Array.from(t.grad!.data));
    for (const t of [p.a, p.b, x]) t.grad = null;
    runs = 0;
    const out = checkpoint(f)(p, x);
    expect(runs).toBe(1);
    loss(out).backward();
    expect(runs).toBe(2);
    [p.a, p.b, x].forEach((t, i) => assertClose(t.grad!.data, expected[i]!, 1e-12, 1e-15));
  });

  test('a non-leaf tensor f closes over gets its gradient once, also when used outside f too', () => {
    const a = grad64([0.5, -0.25]);
    const x = grad64([2, 3]);
    const run = (remat: boolean): Float64Array[] => {
      a.grad = x.grad = null;
      const z = a.exp(); // computed before f, closed over by it
      const g = (t: Tensor): Tensor => t.mul(z).sin();
      const y = remat ? checkpoint(g)(x) : g(x);
      y.sum().add(z.sum()).backward();
      return [Float64Array.from(a.grad!.data), Float64Array.from(x.grad!.data)];
    };
    const [da, dx] = run(false);
    const [ra, rx] = run(true);
    assertClose(ra!, da!, 1e-13, 1e-15);
    assertClose(rx!, dx!, 1e-13, 1e-15);
    // by hand: d/da [Σ sin(x e^a) + Σ e^a] = cos(x e^a) x e^a + e^a
    [0.5, -0.25].forEach((av, i) => {
      const xv = [2, 3][i]!;
      expect(da![i]!).toBeCloseTo(Math.cos(xv * Math.exp(av)) * xv * Math.exp(av) + Math.exp(av), 12);
    });
  });

  test('checkpoint inside grad with a parameter dictionary', () => {
    const layers = makeLayers(4, 3, 7);
    const params = layers.map(({ w, b }) => ({ w: w.detach(), b: b.detach() }));
    const x = randn([2, 3], { dtype: 'float64', seed: 5 });
    const loss = (remat: boolean) => (ps: Layer[], input: Tensor): Tensor => {
      let h = input;
      for (const p of ps) h = remat ? checkpoint(layer)(h, p) : layer(h, p);
      return h.sum();
    };
    const g0 = grad(loss(false))(params, x);
    const g1 = grad(loss(true))(params, x);
    g1.forEach((l, i) => {
      assertClose(l.w.data, g0[i]!.w.data, 1e-12, 1e-15);
      assertClose(l.b.data, g0[i]!.b.data, 1e-12, 1e-15);
    });
  });
});

describe('checkpoint: random draws replay (preserve_rng_state)', () => {
  // Dropout written out: a mask from the generator, so the recomputation must draw the same one.
  const dropout = (h: Tensor, g?: Generator): Tensor => {
    const u = rand(h.shape, { dtype: 'float64', generator: g });
    return h.mul(new Tensor(u.data.map((v) => (v < 0.5 ? 0 : 2)), h.shape));
  };
  const block = (g?: Generator) => (h: Tensor): Tensor => dropout(h.tanh(), g).mul(h);

  test('the global generator: same gradient as without checkpoint, and the stream is left where the forward left it', () => {
    const x = randn([40], { dtype: 'float64', seed: 1, requiresGrad: true });
    manualSeed(11);
    block()(x).sum().backward();
    const expected = Float64Array.from(x.grad!.data);
    const after = rand([1]).item();
    x.grad = null;
    manualSeed(11);
    const y = checkpoint(block())(x);
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(expected));
    expect(rand([1]).item()).toBe(after);
  });

  test("a layer's own generator replays when listed; without preserveRngState the mask differs", () => {
    const x = randn([40], { dtype: 'float64', seed: 2, requiresGrad: true });
    const g = new Generator(5);
    block(g)(x).sum().backward();
    const expected = Float64Array.from(x.grad!.data);
    x.grad = null;
    g.seed(5);
    checkpoint(block(g), { generators: [g] })(x).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(expected));
    x.grad = null;
    g.seed(5);
    checkpoint(block(g), { preserveRngState: false, generators: [g] })(x).sum().backward();
    expect(Array.from(x.grad!.data)).not.toEqual(Array.from(expected));
  });
});

describe('checkpoint: memory', () => {
  test('a deep MLP keeps only the block boundaries: retainedBytes against the activations kept without', () => {
    const depth = 16;
    const width = 32;
    const batch = 64;
    const layers = makeLayers(depth, width, 3);
    const x = randn([batch, width], { dtype: 'float64', seed: 4 });
    const paramBytes = layers.reduce((n, { w, b }) => n + (w.size + b.size) * 8, 0);
    const act = batch * width * 8;
    const plain = retainedBytes(deep(layers, x, 4, false));
    const remat = retainedBytes(deep(layers, x, 4, true));
    // Without: each layer keeps its matmul, add and tanh results (3 activations).
    expect(plain).toBeGreaterThanOrEqual(paramBytes + 3 * depth * act);
    // With: the input and the 4 block outputs, the loss's own square, and a few scalars.
    expect(remat).toBeLessThanOrEqual(paramBytes + (1 + 4 + 1) * act + 64);
    expect(remat).toBeGreaterThanOrEqual(paramBytes + 5 * act);
  });
});

describe('checkpoint: edges and errors', () => {
  test('under noGrad, or with nothing requiring grad, f simply runs', () => {
    const x = f64([1, 2]);
    expect(checkpoint((t: Tensor) => t.exp())(x).gradFn).toBeNull();
    const y = grad64([1, 2]);
    expect(noGrad(() => checkpoint((t: Tensor) => t.exp())(y)).gradFn).toBeNull();
  });

  test('an input modified in place between forward and backward is refused', () => {
    const x = grad64([1, 2]);
    const y = checkpoint((t: Tensor) => t.square())(x).sum();
    x.data[0] = 5;
    incrementVersion(x);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/checkpoint/);
  });

  test('wrong arguments are clear errors', () => {
    expect(() => checkpoint((t: { w: Tensor; k: number }) => t.w.mul(t.k))({ w: grad64([1]), k: 2 })).toThrow(/^checkpoint: argument 0 at \.k is a number \(2\)/);
    expect(() => checkpoint(3 as never)).toThrow(/^checkpoint: the function to transform must be a function/);
    expect(() => checkpoint((t: Tensor) => t, { seed: 1 } as never)).toThrow(/^checkpoint: unknown option 'seed'/);
    expect(() => checkpoint((t: Tensor) => [t.exp(), t.exp().toDtype('float32')])(grad64([1]))).toThrow(DTypeError);
    expect(() => checkpoint((_t: Tensor) => 1 as unknown as Tensor)(grad64([1]))).toThrow(ArgumentError);
    expect(() => checkpoint((t: Tensor) => t, { generators: [1] } as never)).toThrow(/^checkpoint: generators must be an array of Generators/);
    expect(tensor(1).requiresGrad).toBe(false);
  });
});

describe('checkpoint: the segment’s intermediate tensors are garbage after the forward', () => {
  // A full collection on demand: V8's gc, exposed for this process.
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;

  async function survivors(remat: boolean, multi = false): Promise<{ inner: number; kept: Tensor }> {
    const refs: WeakRef<Tensor>[] = [];
    const x = randn([64, 64], { dtype: 'float64', seed: 1, requiresGrad: true });
    const block = (h: Tensor): Tensor => {
      const a = h.mul(2);
      const b = a.tanh();
      refs.push(new WeakRef(a), new WeakRef(b));
      return b.mul(h);
    };
    const pair = (h: Tensor): [Tensor, Tensor] => [block(h), h.exp()];
    const kept = multi ? (remat ? checkpoint(pair) : pair)(x)[0].sum() : (remat ? checkpoint(block) : block)(x).sum();
    // WeakRefs hold their targets until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    collect();
    return { inner: refs.filter((r) => r.deref() !== undefined).length, kept };
  }

  test('without checkpoint the graph holds them; with it, none survives (and backward still works)', async () => {
    const plain = await survivors(false);
    expect(plain.inner).toBe(2);
    const remat = await survivors(true);
    expect(remat.inner).toBe(0);
    remat.kept.backward();
    expect((await survivors(false, true)).inner).toBe(2);
    const both = await survivors(true, true);
    expect(both.inner).toBe(0);
    both.kept.backward();
  });
});

describe('checkpoint under vmap and jit (JAX: checkpoint is the identity on values and gradients)', () => {
  const w = f64([[0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [0.1, 0.1, 0.9]]);
  const f = (a: Tensor): Tensor => a.matmul(w).tanh().mul(a).sin();
  const loss = (a: Tensor): Tensor => checkpoint(f)(a).sum();
  const xs = f64([[0.3, -0.7, 1.1], [-0.4, 0.9, 0.2]]);
  const rows = [f64([0.3, -0.7, 1.1]), f64([-0.4, 0.9, 0.2])];

  test('vmap(checkpoint(f)) is f on each example, and vmap(grad(checkpoint(f))) each example\'s gradient by central differences', () => {
    const out = vmap(checkpoint(f))(xs);
    rows.forEach((r, i) => assertClose(out.narrow(0, i, 1).reshape([3]), noGrad(() => f(r)), 1e-15, 0));
    const g = vmap(grad(loss))(xs);
    rows.forEach((r, i) => assertClose(g.narrow(0, i, 1).reshape([3]), numericGrad((t: Tensor) => f(t).sum(), [r])[0]!, 1e-7, 1e-9));
  });

  test('jit(grad(checkpoint(f))) and jit(valueAndGrad) trace, and agree with central differences at new values', () => {
    const step = jit(grad(loss));
    for (const r of rows) assertClose(step(r), numericGrad((t: Tensor) => f(t).sum(), [r])[0]!, 1e-7, 1e-9);
    expect(step.cacheSize).toBe(1);
    const second = jit(grad((a: Tensor) => grad(loss)(a).square().sum()));
    const g2 = numericGrad((t: Tensor) => grad((a: Tensor) => f(a).sum())(t).square().sum(), [rows[0]!])[0]!;
    assertClose(second(rows[0]!), g2, 1e-6, 1e-8);
  });
});

describe('settings passed as arguments (torch.utils.checkpoint passes non-tensor arguments through)', () => {
  test('a number or string argument reaches f and its recomputation; the gradient is d/dx Σ sin(s·x) = s·cos(s·x)', () => {
    const x = f64([1, -0.5, 2]);
    const seen: unknown[] = [];
    const f = (t: Tensor, s: number, mode: string): Tensor => {
      seen.push(s, mode);
      return t.mul(s).sin();
    };
    const g = grad((a: Tensor) => checkpoint(f)(a, 3, 'train').sum())(x);
    assertClose(g, f64([1, -0.5, 2].map((v) => 3 * Math.cos(3 * v))), 1e-14, 1e-15);
    // Run once in forward and once recomputed in backward, with the same settings both times.
    expect(seen).toEqual([3, 'train', 3, 'train']);
    // Inside a structure a number is still an error naming the path.
    expect(() => checkpoint((p: { t: Tensor }) => p.t)({ t: x, lr: 0.1 } as never)).toThrow(/^checkpoint: argument 0 at \.lr is a number \(0\.1\)/);
  });
});

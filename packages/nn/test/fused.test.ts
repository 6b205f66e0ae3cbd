import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { gradcheck, gradgradcheck, gradients, tensor, Tensor } from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import { Conv2d, crossEntropyLoss, functionalCall, nllLoss, Linear, MaxPool2d, MLP, ReLU, Sequential, SGD, type MaxPool2dOptions, type Reduction } from '@chainrule/nn';

// Linear (and a Linear followed by a ReLU in a Sequential or MLP) and the common case of
// crossEntropyLoss run through autograd's fused ops. These tests hold them to the composed
// Tensor-op forms they replace: same values and gradients to rounding in float64, and the same
// gradcheck and gradgradcheck properties.

/** A ReLU that Sequential does not fuse with the Linear before it: the composed path. */
class PlainReLU extends ReLU {}

/** The composed forms. */
const composedLinear = (x: Tensor, w: Tensor, b: Tensor | null): Tensor => {
  const y = x.matmul(w.transpose());
  return b === null ? y : y.add(b);
};

function composedCrossEntropy(x: Tensor, q: Tensor, reduction: Reduction): Tensor {
  const losses = x.logSoftmax(1).mul(q).sum(1).neg();
  return reduction === 'none' ? losses : reduction === 'sum' ? losses.sum() : losses.mean();
}

/** Class labels as one-hot rows, smoothed by eps. */
function smoothedOneHot(labels: readonly number[], classes: number, eps: number): Tensor {
  const data = new Float64Array(labels.length * classes).fill(eps / classes);
  labels.forEach((c, r) => (data[r * classes + c]! += 1 - eps));
  return new Tensor(data, [labels.length, classes]);
}

/** An MLP's parameters as fresh leaves, and a function of (x, ...params) through functionalCall. */
function asFunction(model: MLP | Sequential): { f: (...t: Tensor[]) => Tensor; params: Tensor[] } {
  const names = model.namedParameters().map(([n]) => n);
  const params = model.parameters().map((p) => new Tensor(Float64Array.from(p.data), p.shape, { requiresGrad: true }));
  const f = (...t: Tensor[]): Tensor => functionalCall(model, Object.fromEntries(names.map((n, i) => [n, t[i + 1]!])), t[0]!);
  return { f, params };
}

/** Pre-activations of every hidden layer are away from relu's kink (finite differences cross it otherwise). */
function awayFromKinks(model: MLP, x: Tensor): boolean {
  let h = x.detach();
  const layers = [...model.layers];
  for (let i = 0; i < layers.length; i++) {
    const m = layers[i]!;
    if (m instanceof Linear) {
      h = composedLinear(h, m.weight.detach(), m.bias?.detach() ?? null);
      if (i + 1 < layers.length && !h.data.every((v) => Math.abs(v) > 1e-3)) return false;
    } else {
      h = m.forward(h);
    }
  }
  return true;
}

const mlpCaseArb = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 }),
    batch: fc.integer({ min: 1, max: 3 }),
    bias: fc.boolean(),
    seed: fc.noShrink(fc.integer({ min: 0, max: 1e6 })),
  })
  .map(({ sizes, batch, bias, seed }) => ({
    model: new MLP(sizes, { dtype: 'float64', bias, seed }),
    x: seededTensor([batch, sizes[0]!], seed),
  }))
  .filter(({ model, x }) => awayFromKinks(model, x));

describe('Linear through the fused op', () => {
  test('matches x·Wᵀ + b in value and gradients, to rounding, on 1-D to 3-D inputs', () => {
    for (const shape of [[3], [4, 3], [2, 4, 3]]) {
      const lin = new Linear(3, 5, { dtype: 'float64', seed: 7 });
      const x = seededTensor(shape, 1);
      const y = lin.forward(x);
      const ref = composedLinear(x, lin.weight, lin.bias);
      assertClose(y.data, ref.data, 1e-14);
      const cot = seededTensor(y.shape, 2, { requiresGrad: false });
      const wrt = [x, lin.weight, lin.bias!];
      const g = gradients([y], wrt, { gradOutputs: [cot] });
      const gr = gradients([ref], wrt, { gradOutputs: [cot] });
      g.forEach((t, i) => assertClose(t.data, gr[i]!.data, 1e-14));
    }
  });

  test('a Linear then a ReLU in a Sequential: fused, the same as running them one by one', () => {
    const fused = new Sequential(new Linear(4, 6, { dtype: 'float64', seed: 1 }), new ReLU(), new Linear(6, 2, { dtype: 'float64', seed: 2 }));
    const plain = new Sequential(new Linear(4, 6, { dtype: 'float64', seed: 1 }), new PlainReLU(), new Linear(6, 2, { dtype: 'float64', seed: 2 }));
    const x = seededTensor([5, 4], 3);
    const y = fused.forward(x);
    assertClose(y.data, plain.forward(x).data, 1e-14);
    expect(y.gradFn!.op).toBe('linear');
    expect(y.gradFn!.inputs[0]!.gradFn!.op).toBe('linear'); // relu went into the first linear
    const cot = seededTensor(y.shape, 4, { requiresGrad: false });
    const g = gradients([y], [x, ...fused.parameters()], { gradOutputs: [cot], retainGraph: true });
    const gp = gradients([plain.forward(x)], [x, ...plain.parameters()], { gradOutputs: [cot] });
    g.forEach((t, i) => assertClose(t.data, gp[i]!.data, 1e-14));
    // Under createGraph the VJP is Tensor ops: the same values.
    const recorded = gradients([y], [x, ...fused.parameters()], { gradOutputs: [cot], createGraph: true });
    recorded.forEach((t, i) => assertClose(t.data, gp[i]!.data, 1e-14));
  });

  test('MLP gradients pass gradcheck and gradgradcheck over random sizes (relu hidden layers, fused)', () => {
    fc.assert(
      fc.property(mlpCaseArb, ({ model, x }) => {
        const { f, params } = asFunction(model);
        const inputs = [new Tensor(x.data, x.shape, { requiresGrad: true }), ...params];
        const first = gradcheck(f, inputs);
        if (!first.ok) throw new Error(`gradcheck ${JSON.stringify(model.sizes)}: ${JSON.stringify(first.worst)}`);
        const second = gradgradcheck(f, inputs);
        if (!second.ok) throw new Error(`gradgradcheck ${JSON.stringify(model.sizes)}: ${JSON.stringify(second.worst)}`);
      }),
      { numRuns: 12 },
    );
  });
});

describe('a ReLU then a MaxPool2d in a Sequential, run as the pooling then the ReLU', () => {
  /** Small integers (ties, zeros, both signs), -0 and a NaN or two: every case of which element wins. */
  function hostile(shape: number[], seed: number, dtype: 'float32' | 'float64'): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const rng = fc.sample(fc.integer({ min: -3, max: 3 }), { numRuns: n, seed });
    const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    rng.forEach((v, i) => (data[i] = i % 11 === 5 ? -0 : i % 37 === 20 ? NaN : v));
    return tensor(data, { shape, requiresGrad: true });
  }

  const options: [number, MaxPool2dOptions][] = [
    [2, {}],
    [3, { stride: 1, padding: 1 }],
    [3, { stride: 2, ceilMode: true }],
    [2, { dilation: 2, stride: 1 }],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [k, o] of options) {
      test(`${dtype}, kernel ${k} ${JSON.stringify(o)}: the same bits, values and gradients, as relu then pooling`, () => {
        const x = hostile([2, 3, 7, 6], k * 31 + Object.keys(o).length, dtype);
        const fused = new Sequential(new ReLU(), new MaxPool2d(k, o));
        const plain = new Sequential(new PlainReLU(), new MaxPool2d(k, o));
        const y = fused.forward(x);
        const yp = plain.forward(x);
        expect(y.gradFn!.op).toBe('relu');
        expect(yp.gradFn!.op).toBe('maxPool2d');
        expect(Array.from(y.data)).toEqual(Array.from(yp.data));
        const cot = seededTensor(y.shape, 99, { dtype, requiresGrad: false });
        const [g] = gradients([y], [x], { gradOutputs: [cot] });
        const [gp] = gradients([yp], [x], { gradOutputs: [cot] });
        // Equal but for the sign of zeros: relu's mask times a negative cotangent gives -0, and
        // scattered into a zero it is +0 (PyTorch's threshold_backward gives +0 either way).
        expect(Array.from(g!.data, (v) => v + 0)).toEqual(Array.from(gp!.data, (v) => v + 0));
      });
    }
  }

  test("LeNet's convolution block: the same loss and parameter gradients as unfused, in float32", () => {
    const make = (relu: () => ReLU): Sequential => {
      const net = new Sequential(new Conv2d(2, 4, 3, { padding: 1, seed: 5 }), relu(), new MaxPool2d(2));
      return net;
    };
    const fused = make(() => new ReLU());
    const plain = make(() => new PlainReLU());
    const x = seededTensor([3, 2, 8, 8], 7, { dtype: 'float32', requiresGrad: false });
    const y = fused.forward(x);
    // The convolution and the pooling as one op, the relu after them.
    expect(y.gradFn!.op).toBe('relu');
    expect(y.gradFn!.inputs[0]!.gradFn!.op).toBe('conv2dMaxPool2d');
    const lf = y.square().sum();
    const lp = plain.forward(x).square().sum();
    expect(lf.item()).toBe(lp.item());
    const gf = gradients([lf], fused.parameters());
    const gp = gradients([lp], plain.parameters());
    // The weight's to the bit; the bias's sums the pooled gradient, in another order: to rounding.
    expect(Array.from(gf[0]!.data, (v) => v + 0)).toEqual(Array.from(gp[0]!.data, (v) => v + 0));
    assertClose(gf[1]!.data, gp[1]!.data, 1e-5, 1e-5);
  });
});

describe('a Conv2d then a MaxPool2d in a Sequential, as one op', () => {
  test('with or without a ReLU between: the same values and gradients as the layers one by one', () => {
    for (const relu of [true, false]) {
      const layers = (r: () => ReLU) => [new Conv2d(3, 5, 3, { padding: 1, seed: 2, dtype: 'float64' }), ...(relu ? [r()] : []), new MaxPool2d(2, { ceilMode: true }), new Conv2d(5, 4, 2, { seed: 3, dtype: 'float64' })];
      const fused = new Sequential(...layers(() => new ReLU()));
      const plain = new Sequential(...layers(() => new PlainReLU()));
      if (!relu) plain.append(new PlainReLU());
      if (!relu) fused.append(new PlainReLU());
      const x = seededTensor([4, 3, 9, 11], 5, { requiresGrad: false });
      const y = fused.forward(x), yp = plain.forward(x);
      const ops: string[] = [];
      for (let t = y; t.gradFn !== null; t = t.gradFn.inputs[0]!) ops.push(t.gradFn.op);
      expect(ops).toContain('conv2dMaxPool2d');
      assertClose(y.data, yp.data, 1e-14);
      const cot = seededTensor(y.shape, 6, { requiresGrad: false });
      const g = gradients([y], fused.parameters(), { gradOutputs: [cot] });
      const gp = gradients([yp], plain.parameters(), { gradOutputs: [cot] });
      g.forEach((t, i) => assertClose(t.data, gp[i]!.data, 1e-13));
    }
  });

  test("an error is the failing layer's own, located at its path", () => {
    const net = new Sequential(new Conv2d(1, 2, 3, { seed: 1 }), new ReLU(), new MaxPool2d(4));
    // The convolution fits a 5×5 input; its 3×3 output is smaller than the pooling window.
    expect(() => net.forward(seededTensor([1, 1, 5, 5], 1, { dtype: 'float32' }))).toThrow(/^2 \(in Sequential\): MaxPool2d\(.*maxPool2d: input \[1,2,3,3\]/);
    expect(() => net.forward(seededTensor([1, 3, 5, 5], 1, { dtype: 'float32' }))).toThrow(/^0 \(in Sequential\): Conv2d\(.*conv2d: /);
  });
});

describe('crossEntropyLoss through the fused op', () => {
  const cases = fc
    .record({ n: fc.integer({ min: 1, max: 5 }), c: fc.integer({ min: 1, max: 5 }), seed: fc.noShrink(fc.integer()) })
    .chain(({ n, c, seed }) =>
      fc.record({
        x: fc.constant(seededTensor([n, c], seed, { min: -4, max: 4 })),
        labels: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
        probs: fc.constant(seededTensor([n, c], seed + 1, { min: 0, max: 1 })),
        eps: fc.constantFrom(0, 0.1),
      }),
    );

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    test(`${reduction}: labels, label smoothing and probabilities match -Σ q·logSoftmax, values and gradients`, () => {
      fc.assert(
        fc.property(cases, fc.integer(), ({ x, labels, probs, eps }, seed) => {
          const classes = x.shape[1]!;
          const pairs: [Tensor, Tensor, Tensor[]][] = [
            [crossEntropyLoss(x, labels, { reduction, labelSmoothing: eps }), composedCrossEntropy(x, smoothedOneHot(labels, classes, eps), reduction), [x]],
            [
              crossEntropyLoss(x, probs, { reduction, labelSmoothing: eps }),
              composedCrossEntropy(x, probs.mul(1 - eps).add(eps / classes), reduction),
              [x, probs],
            ],
          ];
          // 5e-14 relative plus 5e-14 absolute: within 1e-13·max(1, |expected|), with gradients near 0 included.
          for (const [fused, composed, wrt] of pairs) {
            expect(fused.gradFn!.op).toBe('crossEntropy');
            assertClose(fused.data, composed.data, 5e-14, 5e-14);
            const cot = seededTensor(fused.shape, seed, { requiresGrad: false });
            const g = gradients([fused], wrt, { gradOutputs: [cot], retainGraph: true });
            const gc = gradients([composed], wrt, { gradOutputs: [cot] });
            g.forEach((t, i) => assertClose(t.data, gc[i]!.data, 5e-14, 5e-14));
            // Under createGraph the VJP is Tensor ops: the same values.
            const recorded = gradients([fused], wrt, { gradOutputs: [cot], createGraph: true });
            recorded.forEach((t, i) => assertClose(t.data, gc[i]!.data, 5e-14, 5e-14));
          }
        }),
        { numRuns: 25 },
      );
    });

    test(`${reduction}: passes gradcheck and gradgradcheck, labels and probabilities`, () => {
      fc.assert(
        fc.property(cases, ({ x, labels, probs, eps }) => {
          const opts = { reduction, labelSmoothing: eps };
          const reports = [
            gradcheck((a) => crossEntropyLoss(a!, labels, opts), [x]),
            gradgradcheck((a) => crossEntropyLoss(a!, labels, opts), [x]),
            gradcheck((a, p) => crossEntropyLoss(a!, p!, opts), [x, probs]),
            gradgradcheck((a, p) => crossEntropyLoss(a!, p!, opts), [x, probs]),
          ];
          reports.forEach((r, i) => {
            if (!r.ok) throw new Error(`check ${i}: ${JSON.stringify(r.worst)}`);
          });
        }),
        { numRuns: 8 },
      );
    });
  }

  test('class weights, ignored targets and [N, C, d] inputs run through the fused op too, with nllLoss’s values and gradients', () => {
    const cases: [Tensor, number[] | Tensor, { weight?: Tensor }][] = [
      [seededTensor([3, 4], 5), [0, 1, 2], { weight: tensor([1, 2, 3, 4], { dtype: 'float64' }) }],
      [seededTensor([3, 4], 6), [0, -100, 2], {}],
      [seededTensor([2, 4, 3], 7), tensor([[0, 1, 2], [3, 0, 1]], { dtype: 'int32' }), { weight: tensor([0.5, 1, 2, 1], { dtype: 'float64' }) }],
    ];
    for (const [x, labels, options] of cases) {
      const fused = crossEntropyLoss(x, labels, options);
      expect(fused.gradFn!.op === 'crossEntropy' || fused.gradFn!.op === 'reshape').toBe(true);
      const composed = nllLoss(x.logSoftmax(1), labels, options);
      assertClose(fused.data, composed.data, 1e-14, 1e-15);
      assertClose(gradients([fused], [x])[0]!, gradients([composed], [x])[0]!, 1e-12, 1e-14);
    }
  });
});

describe('a training step through the fused ops', () => {
  test('an MLP with SGD ends where the composed ops take it, to rounding', () => {
    const model = new MLP([6, 5, 3], { dtype: 'float64', seed: 11 });
    const plain = new Sequential(
      new Linear(6, 5, { dtype: 'float64' }), new PlainReLU(), new Linear(5, 3, { dtype: 'float64' }),
    );
    plain.parameters().forEach((p, i) => p.data.set(model.parameters()[i]!.data));
    const optFused = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const optPlain = new SGD(plain.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let step = 0; step < 5; step++) {
      const x = seededTensor([4, 6], 20 + step, { requiresGrad: false });
      const labels = [step % 3, 0, 1, 2];
      optFused.zeroGrad();
      crossEntropyLoss(model.forward(x), labels).backward();
      optFused.step();
      optPlain.zeroGrad();
      composedCrossEntropy(plain.forward(x), smoothedOneHot(labels, 3, 0), 'mean').backward();
      optPlain.step();
    }
    model.parameters().forEach((p, i) => assertClose(p.data, plain.parameters()[i]!.data, 1e-12));
  });
});

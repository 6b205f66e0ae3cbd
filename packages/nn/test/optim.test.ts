import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, Tensor, kernelBackend, setKernelBackend, tensor, zeros, type FloatArray } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { Adagrad, Adam, AdamW, Optimizer, RMSprop, SGD, StateDictError, type OptimizerStateDict, type ParamGroup } from '@chainrule/nn';

// Three steps' gradients on a 5-element parameter. Magnitudes fall so amsgrad's maximum matters,
// and signs flip so momentum and centring do.
const THETA0 = [0.5, -1.2, 2.0, 0.0, -0.3];
const GRADS = [
  [1.0, -2.0, 0.5, 3.0, -0.1],
  [0.05, 0.3, -0.02, -0.2, 0.4],
  [-0.01, 0.1, 0.2, 0.02, -0.3],
];

/** Runs `opt` for the three steps, returning θ after each. */
function run(build: (p: Tensor) => { step(): unknown }): number[][] {
  const p = tensor(THETA0, { dtype: 'float64', requiresGrad: true });
  const opt = build(p);
  return GRADS.map((g) => {
    p.grad = new Tensor(Float64Array.from(g), [g.length]);
    opt.step();
    expect(p.isLeaf).toBe(true);
    return Array.from(p.data);
  });
}

function expectSteps(actual: number[][], expected: number[][]): void {
  actual.forEach((theta, t) => assertClose(theta, expected[t]!, 1e-12));
}

// ---- Reference update rules, written from PyTorch's documented algorithms with plain loops. ----

function refSGD(o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean }, theta0: readonly number[] = THETA0, grads: readonly (readonly number[])[] = GRADS): number[][] {
  const theta = [...theta0];
  const b = new Array<number>(theta.length).fill(0);
  const out: number[][] = [];
  grads.forEach((grad, t) => {
    for (let i = 0; i < theta.length; i++) {
      let g = o.maximize ? -grad[i]! : grad[i]!;
      if (o.weightDecay !== 0) g = g + o.weightDecay * theta[i]!;
      if (o.momentum !== 0) {
        b[i] = t > 0 ? o.momentum * b[i]! + (1 - o.dampening) * g : g;
        g = o.nesterov ? g + o.momentum * b[i]! : b[i]!;
      }
      theta[i] = theta[i]! - o.lr * g;
    }
    out.push([...theta]);
  });
  return out;
}

function refAdam(o: { lr: number; b1: number; b2: number; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean; decoupled: boolean }, theta0: readonly number[] = THETA0, grads: readonly (readonly number[])[] = GRADS): number[][] {
  const theta = [...theta0];
  const n = theta.length;
  const m = new Array<number>(n).fill(0), v = new Array<number>(n).fill(0), vmax = new Array<number>(n).fill(0);
  const out: number[][] = [];
  grads.forEach((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < n; i++) {
      let g = o.maximize ? -grad[i]! : grad[i]!;
      if (o.decoupled) theta[i] = theta[i]! * (1 - o.lr * o.weightDecay);
      else if (o.weightDecay !== 0) g = g + o.weightDecay * theta[i]!;
      m[i] = o.b1 * m[i]! + (1 - o.b1) * g;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * g * g;
      const mHat = m[i]! / (1 - o.b1 ** t);
      let vHat: number;
      if (o.amsgrad) {
        vmax[i] = Math.max(vmax[i]!, v[i]!);
        vHat = vmax[i]! / (1 - o.b2 ** t);
      } else {
        vHat = v[i]! / (1 - o.b2 ** t);
      }
      theta[i] = theta[i]! - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
    out.push([...theta]);
  });
  return out;
}

function refRMSprop(o: { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean; maximize: boolean }, theta0: readonly number[] = THETA0, grads: readonly (readonly number[])[] = GRADS): number[][] {
  const theta = [...theta0];
  const n = theta.length;
  const v = new Array<number>(n).fill(0), b = new Array<number>(n).fill(0), gAve = new Array<number>(n).fill(0);
  const out: number[][] = [];
  grads.forEach((grad) => {
    for (let i = 0; i < n; i++) {
      let g = o.maximize ? -grad[i]! : grad[i]!;
      if (o.weightDecay !== 0) g = g + o.weightDecay * theta[i]!;
      v[i] = o.alpha * v[i]! + (1 - o.alpha) * g * g;
      let vTilde = v[i]!;
      if (o.centered) {
        gAve[i] = gAve[i]! * o.alpha + (1 - o.alpha) * g;
        vTilde = vTilde - gAve[i]! ** 2;
      }
      if (o.momentum > 0) {
        b[i] = o.momentum * b[i]! + g / (Math.sqrt(vTilde) + o.eps);
        theta[i] = theta[i]! - o.lr * b[i]!;
      } else {
        theta[i] = theta[i]! - (o.lr * g) / (Math.sqrt(vTilde) + o.eps);
      }
    }
    out.push([...theta]);
  });
  return out;
}

function refAdagrad(o: { lr: number; lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number; maximize: boolean }, theta0: readonly number[] = THETA0, grads: readonly (readonly number[])[] = GRADS): number[][] {
  const theta = [...theta0];
  const n = theta.length;
  const sum = new Array<number>(n).fill(o.initialAccumulatorValue);
  const out: number[][] = [];
  grads.forEach((grad, k) => {
    const t = k + 1;
    const clr = o.lr / (1 + (t - 1) * o.lrDecay);
    for (let i = 0; i < n; i++) {
      let g = o.maximize ? -grad[i]! : grad[i]!;
      if (o.weightDecay !== 0) g = g + o.weightDecay * theta[i]!;
      sum[i] = sum[i]! + g * g;
      theta[i] = theta[i]! - (clr * g) / (Math.sqrt(sum[i]!) + o.eps);
    }
    out.push([...theta]);
  });
  return out;
}

describe('SGD follows torch.optim.SGD for the first three steps', () => {
  const combos = [
    { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
    { momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false, maximize: false },
    { momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
    { momentum: 0.9, dampening: 0.3, weightDecay: 0.05, nesterov: false, maximize: false },
    { momentum: 0.8, dampening: 0, weightDecay: 0, nesterov: true, maximize: false },
    { momentum: 0.8, dampening: 0, weightDecay: 0.02, nesterov: true, maximize: true },
    { momentum: 0.5, dampening: 0.5, weightDecay: 0.1, nesterov: false, maximize: true },
  ];
  for (const c of combos) {
    test(JSON.stringify(c), () => {
      const o = { lr: 0.1, ...c };
      expectSteps(run((p) => new SGD([p], o)), refSGD(o));
    });
  }
});

describe('Adam and AdamW follow PyTorch for the first three steps', () => {
  const combos = [
    { b1: 0.9, b2: 0.999, weightDecay: 0, amsgrad: false, maximize: false },
    { b1: 0.9, b2: 0.9, weightDecay: 0, amsgrad: true, maximize: false },
    { b1: 0.8, b2: 0.95, weightDecay: 0.1, amsgrad: false, maximize: false },
    { b1: 0.5, b2: 0.9, weightDecay: 0.1, amsgrad: true, maximize: true },
    { b1: 0, b2: 0.5, weightDecay: 0, amsgrad: false, maximize: true },
  ];
  for (const c of combos) {
    for (const decoupled of [false, true]) {
      test(`${decoupled ? 'AdamW' : 'Adam'} ${JSON.stringify(c)}`, () => {
        const o = { lr: 0.01, eps: 1e-8, ...c, decoupled };
        const options = { lr: o.lr, betas: [o.b1, o.b2] as [number, number], eps: o.eps, weightDecay: o.weightDecay, amsgrad: o.amsgrad, maximize: o.maximize };
        const actual = run((p) => (decoupled ? new AdamW([p], options) : new Adam([p], options)));
        expectSteps(actual, refAdam(o));
      });
    }
  }

  test('amsgrad changes the result on these gradients (so the test exercises it)', () => {
    const base = { lr: 0.01, eps: 1e-8, b1: 0.9, b2: 0.9, weightDecay: 0, maximize: false, decoupled: false };
    expect(refAdam({ ...base, amsgrad: true })[2]).not.toEqual(refAdam({ ...base, amsgrad: false })[2]);
  });

  test("AdamW's default weight decay is 1e-2, Adam's 0", () => {
    const p = zeros([1], { requiresGrad: true });
    expect(new AdamW([p]).paramGroups[0]!.weightDecay).toBe(0.01);
    expect(new Adam([p]).paramGroups[0]!.weightDecay).toBe(0);
  });
});

describe('RMSprop follows torch.optim.RMSprop for the first three steps', () => {
  const combos = [
    { alpha: 0.99, weightDecay: 0, momentum: 0, centered: false, maximize: false },
    { alpha: 0.9, weightDecay: 0, momentum: 0, centered: true, maximize: false },
    { alpha: 0.9, weightDecay: 0.1, momentum: 0.9, centered: false, maximize: false },
    { alpha: 0.8, weightDecay: 0.05, momentum: 0.7, centered: true, maximize: false },
    { alpha: 0.8, weightDecay: 0, momentum: 0.5, centered: true, maximize: true },
  ];
  for (const c of combos) {
    test(JSON.stringify(c), () => {
      const o = { lr: 0.01, eps: 1e-8, ...c };
      expectSteps(run((p) => new RMSprop([p], o)), refRMSprop(o));
    });
  }
});

describe('Adagrad follows torch.optim.Adagrad for the first three steps', () => {
  const combos = [
    { lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, maximize: false },
    { lrDecay: 0.1, weightDecay: 0, initialAccumulatorValue: 0, maximize: false },
    { lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.5, maximize: false },
    { lrDecay: 0, weightDecay: 0.1, initialAccumulatorValue: 0.1, maximize: true },
  ];
  for (const c of combos) {
    test(JSON.stringify(c), () => {
      const o = { lr: 0.1, eps: 1e-10, ...c };
      expectSteps(run((p) => new Adagrad([p], o)), refAdagrad(o));
    });
  }
});

describe('float32 parameters follow the float64 reference on random data, in every update loop', () => {
  const f32 = fc.float({ min: Math.fround(-2), max: Math.fround(2), noNaN: true });
  const data = fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.record({
      theta: fc.array(f32, { minLength: n, maxLength: n }),
      grads: fc.array(fc.array(f32, { minLength: n, maxLength: n }), { minLength: 3, maxLength: 3 }),
    }),
  );

  /** θ after each of the steps, on a float32 parameter (state buffers float32 too). */
  function run32(theta: number[], grads: number[][], build: (p: Tensor) => { step(): unknown }): number[][] {
    const p = tensor(theta, { dtype: 'float32', requiresGrad: true });
    const opt = build(p);
    return grads.map((g) => {
      p.grad = new Tensor(Float32Array.from(g), [g.length]);
      opt.step();
      return Array.from(p.data);
    });
  }

  // Rounding θ and the state to float32 each step moves θ by a few units in the 7th digit.
  const close = (actual: number[][], expected: number[][]): void => actual.forEach((t, k) => assertClose(t, expected[k]!, 0, 1e-5));

  test('SGD, with and without momentum, decay, Nesterov, maximize', () => {
    fc.assert(
      fc.property(data, fc.constantFrom(0, 0.9), fc.constantFrom(0, 0.3), fc.constantFrom(0, 0.05), fc.boolean(), fc.boolean(), ({ theta, grads }, momentum, dampening, weightDecay, nesterov, maximize) => {
        const o = { lr: 0.1, momentum, dampening, weightDecay, nesterov: nesterov && momentum > 0 && dampening === 0, maximize };
        close(run32(theta, grads, (p) => new SGD([p], o)), refSGD(o, theta, grads));
      }),
      { numRuns: 60 },
    );
  });

  // 'wasm' sends even these short parameters through autograd's WebAssembly Adam step.
  for (const backend of ['auto', 'wasm'] as const) {
    test(`Adam and AdamW, with and without L2, amsgrad, maximize (kernel backend ${backend})`, () => {
      const previous = kernelBackend();
      setKernelBackend(backend);
      try {
        fc.assert(
          fc.property(data, fc.constantFrom(0, 0.1), fc.boolean(), fc.boolean(), fc.boolean(), ({ theta, grads }, weightDecay, amsgrad, maximize, decoupled) => {
            const o = { lr: 0.01, b1: 0.9, b2: 0.99, eps: 1e-8, weightDecay, amsgrad, maximize, decoupled };
            const options = { lr: o.lr, betas: [o.b1, o.b2] as [number, number], eps: o.eps, weightDecay, amsgrad, maximize };
            close(run32(theta, grads, (p) => (decoupled ? new AdamW([p], options) : new Adam([p], options))), refAdam(o, theta, grads));
          }),
          { numRuns: 60 },
        );
      } finally {
        setKernelBackend(previous);
      }
    });
  }

  // Not centred: v - ḡ² cancels in float32 (as in PyTorch) and can fall below zero; the
  // float64 cases above cover centring.
  test('RMSprop, with and without decay, momentum, maximize', () => {
    fc.assert(
      fc.property(data, fc.constantFrom(0, 0.1), fc.constantFrom(0, 0.9), fc.boolean(), ({ theta, grads }, weightDecay, momentum, maximize) => {
        const o = { lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay, momentum, centered: false, maximize };
        close(run32(theta, grads, (p) => new RMSprop([p], o)), refRMSprop(o, theta, grads));
      }),
      { numRuns: 60 },
    );
  });
});

describe('parameter groups, skipping, validation', () => {
  test('groups keep their own options; defaults fill the rest', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([3], { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.5, 0.9], [0.1, 0.9]]);
    a.grad = tensor([1, 1], { dtype: 'float64' });
    b.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    expect(Array.from(a.data)).toEqual([0.5, 1.5]);
    expect(Array.from(b.data)).toEqual([2.9]);
  });

  test('parameters without a gradient are left alone and get no state', () => {
    const a = tensor([1], { dtype: 'float64', requiresGrad: true });
    const b = tensor([2], { dtype: 'float64', requiresGrad: true });
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    expect(b.data[0]).toBe(2);
    expect(Object.keys(opt.stateDict().state)).toEqual(['0']);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  test('options are validated with messages naming the optimiser', () => {
    const p = [zeros([1], { requiresGrad: true })];
    expect(() => new SGD(p, { lr: -1 })).toThrow('SGD: lr must be >= 0, got -1');
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum needs momentum > 0 and dampening 0, got momentum 0, dampening 0');
    expect(() => new Adam(p, { betas: [1, 0.9] })).toThrow('Adam: betas[0] must be in [0, 1), got 1');
    expect(() => new AdamW(p, { eps: -1 })).toThrow('AdamW: eps must be >= 0, got -1');
    expect(() => new RMSprop(p, { alpha: -0.5 })).toThrow('RMSprop: alpha must be >= 0, got -0.5');
    expect(() => new Adagrad(p, { lrDecay: -1 })).toThrow('Adagrad: lrDecay must be >= 0, got -1');
    expect(() => new SGD([{ params: p, lr: -2 }], { lr: 0.1 })).toThrow('SGD: lr must be >= 0, got -2');
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: got an empty parameter list');
    expect(() => new SGD([p[0]!, p[0]!])).toThrow(/more than one group/);
    const nonLeaf = zeros([1], { requiresGrad: true }).mul(2);
    expect(() => new SGD([nonLeaf])).toThrow(/non-leaf/);
  });
});

describe('optimizer state dicts', () => {
  test('plain data that round-trips through structuredClone and resumes exactly', () => {
    const make = () => tensor(THETA0, { dtype: 'float64', requiresGrad: true });
    const p1 = make();
    const o1 = new RMSprop([p1], { lr: 0.01, momentum: 0.9, centered: true });
    const step = (p: Tensor, opt: RMSprop, g: number[]) => {
      p.grad = new Tensor(Float64Array.from(g), [g.length]);
      opt.step();
    };
    step(p1, o1, GRADS[0]!);
    const saved: OptimizerStateDict = structuredClone(o1.stateDict());
    expect(saved.state[0]!['squareAvg']).toBeInstanceOf(Float64Array);
    expect(saved.paramGroups[0]).toMatchObject({ lr: 0.01, momentum: 0.9, centered: true, params: [0] });
    const snapshot = Float64Array.from(p1.data);
    step(p1, o1, GRADS[1]!);
    step(p1, o1, GRADS[2]!);

    const p2 = new Tensor(snapshot, [5], { requiresGrad: true });
    const o2 = new RMSprop([p2], { lr: 999 });
    o2.loadStateDict(saved);
    expect(o2.paramGroups[0]!.lr).toBe(0.01);
    step(p2, o2, GRADS[1]!);
    step(p2, o2, GRADS[2]!);
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
  });

  test('a mismatched state dict lists every problem and changes nothing', () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor([1, 1, 1]);
    opt.step();
    const good = opt.stateDict();
    const bad: OptimizerStateDict = {
      state: { 0: { ...good.state[0]!, expAvg: new Float64Array(3), expAvgSq: new Float32Array(2), step: -1 }, 4: {} },
      paramGroups: [{ ...good.paramGroups[0]!, lr: -1, bogus: 1 }],
    };
    let message = '';
    try {
      opt.loadStateDict(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(StateDictError);
      message = (e as Error).message;
    }
    expect(message).toContain("group 0: Adam: unknown option 'bogus'");
    expect(message).toContain('group 0: Adam: lr must be >= 0, got -1');
    expect(message).toContain("parameter 0: 'step' must be a non-negative integer, got -1");
    expect(message).toContain('state for parameter 4, but the optimiser has 1 parameter(s)');
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    expect(opt.stateDict().state[0]!['step']).toBe(1);
    const wrongBuffers: OptimizerStateDict = { state: { 0: { ...good.state[0]!, expAvg: new Float64Array(3) } }, paramGroups: good.paramGroups };
    expect(() => opt.loadStateDict(wrongBuffers)).toThrow("'expAvg' must be a Float32Array (the parameter is float32), got a Float64Array");
  });
});

describe('custom optimisers', () => {
  // The example in Optimizer's documentation, compiled and run.
  class SignSGD extends Optimizer<{ lr: number }, object> {
    constructor(params: Iterable<Tensor>, lr = 0.01) { super('SignSGD', params, { lr }); }
    protected validate(o: { lr: number }) { if (!(o.lr >= 0)) throw new ArgumentError(`SignSGD: lr must be >= 0, got ${o.lr}`); }
    protected update(p: Tensor, g: FloatArray, group: ParamGroup<{ lr: number }>) { for (let i = 0; i < g.length; i++) p.data[i]! -= group.lr * Math.sign(g[i]!); }
    protected exportState() { return {}; }
    protected importState() { return {}; }
  }

  test('subclassing Optimizer gives groups, zeroGrad and state dicts for free', () => {
    const p = tensor([1, -1, 0], { dtype: 'float64', requiresGrad: true });
    const opt = new SignSGD([p], 0.5);
    p.grad = tensor([3, -0.1, 0], { dtype: 'float64' });
    opt.step();
    expect(Array.from(p.data)).toEqual([0.5, -0.5, 0]);
    expect(opt.stateDict().paramGroups).toEqual([{ lr: 0.5, params: [0] }]);
    expect(() => new SignSGD([p], -1)).toThrow('SignSGD: lr must be >= 0, got -1');
  });
});

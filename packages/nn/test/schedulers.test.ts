import { describe, expect, test } from 'vitest';
import { zeros } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  Adam, ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, MultiplicativeLR, OneCycleLR, PolynomialLR, LinearWarmup, ReduceLROnPlateau, SGD, SequentialLR, StepLR, clipGradNorm, clipGradValue, type SchedulerStateDict,
} from '@chainrule/nn';

const sgd = (lr = 0.1) => new SGD([{ params: [zeros([1], { requiresGrad: true })] }, { params: [zeros([1], { requiresGrad: true })], lr: lr * 10 }], { lr });

function trace(sched: { step(): void; getLastLr(): number[] }, n: number): number[][] {
  const out = [sched.getLastLr()];
  for (let i = 0; i < n; i++) {
    sched.step();
    out.push(sched.getLastLr());
  }
  return out;
}

describe('schedulers', () => {
  test('StepLR: base·γ^⌊epoch/stepSize⌋ per group', () => {
    const opt = sgd(0.1);
    const lrs = trace(new StepLR(opt, { stepSize: 2, gamma: 0.5 }), 5);
    assertClose(lrs.map((l) => l[0]!), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    assertClose(lrs.map((l) => l[1]!), [1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(opt.paramGroups[0]!.lr).toBe(lrs[5]![0]);
  });

  test('ExponentialLR: base·γ^epoch', () => {
    const lrs = trace(new ExponentialLR(sgd(0.1), { gamma: 0.9 }), 3).map((l) => l[0]!);
    assertClose(lrs, [0.1, 0.09, 0.081, 0.0729]);
  });

  test('CosineAnnealingLR: etaMin + (base - etaMin)(1 + cos(π·t/T))/2', () => {
    const lrs = trace(new CosineAnnealingLR(sgd(0.1), { tMax: 4, etaMin: 0.01 }), 6).map((l) => l[0]!);
    const ref = [0, 1, 2, 3, 4, 5, 6].map((t) => 0.01 + (0.09 * (1 + Math.cos((Math.PI * t) / 4))) / 2);
    assertClose(lrs, ref);
    assertClose([lrs[4]!], [0.01]);
  });

  test('LinearWarmup rises linearly, then hands over to cosine from its epoch 0', () => {
    const opt = sgd(0.1);
    const cosine = new CosineAnnealingLR(opt, { tMax: 4 });
    const sched = new LinearWarmup(opt, { warmupSteps: 3, startFactor: 0.1, after: cosine });
    const lrs = trace(sched, 7).map((l) => l[0]!);
    const warm = [0, 1, 2].map((t) => 0.1 * (0.1 + (0.9 * t) / 3));
    const cos = [0, 1, 2, 3, 4].map((t) => (0.1 * (1 + Math.cos((Math.PI * t) / 4))) / 2);
    assertClose(lrs, [...warm, ...cos]);
    expect(opt.paramGroups[1]!.lr).toBeCloseTo(10 * lrs[7]!, 15);
    // Without a successor it holds the base rate.
    assertClose(trace(new LinearWarmup(sgd(0.2), { warmupSteps: 2 }), 3).map((l) => l[0]!), [0.2 / 3, 0.2 * (2 / 3), 0.2, 0.2]);
  });

  test('LinearLR: from startFactor·base to endFactor·base, then held; startFactor 0 rises from zero', () => {
    const lrs = trace(new LinearLR(sgd(0.1), { startFactor: 0, totalIters: 4 }), 6);
    assertClose(lrs.map((l) => l[0]!), [0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1]);
    assertClose(lrs.map((l) => l[1]!), [0, 0.25, 0.5, 0.75, 1, 1, 1]);
    const decay = new LinearLR(sgd(0.1), { startFactor: 1, endFactor: 0.5, totalIters: 2 });
    assertClose(trace(decay, 3).map((l) => l[0]!), [0.1, 0.075, 0.05, 0.05]);
    assertClose(decay.lrAt(1), [0.075, 0.75]);
    expect(() => decay.lrFor(0.1, 1, 2)).toThrow('LinearLR: group must be the index of one of the 2 group(s), got 2');
  });

  test('LambdaLR and MultiplicativeLR take one function per group', () => {
    const lambdaLrs = trace(new LambdaLR(sgd(0.1), { lrLambda: [(e) => 0.5 ** e, (e) => 1 + e] }), 2);
    assertClose(lambdaLrs.flat(), [0.1, 1, 0.05, 2, 0.025, 3]);
    const calls: number[] = [];
    const sched = new MultiplicativeLR(sgd(0.1), {
      lrLambda: [(e) => (calls.push(e), 0.5), () => 2],
    });
    assertClose(trace(sched, 3).flat(), [0.1, 1, 0.05, 2, 0.025, 4, 0.0125, 8]);
    // Stepping calls the function once per epoch, from epoch 1 (PyTorch's epoch 0 keeps the lr).
    expect(calls).toEqual([1, 2, 3]);
    assertClose(sched.lrAt(1), [0.05, 2]);
    const again = new MultiplicativeLR(sgd(0.1), { lrLambda: () => 0.5 });
    again.loadStateDict(structuredClone(sched.stateDict()));
    again.step();
    assertClose(again.getLastLr(), [0.00625, 0.0625]);
    expect(() => new LambdaLR(sgd(), { lrLambda: [(e) => e] })).toThrow('LambdaLR: lrLambda must give one function per group (2), got 1');
    expect(() => new MultiplicativeLR(sgd(), { lrLambda: [() => 1, 2 as unknown as () => number] })).toThrow(/MultiplicativeLR: lrLambda must be a function of the epoch, or an array whose items are each a function of the epoch/);
    const nan = new MultiplicativeLR(sgd(), { lrLambda: (e) => (e === 2 ? NaN : 1) });
    nan.step();
    expect(() => nan.step()).toThrow(/MultiplicativeLR: the learning rate at epoch 2 from base 0.1 is NaN/);
  });

  test('ConstantLR holds factor·base until totalIters (factor 0 too); PolynomialLR decays to 0 and stays', () => {
    assertClose(trace(new ConstantLR(sgd(0.1), { factor: 0, totalIters: 2 }), 3).map((l) => l[1]!), [0, 0, 1, 1]);
    const poly = new PolynomialLR(sgd(0.1), { totalIters: 4, power: 2 });
    assertClose(trace(poly, 5).map((l) => l[0]!), [0.1, 0.1 * 0.75 ** 2, 0.1 * 0.5 ** 2, 0.1 * 0.25 ** 2, 0, 0]);
    const again = new PolynomialLR(sgd(0.1), { totalIters: 4, power: 2 });
    again.loadStateDict(structuredClone(poly.stateDict()));
    expect(again.lastEpoch).toBe(5);
    expect(again.lrAt(2)).toEqual(poly.lrAt(2));
    expect(() => new ConstantLR(sgd(), { factor: 2 })).toThrow('ConstantLR: factor must be in [0, 1], got 2');
    expect(() => new ConstantLR(sgd(), { totalIters: 0 })).toThrow('ConstantLR: totalIters must be a positive integer, got 0');
    expect(() => new PolynomialLR(sgd(), { power: -1 })).toThrow('PolynomialLR: power must be >= 0, got -1');
    expect(() => new PolynomialLR(sgd(), { totalIters: 2.5 })).toThrow('PolynomialLR: totalIters must be a positive integer, got 2.5');
  });

  test('SequentialLR and ChainedScheduler: validation, closed forms, state', () => {
    const opt = sgd(0.1);
    const seq = new SequentialLR(opt, { schedulers: [new ConstantLR(opt, { factor: 0.5, totalIters: 5 }), new StepLR(opt, { stepSize: 1, gamma: 0.5 })], milestones: [2] });
    assertClose(trace(seq, 3).map((l) => l[0]!), [0.05, 0.05, 0.1, 0.05]);
    assertClose(seq.lrAt(4), [0.025, 0.25]);
    const saved = structuredClone(seq.stateDict());
    expect(saved.schedulers).toHaveLength(2);
    const opt2 = sgd(0.1);
    const seq2 = new SequentialLR(opt2, { schedulers: [new ConstantLR(opt2, { factor: 0.5, totalIters: 5 }), new StepLR(opt2, { stepSize: 1, gamma: 0.5 })], milestones: [2] });
    const fresh = seq2.stateDict();
    const [firstState] = saved.schedulers as SchedulerStateDict[];
    expect(() => seq2.loadStateDict({ ...saved, schedulers: [firstState!] })).toThrow('SequentialLR.loadStateDict: schedulers must hold 2 scheduler state(s), got 1');
    expect(() => seq2.loadStateDict({ ...saved, schedulers: [firstState!, { lastEpoch: -1, baseLrs: [0.1, 1], lastLr: [0.1, 1] }] })).toThrow(/StepLR.loadStateDict: lastEpoch must be a non-negative integer/);
    expect(seq2.stateDict()).toEqual(fresh);
    seq2.loadStateDict(saved);
    seq.step();
    seq2.step();
    expect(seq2.getLastLr()).toEqual(seq.getLastLr());

    const chain = new ChainedScheduler([new LinearLR(opt, { startFactor: 0.5, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.5 })]);
    assertClose(trace(chain, 3).map((l) => l[0]!), [0.05, 0.1 * 0.75 * 0.5, 0.1 * 0.25, 0.1 * 0.125]);
    expect(new ChainedScheduler([chain]).lrAt(2)).toEqual(chain.lrAt(2));

    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 1 })], milestones: [2] })).toThrow('SequentialLR: milestones must hold one fewer epoch than schedulers (0), got 1');
    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 1 }), new StepLR(opt, { stepSize: 2 }), new StepLR(opt, { stepSize: 3 })], milestones: [3, 3] })).toThrow('SequentialLR: milestones must be increasing, got [3, 3]');
    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 1 }), new StepLR(opt, { stepSize: 2 })], milestones: [0] })).toThrow('SequentialLR: milestones must be an array whose items are each a positive integer, got [0]');
    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 1 }), new StepLR(sgd(), { stepSize: 2 })], milestones: [1] })).toThrow('SequentialLR: schedulers[1] (StepLR) schedules another optimiser than schedulers[0]');
    expect(() => new SequentialLR(opt, { schedulers: [new ReduceLROnPlateau(opt) as never], milestones: [] })).toThrow(/SequentialLR: schedulers\[0\] must be a closed-form scheduler \(an LRScheduler; ReduceLROnPlateau cannot be sequenced\), got ReduceLROnPlateau/);
    const momentumOpt = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    expect(() => new SequentialLR(momentumOpt, { schedulers: [new OneCycleLR(momentumOpt, { maxLr: 1, totalSteps: 10 })], milestones: [] })).toThrow(/SequentialLR: schedulers\[0\] \(OneCycleLR\) cycles momentum, which only its own step\(\) sets; build it with cycleMomentum: false/);
    expect(() => new ChainedScheduler([])).toThrow('ChainedScheduler: schedulers must be a non-empty array of schedulers');
    expect(() => new ChainedScheduler([new StepLR(opt, { stepSize: 1 }), new CosineAnnealingLR(opt, { tMax: 4 })])).toThrow(/ChainedScheduler: schedulers\[1\] \(CosineAnnealingLR\) does not multiply the lr by a factor/);
  });

  test('CyclicLR: triangle between baseLr and maxLr, momentum (or Adam betas[0]) the other way; options not read are errors', () => {
    const adam = new Adam([zeros([1], { requiresGrad: true })], { lr: 5, betas: [0.9, 0.999] });
    const cyc = new CyclicLR(adam, { baseLr: 0.1, maxLr: 0.5, stepSizeUp: 2, stepSizeDown: 1 });
    const lrs = [cyc.getLastLr()[0]!];
    const beta1 = [adam.paramGroups[0]!.betas[0]];
    for (let i = 0; i < 4; i++) {
      cyc.step();
      lrs.push(cyc.getLastLr()[0]!);
      beta1.push(adam.paramGroups[0]!.betas[0]);
    }
    assertClose(lrs, [0.1, 0.3, 0.5, 0.1, 0.3]);
    assertClose(beta1, [0.9, 0.85, 0.8, 0.9, 0.85]);
    expect(adam.paramGroups[0]!.betas[1]).toBe(0.999);
    expect(adam.paramGroups[0]!.initialLr).toBe(0.1);
    const again = new CyclicLR(new Adam([zeros([1], { requiresGrad: true })], { lr: 5 }), { baseLr: 0.1, maxLr: 0.5, stepSizeUp: 2, stepSizeDown: 1 });
    again.loadStateDict(structuredClone(cyc.stateDict()));
    again.step();
    cyc.step();
    expect(again.getLastLr()).toEqual(cyc.getLastLr());
    const o = { baseLr: 0.01, maxLr: 0.1 };
    expect(() => new CyclicLR(sgd(), { ...o, gamma: 0.9 })).toThrow("CyclicLR: gamma applies only to mode 'exp_range'");
    expect(() => new CyclicLR(sgd(), { ...o, mode: 'triangular', scaleFn: () => 1, cycleMomentum: false })).toThrow('CyclicLR: give mode or scaleFn, not both');
    expect(() => new CyclicLR(sgd(), { ...o, scaleMode: 'iterations', cycleMomentum: false })).toThrow('CyclicLR: scaleMode applies only with scaleFn');
    expect(() => new CyclicLR(sgd(), { ...o, maxLr: [0.1, 0.2, 0.3], cycleMomentum: false })).toThrow('CyclicLR: maxLr must give one value per group (2), got 3');
    expect(() => new CyclicLR(sgd(), { ...o, stepSizeUp: 0 })).toThrow('CyclicLR: stepSizeUp must be > 0, got 0');
    expect(() => new CyclicLR({ paramGroups: [{ lr: 0.1, params: [] }] }, o)).toThrow(/CyclicLR: cycleMomentum needs groups with 'momentum' or 'betas', and group 0 has neither/);
    const opt = sgd();
    expect(() => new SequentialLR(opt, { schedulers: [new CyclicLR(opt, o)], milestones: [] })).toThrow(/SequentialLR: schedulers\[0\] \(CyclicLR\) cycles momentum/);
  });

  test('state dicts restore the schedule', () => {
    const opt = sgd(0.1);
    const a = new StepLR(opt, { stepSize: 2 });
    a.step();
    a.step();
    a.step();
    const saved = structuredClone(a.stateDict());
    const b = new StepLR(sgd(0.1), { stepSize: 2 });
    b.loadStateDict(saved);
    a.step();
    b.step();
    expect(b.getLastLr()).toEqual(a.getLastLr());
    expect(b.lastEpoch).toBe(4);
    const linear = new LinearLR(sgd(0.1), { totalIters: 4 });
    linear.step();
    linear.step();
    const again = new LinearLR(sgd(0.1), { totalIters: 4 });
    again.loadStateDict(structuredClone(linear.stateDict()));
    linear.step();
    again.step();
    expect(again.getLastLr()).toEqual(linear.getLastLr());
    expect(again.lastEpoch).toBe(3);
  });

  test('ReduceLROnPlateau: patience, threshold, cooldown, minLr, as PyTorch', () => {
    const opt = sgd(1);
    const sched = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5, cooldown: 1, minLr: [0.3, 0] });
    const losses = [10, 9, 9, 9, 9, 9, 9, 8.9995];
    const lrs = losses.map((l) => {
      sched.step(l);
      return sched.getLastLr();
    });
    // 10 best; 9 best; 9 bad 1; 9 bad 2 > patience -> 0.5, cooldown; 9 (cooldown resets count); 9 bad 1;
    // 9 bad 2 -> 0.3 (minLr); 8.9995 is within the 1e-4 relative threshold: bad 1.
    expect(lrs.map((l) => l[0])).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3]);
    expect(lrs.map((l) => l[1])).toEqual([10, 10, 10, 5, 5, 5, 2.5, 2.5]);
    const saved = sched.stateDict();
    const again = new ReduceLROnPlateau(sgd(1), { patience: 1, factor: 0.5, cooldown: 1 });
    again.loadStateDict(structuredClone(saved));
    expect(again.stateDict()).toEqual(saved);
    const maxMode = new ReduceLROnPlateau(sgd(1), { mode: 'max', patience: 0, thresholdMode: 'abs', threshold: 0.1 });
    maxMode.step(1);
    maxMode.step(1.05); // not better by 0.1: reduce at once (patience 0)
    expect(maxMode.getLastLr()[0]).toBeCloseTo(0.1, 15);
    expect(() => sched.step(undefined)).toThrow(/needs the monitored metric/);
    expect(() => new ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow('ReduceLROnPlateau: factor must be in [0, 1), got 1');
  });

  test('options are validated', () => {
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow('StepLR: stepSize must be a positive integer, got 0');
    expect(() => new CosineAnnealingLR(sgd(), { tMax: 1.5 })).toThrow(/tMax must be a positive integer/);
    expect(() => new MultiStepLR(sgd(), { milestones: [2, -1] })).toThrow(/MultiStepLR: milestones must be an array whose items are each a non-negative integer/);
    expect(() => new CosineAnnealingWarmRestarts(sgd(), { t0: 2, tMult: 1.5 })).toThrow(/CosineAnnealingWarmRestarts: tMult must be a positive integer/);
    expect(() => new LambdaLR(sgd(), { lrLambda: 0.5 as unknown as () => number })).toThrow(/LambdaLR: lrLambda must be a function of the epoch/);
    expect(() => new LinearLR(sgd(), { startFactor: 1.5 })).toThrow('LinearLR: startFactor must be in [0, 1], got 1.5');
    expect(() => new LinearLR(sgd(), { endFactor: -0.1 })).toThrow('LinearLR: endFactor must be in [0, 1], got -0.1');
    expect(() => new LinearLR(sgd(), { totalIters: 0 })).toThrow('LinearLR: totalIters must be a positive integer, got 0');
    const negative = new LambdaLR(sgd(), { lrLambda: (epoch) => 1 - epoch });
    negative.step();
    expect(() => new OneCycleLR(sgd(), { maxLr: [1, 2, 3], totalSteps: 5 })).toThrow('OneCycleLR: maxLr must give one value per group (2), got 3');
    const bare = { paramGroups: [{ lr: 0.1, params: [] }] };
    expect(() => new OneCycleLR(bare, { maxLr: 1, totalSteps: 5 })).toThrow(/OneCycleLR: cycleMomentum needs groups with 'momentum' or 'betas', and group 0 has neither/);
    expect(() => negative.step()).toThrow(/LambdaLR: the learning rate at epoch 2 from base/);
  });
});

test('OneCycleLR: holds the final lr at step totalSteps, and throws past it with nothing changed', () => {
  const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
  const sched = new OneCycleLR(opt, { maxLr: 1, totalSteps: 4, annealStrategy: 'linear', divFactor: 10, finalDivFactor: 100 });
  const lrs = [sched.getLastLr()[0]!];
  for (let i = 0; i < 4; i++) {
    sched.step();
    lrs.push(sched.getLastLr()[0]!);
  }
  // Phases end at steps 0.3·4 - 1 = 0.2 and 3: the rise is over by step 1, then linear to 0.001.
  assertClose(lrs, [0.1, 1 + ((0.001 - 1) * (1 - 0.2)) / 2.8, 1 + ((0.001 - 1) * (2 - 0.2)) / 2.8, 0.001, 0.001], 1e-12);
  expect(() => sched.step()).toThrow('OneCycleLR: stepped 5 times, past totalSteps = 4');
  expect(sched.lastEpoch).toBe(4);
  expect(opt.paramGroups[0]!.momentum).toBeCloseTo(0.95, 12);
});

describe('gradient clipping', () => {
  const withGrads = (...gs: number[][]) =>
    gs.map((g) => {
      const p = zeros([g.length], { dtype: 'float64', requiresGrad: true });
      p.grad = zeros([g.length], { dtype: 'float64' });
      p.grad.data.set(g);
      return p;
    });

  test('clipGradNorm returns the total norm and scales by maxNorm / (norm + 1e-6) when above', () => {
    const ps = withGrads([3, 0], [0, 4]);
    const norm = clipGradNorm(ps, 1);
    expect(norm).toBe(5);
    const c = 1 / (5 + 1e-6);
    assertClose([...ps[0]!.grad!.data, ...ps[1]!.grad!.data], [3 * c, 0, 0, 4 * c]);
    const small = withGrads([0.3, 0.4]);
    expect(clipGradNorm(small, 1)).toBeCloseTo(0.5, 15);
    assertClose(small[0]!.grad!.data, [0.3, 0.4]);
  });

  test('other norms: 1 and infinity; parameters without gradients are skipped', () => {
    const ps = withGrads([1, -2], [3]);
    const none = zeros([2], { requiresGrad: true });
    expect(clipGradNorm([...ps, none], 100, 1)).toBe(6);
    expect(clipGradNorm(withGrads([1, -7], [3]), 100, Infinity)).toBe(7);
    expect(() => clipGradNorm(withGrads([NaN]), 1, 2, { errorIfNonfinite: true })).toThrow(/total norm of order 2 of the gradients is NaN/);
  });

  test('clipGradValue clamps each element', () => {
    const ps = withGrads([-3, 0.2, 5]);
    clipGradValue(ps, 1);
    expect(Array.from(ps[0]!.grad!.data)).toEqual([-1, 0.2, 1]);
  });
});

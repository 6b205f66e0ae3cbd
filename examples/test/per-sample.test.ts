import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, crossEntropy, grad, randn, tensor, unbind } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { dpSgdStep, exampleLoss, logits, main, perExampleGrads, type Params, type PerSampleResult } from '../per-sample.js';

function params(seed: number): Params {
  return {
    w1: randn([784, 8], { seed, dtype: 'float64' }).mul(0.05),
    b1: randn([8], { seed: seed + 1, dtype: 'float64' }).mul(0.05),
    w2: randn([8, 10], { seed: seed + 2, dtype: 'float64' }).mul(0.3),
    b2: randn([10], { seed: seed + 3, dtype: 'float64' }).mul(0.3),
  };
}
const x = randn([5, 784], { seed: 9, dtype: 'float64' });
const y = tensor([3, 1, 4, 1, 5], { dtype: 'int32' });

describe('examples/per-sample', () => {
  let r: PerSampleResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('per-example gradients equal a loop of single-example gradients', () => {
    const p = params(1);
    const g = perExampleGrads(p, x, y);
    unbind(x, 0).forEach((xi, i) => {
      const gi = grad(exampleLoss)(p, xi, unbind(y, 0)[i]!);
      for (const k of ['w1', 'b1', 'w2', 'b2'] as const) assertClose(unbind(g[k], 0)[i]!, gi[k], 1e-10, 1e-14);
    });
  });

  it('without clipping or noise, a DP-SGD step is an SGD step on the mean loss', () => {
    const p = params(2);
    const step = dpSgdStep(p, x, y, { clipNorm: Infinity, noiseMultiplier: 0, lr: 0.5, batchSize: 5 }, new Generator(0));
    const g = grad((q: Params) => crossEntropy(logits(q, x), y))(p);
    for (const k of ['w1', 'b1', 'w2', 'b2'] as const) assertClose(step.params[k], p[k].sub(g[k].mul(0.5)), 1e-10, 1e-14);
    expect(step.clipped).toBe(0);
  });

  it('clipping scales each long per-example gradient to norm C: the step moves by at most lr·C per example', () => {
    const p = params(3);
    const step = dpSgdStep(p, x, y, { clipNorm: 1e-3, noiseMultiplier: 0, lr: 1, batchSize: 5 }, new Generator(0));
    expect(step.clipped).toBe(5);
    const moved = (['w1', 'b1', 'w2', 'b2'] as const).map((k) => step.params[k].sub(p[k]).square().sum().item()).reduce((a, b) => a + b);
    // Five gradients of norm C averaged: the mean has norm at most C, equal when they align.
    expect(Math.sqrt(moved)).toBeLessThanOrEqual(1e-3 * (1 + 1e-9));
    expect(Math.sqrt(moved)).toBeGreaterThan(0);
  });

  it('trains: the loss falls and test accuracy is far above chance despite clipping and noise', () => {
    expect(r.trainLoss.at(-1)!).toBeLessThan(r.trainLoss[0]! * 0.8);
    expect(r.testAccuracy).toBeGreaterThan(0.5);
    expect(r.clippedShare).toBeGreaterThan(0);
    expect(r.clippedShare).toBeLessThanOrEqual(1);
  });
});


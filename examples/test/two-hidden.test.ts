import { beforeAll, describe, expect, it } from 'vitest';
import { main, type TwoHiddenResult } from '../two-hidden.js';

describe('examples/two-hidden', () => {
  let r: TwoHiddenResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('hand-computed deltas of all three layers agree with the engine to 1e-12', () => {
    expect(r.deltaDifferences).toHaveLength(3);
    for (const d of r.deltaDifferences) expect(d).toBeLessThan(1e-12);
  });

  it('hand-computed weight and bias gradients agree with the engine to 1e-12', () => {
    expect(r.maxGradDifference).toBeLessThan(1e-12);
  });

  it('training MSE falls by at least 3x in the short run', () => {
    expect(r.trainLoss.at(-1)!).toBeLessThan(r.trainLoss[0]! / 3);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { main, type HousingResult } from '../housing-regression.js';

describe('examples/housing-regression', () => {
  let r: HousingResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('test MSE falls by at least 2x from the untrained network', () => {
    expect(r.testMse).toBeLessThan(r.initialTestMse / 2);
  });

  it('test MSE is within 15% of the least-squares baseline on the same split', () => {
    expect(r.baselineTestMse).toBeGreaterThan(0);
    expect(r.testMse).toBeLessThan(1.15 * r.baselineTestMse);
  });

  it('Value and Tensor graphs give the same first-step gradients to 1e-9', () => {
    expect(r.maxGradDifference).toBeLessThan(1e-9);
  });
});

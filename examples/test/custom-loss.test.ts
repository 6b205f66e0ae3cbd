import { beforeAll, describe, expect, it } from 'vitest';
import { main, type CustomLossResult } from '../custom-loss.js';

describe('examples/custom-loss', () => {
  let r: CustomLossResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('the focal loss passes gradcheck at ordinary and at ±800 logits', () => {
    expect(r.gradcheckOk).toBe(true);
    expect(r.gradcheckLargeOk).toBe(true);
  });

  it('with gamma 0 and alpha 1/2 it is half of BCE to 1e-12', () => {
    expect(r.gammaZeroDifference).toBeLessThan(1e-12);
  });

  it('training with it cuts the loss by at least 10x and finds over 80% of the rare class', () => {
    expect(r.finalLoss).toBeLessThan(r.initialLoss / 10);
    expect(r.accuracy).toBeGreaterThan(0.95);
    expect(r.minorityRecall).toBeGreaterThan(0.8);
  });
});

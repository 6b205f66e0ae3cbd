import { beforeAll, describe, expect, it } from 'vitest';
import { main, type ForecastResult } from '../lstm-forecast.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('examples/lstm-forecast', () => {
  let r: ForecastResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('with clipping, the LSTM learns: its training loss falls by half and it beats repeating the last value on the test windows', () => {
    const steps = r.clipped.trainLoss;
    expect(mean(steps.slice(-12))).toBeLessThan(mean(steps.slice(0, 12)) / 2);
    expect(r.clipped.testMse).toBeLessThan(r.persistenceMse);
    expect(r.clipped.clippedSteps).toBeGreaterThan(0);
  });

  it('without clipping, the same run at the same learning rate meets gradients many times the cap and ends far worse', () => {
    expect(Math.max(...r.unclipped.gradNorm.filter(Number.isFinite))).toBeGreaterThan(10 * r.clipped.maxNorm!);
    // NaN (a run that blew up) fails `<` as it should.
    expect(r.unclipped.testMse < 2 * r.clipped.testMse).toBe(false);
  });
});

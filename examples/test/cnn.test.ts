import { beforeAll, describe, expect, it } from 'vitest';
import { main, type CnnResult } from '../cnn.js';

describe('examples/cnn', () => {
  let r: CnnResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  }, 300_000);

  it('training loss falls by at least 2x over the short run', () => {
    expect(r.trainLoss.at(-1)!).toBeLessThan(r.trainLoss[0]! / 2);
  });

  it('test accuracy is above 70% (chance: 10%) after 3 epochs on 1,000 digits', () => {
    expect(r.testAccuracy).toBeGreaterThan(0.7);
  });

  it('times every epoch', () => {
    expect(r.epochSeconds).toHaveLength(r.epochs);
    expect(r.epochSeconds.every((s) => s > 0)).toBe(true);
  });
});

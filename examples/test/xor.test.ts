import { beforeAll, describe, expect, it } from 'vitest';
import { main, type XorResult } from '../xor.js';

describe('examples/xor', () => {
  let r: XorResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('SSE falls by at least 20x in the short run', () => {
    expect(r.finalLoss).toBeLessThan(r.initialLoss / 20);
  });

  it('every prediction is within 0.25 of its XOR target', () => {
    expect(r.targets).toEqual([0, 1, 1, 0]);
    r.predictions.forEach((p, i) => expect(Math.abs(p - r.targets[i]!)).toBeLessThan(0.25));
  });
});

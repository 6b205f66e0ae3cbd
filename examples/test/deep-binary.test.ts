import { beforeAll, describe, expect, it } from 'vitest';
import { main, type DeepBinaryResult } from '../deep-binary.js';

describe('examples/deep-binary', () => {
  let r: DeepBinaryResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('BCE falls by at least 3x in 300 full-batch steps', () => {
    expect(r.finalLoss).toBeLessThan(r.initialLoss / 3);
  });

  it('3-versus-5 accuracy is above 90% on train and 85% on test', () => {
    expect(r.trainAccuracy).toBeGreaterThan(0.9);
    expect(r.testAccuracy).toBeGreaterThan(0.85);
  });
});

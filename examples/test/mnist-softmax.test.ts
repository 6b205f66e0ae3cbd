import { beforeAll, describe, expect, it } from 'vitest';
import { main, type MnistResult } from '../mnist-softmax.js';

describe('examples/mnist-softmax', () => {
  let r: MnistResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('training loss falls by at least 2x over the short run', () => {
    expect(r.digits.trainLoss.at(-1)!).toBeLessThan(r.digits.trainLoss[0]! / 2);
  });

  it('test accuracy is above 85% after 3 epochs on 2,000 digits', () => {
    expect(r.digits.testAccuracy).toBeGreaterThan(0.85);
  });

  it('leaves Fashion-MNIST out of the short run', () => {
    expect(r.fashion).toBeNull();
  });
});

// example:cnn on Fashion-MNIST as Debian's dataset-fashion-mnist installs it. Run by
// `pnpm test:data` (and .ci/run, which installs the package), not by `pnpm test`: a fresh clone
// does not have the files. Without them the suite fails, saying so, rather than passing empty.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main, type CnnResult } from '../cnn.js';

const INSTALLED = '/usr/share/datasets/fashion-mnist';

describe('examples/cnn --dataset fashion (short run)', () => {
  let r: CnnResult;
  beforeAll(() => {
    if (!existsSync(join(INSTALLED, 'train-images-idx3-ubyte.gz'))) {
      throw new Error(`Fashion-MNIST is not in ${INSTALLED}: apt-get install dataset-fashion-mnist (.ci/run does)`);
    }
    r = main({ dataset: 'fashion', quick: true, seed: 0 });
  }, 300_000);

  it('trains on a random 2,000 of the 60,000 training images and tests on 500 of the 10,000', () => {
    expect(r.dataset).toBe('fashion');
    expect([r.trainSize, r.testSize]).toEqual([2000, 500]);
  });

  it('training loss falls by at least 2x over the short run', () => {
    expect(r.trainLoss.at(-1)!).toBeLessThan(r.trainLoss[0]! / 2);
  });

  it('test accuracy is above 65% (chance: 10%) after 3 epochs on 2,000 images', () => {
    expect(r.testAccuracy).toBeGreaterThan(0.65);
  });

  it('times every epoch', () => {
    expect(r.epochSeconds).toHaveLength(r.epochs);
    expect(r.epochSeconds.every((s) => s > 0)).toBe(true);
  });
});

// Fashion-MNIST as Debian's dataset-fashion-mnist installs it, read with fashionMnist's default
// folder. Run by `pnpm test:data` (and .ci/run, which installs the package), not by `pnpm test`:
// a fresh clone does not have the files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fashionMnist, type FashionMnist } from '../src/node.js';

const INSTALLED = '/usr/share/datasets/fashion-mnist';

/** Images per class. */
function classCounts(labels: Uint8Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const l of labels) c[l] = (c[l] as number) + 1;
  return c;
}

describe('fashionMnist on the installed files', () => {
  let data: FashionMnist;
  beforeAll(() => {
    if (!existsSync(join(INSTALLED, 'train-images-idx3-ubyte.gz'))) {
      throw new Error(`Fashion-MNIST is not in ${INSTALLED}: apt-get install dataset-fashion-mnist (.ci/run does)`);
    }
    data = fashionMnist();
  });

  it('has 60,000 training and 10,000 test images of 28x28 pixels', () => {
    expect(data.train.shape).toEqual([60000, 784]);
    expect(data.test.shape).toEqual([10000, 784]);
    expect(data.train.yShape).toEqual([60000]);
  });

  it('is balanced: 6,000 training and 1,000 test images per class', () => {
    expect(classCounts(data.train.y)).toEqual(new Array<number>(10).fill(6000));
    expect(classCounts(data.test.y)).toEqual(new Array<number>(10).fill(1000));
  });

  it('scales pixels to [0, 1], reaching both ends', () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of data.test.x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([0, 1]);
  });
});

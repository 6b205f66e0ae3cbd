import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataFileError } from '@chainrule/datasets';
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

describe('examples/cnn without Fashion-MNIST', () => {
  const missing = join(tmpdir(), 'chainrule-no-fashion-mnist');

  it('main throws DataFileError naming the missing file', () => {
    expect(() => main({ dataset: 'fashion', dataDir: missing, quick: true })).toThrow(DataFileError);
    expect(() => main({ dataset: 'fashion', dataDir: missing, quick: true })).toThrow(`${missing}/train-images-idx3-ubyte.gz`);
  });

  it('the script exits with status 1 and says how to install it', () => {
    const run = spawnSync(process.execPath, ['scripts/run.mjs', 'examples/cnn.ts', '--dataset', 'fashion', '--data-dir', missing], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get install dataset-fashion-mnist');
    expect(run.stderr).toContain(missing);
  }, 60_000);
});

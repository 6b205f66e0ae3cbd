import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataFileError, DataFormatError, parseIdx } from '../src/index.js';
import { fashionMnist, fashionMnistClasses, readIdx } from '../src/node.js';
import { idxBytes, scratchDir, writeIdx } from './helpers.js';

const dir = scratchDir();

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('readIdx', () => {
  const cases = [
    { type: 'uint8', values: [0, 1, 128, 255, 7, 9], ctor: Uint8Array },
    { type: 'int8', values: [-128, -1, 0, 1, 127, 5], ctor: Int8Array },
    { type: 'int16', values: [-32768, -2, 0, 258, 32767, 1], ctor: Int16Array },
    { type: 'int32', values: [-(2 ** 31), -70000, 0, 65537, 2 ** 31 - 1, 3], ctor: Int32Array },
    { type: 'float32', values: [-1.5, 0, 0.25, 3.5, 1e-3, -7], ctor: Float32Array },
    { type: 'float64', values: [-1.5, 0, Math.PI, 1e300, -1e-300, 7], ctor: Float64Array },
  ] as const;

  for (const { type, values, ctor } of cases) {
    it(`round-trips ${type}, plain and gzipped`, () => {
      for (const name of [`${type}.idx`, `${type}.idx.gz`]) {
        const path = writeIdx(join(dir, name), type, [2, 3], values);
        const out = readIdx(path);
        expect(out.type).toBe(type);
        expect(out.shape).toEqual([2, 3]);
        expect(out.data).toBeInstanceOf(ctor);
        expect(Array.from(out.data)).toEqual(Array.from(ctor.from(values)));
      }
    });
  }

  it('round-trips any shape of ubyte data (property, in memory)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }), fc.integer(), (dims, seed) => {
        const count = dims.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: count }, (_, i) => (i * 31 + seed) & 255);
        const out = parseIdx(idxBytes('uint8', dims, values));
        expect(out.shape).toEqual(dims);
        expect(Array.from(out.data)).toEqual(values);
      }),
    );
  });

  it('rejects a wrong magic number at byte offset 0', () => {
    const path = join(dir, 'text.idx');
    writeFileSync(path, 'hello, this is not an IDX file');
    const err = thrown(() => readIdx(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toMatch(/^readIdx: /);
    expect(err.message).toContain(`${path}: wrong magic number 0x68656c6c at byte offset 0`);
    expect((err as DataFormatError).offset).toBe(0);
    // A known layout with an unknown type code (0x0a) is rejected too.
    const bad = idxBytes('uint8', [2], [1, 2]);
    bad[2] = 0x0a;
    expect(() => parseIdx(bad)).toThrow(/^parseIdx: wrong magic number 0x00000a01 at byte offset 0/);
  });

  it('reports a truncated file with its name and the byte offset where it ends', () => {
    const full = idxBytes('uint8', [4, 5], new Array<number>(20).fill(3));
    const path = join(dir, 'cut.idx');
    writeFileSync(path, full.subarray(0, 30)); // header is 12 bytes, data would run to 32
    const err = thrown(() => readIdx(path)) as DataFormatError;
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toBe(`readIdx: ${path}: truncated at byte offset 30: header says [4,5] uint8 values, 20 bytes from offset 12 to 32`);
    expect(err.offset).toBe(30);
    expect(err.path).toBe(path);

    const header = join(dir, 'cut-header.idx');
    writeFileSync(header, full.subarray(0, 6));
    expect(() => readIdx(header)).toThrow(`readIdx: ${header}: truncated at byte offset 6: 2 dimension sizes need the header to run to offset 12`);

    const gz = join(dir, 'cut.idx.gz');
    const zipped = gzipSync(idxBytes('float64', [100], new Array<number>(100).fill(1.5)));
    writeFileSync(gz, zipped.subarray(0, zipped.length - 12));
    const gzErr = thrown(() => readIdx(gz)) as DataFormatError;
    expect(gzErr).toBeInstanceOf(DataFormatError);
    expect(gzErr.message).toMatch(new RegExp(`^readIdx: ${gz}: truncated at byte offset ${zipped.length - 12} \\(end of file\\)`));
  });

  it('rejects bytes after the data the header announces', () => {
    const bytes = idxBytes('uint8', [3], [1, 2, 3]);
    const path = join(dir, 'long.idx');
    writeFileSync(path, Uint8Array.from([...bytes, 0, 0]));
    expect(() => readIdx(path)).toThrow(`readIdx: ${path}: 2 unexpected bytes after the data, which the header [3] uint8 says ends at byte offset 11`);
  });

  it('names a missing file', () => {
    const path = join(dir, 'missing.idx');
    const err = thrown(() => readIdx(path));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`readIdx: cannot read ${path}: no such file`);
  });
});

describe('fashionMnist', () => {
  it('reads the four standard files, scales pixels to [0, 1] and flattens images', () => {
    const sub = join(dir, 'fashion');
    mkdirSync(sub);
    const trainPixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
    writeIdx(join(sub, 'train-images-idx3-ubyte.gz'), 'uint8', [3, 2, 2], trainPixels);
    writeIdx(join(sub, 'train-labels-idx1-ubyte.gz'), 'uint8', [3], [9, 0, 4]);
    writeIdx(join(sub, 't10k-images-idx3-ubyte.gz'), 'uint8', [1, 2, 2], [0, 255, 51, 102]);
    writeIdx(join(sub, 't10k-labels-idx1-ubyte.gz'), 'uint8', [1], [7]);
    const { train, test } = fashionMnist({ dir: sub });
    expect(train.shape).toEqual([3, 4]);
    expect(train.yShape).toEqual([3]);
    expect(Array.from(train.y)).toEqual([9, 0, 4]);
    expect(Array.from(train.x)).toEqual(trainPixels.map((v) => Math.fround(v / 255)));
    expect(Array.from(test.x)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(fashionMnistClasses[train.y[0] as number]).toBe('Ankle boot');
  });

  it('names the function and the file when one is missing or does not match', () => {
    const sub = join(dir, 'fashion-bad');
    mkdirSync(sub);
    expect(() => fashionMnist({ dir: sub })).toThrow(`fashionMnist: cannot read ${join(sub, 'train-images-idx3-ubyte.gz')}: no such file`);
    writeIdx(join(sub, 'train-images-idx3-ubyte.gz'), 'uint8', [2, 1, 1], [1, 2]);
    writeIdx(join(sub, 'train-labels-idx1-ubyte.gz'), 'uint8', [3], [1, 2, 3]);
    expect(() => fashionMnist({ dir: sub })).toThrow(/^fashionMnist: .*train-labels-idx1-ubyte\.gz: expected 2 uint8 labels to match the images, got uint8 \[3\]/);
  });
});

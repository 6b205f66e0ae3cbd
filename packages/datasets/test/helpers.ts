// Shared by the tests: a scratch directory and an IDX writer written from the format's
// description (big-endian header, type codes), independent of the reader under test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';

/** A fresh temporary directory, removed after the test file has run. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainrule-datasets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const IDX_CODES = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e } as const;
const SIZES = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 } as const;

/** IDX bytes for `values` of `type` with dimension sizes `dims`. */
export function idxBytes(type: keyof typeof IDX_CODES, dims: number[], values: ArrayLike<number>): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * SIZES[type]);
  const view = new DataView(out.buffer);
  out[2] = IDX_CODES[type];
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const at = header + i * SIZES[type];
    if (type === 'uint8') view.setUint8(at, v);
    else if (type === 'int8') view.setInt8(at, v);
    else if (type === 'int16') view.setInt16(at, v, false);
    else if (type === 'int32') view.setInt32(at, v, false);
    else if (type === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}

/** Writes IDX bytes to `path`, gzipped when the name ends in .gz; returns the path. */
export function writeIdx(path: string, type: keyof typeof IDX_CODES, dims: number[], values: ArrayLike<number>): string {
  const bytes = idxBytes(type, dims, values);
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(bytes) : bytes);
  return path;
}

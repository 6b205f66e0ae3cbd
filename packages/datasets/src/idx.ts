import { DataFormatError } from './errors.js';
import { fmtShape } from './internal/check.js';
import type { NumericArray } from './types.js';

/** Element types of the IDX format, by their type code (0x08 ubyte ... 0x0E double). */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** An IDX array: values row-major in the element type the file declares. */
export interface IdxArray {
  /** Values, row-major. */
  readonly data: NumericArray;
  /** Dimension sizes, outermost first: [60000, 28, 28] for MNIST images. */
  readonly shape: number[];
  /** Element type declared in the file. */
  readonly type: IdxType;
}

const TYPES: ReadonlyMap<number, { type: IdxType; size: number }> = new Map([
  [0x08, { type: 'uint8', size: 1 }],
  [0x09, { type: 'int8', size: 1 }],
  [0x0b, { type: 'int16', size: 2 }],
  [0x0c, { type: 'int32', size: 4 }],
  [0x0d, { type: 'float32', size: 4 }],
  [0x0e, { type: 'float64', size: 8 }],
]);

function hex(bytes: Uint8Array, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += (bytes[i] as number).toString(16).padStart(2, '0');
  return s;
}

/**
 * Decodes IDX bytes (already decompressed). `caller` starts every message and `path`, when
 * given, is named in it; `decompressed` says that offsets count bytes after gunzip.
 */
export function decodeIdx(caller: string, bytes: Uint8Array, path?: string, decompressed = false): IdxArray {
  const where = path === undefined ? '' : `${path}: `;
  const at = decompressed ? 'decompressed byte offset' : 'byte offset';
  const loc = (offset: number): { offset: number; path?: string } => (path === undefined ? { offset } : { offset, path });
  const len = bytes.length;
  if (len < 4) {
    throw new DataFormatError(`${caller}: ${where}truncated at ${at} ${len}: the 4-byte magic number is incomplete`, loc(len));
  }
  const kind = TYPES.get(bytes[2] as number);
  const ndims = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0 || kind === undefined || ndims === 0) {
    throw new DataFormatError(
      `${caller}: ${where}wrong magic number 0x${hex(bytes, 4)} at ${at} 0: expected 0x0000 then a type code ` +
        `(08 ubyte, 09 byte, 0b short, 0c int, 0d float, 0e double) and a dimension count >= 1`,
      loc(0),
    );
  }
  const headerEnd = 4 + 4 * ndims;
  if (len < headerEnd) {
    throw new DataFormatError(
      `${caller}: ${where}truncated at ${at} ${len}: ${ndims} dimension sizes need the header to run to offset ${headerEnd}`,
      loc(len),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  const shape: number[] = [];
  let count = 1;
  for (let k = 0; k < ndims; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    shape.push(d);
    count *= d;
  }
  const dataEnd = headerEnd + count * kind.size;
  if (len < dataEnd) {
    throw new DataFormatError(
      `${caller}: ${where}truncated at ${at} ${len}: header says ${fmtShape(shape)} ${kind.type} values, ` +
        `${count * kind.size} bytes from offset ${headerEnd} to ${dataEnd}`,
      loc(len),
    );
  }
  if (len > dataEnd) {
    // Extra bytes mean the header and the data disagree; guessing which is right could return wrong numbers.
    throw new DataFormatError(
      `${caller}: ${where}${len - dataEnd} unexpected bytes after the data, which the header ${fmtShape(shape)} ${kind.type} says ends at ${at} ${dataEnd}`,
      loc(dataEnd),
    );
  }
  return { data: decodeValues(view, kind.type, headerEnd, count), shape, type: kind.type };
}

function decodeValues(view: DataView, type: IdxType, start: number, count: number): NumericArray {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(start + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, false);
      return out;
    }
  }
}

/**
 * Decodes an IDX file held in memory (not gzipped): magic number, big-endian dimension sizes,
 * then the values. Browser-safe; in Node, readIdx also reads the file and inflates .gz.
 * @throws DataFormatError for a wrong magic number, an unknown type code, or a file shorter or
 * longer than its header says (naming the byte offset).
 * @throws TypeError if `bytes` is not a Uint8Array.
 * @example const { data, shape } = parseIdx(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('parseIdx: bytes must be a Uint8Array');
  return decodeIdx('parseIdx', bytes);
}

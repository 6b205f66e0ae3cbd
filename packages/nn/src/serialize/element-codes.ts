// Element codes of the safetensors format: how each is laid out in bytes, which chainrule dtype
// it reads into, and the writer's ordering. Reading is exact or an error: a value the target
// dtype cannot hold is never rounded or wrapped silently.
import type { DType, TensorData } from '@chainrule/autograd';

/** The codes chainrule reads. */
export type ReadCode = 'F64' | 'F32' | 'I64' | 'I32' | 'U8' | 'BOOL' | 'F16' | 'BF16';
/** The codes chainrule writes: one per dtype, and the half-precision floats when asked. */
export type WriteCode = 'F64' | 'F32' | 'I32' | 'BOOL' | 'F16' | 'BF16';

/** Bytes per element. */
export const BYTES: Record<ReadCode, number> = { F64: 8, F32: 4, I64: 8, I32: 4, U8: 1, BOOL: 1, F16: 2, BF16: 2 };

/**
 * The position of each code in the reference implementation's Dtype enum (BOOL, U8, I8,
 * F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64): its writer lays tensors
 * out by descending rank, then by name, and so does ours, for byte-identical files.
 */
export const RANK: Record<ReadCode, number> = { BOOL: 0, U8: 1, F16: 7, BF16: 8, I32: 9, F32: 11, F64: 12, I64: 13 };

/** The dtype each code reads into: integers of other widths as int32, half floats as float32. */
export const READS_AS: Record<ReadCode, DType> = {
  F64: 'float64', F32: 'float32', I64: 'int32', I32: 'int32', U8: 'int32', BOOL: 'bool', F16: 'float32', BF16: 'float32',
};

/** The code each dtype is written as by default. */
export const WRITES_AS: Record<DType, WriteCode> = { float64: 'F64', float32: 'F32', int32: 'I32', bool: 'BOOL' };

export function isReadCode(v: unknown): v is ReadCode {
  return typeof v === 'string' && Object.hasOwn(BYTES, v);
}

// One scratch word for the bit conversions of the half-precision floats.
const word = new DataView(new ArrayBuffer(4));

/** The float32 nearest `v` as IEEE half bits, ties to even; Infinity where it overflows. */
export function halfBits(v: number): number {
  word.setFloat32(0, v);
  const x = word.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the 24-bit significand in units of 2^-24.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the significand moves into the exponent, as rounding up should.
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** The value of IEEE half bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** The float32 nearest `v` as bfloat16 bits (the top half of float32), ties to even. */
export function bfloat16Bits(v: number): number {
  word.setFloat32(0, v);
  const x = word.getUint32(0);
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** The value of bfloat16 bits. */
export function fromBfloat16Bits(b: number): number {
  word.setUint32(0, b << 16);
  return word.getFloat32(0);
}

/**
 * Reads `count` little-endian elements of `code` at `at`. `problem` receives the first element
 * the target dtype cannot hold (an I64 outside int32, a BOOL byte other than 0 or 1), and the
 * read stops there.
 */
export function readElements(code: ReadCode, view: DataView, at: number, count: number, problem: (index: number, value: string) => never): TensorData {
  switch (code) {
    case 'F64': {
      const d = new Float64Array(count);
      for (let i = 0; i < count; i++) d[i] = view.getFloat64(at + 8 * i, true);
      return d;
    }
    case 'F32': {
      const d = new Float32Array(count);
      for (let i = 0; i < count; i++) d[i] = view.getFloat32(at + 4 * i, true);
      return d;
    }
    case 'I64': {
      const d = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(at + 8 * i, true);
        if (v < -2147483648n || v > 2147483647n) problem(i, String(v));
        d[i] = Number(v);
      }
      return d;
    }
    case 'I32': {
      const d = new Int32Array(count);
      for (let i = 0; i < count; i++) d[i] = view.getInt32(at + 4 * i, true);
      return d;
    }
    case 'U8': {
      const d = new Int32Array(count);
      for (let i = 0; i < count; i++) d[i] = view.getUint8(at + i);
      return d;
    }
    case 'BOOL': {
      const d = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getUint8(at + i);
        if (v > 1) problem(i, String(v));
        d[i] = v;
      }
      return d;
    }
    case 'F16': {
      const d = new Float32Array(count);
      for (let i = 0; i < count; i++) d[i] = fromHalfBits(view.getUint16(at + 2 * i, true));
      return d;
    }
    case 'BF16': {
      const d = new Float32Array(count);
      for (let i = 0; i < count; i++) d[i] = fromBfloat16Bits(view.getUint16(at + 2 * i, true));
      return d;
    }
  }
}

/**
 * Writes `data` as `code` at `at`, little-endian. `problem` receives the first finite value a
 * half-precision code cannot hold (it would become Infinity), and the write stops there.
 */
export function writeElements(code: WriteCode, view: DataView, at: number, data: TensorData, problem: (index: number, value: number) => never): void {
  const n = data.length;
  switch (code) {
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, data[i]!, true);
      return;
    case 'F32':
      for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, data[i]!, true);
      return;
    case 'I32':
      for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, data[i]!, true);
      return;
    case 'BOOL':
      for (let i = 0; i < n; i++) view.setUint8(at + i, data[i]!);
      return;
    case 'F16':
      for (let i = 0; i < n; i++) {
        const h = halfBits(data[i]!);
        if ((h & 0x7fff) === 0x7c00 && Number.isFinite(data[i]!)) problem(i, data[i]!);
        view.setUint16(at + 2 * i, h, true);
      }
      return;
    case 'BF16':
      for (let i = 0; i < n; i++) {
        const b = bfloat16Bits(data[i]!);
        if ((b & 0x7fff) === 0x7f80 && Number.isFinite(data[i]!)) problem(i, data[i]!);
        view.setUint16(at + 2 * i, b, true);
      }
      return;
  }
}

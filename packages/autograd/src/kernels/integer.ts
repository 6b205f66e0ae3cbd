// int32 kernels. Results wrap modulo 2^32 as PyTorch's int32 arithmetic does (storing into an
// Int32Array applies ToInt32); products use Math.imul, since a double holds an int32 product
// only up to 2^53. Operands arrive broadcast to the output's shape (ops/binary.ts expands them),
// so each loop is flat: integer ops are for indices and counts, not hot paths.

/** The binary ops with an int32 definition. */
export type IntegerBinaryKind = 'add' | 'sub' | 'mul' | 'maximum' | 'minimum' | 'remainder' | 'fmod' | 'pow';

/** The unary ops with an int32 definition (floor, ceil, round and trunc are the identity). */
export type IntegerUnaryKind = 'identity' | 'neg' | 'abs' | 'sign' | 'square';

/** Where an integer op has no result: the flat index of the offending element, or -1. */
export type IntegerFault = number;

/**
 * out[i] = f(a[i], b[i]) over equal-length arrays. Returns the index of the first element with
 * no integer result (division by zero in remainder/fmod, a negative exponent in pow), leaving
 * the rest of `out` unspecified, or -1.
 */
export function integerBinary(kind: IntegerBinaryKind, a: Int32Array, b: Int32Array, out: Int32Array): IntegerFault {
  const n = out.length;
  switch (kind) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
      return -1;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
      return -1;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = Math.imul(a[i]!, b[i]!);
      return -1;
    case 'maximum':
      for (let i = 0; i < n; i++) out[i] = a[i]! > b[i]! ? a[i]! : b[i]!;
      return -1;
    case 'minimum':
      for (let i = 0; i < n; i++) out[i] = a[i]! < b[i]! ? a[i]! : b[i]!;
      return -1;
    case 'fmod':
      // Sign of the dividend, as C's % (and JavaScript's) on integers.
      for (let i = 0; i < n; i++) {
        if (b[i] === 0) return i;
        out[i] = a[i]! % b[i]!;
      }
      return -1;
    case 'remainder':
      // Sign of the divisor, as Python's %.
      for (let i = 0; i < n; i++) {
        const q = b[i]!;
        if (q === 0) return i;
        const m = a[i]! % q;
        out[i] = m !== 0 && q < 0 !== m < 0 ? m + q : m;
      }
      return -1;
    case 'pow':
      for (let i = 0; i < n; i++) {
        let e = b[i]!;
        if (e < 0) return i;
        // Square-and-multiply in wrapping int32, as repeated multiplication in int32 gives.
        let base = a[i]!;
        let acc = 1;
        while (e > 0) {
          if (e & 1) acc = Math.imul(acc, base);
          base = Math.imul(base, base);
          e >>>= 1;
        }
        out[i] = acc;
      }
      return -1;
  }
}

/** out[i] = f(x[i]). */
export function integerUnary(kind: IntegerUnaryKind, x: Int32Array, out: Int32Array): void {
  const n = out.length;
  switch (kind) {
    case 'identity':
      out.set(x);
      return;
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = x[i]! < 0 ? -x[i]! : x[i]!;
      return;
    case 'sign':
      for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? 1 : x[i]! < 0 ? -1 : 0;
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = Math.imul(x[i]!, x[i]!);
      return;
  }
}

/** out[i] = 1 where x[i] is non-zero (NaN included), else 0, for a bool result. */
export function nonZero(x: ArrayLike<number>, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) out[i] = x[i] !== 0 ? 1 : 0;
}

/** out[i] = x[i] limited to [lo, hi] (bounds may be ±Infinity). */
export function integerClamp(x: Int32Array, lo: number, hi: number, out: Int32Array): void {
  for (let i = 0; i < out.length; i++) {
    const v = x[i]!;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

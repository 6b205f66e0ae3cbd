import type { FloatArray } from '../dtype.js';

/** The elementwise binary functions the broadcast kernel knows. Comparisons give 0 or 1. */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/**
 * One row: out[io + i] = f(a[ia + i·sa], b[ib + i·sb]) for i < n. A stride of 0 repeats a
 * broadcast element. The switch runs once per row, never per element.
 */
function row(kind: BinaryKind, n: number, a: FloatArray, ia: number, sa: number, b: FloatArray, ib: number, sb: number, out: FloatArray, io: number): void {
  switch (kind) {
    case 'add':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! + b[ib + i * sb]!;
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! - b[ib + i * sb]!;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! * b[ib + i * sb]!;
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! / b[ib + i * sb]!;
      return;
    case 'pow':
      // NOTE: JS gives NaN for 1^NaN and (±1)^±Infinity; C's pow, NumPy and PyTorch give 1.
      for (let i = 0; i < n; i++) {
        const x = a[ia + i * sa]!, y = b[ib + i * sb]!;
        out[io + i] = x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y);
      }
      return;
    case 'maximum':
      // NaN wins, as in NumPy and PyTorch.
      for (let i = 0; i < n; i++) {
        const x = a[ia + i * sa]!, y = b[ib + i * sb]!;
        out[io + i] = x > y || x !== x ? x : y;
      }
      return;
    case 'minimum':
      for (let i = 0; i < n; i++) {
        const x = a[ia + i * sa]!, y = b[ib + i * sb]!;
        out[io + i] = x < y || x !== x ? x : y;
      }
      return;
    case 'eq':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa] === b[ib + i * sb] ? 1 : 0;
      return;
    case 'ne':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa] !== b[ib + i * sb] ? 1 : 0;
      return;
    case 'lt':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! < b[ib + i * sb]! ? 1 : 0;
      return;
    case 'le':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! <= b[ib + i * sb]! ? 1 : 0;
      return;
    case 'gt':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! > b[ib + i * sb]! ? 1 : 0;
      return;
    case 'ge':
      for (let i = 0; i < n; i++) out[io + i] = a[ia + i * sa]! >= b[ib + i * sb]! ? 1 : 0;
      return;
  }
}

/**
 * Strides of `shape` seen from a broadcast `outShape`: 0 on broadcast dimensions.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, o = outShape.length - 1; i >= 0; i--, o--) {
    strides[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Merges neighbouring dimensions that every operand walks contiguously, so the odometer below
 * runs over as few dimensions as possible (same-shape operands collapse to one long row).
 */
export function collapseDims(shape: readonly number[], strideLists: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideLists.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable =
      last >= 0 && strideLists.every((st, k) => outStrides[k]![last] === st[d]! * n);
    if (mergeable) {
      outShape[last] = outShape[last]! * n;
      strideLists.forEach((st, k) => (outStrides[k]![last] = st[d]!));
    } else {
      outShape.push(n);
      strideLists.forEach((st, k) => outStrides[k]!.push(st[d]!));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((st) => st.push(0));
  }
  return { shape: outShape, strides: outStrides };
}

/** out = f(a, b) with NumPy broadcasting; `out` has `outShape` and is fully written. */
export function broadcastBinary(
  kind: BinaryKind,
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  out: FloatArray,
  outShape: readonly number[],
): void {
  if (out.length === 0) return;
  if (a.length === out.length && b.length === out.length) {
    row(kind, out.length, a, 0, 1, b, 0, 1, out, 0);
    return;
  }
  if (b.length === 1 && a.length === out.length) {
    row(kind, out.length, a, 0, 1, b, 0, 0, out, 0);
    return;
  }
  if (a.length === 1 && b.length === out.length) {
    row(kind, out.length, a, 0, 0, b, 0, 1, out, 0);
    return;
  }
  const { shape, strides } = collapseDims(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  const [sa, sb] = strides as [number[], number[]];
  const nd = shape.length;
  const inner = shape[nd - 1]!;
  const innerA = sa[nd - 1]!;
  const innerB = sb[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  let ia = 0, ib = 0;
  for (let io = 0; io < out.length; io += inner) {
    row(kind, inner, a, ia, innerA, b, ib, innerB, out, io);
    // Odometer over the outer dimensions.
    for (let d = nd - 2; d >= 0; d--) {
      ia += sa[d]!;
      ib += sb[d]!;
      if (++index[d]! < shape[d]!) break;
      ia -= sa[d]! * shape[d]!;
      ib -= sb[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}

/** out = cond ? a : b, all three broadcast to `outShape`. `cond` is true where non-zero. */
export function broadcastWhere(
  cond: FloatArray, condShape: readonly number[],
  a: FloatArray, aShape: readonly number[],
  b: FloatArray, bShape: readonly number[],
  out: FloatArray, outShape: readonly number[],
): void {
  if (out.length === 0) return;
  const { shape, strides } = collapseDims(outShape, [
    broadcastStrides(condShape, outShape),
    broadcastStrides(aShape, outShape),
    broadcastStrides(bShape, outShape),
  ]);
  const [sc, sa, sb] = strides as [number[], number[], number[]];
  const nd = shape.length;
  const inner = shape[nd - 1]!;
  const index = new Array<number>(nd).fill(0);
  let ic = 0, ia = 0, ib = 0;
  for (let io = 0; io < out.length; io += inner) {
    const c0 = sc[nd - 1]!, a0 = sa[nd - 1]!, b0 = sb[nd - 1]!;
    for (let i = 0; i < inner; i++) out[io + i] = cond[ic + i * c0] !== 0 ? a[ia + i * a0]! : b[ib + i * b0]!;
    for (let d = nd - 2; d >= 0; d--) {
      ic += sc[d]!;
      ia += sa[d]!;
      ib += sb[d]!;
      if (++index[d]! < shape[d]!) break;
      ic -= sc[d]! * shape[d]!;
      ia -= sa[d]! * shape[d]!;
      ib -= sb[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}

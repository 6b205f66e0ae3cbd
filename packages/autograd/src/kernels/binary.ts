import type { FloatArray, TensorData } from '../dtype.js';
import { wantsWasm } from './backend.js';
import { holds, perDtype, type Allocator } from './monomorphic.js';
import { binaryWasm, type OperandLayout } from './wasm/elementwise.js';
import { isWasmBinaryOp } from './wasm/layout.js';

/** The elementwise binary functions the broadcast kernel knows. Comparisons give 0 or 1. */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'atan2' | 'hypot' | 'logaddexp' | 'xlogy' | 'copysign' | 'fmod' | 'remainder' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** Which operand of a row repeats one element across the row: 0 neither, 1 a, 2 b. */
type Repeat = 0 | 1 | 2;
const NONE = 0, A = 1, B = 2;

interface BinaryRowKernels {
  row(kind: BinaryKind, n: number, a: FloatArray, ia: number, b: FloatArray, ib: number, out: FloatArray, io: number, repeat: Repeat): void;
}

/**
 * The row kernel, made per dtype (see `perDtype`): out[io + i] = f(a[ia + i], b[ib + i]) for
 * i < n, where the operand named by `repeat` contributes one element to every i instead. The
 * switch runs once per row; each loop indexes with `+ i` only, no strides.
 * NOTE: cloned from its source text, so it must stay self-contained: no imports, no module
 * constants (so `repeat` is compared with literals: 0 neither, 1 a, 2 b).
 */
function binaryKernels(): BinaryRowKernels {
  // NOTE: JS gives NaN for 1^NaN and (±1)^±Infinity; C's pow, NumPy and PyTorch give 1.
  const pow = (x: number, y: number): number => (x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y));
  // NaN wins, as in NumPy and PyTorch.
  const max = (x: number, y: number): number => (x > y || x !== x ? x : y);
  const min = (x: number, y: number): number => (x < y || x !== x ? x : y);
  // √(p² + q²) directly where the squares neither overflow nor underflow: V8's Math.hypot, kept
  // for the rest, is an ulp off at ordinary arguments (hypot(3, 2)).
  const hypot = (p: number, q: number): number => {
    const s = p * p + q * q;
    return s > 1e-290 && s < 1e300 ? Math.sqrt(s) : Math.hypot(p, q);
  };
  // max + log1p(e^-|a - b|), as PyTorch: never overflows; equal infinities give themselves.
  const logaddexp = (p: number, q: number): number =>
    p === q && (p === Infinity || p === -Infinity) ? p : (p > q || p !== p ? p : q) + Math.log1p(Math.exp(-Math.abs(p - q)));
  // x·log(y), 0 where x = 0 (also for y = 0 or Infinity), NaN where y is NaN: PyTorch's order of cases.
  const xlogy = (p: number, q: number): number => (q !== q ? NaN : p === 0 ? 0 : p * Math.log(q));
  // |p| with the sign bit of q (-0 counts as negative; NaN reads as positive).
  const copysign = (p: number, q: number): number => (q < 0 || (q === 0 && 1 / q < 0) ? -Math.abs(p) : Math.abs(p));
  // Python's modulo as PyTorch computes it: fmod, moved into the divisor's sign where non-zero.
  const remainder = (p: number, q: number): number => {
    const m = p % q;
    return m !== 0 && q < 0 !== m < 0 ? m + q : m;
  };

  function row(kind: BinaryKind, n: number, a: FloatArray, ia: number, b: FloatArray, ib: number, out: FloatArray, io: number, repeat: Repeat): void {
    // The repeated element, read only where it exists.
    const x = repeat === 1 ? a[ia]! : 0;
    const y = repeat === 2 ? b[ib]! : 0;
    switch (kind) {
      case 'add':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! + b[ib + i]!;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! + y;
        else for (let i = 0; i < n; i++) out[io + i] = x + b[ib + i]!;
        return;
      case 'sub':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! - b[ib + i]!;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! - y;
        else for (let i = 0; i < n; i++) out[io + i] = x - b[ib + i]!;
        return;
      case 'mul':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! * b[ib + i]!;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! * y;
        else for (let i = 0; i < n; i++) out[io + i] = x * b[ib + i]!;
        return;
      case 'div':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! / b[ib + i]!;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! / y;
        else for (let i = 0; i < n; i++) out[io + i] = x / b[ib + i]!;
        return;
      case 'pow':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = pow(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = pow(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = pow(x, b[ib + i]!);
        return;
      case 'maximum':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = max(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = max(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = max(x, b[ib + i]!);
        return;
      case 'minimum':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = min(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = min(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = min(x, b[ib + i]!);
        return;
      case 'atan2':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = Math.atan2(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = Math.atan2(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = Math.atan2(x, b[ib + i]!);
        return;
      case 'hypot':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = hypot(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = hypot(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = hypot(x, b[ib + i]!);
        return;
      case 'logaddexp':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = logaddexp(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = logaddexp(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = logaddexp(x, b[ib + i]!);
        return;
      case 'xlogy':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = xlogy(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = xlogy(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = xlogy(x, b[ib + i]!);
        return;
      case 'copysign':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = copysign(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = copysign(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = copysign(x, b[ib + i]!);
        return;
      case 'fmod':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! % b[ib + i]!;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! % y;
        else for (let i = 0; i < n; i++) out[io + i] = x % b[ib + i]!;
        return;
      case 'remainder':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = remainder(a[ia + i]!, b[ib + i]!);
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = remainder(a[ia + i]!, y);
        else for (let i = 0; i < n; i++) out[io + i] = remainder(x, b[ib + i]!);
        return;
      case 'eq':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i] === b[ib + i] ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i] === y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x === b[ib + i] ? 1 : 0;
        return;
      case 'ne':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i] !== b[ib + i] ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i] !== y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x !== b[ib + i] ? 1 : 0;
        return;
      case 'lt':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! < b[ib + i]! ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! < y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x < b[ib + i]! ? 1 : 0;
        return;
      case 'le':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! <= b[ib + i]! ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! <= y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x <= b[ib + i]! ? 1 : 0;
        return;
      case 'gt':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! > b[ib + i]! ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! > y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x > b[ib + i]! ? 1 : 0;
        return;
      case 'ge':
        if (repeat === 0) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! >= b[ib + i]! ? 1 : 0;
        else if (repeat === 2) for (let i = 0; i < n; i++) out[io + i] = a[ia + i]! >= y ? 1 : 0;
        else for (let i = 0; i < n; i++) out[io + i] = x >= b[ib + i]! ? 1 : 0;
        return;
      default: {
        // A kind without a loop is a compile error here, not an output left at zeros.
        const missing: never = kind;
        throw new Error(`broadcastBinary: no loop for kind ${String(missing)}`);
      }
    }
  }
  return { row };
}

/** Every kind on the pattern that exercises all three repeat modes, checked against plain JS. */
function rowKernelsWork(k: BinaryRowKernels, make: Allocator): boolean {
  const a = make(3), b = make(3), out = make(3);
  a.set([1, -2, 3]);
  b.set([2, 2, -1]);
  k.row('sub', 3, a, 0, b, 0, out, 0, NONE);
  if (!holds(out, [-1, -4, 4])) return false;
  k.row('div', 3, a, 0, b, 0, out, 0, B);
  if (!holds(out, [0.5, -1, 1.5])) return false;
  k.row('maximum', 3, a, 0, b, 0, out, 0, A);
  return holds(out, [2, 2, 1]);
}

const rowKernels = perDtype(binaryKernels, [], rowKernelsWork);

/** Whether each dtype runs its own copy of the elementwise binary kernels (for tests). */
export function binaryKernelsAreMonomorphic(): boolean {
  return rowKernels.isMonomorphic();
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

/**
 * out = f(a, b) with NumPy broadcasting; `out` has `outShape` and is fully written. Same-shape
 * operands, a scalar on either side and a row repeated over leading dimensions each take a
 * single pass; other broadcasts walk rows of the innermost (collapsed) dimension.
 */
export function broadcastBinary(
  kind: BinaryKind,
  a: FloatArray,
  aShape: readonly number[],
  b: FloatArray,
  bShape: readonly number[],
  out: FloatArray,
  outShape: readonly number[],
): void {
  const total = out.length;
  if (total === 0) return;
  if (wantsWasm('binary', total, out.byteLength) && isWasmBinaryOp(kind)) {
    const plan = wasmPlan(aShape, bShape, outShape, a.length, b.length, total);
    if (plan !== null && binaryWasm(kind, a, plan.a, b, plan.b, out, plan.rows, plan.n)) return;
  }
  const { row } = rowKernels(out);
  if (a.length === total && b.length === total) return row(kind, total, a, 0, b, 0, out, 0, NONE);
  if (b.length === 1 && a.length === total) return row(kind, total, a, 0, b, 0, out, 0, B);
  if (a.length === 1 && b.length === total) return row(kind, total, a, 0, b, 0, out, 0, A);
  // A bias-like operand: its shape is the tail of the output's, repeated over the leading dims.
  if (a.length === total && endsWith(outShape, bShape)) {
    const n = b.length;
    for (let o = 0; o < total; o += n) row(kind, n, a, o, b, 0, out, o, NONE);
    return;
  }
  if (b.length === total && endsWith(outShape, aShape)) {
    const n = a.length;
    for (let o = 0; o < total; o += n) row(kind, n, a, 0, b, o, out, o, NONE);
    return;
  }
  const { shape, strides } = collapseDims(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  const [sa, sb] = strides as [number[], number[]];
  const nd = shape.length;
  const inner = shape[nd - 1]!;
  // Innermost strides are 1 (contiguous) or 0 (broadcast), never both 0 (collapseDims drops size-1 dims).
  const repeat = sa[nd - 1] === 0 ? A : sb[nd - 1] === 0 ? B : NONE;
  const index = new Array<number>(nd).fill(0);
  let ia = 0, ib = 0;
  for (let io = 0; io < total; io += inner) {
    row(kind, inner, a, ia, b, ib, out, io, repeat);
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

/**
 * The output as rows×n with each operand's layout, where the broadcast is one the WebAssembly
 * loop takes (same shape, a scalar, a repeated row, a value per row, or two of those); null
 * for anything else, which the TypeScript odometer walks.
 */
function wasmPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  aLength: number,
  bLength: number,
  total: number,
): { rows: number; n: number; a: OperandLayout; b: OperandLayout } | null {
  if ((aLength === total || aLength === 1) && (bLength === total || bLength === 1)) {
    return { rows: 1, n: total, a: aLength === total ? 'full' : 'scalar', b: bLength === total ? 'full' : 'scalar' };
  }
  const { shape, strides } = collapseDims(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  if (shape.length !== 2) return null;
  const n = shape[1]!;
  const layout = ([outer, inner]: number[]): OperandLayout | null =>
    inner === 1 ? (outer === n ? 'full' : outer === 0 ? 'row' : null) : outer === 1 ? 'column' : outer === 0 ? 'scalar' : null;
  const la = layout(strides[0]!);
  const lb = layout(strides[1]!);
  return la === null || lb === null ? null : { rows: shape[0]!, n, a: la, b: lb };
}

/** Whether `tail`, leading 1s dropped, is the end of `shape` (a broadcast that only repeats it). */
function endsWith(shape: readonly number[], tail: readonly number[]): boolean {
  let t = 0;
  while (t < tail.length && tail[t] === 1) t++;
  const offset = shape.length - tail.length;
  if (offset < 0) return false;
  for (let i = t; i < tail.length; i++) if (shape[offset + i] !== tail[i]) return false;
  return true;
}

/** out = cond ? a : b, all three broadcast to `outShape`. `cond` is true where non-zero. */
export function broadcastWhere(
  cond: TensorData, condShape: readonly number[],
  a: TensorData, aShape: readonly number[],
  b: TensorData, bShape: readonly number[],
  out: TensorData, outShape: readonly number[],
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

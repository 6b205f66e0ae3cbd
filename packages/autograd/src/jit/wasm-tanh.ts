import { Code, F64, OP, SIMD, V128, type ValueType } from '../kernels/wasm/encoder.js';
import { highWord, INV_LN2, LN2_HI, LN2_LO } from '../kernels/fdlibm.js';

/**
 * tanh for the generated float32 WebAssembly loops (wasm-loop.ts), with the bits of the eager
 * float32 kernel: Math.tanh in float64, rounded once to float32.
 *
 * NOTE: how. WebAssembly has no tanh, and an approximation of tanh, however close, would round
 * to another float32 than Math.tanh's result for some inputs. So this is Math.tanh itself: V8's
 * Math.tanh is fdlibm's tanh over fdlibm's expm1 (V8's base/ieee754.cc), which are IEEE float64
 * arithmetic and a few exponent manipulations only, and each step here is the same float64
 * operation on the same operands, in float64 lanes (two per f64x2). Lanes cannot branch, so
 * every branch of expm1 is computed and the one fdlibm would take is selected; the range
 * reduction is written as one formula that gives, in each of fdlibm's cases, the same k, hi
 * and lo (k = 0 gives x itself and c = 0; k = ±1 the ln2_hi/ln2_lo constants). Inputs are
 * float32 values, so only tanh's finite, |x| < 22 path reaches expm1, with arguments in
 * [−2, −2⁻²⁷] ∪ [2, 44). Checked against Math.tanh on every float32 input by
 * scripts/check-wasm-tanh.ts, and on samples by test/jit-wasm.test.ts. Engines whose Math.tanh
 * is another libm may differ from it in the last float64 bit, which the rounding to float32
 * almost always absorbs.
 *
 * NOTE: speed. Every expm1 case in every lane costs about a hundred float64 operations and two
 * divisions per pair of lanes, which made tanh most of a tanh layer's fused group. So a vector
 * is first computed in a fast form (`emitFastTanh64`: a table of tanh at steps of 1/64, a short
 * polynomial for the rest, one division) accurate far beyond float32, and answered from it wherever that accuracy
 * decides the float32 (FAST_BAND), which is all but about one vector in 2¹³; the rest, and NaN,
 * take the steps above. The result is Math.tanh's in both cases, checked the same ways.
 */

/** fdlibm's expm1 polynomial (s_expm1.c). */
const Q = [-3.33333333333331316428e-2, 1.58730158725481460165e-3, -7.93650757867487942473e-5, 4.00821782732936239552e-6, -2.01099218183624371326e-7] as const;

/** |x| above 0.5·ln2 (high word > 0x3fd62e42): expm1 reduces by k ≠ 0. */
const HALF_LN2_UP = highWord(0x3fd62e43);
/** |x| below 1.5·ln2 (high word < 0x3ff0a2b2): k = ±1 exactly. */
const ONE_AND_HALF_LN2 = highWord(0x3ff0a2b2);
/** 2⁵² + integer k has k in its low mantissa bits: 2^k's bits are those shifted left by 52 (k + 1023 < 2048). */
const MAGIC = 2 ** 52;

/** [f64x2 SIMD opcode, f64 opcode] of each float64 operation used here. */
const F64_OPS = {
  add: [SIMD.f64x2Add, OP.f64Add], sub: [SIMD.f64x2Sub, OP.f64Sub], mul: [SIMD.f64x2Mul, OP.f64Mul], div: [SIMD.f64x2Div, OP.f64Div],
  abs: [SIMD.f64x2Abs, OP.f64Abs], neg: [SIMD.f64x2Neg, OP.f64Neg], trunc: [SIMD.f64x2Trunc, OP.f64Trunc],
  eq: [SIMD.f64x2Eq, OP.f64Eq], lt: [SIMD.f64x2Lt, OP.f64Lt], gt: [SIMD.f64x2Gt, OP.f64Gt], le: [SIMD.f64x2Le, OP.f64Le], ge: [SIMD.f64x2Ge, OP.f64Ge],
} as const;

/** An expression: pushes its value (f64x2 or f64; a lane mask or i32 for comparisons). */
type Expr = () => void;

/** Locals the emitter needs beyond the loop's own, per form. */
export const TANH_LOCALS = 20;

/** The local types of `TANH_LOCALS` temporaries for the vector (v128) or scalar (f64) form. */
export function tanhLocalTypes(vector: boolean): ValueType[] {
  return Array.from({ length: TANH_LOCALS }, () => (vector ? V128 : F64));
}

/**
 * Emits tanh of the float32 value(s) `input` pushes: an f32x4 (`vector`) or an f32, leaving the
 * same type on the stack. `first` is the first of TANH_LOCALS locals of the form's type
 * (`tanhLocalTypes`), `scratch` a v128 local (vector) or unused.
 */
export function emitTanh(c: Code, vector: boolean, input: Expr, first: number, scratch: number, table: TanhTable): void {
  if (!vector) {
    input();
    c.op(OP.f64PromoteF32);
    c.set(first);
    emitTanh64(c, false, first);
    c.op(OP.f32DemoteF64);
    return;
  }
  input();
  c.set(scratch);
  // The fast form first (see FAST_BAND): each half's |tanh| widened to its band, both ends
  // rounded to float32; where every lane's ends agree, that float32 is Math.tanh's, signed as x.
  const [low, high, below, above] = [first + FAST_LOCALS, first + FAST_LOCALS + 1, first + FAST_LOCALS + 2, first + FAST_LOCALS + 3];
  for (const [half, at] of [[false, low], [true, high]] as const) {
    c.get(scratch);
    if (half) c.get(scratch).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
    c.simd(SIMD.f64x2PromoteLowF32x4).set(first);
    emitFastTanh64(c, first, table);
    c.set(at);
  }
  for (const [factor, at] of [[1 - FAST_BAND, below], [1 + FAST_BAND, above]] as const) {
    c.get(low).f64x2(factor).simd(SIMD.f64x2Mul).simd(SIMD.f32x4DemoteF64x2Zero);
    c.get(high).f64x2(factor).simd(SIMD.f64x2Mul).simd(SIMD.f32x4DemoteF64x2Zero);
    c.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(at);
  }
  c.get(below).get(above).simd(SIMD.f32x4Eq).simd(SIMD.i32x4AllTrue);
  c.op(OP.if, V128);
  c.get(scratch).get(below).f32x4(-0).simd(SIMD.v128Bitselect);
  c.op(OP.else);
  // Lanes 0-1 and 2-3 in float64 by fdlibm's steps, then the two halves' float32 results side by side.
  c.get(scratch).simd(SIMD.f64x2PromoteLowF32x4).set(first);
  emitTanh64(c, true, first);
  c.get(scratch).get(scratch).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
  c.simd(SIMD.f64x2PromoteLowF32x4).set(first);
  // The low half's result waits on the stack below the high half's.
  c.simd(SIMD.f32x4DemoteF64x2Zero);
  emitTanh64(c, true, first);
  c.simd(SIMD.f32x4DemoteF64x2Zero);
  c.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
  c.op(OP.end);
}

/**
 * The fast form's band, relative: |tanh x| computed by `emitFastTanh64` lies within about 2⁻⁵⁰
 * of the true value (its steps below), and fdlibm's within 2⁻⁵¹, so both lie inside [A·(1 −
 * 2⁻⁴⁰), A·(1 + 2⁻⁴⁰)] around the fast result A. Rounding is monotonic: where both ends of that
 * band round to one float32, Math.tanh's value rounds to it too, whatever its last bits. The
 * ends differ only where the band holds a float32 rounding boundary, for about one lane in
 * 2¹⁵; a vector holding such a lane (or a NaN) takes fdlibm's steps instead.
 */
const FAST_BAND = 2 ** -40;
/** The fast form's own temporaries, among the TANH_LOCALS (the four after them hold its results). */
const FAST_LOCALS = 7;

/** Where a generated function finds TANH_TABLE: at a constant byte address, plus a local's value where `local` is given. */
export interface TanhTable {
  readonly at: number;
  readonly local?: number;
}

/** The table's step: it holds tanh(j/64). */
const TABLE_STEP = 64;
/** |x| past 9.1 is taken as 9.1: tanh rounds to 1 in float32 from there (1 − tanh(9.1) ≈ 2.5e−8, below half of the float32 spacing under 1, 2⁻²⁵). */
const TABLE_MAX = 9.1;
/**
 * tanh(j/64) in float64 for j = 0..583 (|x| up to TABLE_MAX), the table the generated functions
 * read (4.7 KB, in their memory): Math.tanh's values (the result is held to Math.tanh on every
 * float32 all the same, see above).
 */
export const TANH_TABLE = Float64Array.from({ length: Math.ceil(TABLE_MAX * TABLE_STEP) + 1 }, (_, j) => Math.tanh(j / TABLE_STEP));

/**
 * Pushes |tanh| of the float64 lanes of local `x` (promoted float32 values) by the table: a =
 * min(|x|, 9.1), j = round(64·a), b = a − j/64 (exact, |b| ≤ 1/128), and tanh a = (T + t)/(1 +
 * T·t) with T = tanh(j/64) from the table and t = tanh b by its odd Taylor polynomial to b⁷
 * (the rest below 2⁻⁶¹ relative): no cancellation (T, t ≥ 0), one division, about 2⁻⁵⁰
 * relative. A NaN lane reads entry 0 and stays NaN.
 */
function emitFastTanh64(c: Code, x: number, table: TanhTable): void {
  const [a, jf, b, b2, t, tt] = [x + 1, x + 2, x + 3, x + 4, x + 5, x + 6];
  const mul = (): void => void c.simd(SIMD.f64x2Mul);
  const add = (): void => void c.simd(SIMD.f64x2Add);
  c.get(x).simd(SIMD.f64x2Abs).f64x2(TABLE_MAX).simd(SIMD.f64x2Min).set(a);
  c.get(a).f64x2(TABLE_STEP);
  mul();
  c.simd(SIMD.f64x2Nearest).set(jf);
  c.get(a).get(jf).f64x2(1 / TABLE_STEP);
  mul();
  c.simd(SIMD.f64x2Sub).set(b);
  // T, each lane's entry loaded on its own (WebAssembly has no gather).
  for (let lane = 0; lane < 2; lane++) {
    if (lane === 1) c.get(tt);
    c.get(jf).simd(SIMD.f64x2ExtractLane).op(lane);
    // i32.trunc_sat_f64_u: a NaN gives 0, not a trap.
    c.op(0xfc).u32(3);
    c.i32(3).op(OP.i32Shl);
    if (table.local !== undefined) c.get(table.local).op(OP.i32Add);
    c.memory(OP.f64Load, 3, table.at);
    if (lane === 0) c.simd(SIMD.f64x2Splat).set(tt);
    else c.simd(SIMD.f64x2ReplaceLane).op(1).set(tt);
  }
  c.get(b).get(b);
  mul();
  c.set(b2);
  // t = b + b·b²·(−1/3 + b²·(2/15 + b²·(−17/315)))
  c.get(b2).f64x2(-17 / 315);
  mul();
  c.f64x2(2 / 15);
  add();
  c.get(b2);
  mul();
  c.f64x2(-1 / 3);
  add();
  c.get(b2);
  mul();
  c.get(b);
  mul();
  c.get(b);
  add();
  c.set(t);
  c.get(tt).get(t);
  add();
  c.get(tt).get(t);
  mul();
  c.f64x2(1);
  add();
  c.simd(SIMD.f64x2Div);
}

/** Pushes fdlibm's tanh of local `x` (float64 lanes or a float64); its input: the first of TANH_LOCALS locals. */
function emitTanh64(c: Code, vector: boolean, x: number): void {
  const op = (name: keyof typeof F64_OPS): void => {
    const [v, s] = F64_OPS[name];
    if (vector) c.simd(v);
    else c.op(s);
  };
  const k = (value: number): Expr => () => void (vector ? c.f64x2(value) : c.f64(value));
  const get = (local: number): Expr => () => void c.get(local);
  const bin = (name: keyof typeof F64_OPS) => (p: Expr, q: Expr): Expr => () => {
    p();
    q();
    op(name);
  };
  const un = (name: keyof typeof F64_OPS) => (p: Expr): Expr => () => {
    p();
    op(name);
  };
  const [add, sub, mul, div, eq, lt, gt, le, ge] = (['add', 'sub', 'mul', 'div', 'eq', 'lt', 'gt', 'le', 'ge'] as const).map(bin) as [
    ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>,
    ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>,
  ];
  const [abs, neg, trunc] = (['abs', 'neg', 'trunc'] as const).map(un) as [ReturnType<typeof un>, ReturnType<typeof un>, ReturnType<typeof un>];
  /** `a` where `mask`, else `b`. */
  const select = (a: Expr, b: Expr, mask: Expr): Expr => () => {
    a();
    b();
    mask();
    if (vector) c.simd(SIMD.v128Bitselect);
    else c.op(OP.select);
  };
  const or = (p: Expr, q: Expr): Expr => () => {
    p();
    q();
    if (vector) c.simd(SIMD.v128Or);
    else c.op(OP.i32Or);
  };
  /** 2^n for the integer-valued n + MAGIC that `biased` pushes (see MAGIC). */
  const power = (biased: Expr): Expr => () => {
    biased();
    if (vector) {
      c.i32(52).simd(SIMD.i64x2Shl);
    } else {
      c.op(OP.i64ReinterpretF64);
      c.op(0x42).s32(52).op(OP.i64Shl, OP.f64ReinterpretI64);
    }
  };
  let next = x + 1;
  const local = (value: Expr): Expr => {
    const at = next++;
    value();
    c.set(at);
    return get(at);
  };

  // tanh (s_tanh.c): for 1 ≤ |x| < 22, 1 − 2/(expm1(2|x|) + 2); below 1, −t/(t + 2) with t = expm1(−2|x|).
  const X = get(x);
  const ax = local(abs(X));
  const large = ge(ax, k(1));
  const a = local(select(mul(k(2), ax), mul(k(-2), ax), large));

  // expm1(a) (s_expm1.c), every case that tanh's arguments reach computed, fdlibm's selected.
  const reduced = ge(abs(a), k(HALF_LN2_UP));
  const exact = lt(abs(a), k(ONE_AND_HALF_LN2));
  const negative = lt(a, k(0));
  const rounded = trunc(add(mul(k(INV_LN2), a), select(k(-0.5), k(0.5), negative)));
  const kk = local(select(select(select(k(-1), k(1), negative), rounded, exact), k(0), reduced));
  const hi = local(sub(a, mul(kk, k(LN2_HI))));
  const lo = local(mul(kk, k(LN2_LO)));
  const r = local(sub(hi, lo));
  const cc = local(sub(sub(hi, r), lo));
  const hfx = local(mul(k(0.5), r));
  const hxs = local(mul(r, hfx));
  // 1 + hxs·(Q1 + hxs·(Q2 + hxs·(Q3 + hxs·(Q4 + hxs·Q5)))), innermost first.
  let poly = mul(hxs, k(Q[4]));
  for (let i = 3; i >= 0; i--) poly = mul(hxs, add(k(Q[i]!), poly));
  const r1 = local(add(k(1), poly));
  const t = local(sub(k(3), mul(r1, hfx)));
  const e = local(mul(hxs, div(sub(r1, t), sub(k(6), mul(r, t)))));
  // k = 1 never arises: its arguments are positive below 1.5·ln2, and tanh's are 2 or more.
  const e2 = local(sub(sub(mul(r, sub(e, cc)), cc), hxs));
  const twopk = local(power(add(kk, k(MAGIC + 1023))));
  const twomk = local(power(sub(k(MAGIC + 1023), kk)));
  const k0 = sub(r, sub(mul(r, e), hxs));
  const kMinus1 = sub(mul(k(0.5), sub(r, e2)), k(0.5));
  const kFar = sub(mul(sub(k(1), sub(e2, r)), twopk), k(1));
  const kBelow20 = mul(sub(sub(k(1), twomk), sub(e2, r)), twopk);
  const kFrom20 = mul(add(sub(r, add(e2, twomk)), k(1)), twopk);
  const expm1 = local(
    select(k0, select(kMinus1, select(kFar, select(kBelow20, kFrom20, lt(kk, k(20))), or(le(kk, k(-2)), gt(kk, k(56)))), eq(kk, k(-1))), eq(kk, k(0))),
  );
  // One division serves both forms: 2/(t + 2) above 1, −t/(t + 2) below.
  const quotient = local(div(select(k(2), neg(expm1), large), add(expm1, k(2))));
  const z = local(select(sub(k(1), quotient), quotient, large));
  // |x| ≥ 22 (and ±∞): ±1. |x| < 2⁻²⁸: x itself (−0 stays −0). NaN falls through every test and stays NaN.
  const saturated = local(select(k(1), z, ge(ax, k(22))));
  select(X, select(saturated, neg(saturated), ge(X, k(0))), lt(ax, k(2 ** -28)))();
  if (next - x > TANH_LOCALS) throw new Error(`jit: tanh used ${next - x} locals, TANH_LOCALS is ${TANH_LOCALS}`);
}

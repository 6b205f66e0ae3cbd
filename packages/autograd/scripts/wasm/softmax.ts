/**
 * Softmax's WebAssembly text: `softmax_<t>(x, out, rows, n, safe)`, the rows of the TypeScript
 * kernel (src/kernels/softmax.ts) with its bits: each row's maximum, exp(x - max) in float64
 * summed in float64 in index order, each exponential rounded once into the dtype, then scaled
 * by 1/sum.
 *
 * NOTE: the exponential is Math.exp's, to the bit. WebAssembly has no exp, and an approximation,
 * however close, would round to another float32 than Math.exp's result for some inputs. V8's
 * Math.exp is fdlibm's e_exp.c (V8's base/ieee754.cc), IEEE float64 arithmetic and exponent
 * manipulations only, so each step here is the same float64 operation on the same operands, in
 * float64 lanes (two per f64x2). Lanes cannot branch, so the reduction is one formula that gives,
 * in each of fdlibm's cases, its k, hi and lo (k = 0 gives hi = x, lo = 0, and fdlibm's k = 0
 * formula is the general one then: (x·c)/(c - 2) is -((x·c)/(2 - c)) exactly), and the special
 * cases (tiny, exp(1), overflow, underflow, NaN) are selected at the end. Checked against
 * Math.exp by test/kernels-wasm-softmax.test.ts. An engine whose Math.exp is another libm may
 * differ from it in the last float64 bit, which the rounding to float32 almost always absorbs.
 */
import { highWord, INV_LN2, LN2_HI, LN2_LO } from '../../src/kernels/fdlibm.js';
import type { WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, loop, mul, set, SIZE } from './text.js';

/** fdlibm's e_exp.c constants (ln 2's parts in ../../src/kernels/fdlibm.ts). */
const P = [1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.65339022054652515390e-6, 4.13813679705723846039e-8] as const;
const O_THRESHOLD = 7.09782712893383973096e2;
const U_THRESHOLD = -7.45133219101941108420e2;
const TWO_M1000 = 9.33263618503218878990e-302;

/** |x| at or above this: high word > 0x3fd62e42, fdlibm reduces by k ≠ 0. */
const REDUCE_FROM = highWord(0x3fd62e43);
/** |x| below this: high word < 0x3ff0a2b2, k = ±1. */
const ONE_AND_HALF_LN2 = highWord(0x3ff0a2b2);
/** |x| below this (2⁻²⁸): high word < 0x3e300000, exp(x) = 1 + x. */
const TINY = highWord(0x3e300000);

/** A v128 of two float64 lanes of `value` (round-trip decimal, so the constant's bits are exact). */
const splat = (value: number): string => {
  const text = Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf';
  return `(v128.const f64x2 ${text} ${text})`;
};

/**
 * The exponential's constants, each in a local set once per call: a v128.const in the loop
 * would be built again (several instructions) at every use.
 */
const CONSTANTS: Record<string, number> = {
  p0: P[0], p1: P[1], p2: P[2], p3: P[3], p4: P[4], ln2hi: LN2_HI, ln2lo: LN2_LO, invln2: INV_LN2, half: 0.5, one: 1, two: 2,
  kmin: -1021, kmax: 1024, kshift: 1000, minus1: -1, zero: 0, reduce: REDUCE_FROM, onehalf: ONE_AND_HALF_LN2, tiny: TINY,
  magic: 2 ** 52 + 1023, e: Math.E, inf: Infinity, othr: O_THRESHOLD, uthr: U_THRESHOLD, twom1000: TWO_M1000,
};
const c = (name: keyof typeof CONSTANTS): string => get(`c_${name}`);

/** Declarations and initialisation of the exponential's constant locals, for the function's head. */
export function expConstants(): { declarations: string; init: string[] } {
  const names = Object.keys(CONSTANTS);
  return {
    declarations: names.map((name) => `(local $c_${name} v128)`).join(' ') + ' (local $c_sign v128)',
    init: [
      ...names.map((name) => set(`c_${name}`, splat(CONSTANTS[name]!))),
      set('c_sign', `(v128.const i64x2 ${-(2n ** 63n)} ${-(2n ** 63n)})`),
    ],
  };
}

const f64x2 = (op: string, ...args: string[]): string => `(f64x2.${op} ${args.join(' ')})`;
const select = (yes: string, no: string, mask: string): string => `(v128.bitselect ${yes} ${no} ${mask})`;
/** The lines of a and b alternately (statements on distinct locals, so any interleaving is the same). */
const interleave = (a: string[], b: string[]): string[] => a.flatMap((line, i) => [line, b[i]!]);

/** Locals (v128) the exponential uses besides its input and output (with `expLanes`'s suffix). */
export const EXP_LOCALS = ['ax', 'et', 'ehi', 'elo', 'er', 'ett', 'ec', 'eq', 'ek'] as const;

/**
 * Lines setting the v128 local `to` to Math.exp of each float64 lane of the local `from`, as
 * fdlibm computes it (see the NOTE above).
 */
export function expLanes(from: string, to: string, suffix = ''): string[] {
  const l = (name: (typeof EXP_LOCALS)[number]): string => `${name}${suffix}`;
  const x = get(from);
  const sign = `(v128.and ${x} ${get('c_sign')})`;
  // fdlibm's k: ±1 below 1.5·ln2, else trunc(x/ln2 ± 0.5); 0 below its reduction threshold.
  const general = f64x2('trunc', f64x2('add', f64x2('mul', c('invln2'), x), `(v128.or ${sign} ${c('half')})`));
  const poly = (['p0', 'p1', 'p2', 'p3', 'p4'] as const).reduceRight((acc: string | null, p) => (acc === null ? c(p) : f64x2('add', c(p), f64x2('mul', get(l('ett')), acc))), null)!;
  const small = f64x2('lt', get(l('et')), c('kmin'));
  const big = f64x2('eq', get(l('et')), c('kmax'));
  // 2^k from k's bits (k + 1023 in the exponent field); fdlibm's two-step scalings for k = 1024 and k < -1021.
  const k = f64x2('add', get(l('et')), select(c('kshift'), `(v128.and ${c('minus1')} ${big})`, small));
  // k + 1023 + 2⁵² is exact and holds k + 1023 (≥ 0, < 2¹¹ here) in its low mantissa bits: shifted
  // left by 52 they are 2^k's exponent field.
  const twoK = `(i64x2.shl ${f64x2('add', k, c('magic'))} (i32.const 52))`;
  return [
    set(l('ax'), f64x2('abs', x)),
    set(l('et'), select(`(v128.or ${sign} ${c('one')})`, general, f64x2('lt', get(l('ax')), c('onehalf')))),
    set(l('et'), `(v128.and ${get(l('et'))} ${f64x2('ge', get(l('ax')), c('reduce'))})`),
    set(l('ehi'), f64x2('sub', x, f64x2('mul', get(l('et')), c('ln2hi')))),
    set(l('elo'), f64x2('mul', get(l('et')), c('ln2lo'))),
    set(l('er'), f64x2('sub', get(l('ehi')), get(l('elo')))),
    set(l('ett'), f64x2('mul', get(l('er')), get(l('er')))),
    set(l('ec'), f64x2('sub', get(l('er')), f64x2('mul', get(l('ett')), poly))),
    set(l('eq'), f64x2('div', f64x2('mul', get(l('er')), get(l('ec'))), f64x2('sub', c('two'), get(l('ec'))))),
    set(to, f64x2('sub', c('one'), f64x2('sub', f64x2('sub', get(l('elo')), get(l('eq'))), get(l('ehi'))))),
    set(l('ek'), twoK),
    set(to, f64x2('mul', f64x2('mul', f64x2('mul', get(to), select(c('two'), c('one'), big)), get(l('ek'))), select(c('twom1000'), c('one'), small))),
    set(to, select(f64x2('add', c('one'), x), get(to), f64x2('lt', get(l('ax')), c('tiny')))),
    set(to, select(c('e'), get(to), f64x2('eq', x, c('one')))),
    set(to, select(c('inf'), get(to), f64x2('gt', x, c('othr')))),
    set(to, select(c('zero'), get(to), f64x2('lt', x, c('uthr')))),
    set(to, select(f64x2('add', x, x), get(to), f64x2('ne', x, x))),
  ];
}

/**
 * The exported `softmax_<t>(x, out, rows, n, safe)`: softmax of each of `rows` contiguous rows of
 * n elements at byte address x into out (n ≥ 1). A row whose maximum is -Infinity gives 0s when
 * `safe` is 1; a maximum of ±Infinity shifts by 0 (as the TypeScript kernel's `stableShift`).
 */
export function softmaxRows(t: WasmDType): string[] {
  const s = SIZE[t];
  const f32 = t === 'f32';
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  // Two elements as float64 lanes, and one (the odd last) in lane 0.
  const loadPair = f32 ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${at('xr')}))` : `(v128.load ${at('xr')})`;
  const loadOne = f32 ? `(f64x2.promote_low_f32x4 (v128.load32_zero ${at('xr')}))` : `(v128.load64_zero ${at('xr')})`;
  const storePair = f32 ? `(v128.store64_lane 0 ${at('or')} (f32x4.demote_f64x2_zero ${get('e')}))` : `(v128.store ${at('or')} ${get('e')})`;
  // The pair two elements on, from the second exponential's result.
  const loadPairAt = (offset: number): string =>
    f32 ? `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${offset * s} ${at('xr')}))` : `(v128.load offset=${offset * s} ${at('xr')})`;
  const storePairAt = (offset: number): string =>
    f32 ? `(v128.store64_lane offset=${offset * s} 0 ${at('or')} (f32x4.demote_f64x2_zero ${get('e2')}))` : `(v128.store offset=${offset * s} ${at('or')} ${get('e2')})`;
  const storeOne = f32 ? `(v128.store32_lane 0 ${at('or')} (f32x4.demote_f64x2_zero ${get('e')}))` : `(v128.store64_lane 0 ${at('or')} ${get('e')})`;
  const lane = (i: number): string => `(f64x2.extract_lane ${i} ${get('e')})`;
  const shifted = (load: string): string => set('v', f64x2('sub', load, get('mv')));
  // The maximum: lanes (NaN-propagating, as the TypeScript loop's v !== v), then the rest one by one.
  const lanes = 16 / s;
  const maximum = [
    set('j', i32(0)),
    set('vm', `(v128.const ${f32 ? 'f32x4' : 'f64x2'} ${Array(lanes).fill('-inf').join(' ')})`),
    '(block $max_vectors_done',
    '  (loop $max_vectors',
    `    (br_if $max_vectors_done (i32.gt_u ${add(get('j'), i32(lanes))} ${get('n')}))`,
    `    ${set('vm', `(${f32 ? 'f32x4' : 'f64x2'}.max ${get('vm')} (v128.load ${at('xr')}))`)}`,
    `    ${set('j', add(get('j'), i32(lanes)))}`,
    '    (br $max_vectors)))',
    set('m', f32
      ? `(f64.promote_f32 (f32.max (f32.max (f32x4.extract_lane 0 ${get('vm')}) (f32x4.extract_lane 1 ${get('vm')})) (f32.max (f32x4.extract_lane 2 ${get('vm')}) (f32x4.extract_lane 3 ${get('vm')}))))`
      : `(f64.max (f64x2.extract_lane 0 ${get('vm')}) (f64x2.extract_lane 1 ${get('vm')}))`),
    '(block $max_done',
    '  (loop $max_rest',
    `    (br_if $max_done (i32.ge_u ${get('j')} ${get('n')}))`,
    `    ${set('m', `(f64.max ${get('m')} ${f32 ? `(f64.promote_f32 (f32.load ${at('xr')}))` : `(f64.load ${at('xr')})`})`)}`,
    `    ${set('j', add(get('j'), i32(1)))}`,
    '    (br $max_rest)))',
  ];
  const normalise = f32
    ? [
        set('j', i32(0)),
        '(block $scale_vectors_done',
        '  (loop $scale_vectors',
        `    (br_if $scale_vectors_done (i32.gt_u ${add(get('j'), i32(4))} ${get('n')}))`,
        `    ${set('v', `(v128.load ${at('or')})`)}`,
        `    (v128.store ${at('or')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ` +
          `(f32x4.demote_f64x2_zero ${f64x2('mul', '(f64x2.promote_low_f32x4 (local.get $v))', get('rv'))}) ` +
          `(f32x4.demote_f64x2_zero ${f64x2('mul', '(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))', get('rv'))})))`,
        `    ${set('j', add(get('j'), i32(4)))}`,
        '    (br $scale_vectors)))',
        '(block $scale_done',
        '  (loop $scale_rest',
        `    (br_if $scale_done (i32.ge_u ${get('j')} ${get('n')}))`,
        `    (f32.store ${at('or')} (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load ${at('or')})) ${get('r')})))`,
        `    ${set('j', add(get('j'), i32(1)))}`,
        '    (br $scale_rest)))',
      ]
    : [
        set('j', i32(0)),
        '(block $scale_vectors_done',
        '  (loop $scale_vectors',
        `    (br_if $scale_vectors_done (i32.gt_u ${add(get('j'), i32(2))} ${get('n')}))`,
        `    (v128.store ${at('or')} ${f64x2('mul', `(v128.load ${at('or')})`, get('rv'))})`,
        `    ${set('j', add(get('j'), i32(2)))}`,
        '    (br $scale_vectors)))',
        `(if (i32.lt_u ${get('j')} ${get('n')}) (then (f64.store ${at('or')} (f64.mul (f64.load ${at('or')}) ${get('r')}))))`,
      ];
  const row = [
    ...maximum,
    `(if (i32.and ${get('safe')} (f64.eq ${get('m')} (f64.const -inf)))`,
    '  (then',
    `    (memory.fill ${get('or')} ${i32(0)} ${mul(get('n'), i32(s))})`,
    `    ${set('xr', add(get('xr'), mul(get('n'), i32(s))))}`,
    `    ${set('or', add(get('or'), mul(get('n'), i32(s))))}`,
    '    (br $row_next)))',
    `(if (f64.eq (f64.abs ${get('m')}) (f64.const inf)) (then ${set('m', '(f64.const 0)')}))`,
    set('mv', `(f64x2.splat ${get('m')})`),
    set('sum', '(f64.const 0)'),
    set('j', i32(0)),
    // Four at a time: two exponentials whose steps interleave, independent chains the processor
    // overlaps; the sum still takes them in index order.
    '(block $quads_done',
    '  (loop $quads',
    `    (br_if $quads_done (i32.gt_u ${add(get('j'), i32(4))} ${get('n')}))`,
    '    ' + shifted(loadPair),
    '    ' + set('v2', f64x2('sub', loadPairAt(2), get('mv'))),
    ...interleave(expLanes('v', 'e'), expLanes('v2', 'e2', '2')).map((line) => '    ' + line),
    '    ' + storePair,
    '    ' + storePairAt(2),
    '    ' + set('sum', `(f64.add (f64.add (f64.add (f64.add ${get('sum')} ${lane(0)}) ${lane(1)}) (f64x2.extract_lane 0 ${get('e2')})) (f64x2.extract_lane 1 ${get('e2')}))`),
    '    ' + set('j', add(get('j'), i32(4))),
    '    (br $quads)))',
    '(block $pairs_done',
    '  (loop $pairs',
    `    (br_if $pairs_done (i32.gt_u ${add(get('j'), i32(2))} ${get('n')}))`,
    '    ' + shifted(loadPair),
    ...expLanes('v', 'e').map((line) => '    ' + line),
    '    ' + storePair,
    '    ' + set('sum', `(f64.add (f64.add ${get('sum')} ${lane(0)}) ${lane(1)})`),
    '    ' + set('j', add(get('j'), i32(2))),
    '    (br $pairs)))',
    `(if (i32.lt_u ${get('j')} ${get('n')})`,
    '  (then',
    '    ' + shifted(loadOne),
    ...expLanes('v', 'e').map((line) => '    ' + line),
    '    ' + storeOne,
    '    ' + set('sum', `(f64.add ${get('sum')} ${lane(0)})`),
    '  ))',
    set('r', `(f64.div (f64.const 1) ${get('sum')})`),
    set('rv', `(f64x2.splat ${get('r')})`),
    ...normalise,
    set('xr', add(get('xr'), mul(get('n'), i32(s)))),
    set('or', add(get('or'), mul(get('n'), i32(s)))),
  ];
  const constants = expConstants();
  return [
    `(func (export "softmax_${t}") (param $x i32) (param $out i32) (param $rows i32) (param $n i32) (param $safe i32)`,
    `  (local $r_i i32) (local $j i32) (local $xr i32) (local $or i32) (local $m f64) (local $sum f64) (local $r f64)`,
    `  ${['v', 'e', 'v2', 'e2', 'mv', 'rv', 'vm', ...EXP_LOCALS, ...EXP_LOCALS.map((name) => `${name}2`)].map((name) => `(local $${name} v128)`).join(' ')} ${constants.declarations}`,
    `  (if (i32.eqz ${get('rows')}) (then (return)))`,
    ...constants.init.map((line) => '  ' + line),
    `  ${set('xr', get('x'))}`,
    `  ${set('or', get('out'))}`,
    ...loop('r_i', get('rows'), i32(1), ['(block $row_next', ...row.map((line) => '  ' + line), ')']).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `softmax_backward_<t>(g, y, out, rows, n)`: out = y ⊙ (g - Σ g ⊙ y) + 0 per
 * contiguous row of n ≥ 1 elements (softmax's VJP from its output y), the sum in float64 in index
 * order and the rest in float64 lanes, as the TypeScript kernel (+ 0 makes -0 +0 as it does).
 */
export function softmaxBackwardRows(t: WasmDType): string[] {
  const s = SIZE[t];
  const f32 = t === 'f32';
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  const scalar = (base: string): string => (f32 ? `(f64.promote_f32 (f32.load ${at(base)}))` : `(f64.load ${at(base)})`);
  const pair = (base: string): string => (f32 ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${at(base)}))` : `(v128.load ${at(base)})`);
  const one = (base: string): string => (f32 ? `(f64x2.promote_low_f32x4 (v128.load32_zero ${at(base)}))` : `(v128.load64_zero ${at(base)})`);
  const value = (load: (base: string) => string): string =>
    `(f64x2.add (f64x2.mul ${load('yr')} (f64x2.sub ${load('gr')} ${get('sv')})) (v128.const f64x2 0 0))`;
  const row = [
    set('sum', '(f64.const 0)'),
    set('j', i32(0)),
    '(loop $sum',
    `  ${set('sum', `(f64.add ${get('sum')} (f64.mul ${scalar('gr')} ${scalar('yr')}))`)}`,
    `  ${set('j', add(get('j'), i32(1)))}`,
    `  (br_if $sum (i32.lt_u ${get('j')} ${get('n')})))`,
    set('sv', `(f64x2.splat ${get('sum')})`),
    set('j', i32(0)),
    '(block $pairs_done',
    '  (loop $pairs',
    `    (br_if $pairs_done (i32.gt_u ${add(get('j'), i32(2))} ${get('n')}))`,
    `    ${f32 ? `(v128.store64_lane 0 ${at('or')} (f32x4.demote_f64x2_zero ${value(pair)}))` : `(v128.store ${at('or')} ${value(pair)})`}`,
    `    ${set('j', add(get('j'), i32(2)))}`,
    '    (br $pairs)))',
    `(if (i32.lt_u ${get('j')} ${get('n')})`,
    `  (then ${f32 ? `(v128.store32_lane 0 ${at('or')} (f32x4.demote_f64x2_zero ${value(one)}))` : `(v128.store64_lane 0 ${at('or')} ${value(one)})`}))`,
    set('gr', add(get('gr'), mul(get('n'), i32(s)))),
    set('yr', add(get('yr'), mul(get('n'), i32(s)))),
    set('or', add(get('or'), mul(get('n'), i32(s)))),
  ];
  return [
    `(func (export "softmax_backward_${t}") (param $g i32) (param $y i32) (param $out i32) (param $rows i32) (param $n i32)`,
    '  (local $r i32) (local $j i32) (local $gr i32) (local $yr i32) (local $or i32) (local $sum f64) (local $sv v128)',
    `  (if (i32.or (i32.eqz ${get('rows')}) (i32.eqz ${get('n')})) (then (return)))`,
    `  ${set('gr', get('g'))}`,
    `  ${set('yr', get('y'))}`,
    `  ${set('or', get('out'))}`,
    ...loop('r', get('rows'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}

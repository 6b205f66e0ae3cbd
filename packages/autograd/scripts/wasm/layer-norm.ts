/**
 * Layer normalisation's WebAssembly text: `layer_norm_<t>` and `layer_norm_backward_<t>`, the
 * rows of the TypeScript kernels (src/kernels/layer-norm.ts) with their bits. The row sums
 * (mean, variance, and the backward's two) run in float64 one element after another in index
 * order, as the TypeScript loops add them; everything else is elementwise in float64 lanes (two
 * elements at a time, each lane the same operations on the same operands as the loop's), with one
 * rounding into the dtype on store.
 */
import type { WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, loop, mul, set, SIZE } from './text.js';

/** Bits of `layer_norm_<t>`'s flags. */
const HAS_WEIGHT = 1, HAS_BIAS = 2;
/** Bits of `layer_norm_backward_<t>`'s flags (HAS_WEIGHT as above). */
const WANT_DX = 2, WANT_DW = 4, WANT_DB = 8;

/** Loads of one dtype as float64 lanes (two, or the one left in lane 0) and stores back, rounding once. */
function lanes(t: WasmDType): { pair(at: string): string; one(at: string): string; storePair(at: string, v: string): string; storeOne(at: string, v: string): string; scalar(at: string): string } {
  if (t === 'f32') {
    return {
      pair: (at) => `(f64x2.promote_low_f32x4 (v128.load64_zero ${at}))`,
      one: (at) => `(f64x2.promote_low_f32x4 (v128.load32_zero ${at}))`,
      storePair: (at, v) => `(v128.store64_lane 0 ${at} (f32x4.demote_f64x2_zero ${v}))`,
      storeOne: (at, v) => `(v128.store32_lane 0 ${at} (f32x4.demote_f64x2_zero ${v}))`,
      scalar: (at) => `(f64.promote_f32 (f32.load ${at}))`,
    };
  }
  return {
    pair: (at) => `(v128.load ${at})`,
    one: (at) => `(v128.load64_zero ${at})`,
    storePair: (at, v) => `(v128.store ${at} ${v})`,
    storeOne: (at, v) => `(v128.store64_lane 0 ${at} ${v})`,
    scalar: (at) => `(f64.load ${at})`,
  };
}

/** `body(width)` over j = 0..d two elements at a time, then the odd last one (width 1). */
function pairsThenOne(body: (width: 2 | 1) => string[]): string[] {
  return [
    set('j', i32(0)),
    '(block $pairs_done',
    '  (loop $pairs',
    `    (br_if $pairs_done (i32.gt_u ${add(get('j'), i32(2))} ${get('d')}))`,
    ...body(2).map((line) => '    ' + line),
    `    ${set('j', add(get('j'), i32(2)))}`,
    '    (br $pairs)))',
    `(if (i32.lt_u ${get('j')} ${get('d')})`,
    '  (then',
    ...body(1).map((line) => '    ' + line),
    '  ))',
  ];
}

/** `sum` += each element `at` reads (as float64), one after another in index order. */
function sequentialSum(sum: string, term: string): string[] {
  return [
    set(sum, '(f64.const 0)'),
    set('j', i32(0)),
    `(loop $sum_${sum}`,
    `  ${set(sum, `(f64.add ${get(sum)} ${term})`)}`,
    `  ${set('j', add(get('j'), i32(1)))}`,
    `  (br_if $sum_${sum} (i32.lt_u ${get('j')} ${get('d')})))`,
  ];
}

/** A v128 of all ones where `flags` has `bit`, else zeros: selects a present operand's lanes. */
const maskOf = (bit: number): string => `(i64x2.splat (i64.extend_i32_s (i32.sub (i32.const 0) (i32.ne (i32.and ${get('flags')} ${i32(bit)}) (i32.const 0)))))`;

/**
 * The exported `layer_norm_<t>(x, rows, d, eps, w, b, flags, y, stats)`: for each of `rows` rows
 * of d ≥ 1 elements at x, μ and r = 1/√(σ² + eps) (float64, into stats[2i], stats[2i + 1]) and
 * y = ((x - μ)·r)·w + b, w applied with flags bit 0, b with bit 1 (+0 without, as the loop).
 */
export function layerNormForward(t: WasmDType): string[] {
  const s = SIZE[t];
  const io = lanes(t);
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  const normalise = (width: 2 | 1): string[] => {
    const load = width === 2 ? io.pair : io.one;
    const store = width === 2 ? io.storePair : io.storeOne;
    return [
      set('n', `(f64x2.mul (f64x2.sub ${load(at('xr'))} ${get('muv')}) ${get('rv')})`),
      set('n', `(v128.bitselect (f64x2.mul ${get('n')} ${load(at('w'))}) ${get('n')} ${get('wmask')})`),
      store(at('yr'), `(f64x2.add ${get('n')} (v128.and ${load(at('b'))} ${get('bmask')}))`),
    ];
  };
  const row = [
    ...sequentialSum('sum', io.scalar(at('xr'))),
    set('mu', `(f64.div ${get('sum')} ${get('df')})`),
    ...sequentialSum('var', `(f64.mul (f64.sub ${io.scalar(at('xr'))} ${get('mu')}) (f64.sub ${io.scalar(at('xr'))} ${get('mu')}))`),
    set('rstd', `(f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div ${get('var')} ${get('df')}) ${get('eps')})))`),
    `(f64.store ${get('st')} ${get('mu')})`,
    `(f64.store offset=8 ${get('st')} ${get('rstd')})`,
    set('muv', `(f64x2.splat ${get('mu')})`),
    set('rv', `(f64x2.splat ${get('rstd')})`),
    ...pairsThenOne(normalise),
    set('xr', add(get('xr'), mul(get('d'), i32(s)))),
    set('yr', add(get('yr'), mul(get('d'), i32(s)))),
    set('st', add(get('st'), i32(16))),
  ];
  return [
    `(func (export "layer_norm_${t}") (param $x i32) (param $rows i32) (param $d i32) (param $eps f64) (param $w i32) (param $b i32) (param $flags i32) (param $y i32) (param $stats i32)`,
    '  (local $r i32) (local $j i32) (local $xr i32) (local $yr i32) (local $st i32) (local $df f64) (local $sum f64) (local $var f64) (local $mu f64) (local $rstd f64)',
    '  (local $n v128) (local $muv v128) (local $rv v128) (local $wmask v128) (local $bmask v128)',
    `  (if (i32.or (i32.eqz ${get('rows')}) (i32.eqz ${get('d')})) (then (return)))`,
    `  ${set('df', `(f64.convert_i32_u ${get('d')})`)}`,
    `  ${set('wmask', maskOf(HAS_WEIGHT))}`,
    `  ${set('bmask', maskOf(HAS_BIAS))}`,
    `  ${set('xr', get('x'))}`,
    `  ${set('yr', get('y'))}`,
    `  ${set('st', get('stats'))}`,
    ...loop('r', get('rows'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `layer_norm_backward_<t>(x, g, rows, d, w, stats, dx, dw, db, flags)`: with
 * x̂ = (x - μ)·r and u = g⊙w (w with flags bit 0, else u = g), per row the float64 sums Σu and
 * Σu⊙x̂ (in index order), dx = r·((u - mean u) - x̂·mean(u⊙x̂)) with bit 1; dw += g⊙x̂ and
 * db += g into float64 values with bits 2 and 3, row after row (added to what they hold).
 */
export function layerNormBackward(t: WasmDType): string[] {
  const s = SIZE[t];
  const io = lanes(t);
  const at = (base: string): string => add(get(base), mul(get('j'), i32(s)));
  const at64 = (base: string): string => add(get(base), mul(get('j'), i32(8)));
  const terms = (width: 2 | 1): string[] => {
    const load = width === 2 ? io.pair : io.one;
    return [
      set('gv', load(at('gr'))),
      set('n', `(f64x2.mul (f64x2.sub ${load(at('xr'))} ${get('muv')}) ${get('rv')})`),
      set('u', `(v128.bitselect (f64x2.mul ${get('gv')} ${load(at('w'))}) ${get('gv')} ${get('wmask')})`),
    ];
  };
  // The row's sums in index order, and the columns' (a lane each), as the loop's j runs.
  const sums = (width: 2 | 1): string[] => {
    const accumulate = (flag: number, base: string, value: string): string =>
      width === 2
        ? `(if (i32.and ${get('flags')} ${i32(flag)}) (then (v128.store ${at64(base)} (f64x2.add (v128.load ${at64(base)}) ${value}))))`
        : `(if (i32.and ${get('flags')} ${i32(flag)}) (then (f64.store ${at64(base)} (f64.add (f64.load ${at64(base)}) (f64x2.extract_lane 0 ${value})))))`;
    const lanesOf = width === 2 ? [0, 1] : [0];
    return [
      ...terms(width),
      set('un', `(f64x2.mul ${get('u')} ${get('n')})`),
      ...lanesOf.flatMap((l) => [
        set('su', `(f64.add ${get('su')} (f64x2.extract_lane ${l} ${get('u')}))`),
        set('sux', `(f64.add ${get('sux')} (f64x2.extract_lane ${l} ${get('un')}))`),
      ]),
      accumulate(WANT_DW, 'dw', `(f64x2.mul ${get('gv')} ${get('n')})`),
      accumulate(WANT_DB, 'db', get('gv')),
    ];
  };
  const input = (width: 2 | 1): string[] => {
    const store = width === 2 ? io.storePair : io.storeOne;
    return [
      ...terms(width),
      store(at('dxr'), `(f64x2.mul ${get('rv')} (f64x2.sub (f64x2.sub ${get('u')} ${get('m1')}) (f64x2.mul ${get('n')} ${get('m2')})))`),
    ];
  };
  const row = [
    set('muv', `(v128.load64_splat ${get('st')})`),
    set('rv', `(v128.load64_splat offset=8 ${get('st')})`),
    set('su', '(f64.const 0)'),
    set('sux', '(f64.const 0)'),
    ...pairsThenOne(sums),
    `(if (i32.and ${get('flags')} ${i32(WANT_DX)})`,
    '  (then',
    `    ${set('m1', `(f64x2.splat (f64.div ${get('su')} ${get('df')}))`)}`,
    `    ${set('m2', `(f64x2.splat (f64.div ${get('sux')} ${get('df')}))`)}`,
    ...pairsThenOne(input).map((line) => '    ' + line),
    '  ))',
    set('xr', add(get('xr'), mul(get('d'), i32(s)))),
    set('gr', add(get('gr'), mul(get('d'), i32(s)))),
    set('dxr', add(get('dxr'), mul(get('d'), i32(s)))),
    set('st', add(get('st'), i32(16))),
  ];
  return [
    `(func (export "layer_norm_backward_${t}") (param $x i32) (param $g i32) (param $rows i32) (param $d i32) (param $w i32) (param $stats i32) (param $dx i32) (param $dw i32) (param $db i32) (param $flags i32)`,
    '  (local $r i32) (local $j i32) (local $xr i32) (local $gr i32) (local $dxr i32) (local $st i32) (local $df f64) (local $su f64) (local $sux f64)',
    '  (local $gv v128) (local $n v128) (local $u v128) (local $un v128) (local $muv v128) (local $rv v128) (local $m1 v128) (local $m2 v128) (local $wmask v128)',
    `  (if (i32.or (i32.eqz ${get('rows')}) (i32.eqz ${get('d')})) (then (return)))`,
    `  ${set('df', `(f64.convert_i32_u ${get('d')})`)}`,
    `  ${set('wmask', maskOf(HAS_WEIGHT))}`,
    `  ${set('xr', get('x'))}`,
    `  ${set('gr', get('g'))}`,
    `  ${set('dxr', get('dx'))}`,
    `  ${set('st', get('stats'))}`,
    ...loop('r', get('rows'), i32(1), row).map((line) => '  ' + line),
    ')',
  ];
}

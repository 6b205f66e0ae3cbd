/**
 * Optimiser steps' WebAssembly text: `axpy_<t>` (BLAS axpby: SGD and momentum) and `adam_<t>`.
 * Both compute in float64 whatever the storage and round once per stored value, in the order
 * the TypeScript loops do, so both paths give the same bits.
 */
import type { WasmDType } from '../../src/kernels/wasm/layout.js';
import { add, get, i32, mul, set, SIZE, vectorsThenScalars } from './text.js';

/**
 * The exported `axpy_<t>(y, x, n, alpha, beta)`: y ← β·y + α·x over n elements at byte
 * addresses y and x (BLAS axpby; β = 1 is axpy, an optimiser's update). Computed in f64
 * whatever the storage, each element rounded once when stored, exactly as the TypeScript loop
 * `beta * y[i] + alpha * x[i]` computes it (β·y is exact for β = 1): f32 lanes are promoted
 * two at a time (from 64-bit loads), then demoted and joined by a shuffle.
 */
export function axpy(t: WasmDType): string[] {
  const s = SIZE[t];
  const lanes = 16 / s;
  const f64 = (e: string): string => (t === 'f32' ? `(f64.promote_f32 ${e})` : e);
  const narrow = (e: string): string => (t === 'f32' ? `(f32.demote_f64 ${e})` : e);
  // β·y + α·x on two f64 lanes.
  const madd = (yv: string, xv: string): string => `(f64x2.add (f64x2.mul ${get('bv')} ${yv}) (f64x2.mul ${get('av')} ${xv}))`;
  const pair = (base: string, offset: number): string => `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${offset} ${get(base)}))`;
  const vector =
    t === 'f64'
      ? `(v128.store ${get('y')} ${madd(`(v128.load ${get('y')})`, `(v128.load ${get('x')})`)})`
      : `(v128.store ${get('y')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ` +
        `(f32x4.demote_f64x2_zero ${madd(pair('y', 0), pair('x', 0))}) ` +
        `(f32x4.demote_f64x2_zero ${madd(pair('y', 8), pair('x', 8))})))`;
  return [
    `(func (export "axpy_${t}") (param $y i32) (param $x i32) (param $n i32) (param $alpha f64) (param $beta f64)`,
    '  (local $whole i32) (local $end i32) (local $av v128) (local $bv v128)',
    `  ${set('av', `(f64x2.splat ${get('alpha')})`)}`,
    `  ${set('bv', `(f64x2.splat ${get('beta')})`)}`,
    `  ${set('whole', add(get('y'), mul(`(i32.and ${get('n')} ${i32(-lanes)})`, i32(s))))}`,
    `  ${set('end', add(get('y'), mul(get('n'), i32(s))))}`,
    ...vectorsThenScalars(
      get('y'),
      get('whole'),
      get('end'),
      [vector, set('y', add(get('y'), i32(16))), set('x', add(get('x'), i32(16)))],
      [
        `(${t}.store ${get('y')} ${narrow(`(f64.add (f64.mul ${get('beta')} ${f64(`(${t}.load ${get('y')})`)}) (f64.mul ${get('alpha')} ${f64(`(${t}.load ${get('x')})`)}))`)})`,
        set('y', add(get('y'), i32(s))),
        set('x', add(get('x'), i32(s))),
      ],
    ).map((line) => '  ' + line),
    ')',
  ];
}

/**
 * The exported `adam_<t>(x, g, m, v, n, b1, c1, b2, c2, stepSize, bc2, eps, decay, sign)`: one
 * Adam step in place over n elements (see `adamUpdate`): x ← x·decay; g' = sign·g;
 * m ← b1·m + c1·g'; v ← b2·v + (c2·g')·g'; x ← x − (stepSize·m)/(√v/bc2 + eps). Each value is
 * computed in f64 and rounded to the storage dtype when stored, and the later steps read the
 * stored (rounded) x, m and v, exactly as the TypeScript loop does: the same bits. f32 lanes
 * are taken two at a time (64-bit loads, promoted; demoted and stored as 64-bit lanes).
 */
export function adam(t: WasmDType): string[] {
  const s = SIZE[t];
  // Elements per vector step: the two f64 lanes.
  const per = 2;
  const bytes = per * s;
  // A pair of elements as f64x2, and back to the storage dtype (rounding each f32 lane).
  const load = (p: string): string => (t === 'f32' ? `(f64x2.promote_low_f32x4 (v128.load64_zero ${get(p)}))` : `(v128.load ${get(p)})`);
  const round = (e: string): string => (t === 'f32' ? `(f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero ${e}))` : e);
  const store = (p: string, e: string): string =>
    t === 'f32' ? `(v128.store64_lane 0 ${get(p)} (f32x4.demote_f64x2_zero ${e}))` : `(v128.store ${get(p)} ${e})`;
  // The same step on one element.
  const load1 = (p: string): string => (t === 'f32' ? `(f64.promote_f32 (f32.load ${get(p)}))` : `(f64.load ${get(p)})`);
  const round1 = (e: string): string => (t === 'f32' ? `(f64.promote_f32 (f32.demote_f64 ${e}))` : e);
  const store1 = (p: string, e: string): string => (t === 'f32' ? `(f32.store ${get(p)} (f32.demote_f64 ${e}))` : `(f64.store ${get(p)} ${e})`);
  const step = (vector: boolean): string[] => {
    const [L, R, S, op, c] = vector ? [load, round, store, 'f64x2', (name: string) => get(name.toUpperCase())] : [load1, round1, store1, 'f64', (name: string) => get(name)];
    const local = (name: string): string => get(vector ? `${name}v` : `${name}s`);
    const setLocal = (name: string, e: string): string => set(vector ? `${name}v` : `${name}s`, e);
    return [
      setLocal('x', R(`(${op}.mul ${L('x')} ${c('decay')})`)),
      setLocal('g', `(${op}.mul ${c('sign')} ${L('g')})`),
      setLocal('m', R(`(${op}.add (${op}.mul ${c('b1')} ${L('m')}) (${op}.mul ${c('c1')} ${local('g')}))`)),
      setLocal('v', R(`(${op}.add (${op}.mul ${c('b2')} ${L('v')}) (${op}.mul (${op}.mul ${c('c2')} ${local('g')}) ${local('g')}))`)),
      S('m', local('m')),
      S('v', local('v')),
      S('x', `(${op}.sub ${local('x')} (${op}.div (${op}.mul ${c('stepSize')} ${local('m')}) (${op}.add (${op}.div (${op}.sqrt ${local('v')}) ${c('bc2')}) ${c('eps')})))`),
    ];
  };
  const advance = (by: number): string[] => ['x', 'g', 'm', 'v'].map((p) => set(p, add(get(p), i32(by))));
  const constants = ['b1', 'c1', 'b2', 'c2', 'stepSize', 'bc2', 'eps', 'decay', 'sign'];
  return [
    `(func (export "adam_${t}") (param $x i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32) ${constants.map((k) => `(param $${k} f64)`).join(' ')}`,
    `  (local $whole i32) (local $end i32) (local $xv v128) (local $gv v128) (local $mv v128) (local $vv v128) (local $xs f64) (local $gs f64) (local $ms f64) (local $vs f64) ${constants.map((k) => `(local $${k.toUpperCase()} v128)`).join(' ')}`,
    ...constants.map((k) => `  ${set(k.toUpperCase(), `(f64x2.splat ${get(k)})`)}`),
    `  ${set('whole', add(get('x'), mul(`(i32.and ${get('n')} ${i32(-per)})`, i32(s))))}`,
    `  ${set('end', add(get('x'), mul(get('n'), i32(s))))}`,
    ...vectorsThenScalars(get('x'), get('whole'), get('end'), [...step(true), ...advance(bytes)], [...step(false), ...advance(s)]).map(
      (line) => '  ' + line,
    ),
    ')',
  ];
}


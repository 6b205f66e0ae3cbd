/**
 * The words every WebAssembly text emitter here is written in: instruction builders that
 * return folded S-expressions, and the two loop shapes the kernels use. Kernels are
 * generated rather than hand-written .wat because they are unrolled per dtype and per
 * SIMD flavour; the text stays readable (one instruction per line) for review and debugging.
 */
import type { WasmDType } from '../../src/kernels/wasm/layout.js';

/** Bytes of one element. */
export const SIZE: Record<WasmDType, number> = { f32: 4, f64: 8 };
/** The v128 interpretation of each dtype. */
export const VEC: Record<WasmDType, string> = { f32: 'f32x4', f64: 'f64x2' };
/** The load that fills every lane with one element. */
export const SPLAT: Record<WasmDType, string> = { f32: 'v128.load32_splat', f64: 'v128.load64_splat' };

export const get = (name: string): string => `(local.get $${name})`;
export const i32 = (value: number): string => `(i32.const ${value})`;
export const add = (x: string, y: string): string => `(i32.add ${x} ${y})`;
export const mul = (x: string, y: string): string => `(i32.mul ${x} ${y})`;
export const set = (name: string, value: string): string => `(local.set $${name} ${value})`;
export const min = (x: string, y: string): string => `(select ${x} ${y} (i32.lt_u ${x} ${y}))`;

/** `for (name = 0; name < limit; name += step) body` as a do-while (every limit here is ≥ 1). */
export function loop(name: string, limit: string, step: string, body: string[]): string[] {
  return [
    set(name, i32(0)),
    `(loop $${name}_loop`,
    ...body.map((line) => '  ' + line),
    '  ' + set(name, add(get(name), step)),
    `  (br_if $${name}_loop (i32.lt_u ${get(name)} ${limit})))`,
  ];
}

/**
 * A vector loop, then a scalar loop over the elements left: `vector` runs while `cursor` is
 * below `whole`, then `scalar` while it is below `end`. Each body moves the cursor on itself.
 */
export function vectorsThenScalars(cursor: string, whole: string, end: string, vector: string[], scalar: string[]): string[] {
  return [
    '(block $vectors_done',
    '  (loop $vectors',
    `    (br_if $vectors_done (i32.ge_u ${cursor} ${whole}))`,
    ...vector.map((line) => '    ' + line),
    '    (br $vectors)))',
    '(block $scalars_done',
    '  (loop $scalars',
    `    (br_if $scalars_done (i32.ge_u ${cursor} ${end}))`,
    ...scalar.map((line) => '    ' + line),
    '    (br $scalars)))',
  ];
}

export function locals(type: string, names: string[]): string {
  return names.map((n) => `(local $${n} ${type})`).join(' ');
}


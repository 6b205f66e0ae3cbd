/**
 * A tiny WebAssembly binary encoder for kernels generated at run time (jit's fused loops):
 * a module that imports a memory and exports one function. The prebuilt kernels
 * are assembled from text with wabt at build time (scripts/wasm/); a generated loop cannot
 * wait for a build, and an assembler in the bundle would cost far more than these few opcodes.
 * Only the instructions the generators use are here; the opcodes are the WebAssembly core and
 * SIMD128 specifications' numbers.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** Core opcodes used by the generators. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  f32Load: 0x2a,
  f32Store: 0x38,
  f64Load: 0x2b,
  i32Const: 0x41,
  f32Const: 0x43,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  f32Ne: 0x5c,
  f32Lt: 0x5d,
  f32Gt: 0x5e,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  f32Abs: 0x8b,
  f32Neg: 0x8c,
  f32Ceil: 0x8d,
  f32Floor: 0x8e,
  f32Trunc: 0x8f,
  f32Nearest: 0x90,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32ConvertI32U: 0xb3,
  f64Eq: 0x61,
  f64Lt: 0x63,
  f64Gt: 0x64,
  f64Le: 0x65,
  f64Ge: 0x66,
  f64Abs: 0x99,
  f64Neg: 0x9a,
  f64Trunc: 0x9d,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  i64Shl: 0x86,
  f32DemoteF64: 0xb6,
  f64PromoteF32: 0xbb,
  i64ReinterpretF64: 0xbd,
  f64ReinterpretI64: 0xbf,
} as const;

/** SIMD128 opcodes (after the 0xfd prefix) used by the generators. */
export const SIMD = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  f32x4ExtractLane: 0x1f,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  f32x4Trunc: 0x69,
  f32x4Nearest: 0x6a,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f64x2Eq: 0x47,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  f64x2Trunc: 0x7a,
  f64x2Nearest: 0x94,
  i32x4AllTrue: 0xa3,
  i64x2Shl: 0xcb,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Min: 0xf4,
} as const;

/** A function body under construction: instructions appended as bytes. */
export class Code {
  readonly bytes: number[] = [];

  /** Unsigned LEB128. */
  u32(x: number): this {
    do {
      let byte = x & 0x7f;
      x >>>= 7;
      if (x !== 0) byte |= 0x80;
      this.bytes.push(byte);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(x: number): this {
    x |= 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
      this.bytes.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  simd(code: number): this {
    return this.op(0xfd).u32(code);
  }

  get(local: number): this {
    return this.op(OP.localGet).u32(local);
  }

  set(local: number): this {
    return this.op(OP.localSet).u32(local);
  }

  i32(value: number): this {
    return this.op(OP.i32Const).s32(value);
  }

  /** A float32 constant: `value` rounded to float32, its bytes little-endian. */
  f32(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.op(OP.f32Const, ...bytes);
  }

  /** A v128 of four float32 lanes of `value` (rounded to float32). */
  f32x4(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value, value, value, value]).buffer);
    this.simd(SIMD.v128Const);
    this.bytes.push(...bytes);
    return this;
  }

  /** A float64 constant, its bytes little-endian. */
  f64(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    return this.op(OP.f64Const, ...bytes);
  }

  /** A v128 of two float64 lanes of `value`. */
  f64x2(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value, value]).buffer);
    this.simd(SIMD.v128Const);
    this.bytes.push(...bytes);
    return this;
  }

  /** i8x16.shuffle of the two v128 on the stack: byte i of the result is byte `lanes[i]` of their 32. */
  shuffle(lanes: readonly number[]): this {
    this.simd(SIMD.i8x16Shuffle);
    this.bytes.push(...lanes);
    return this;
  }

  /** A load or store with its memory argument: alignment as log2 bytes, a constant byte offset. */
  memory(code: number, align: number, offset: number, simd = false): this {
    if (simd) this.simd(code);
    else this.op(code);
    return this.u32(align).u32(offset);
  }
}

/** Bytes of a vector of items, each already encoded, prefixed by their count. */
function vector(items: readonly number[][]): number[] {
  return [...new Code().u32(items.length).bytes, ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...new Code().u32(content.length).bytes, ...content];
}

function name(text: string): number[] {
  const bytes = [...text].map((c) => c.charCodeAt(0));
  return [...new Code().u32(bytes.length).bytes, ...bytes];
}

/** The limits of the memory a generated module imports as env.memory. */
export interface ImportedMemory {
  /** Pages the memory has at least. */
  readonly minimum: number;
  /** A shared memory of at most this many pages (a shared memory's import must state its maximum); unshared without it. */
  readonly sharedMaximum?: number;
}

/**
 * The bytes of a module that imports `memory` as env.memory and exports one function, "run",
 * of i32 parameters `params` and no result, with `locals` (after the parameters) and `body`
 * (its instructions, without the final `end`).
 */
export function moduleBytes(memory: ImportedMemory, params: number, locals: readonly ValueType[], body: Code): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vector(Array.from({ length: params }, () => [I32])), ...vector([])];
  // Limits flag 0: a minimum and no maximum; 3: shared, a minimum and a maximum.
  const limits =
    memory.sharedMaximum === undefined
      ? [0x00, ...new Code().u32(memory.minimum).bytes]
      : [0x03, ...new Code().u32(memory.minimum).bytes, ...new Code().u32(memory.sharedMaximum).bytes];
  const memoryImport = [...name('env'), ...name('memory'), 0x02, ...limits];
  // Locals as runs of one type, in order.
  const runs: number[][] = [];
  for (let i = 0; i < locals.length; ) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    runs.push([...new Code().u32(j - i).bytes, locals[i]!]);
    i = j;
  }
  const func = [...vector(runs), ...body.bytes, OP.end];
  const code = [...new Code().u32(func.length).bytes, ...func];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([type])),
    ...section(2, vector([memoryImport])),
    ...section(3, vector([[0]])),
    ...section(7, vector([[...name('run'), 0x00, 0]])),
    ...section(10, vector([code])),
  ]);
}

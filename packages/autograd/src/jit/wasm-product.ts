import { Code, I32, moduleBytes, OP, SIMD, V128, type ValueType } from '../kernels/wasm/encoder.js';
import { WASM_GEMM_BLOCKING } from '../kernels/wasm/kernels.generated.js';
import { MAX_PAGES } from '../kernels/wasm/layout.js';
import { kernelsWithMemory } from '../kernels/wasm/memory.js';

/**
 * A float32 product C = op(A)·op(B) of one compiled program, generated at compile time for its
 * sizes and transposes as a WebAssembly function over the kernels' shared memory (the program's
 * arena), reading A and B where they lie: no packing, no job record, no call through the gemm
 * driver.
 *
 * NOTE: why. A program's products are small (the PINN step's are 256×32 by 32×32 and 32×32 by
 * 256 deep), and the gemm kernel packs both operands of each into panels before its
 * micro-kernel runs: about a fifth of the product's time at these sizes, for operands that fit
 * in cache unpacked. Here the operands' strides are constants, so the micro-kernel loads A's
 * values at constant offsets from one cursor and B's rows in place; a transposed B (a weight
 * read as Wᵀ) is copied transposed once per call into scratch, k·n values against m·n·k
 * multiply-adds.
 *
 * Bits: the gemm kernel's. Each element of C is the sum over k in order, from +0, of the
 * float32 products, each product and each sum rounded (f32x4.mul then f32x4.add, as the
 * plain-SIMD micro-kernel does), in one pass where k fits one of its depth blocks (KC); so
 * `productFunction` declines deeper products, and kernels built with fused multiply-adds
 * (relaxed SIMD), whose roundings differ.
 */

/** The micro-kernel's tile: MR rows of C by NR columns (two f32x4), the gemm kernel's own. */
const MR = 4;
const NR = 8;

/** A product's shape: op(A) is m×k, op(B) k×n, both row-major as stored (A is k×m when transA, B n×k when transB). */
export interface ProductSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

/**
 * `run(a, b, c, scratch)` at byte addresses of the kernels' memory (scratch: k·n float32 the
 * function may overwrite, used when transB), or null where the product is not one it takes: m
 * not a multiple of 4, n not of 8, k outside [1, KC], a memory that is not shared (an unshared
 * one's buffer is replaced when it grows) or kernels built with fused multiply-adds.
 */
export function productFunction(spec: ProductSpec): ((a: number, b: number, c: number, scratch: number) => void) | null {
  const { m, n, k } = spec;
  if (m <= 0 || n <= 0 || m % MR !== 0 || n % NR !== 0 || k < 1 || k > WASM_GEMM_BLOCKING.f32.kc) return null;
  if (typeof WebAssembly !== 'object') return null;
  const kernels = kernelsWithMemory();
  if (kernels === null || !kernels.shared || kernels.flavour !== 'simd128') return null;
  const { code, locals } = productBody(spec);
  const bytes = moduleBytes({ minimum: 1, sharedMaximum: MAX_PAGES }, 4, locals, code);
  const key = bytes.join(',');
  let run = generated.get(key);
  if (run === undefined) {
    run = null;
    try {
      if (WebAssembly.validate(bytes)) {
        run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: kernels.memory } }).exports['run'] as (a: number, b: number, c: number, scratch: number) => void;
      }
    } catch {
      // Refused (a Content-Security-Policy without 'wasm-unsafe-eval'): the gemm kernel serves.
    }
    generated.set(key, run);
  }
  return run;
}

/** Generated functions by their bytes (one memory per process). */
const generated = new Map<string, ((a: number, b: number, c: number, scratch: number) => void) | null>();

function productBody(spec: ProductSpec): { code: Code; locals: ValueType[] } {
  const { m, n, k, transA, transB } = spec;
  const A = 0, B = 1, C = 2, SCRATCH = 3;
  // i32 locals, then v128 locals.
  const [I, J, PA, PB, END, ROW, P, Q] = [4, 5, 6, 7, 8, 9, 10, 11];
  const i32Locals = 8;
  const ACC = 4 + i32Locals, B0 = ACC + MR * 2, B1 = B0 + 1, AV = B1 + 1;
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: MR * 2 + 3 }, (): ValueType => V128)];
  const c = new Code();
  const loop = (body: () => void, counter: number, limit: number, step: number): void => {
    // counter from 0 while < limit (limit ≥ 1), by step.
    c.i32(0).set(counter);
    c.op(OP.loop, 0x40);
    body();
    c.get(counter).i32(step).op(OP.i32Add).set(counter);
    c.get(counter).i32(limit).op(OP.i32LtU, OP.brIf, 0);
    c.op(OP.end);
  };

  // op(B) row-major k×n, rows `bRow` bytes apart, at local B (or the transposed copy in SCRATCH).
  const bRow = n * 4;
  if (transB) {
    // scratch[p·n + j] = B[j·k + p]: B is n×k.
    loop(() => {
      c.get(SCRATCH).get(P).i32(bRow).op(OP.i32Mul).op(OP.i32Add).set(ROW);
      c.get(B).get(P).i32(4).op(OP.i32Mul).op(OP.i32Add).set(Q);
      loop(() => {
        c.get(ROW).get(Q).memory(OP.f32Load, 2, 0).memory(OP.f32Store, 2, 0);
        c.get(ROW).i32(4).op(OP.i32Add).set(ROW);
        c.get(Q).i32(k * 4).op(OP.i32Add).set(Q);
      }, I, n, 1);
    }, P, k, 1);
    c.get(SCRATCH).set(B);
  }
  // A's value (row r of the tile, step p) at pa + r·aRowOffset, pa advancing aStep per step.
  const aRowOffset = transA ? 4 : k * 4;
  const aStep = transA ? m * 4 : 4;
  // NOTE: one step per iteration of the depth loop, as the gemm micro-kernel does: unrolled
  // by 2, 4 or 8 it ran 1.3-2.5× slower under V8 (its scheduler hoists the loads and spills).
  loop(() => {
    loop(() => {
      for (let t = 0; t < MR * 2; t++) c.simd(SIMD.v128Const).op(...new Array<number>(16).fill(0)).set(ACC + t);
      // pa = A + i·(transA ? 4 : k·4), pb = B + j·4, end = pa + k·aStep
      c.get(A).get(I).i32(transA ? 4 : k * 4).op(OP.i32Mul).op(OP.i32Add).set(PA);
      c.get(B).get(J).i32(4).op(OP.i32Mul).op(OP.i32Add).set(PB);
      c.get(PA).i32(k * aStep).op(OP.i32Add).set(END);
      c.op(OP.loop, 0x40);
      c.get(PB).memory(SIMD.v128Load, 4, 0, true).set(B0);
      c.get(PB).memory(SIMD.v128Load, 4, 16, true).set(B1);
      for (let r = 0; r < MR; r++) {
        c.get(PA).memory(SIMD.v128Load32Splat, 2, r * aRowOffset, true).set(AV);
        for (const [h, bv] of [[0, B0], [1, B1]] as const) {
          c.get(ACC + r * 2 + h).get(AV).get(bv).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(ACC + r * 2 + h);
        }
      }
      c.get(PA).i32(aStep).op(OP.i32Add).set(PA);
      c.get(PB).i32(bRow).op(OP.i32Add).set(PB);
      c.get(PA).get(END).op(OP.i32LtU, OP.brIf, 0);
      c.op(OP.end);
      // C rows i..i+3, columns j..j+7.
      c.get(C).get(I).i32(n * 4).op(OP.i32Mul).op(OP.i32Add).get(J).i32(4).op(OP.i32Mul).op(OP.i32Add).set(ROW);
      for (let r = 0; r < MR; r++) {
        for (let h = 0; h < 2; h++) c.get(ROW).get(ACC + r * 2 + h).memory(SIMD.v128Store, 4, r * n * 4 + h * 16, true);
      }
    }, J, n, NR);
  }, I, m, MR);
  return { code: c, locals };
}

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
 * multiply-adds. A product only a few columns wide (n = 1 or 2: a layer of one output, or the
 * two inputs of the PINN's first layer) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, whose rows are
 * long, and the gemm's 4×8 tiles would be mostly padding; rows left over by the tiles of four
 * take a tile of their own height.
 *
 * Bits: the gemm kernel's. Each element of C is the sum over k in order, from +0, of the
 * float32 products, each product and each sum rounded (f32x4.mul then f32x4.add, as the
 * plain-SIMD micro-kernel does), in one pass where k fits one of its depth blocks (KC); so
 * `productFunction` declines deeper products, and kernels built with fused multiply-adds
 * (relaxed SIMD), whose roundings differ.
 */

/** The micro-kernel's tile: up to MR rows of C by NR columns (two f32x4), the gemm kernel's own. */
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

/** A generated product: the function, and the scratch bytes it needs (0 where it transposes nothing). */
export interface GeneratedProduct {
  /** Computes C at byte address c from A at a and B at b (kernels' memory), using `scratchBytes` at scratch. */
  readonly run: (a: number, b: number, c: number, scratch: number) => void;
  readonly scratchBytes: number;
}

/**
 * The product's generated function, or null where it is not one this takes: k outside [1, KC],
 * neither n nor m a multiple of 8 (the tile's width), a memory that is not shared (an unshared
 * one's buffer is replaced when it grows) or kernels built with fused multiply-adds.
 */
export function productFunction(spec: ProductSpec): GeneratedProduct | null {
  const { m, n, k } = spec;
  if (m <= 0 || n <= 0 || k < 1 || k > WASM_GEMM_BLOCKING.f32.kc || (n % NR !== 0 && m % NR !== 0)) return null;
  if (typeof WebAssembly !== 'object') return null;
  const kernels = kernelsWithMemory();
  if (kernels === null || !kernels.shared || kernels.flavour !== 'simd128') return null;
  const plan = planOf(spec);
  const { code, locals } = productBody(plan);
  const bytes = moduleBytes({ minimum: 1, sharedMaximum: MAX_PAGES }, 4, locals, code);
  const key = bytes.join(',');
  let run = generated.get(key);
  if (run === undefined) {
    run = null;
    try {
      if (WebAssembly.validate(bytes)) {
        run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: kernels.memory } }).exports['run'] as GeneratedProduct['run'];
      }
    } catch {
      // Refused (a Content-Security-Policy without 'wasm-unsafe-eval'): the gemm kernel serves.
    }
    generated.set(key, run);
  }
  return run === null ? null : { run, scratchBytes: plan.transposeRight ? plan.k * plan.cols * 4 : 0 };
}

/** Generated functions by their bytes (one memory per process). */
const generated = new Map<string, GeneratedProduct['run'] | null>();

/**
 * How the function computes its product: a rows×cols matrix (C, or Cᵀ where n is no multiple of
 * 8 and m is), cols a multiple of 8, as the sum over p < k of left(r, p)·right(p, c). The left
 * operand's values are splatted from `leftParam` + r·leftRow + p·leftStep; the right operand's
 * rows of cols are read as vectors from `rightParam` + p·cols·4, or first copied there, transposed,
 * from a cols×k source (`transposeRight`). Cᵀ = op(B)ᵀ·op(A)ᵀ has the same products summed in the
 * same order, so each element has the same bits either way.
 */
interface Plan {
  readonly rows: number;
  readonly cols: number;
  readonly k: number;
  readonly leftParam: number;
  readonly leftRow: number;
  readonly leftStep: number;
  readonly rightParam: number;
  readonly transposeRight: boolean;
  /** C written as Cᵀ's transpose: element (r, c) of the computed matrix to C[c, r]. */
  readonly transposedOut: boolean;
}

const A = 0, B = 1, C = 2, SCRATCH = 3;

function planOf({ m, n, k, transA, transB }: ProductSpec): Plan {
  if (n % NR === 0) {
    // C = op(A)·op(B): op(A)(r, p) at A + (transA ? p·m + r : r·k + p); op(B)'s rows are B's unless transB.
    return { rows: m, cols: n, k, leftParam: A, leftRow: transA ? 4 : k * 4, leftStep: transA ? m * 4 : 4, rightParam: B, transposeRight: transB, transposedOut: false };
  }
  // Cᵀ = op(B)ᵀ·op(A)ᵀ: op(B)ᵀ(r, p) = op(B)(p, r) at B + (transB ? r·k + p : p·n + r); op(A)ᵀ's rows are A's when transA.
  return { rows: n, cols: m, k, leftParam: B, leftRow: transB ? k * 4 : 4, leftStep: transB ? 4 : n * 4, rightParam: A, transposeRight: !transA, transposedOut: true };
}

function productBody(plan: Plan): { code: Code; locals: ValueType[] } {
  const { rows, cols, k, leftRow, leftStep, transposeRight, transposedOut } = plan;
  // i32 locals, then v128 locals.
  const [I, J, PA, PB, END, ROW, P, Q, RIGHT] = [4, 5, 6, 7, 8, 9, 10, 11, 12];
  const i32Locals = 9;
  const ACC = 4 + i32Locals, B0 = ACC + MR * 2, B1 = B0 + 1, AV = B1 + 1;
  const locals: ValueType[] = [...Array.from({ length: i32Locals }, (): ValueType => I32), ...Array.from({ length: MR * 2 + 3 }, (): ValueType => V128)];
  const c = new Code();
  const loop = (body: () => void, counter: number, from: number, limit: number, step: number): void => {
    // counter from `from` while < limit (limit > from), by step.
    c.i32(from).set(counter);
    c.op(OP.loop, 0x40);
    body();
    c.get(counter).i32(step).op(OP.i32Add).set(counter);
    c.get(counter).i32(limit).op(OP.i32LtU, OP.brIf, 0);
    c.op(OP.end);
  };
  const rightRow = cols * 4;
  c.get(plan.rightParam).set(RIGHT);
  if (transposeRight) {
    // scratch[p·cols + j] = source[j·k + p]: the source is cols×k.
    loop(() => {
      c.get(SCRATCH).get(P).i32(rightRow).op(OP.i32Mul).op(OP.i32Add).set(ROW);
      c.get(RIGHT).get(P).i32(4).op(OP.i32Mul).op(OP.i32Add).set(Q);
      loop(() => {
        c.get(ROW).get(Q).memory(OP.f32Load, 2, 0).memory(OP.f32Store, 2, 0);
        c.get(ROW).i32(4).op(OP.i32Add).set(ROW);
        c.get(Q).i32(k * 4).op(OP.i32Add).set(Q);
      }, I, 0, cols, 1);
    }, P, 0, k, 1);
    c.get(SCRATCH).set(RIGHT);
  }
  // NOTE: one step per iteration of the depth loop, as the gemm micro-kernel does: unrolled
  // by 2, 4 or 8 it ran 1.3-2.5× slower under V8 (its scheduler hoists the loads and spills).
  /** Tiles of `tile` rows (1 to MR) from row `from` to `to`, each 8 columns wide. */
  const tiles = (tile: number, from: number, to: number): void => {
    loop(() => {
      loop(() => {
        for (let t = 0; t < tile * 2; t++) c.simd(SIMD.v128Const).op(...new Array<number>(16).fill(0)).set(ACC + t);
        // pa = left + i·leftRow, pb = right + j·4, end = pa + k·leftStep
        c.get(plan.leftParam).get(I).i32(leftRow).op(OP.i32Mul).op(OP.i32Add).set(PA);
        c.get(RIGHT).get(J).i32(4).op(OP.i32Mul).op(OP.i32Add).set(PB);
        c.get(PA).i32(k * leftStep).op(OP.i32Add).set(END);
        c.op(OP.loop, 0x40);
        c.get(PB).memory(SIMD.v128Load, 4, 0, true).set(B0);
        c.get(PB).memory(SIMD.v128Load, 4, 16, true).set(B1);
        for (let r = 0; r < tile; r++) {
          c.get(PA).memory(SIMD.v128Load32Splat, 2, r * leftRow, true).set(AV);
          for (const [h, bv] of [[0, B0], [1, B1]] as const) {
            c.get(ACC + r * 2 + h).get(AV).get(bv).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(ACC + r * 2 + h);
          }
        }
        c.get(PA).i32(leftStep).op(OP.i32Add).set(PA);
        c.get(PB).i32(rightRow).op(OP.i32Add).set(PB);
        c.get(PA).get(END).op(OP.i32LtU, OP.brIf, 0);
        c.op(OP.end);
        if (!transposedOut) {
          // C rows i.., columns j..j+7 (C is rows×cols).
          c.get(C).get(I).i32(cols * 4).op(OP.i32Mul).op(OP.i32Add).get(J).i32(4).op(OP.i32Mul).op(OP.i32Add).set(ROW);
          for (let r = 0; r < tile; r++) for (let h = 0; h < 2; h++) c.get(ROW).get(ACC + r * 2 + h).memory(SIMD.v128Store, 4, r * cols * 4 + h * 16, true);
          return;
        }
        // C is cols×rows: element (i + r, j + l) of the computed matrix goes to C[j + l, i + r].
        c.get(C).get(J).i32(rows * 4).op(OP.i32Mul).op(OP.i32Add).get(I).i32(4).op(OP.i32Mul).op(OP.i32Add).set(ROW);
        for (let r = 0; r < tile; r++) {
          for (let h = 0; h < 2; h++) {
            if (rows === 1) {
              c.get(ROW).get(ACC + h).memory(SIMD.v128Store, 4, h * 16, true);
              continue;
            }
            for (let l = 0; l < 4; l++) {
              c.get(ROW).get(ACC + r * 2 + h).simd(SIMD.f32x4ExtractLane).op(l).memory(OP.f32Store, 2, r * 4 + (h * 4 + l) * rows * 4);
            }
          }
        }
      }, J, 0, cols, NR);
    }, I, from, to, tile);
  };
  const whole = rows - (rows % MR);
  if (whole > 0) tiles(MR, 0, whole);
  if (rows > whole) tiles(rows - whole, whole, rows);
  return { code: c, locals };
}

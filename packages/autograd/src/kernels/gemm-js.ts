import type { GemmCall } from './gemm.js';
import { monomorphic, type Allocator } from './monomorphic.js';

/**
 * The pure TypeScript gemm: cache-blocked and register-tiled. Both operands are packed into
 * float64 scratch (A into 4-row micro-panels, B into 4-column micro-panels, each KC deep), so
 * the 4×4 micro-kernel reads two contiguous streams whatever the transpose flags: the
 * backward products Xᵀ·dH and dH·Wᵀ run as fast as X·W. The 16 accumulators are float64
 * locals (float32 results are rounded once per KC slice, when stored). Tiny products (up to
 * 4³ multiply-adds) skip the packing and take one dot product per element.
 *
 * NOTE: this function is cloned per dtype from its own source text (see `monomorphic`), so it
 * must not refer to anything outside itself: no imports, no module constants, no helpers.
 */
function gemmTiled(call: GemmCall, pa: Float64Array, pb: Float64Array, tile: Float64Array): void {
  const { transA, transB, m, n, k, a, b, c, aOffset = 0, bOffset = 0, cOffset = 0 } = call;
  const lda = call.lda ?? (transA ? m : k);
  const ldb = call.ldb ?? (transB ? k : n);
  const ldc = call.ldc ?? n;
  // Block sizes (multiples of the 4×4 tile): a KC×4 panel of B stays in L1, an MC×KC block
  // of A in L2. Keep in step with JS_SCRATCH below.
  const KC = 256;
  const MC = 128;
  const NC = 1024;
  const SMALL = 64; // multiply-adds (m·n·k) up to which the direct loop below is faster
  // op(A)(i, p) = a[aOffset + i·rsA + p·csA]; op(B)(p, j) = b[bOffset + p·rsB + j·csB]; C(i, j) = c[cOffset + i·ldc + j].
  const rsA = transA ? 1 : lda;
  const csA = transA ? lda : 1;
  const rsB = transB ? 1 : ldb;
  const csB = transB ? ldb : 1;
  if (m * n * k <= SMALL) {
    // Small products: packing costs more than it saves; one dot product per element.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let ia = aOffset + i * rsA;
        let ib = bOffset + j * csB;
        for (let p = 0; p < k; p++, ia += csA, ib += rsB) sum += a[ia]! * b[ib]!;
        c[cOffset + i * ldc + j] = sum;
      }
    }
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const first = pc === 0;
      // Pack op(B)[pc:pc+kc, jc:jc+nc] into kc×4 panels, the last one zero-padded.
      let q = 0;
      for (let j0 = 0; j0 < nc; j0 += 4) {
        const w = Math.min(4, nc - j0);
        let src = bOffset + pc * rsB + (jc + j0) * csB;
        for (let p = 0; p < kc; p++, src += rsB) {
          for (let jj = 0; jj < 4; jj++) pb[q++] = jj < w ? b[src + jj * csB]! : 0;
        }
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        // Pack op(A)[ic:ic+mc, pc:pc+kc] into kc×4 panels (4 rows per step), zero-padded.
        q = 0;
        for (let i0 = 0; i0 < mc; i0 += 4) {
          const h = Math.min(4, mc - i0);
          let src = aOffset + (ic + i0) * rsA + pc * csA;
          for (let p = 0; p < kc; p++, src += csA) {
            for (let ii = 0; ii < 4; ii++) pa[q++] = ii < h ? a[src + ii * rsA]! : 0;
          }
        }
        for (let j0 = 0; j0 < nc; j0 += 4) {
          const w = Math.min(4, nc - j0);
          for (let i0 = 0; i0 < mc; i0 += 4) {
            const h = Math.min(4, mc - i0);
            let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
            let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
            let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            let ia = i0 * kc;
            let ib = j0 * kc;
            const end = ia + 4 * kc;
            for (; ia < end; ia += 4, ib += 4) {
              const b0 = pb[ib]!, b1 = pb[ib + 1]!, b2 = pb[ib + 2]!, b3 = pb[ib + 3]!;
              let x = pa[ia]!;
              c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
              x = pa[ia + 1]!;
              c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
              x = pa[ia + 2]!;
              c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
              x = pa[ia + 3]!;
              c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            }
            let ci = cOffset + (ic + i0) * ldc + jc + j0;
            if (h === 4 && w === 4 && first) {
              c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02; c[ci + 3] = c03; ci += ldc;
              c[ci] = c10; c[ci + 1] = c11; c[ci + 2] = c12; c[ci + 3] = c13; ci += ldc;
              c[ci] = c20; c[ci + 1] = c21; c[ci + 2] = c22; c[ci + 3] = c23; ci += ldc;
              c[ci] = c30; c[ci + 1] = c31; c[ci + 2] = c32; c[ci + 3] = c33;
            } else if (h === 4 && w === 4) {
              c[ci]! += c00; c[ci + 1]! += c01; c[ci + 2]! += c02; c[ci + 3]! += c03; ci += ldc;
              c[ci]! += c10; c[ci + 1]! += c11; c[ci + 2]! += c12; c[ci + 3]! += c13; ci += ldc;
              c[ci]! += c20; c[ci + 1]! += c21; c[ci + 2]! += c22; c[ci + 3]! += c23; ci += ldc;
              c[ci]! += c30; c[ci + 1]! += c31; c[ci + 2]! += c32; c[ci + 3]! += c33;
            } else {
              // An edge tile: go through the 4×4 tile buffer and keep the h×w part.
              tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
              tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
              tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
              tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
              for (let r = 0; r < h; r++, ci += ldc) {
                for (let s = 0; s < w; s++) c[ci + s] = first ? tile[r * 4 + s]! : c[ci + s]! + tile[r * 4 + s]!;
              }
            }
          }
        }
      }
    }
  }
}

type TiledKernel = typeof gemmTiled;

/** Scratch the kernel needs: MC×KC for A, KC×NC for B (the constants inside gemmTiled). */
const JS_SCRATCH = { kc: 256, mc: 128, nc: 1024 };

/**
 * A private copy of gemmTiled for one dtype (see `monomorphic`): one function fed both
 * Float32Array and Float64Array goes polymorphic and runs at about half speed. Falls back to
 * the shared function where the copy cannot be made or fails its check.
 * NOTE: since the micro-kernel reads only the float64 packs, only packing and the stores to C
 * see the caller's dtype, and the shared function fed both dtypes measured within noise of
 * the clones (192³, Node 20); the clones keep it so as the kernel changes.
 */
function cloneFor(make: Allocator): TiledKernel {
  return monomorphic(gemmTiled, (clone) => {
    // A 5×6·6×5 product (edge tiles, both store paths) checked against its exact value.
    const a = make(30), b = make(30), c = make(25);
    for (let i = 0; i < 30; i++) {
      a[i] = (i % 7) - 3;
      b[i] = (i % 5) - 2;
    }
    clone({ transA: false, transB: false, m: 5, n: 5, k: 6, a, b, c }, new Float64Array(6 * 8), new Float64Array(6 * 8), new Float64Array(16));
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let sum = 0;
        for (let p = 0; p < 6; p++) sum += a[i * 6 + p]! * b[p * 5 + j]!;
        if (c[i * 5 + j] !== sum) return false;
      }
    }
    return true;
  });
}

let tiledF32: TiledKernel | undefined;
let tiledF64: TiledKernel | undefined;
// Grow-only scratch shared by both dtypes (the kernels pack into float64 either way).
let packA = new Float64Array(0);
let packB = new Float64Array(0);
const tileScratch = new Float64Array(16);

/**
 * C = op(A)·op(B) with the pure TypeScript kernel; same contract as `gemm`, m, n, k ≥ 1, without
 * the epilogue (`gemm` applies it).
 * @example gemmJs({ transA: false, transB: false, m: 2, n: 2, k: 2, a, b, c });
 */
export function gemmJs(call: GemmCall): void {
  const [needA, needB] = packSizes(call);
  if (packA.length < needA) packA = new Float64Array(needA);
  if (packB.length < needB) packB = new Float64Array(needB);
  let kernel: TiledKernel;
  if (call.c instanceof Float32Array) kernel = tiledF32 ??= cloneFor((size) => new Float32Array(size));
  else kernel = tiledF64 ??= cloneFor((size) => new Float64Array(size));
  kernel(call, packA, packB, tileScratch);
}

/**
 * Whether each dtype runs its own clone of the kernel (false where code generation is
 * disallowed and both share one function). Builds the clones if needed.
 * @example gemmJsIsMonomorphic(); // true in Node
 */
export function gemmJsIsMonomorphic(): boolean {
  tiledF32 ??= cloneFor((size) => new Float32Array(size));
  tiledF64 ??= cloneFor((size) => new Float64Array(size));
  return tiledF32 !== gemmTiled && tiledF64 !== gemmTiled;
}

/** The shared, uncloned kernel: what runs where code generation is disallowed. For tests. */
export function gemmJsShared(call: GemmCall): void {
  const [needA, needB] = packSizes(call);
  gemmTiled(call, new Float64Array(needA), new Float64Array(needB), new Float64Array(16));
}

/** Float64 elements of packed A and packed B the tiled kernel needs for an m×n×k product. */
function packSizes({ m, n, k }: GemmCall): [number, number] {
  const kc = Math.min(k, JS_SCRATCH.kc);
  return [Math.min(roundUp4(m), JS_SCRATCH.mc) * kc, Math.min(roundUp4(n), JS_SCRATCH.nc) * kc];
}

function roundUp4(x: number): number {
  return (x + 3) & ~3;
}

import type { GemmCall } from '../gemm.js';
import { runProduct } from './helper-thread.js';
import { JOB } from './layout.js';
import { copyIn, copyOut, jobRecord, staged } from './memory.js';

/**
 * C = op(A)·op(B) in WebAssembly; same contract as `gemm`, m, n, k ≥ 1, including the optional
 * epilogue (a bias of n values added to every row, then relu), applied while C is still in
 * WebAssembly memory. Large products are shared with the helper thread (helper-thread.ts).
 * Returns false, having done nothing, where WebAssembly SIMD is missing or the operands do not
 * fit its memory.
 * @example if (!gemmWasm({ transA: false, transB: false, m: 2, n: 2, k: 2, a, b, c })) gemmJs(...);
 */
export function gemmWasm(call: GemmCall): boolean {
  const { transA, transB, m, n, k, c, bias = null, relu = false } = call;
  const f32 = c instanceof Float32Array;
  const size = f32 ? 4 : 8;
  const regions = [copyIn(call.a, m * k, call.aOffset), copyIn(call.b, k * n, call.bOffset), copyOut(c, m * n, call.cOffset), copyIn(bias, bias === null ? 0 : n)];
  return staged(f32, regions, (kernels, at, all) => {
    const aAt = at[0]!, bAt = at[1]!, cAt = at[2]!;
    const job = jobRecord();
    job[JOB.m] = m;
    job[JOB.n] = n;
    job[JOB.k] = k;
    job[JOB.a] = aAt;
    job[JOB.rsa] = transA ? size : k * size;
    job[JOB.csa] = transA ? m * size : size;
    job[JOB.b] = bAt;
    job[JOB.rsb] = transB ? size : n * size;
    job[JOB.csb] = transB ? k * size : size;
    job[JOB.c] = cAt;
    job[JOB.ldc] = n * size;
    job[JOB.dtype] = f32 ? 0 : 1;
    runProduct(all, kernels, m, n, k, f32);
    if (bias !== null || relu) kernels.biasActivation(cAt, m, n, at[3]!, (bias === null ? 0 : 1) | (relu ? 2 : 0));
  });
}

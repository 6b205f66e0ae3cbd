/**
 * The whole kernels module's WebAssembly text, from the kernel families' emitters
 * (gemm.ts, elementwise.ts, optimisers.ts). Every export's name ends in its dtype.
 */
import { type GemmBlocking, MAX_PAGES, scratchLayout, type WasmDType } from '../../src/kernels/wasm/layout.js';
import { adam, axpy } from './optimisers.js';
import { binary, columnSums, outer, reluBackward, unary } from './elementwise.js';
import { col2im, convImages, im2col, maxPool } from './conv.js';
import { addRows, gatherRows, scatterAddRows, selectRows } from './indexing.js';
import { biasActivation, GEMM_BLOCKING, gemmDriver, microKernel, pack, serve, slabLoop } from './gemm.js';
import { layerNormBackward, layerNormForward } from './layer-norm.js';
import { choleskyLeaf, lowerTransposedRows, luPanel, luSolveVector, subtractBlock, unitLowerRows } from './linalg.js';
import { softmaxBackwardRows, softmaxRows } from './softmax.js';

/**
 * The module: an imported memory (shared, so a helper thread can work in it; the loader
 * clears the flag where shared memory is missing), `gemm_f32`, `gemm_f64`, `serve`, the
 * epilogues `bias_act_f32`, `bias_act_f64`, `relu_backward_f32`, `relu_backward_f64`,
 * `axpy_f32`, `axpy_f64`, the elementwise `binary_f32`, `binary_f64`, `unary_f32`, `unary_f64`,
 * `column_sums_f32`, `column_sums_f64`, the optimiser step `adam_f32`, `adam_f64`, max pooling's
 * `max_pool_f32`, `max_pool_f64`, the outer-product rows `outer_f32`, `outer_f64`, a
 * convolution's products over a batch's images, `conv_images_f32`, `conv_images_f64` (with the
 * one-image `$im2col_<t>` and `$col2im_<t>` they call), softmax's rows `softmax_f32`,
 * `softmax_f64` and their VJP's `softmax_backward_f32`, `softmax_backward_f64`, layer
 * normalisation's `layer_norm_f32`, `layer_norm_f64`, `layer_norm_backward_f32`, `layer_norm_backward_f64`,
 * and the indexing loops `gather_rows_f32`, `gather_rows_f64`, `scatter_add_rows_f32`,
 * `scatter_add_rows_f64`, `select_rows_f32`, `select_rows_f64`, `add_rows_f32`, `add_rows_f64`,
 * and the float64 factorisations' leaves `lu_panel_f64`, `unit_lower_rows_f64`, `cholesky_leaf_f64`,
 * `lower_transposed_rows_f64`, `subtract_block_f64` and `lu_solve_vector_f64`.
 * `relaxed` uses relaxed-SIMD fused multiply-add in the gemm micro-kernels.
 * NOTE: the order of the functions fixes their indices, hence the module's bytes.
 */
export function kernelsWat(relaxed: boolean, blocking: Readonly<Record<WasmDType, GemmBlocking>> = GEMM_BLOCKING, shared = true): string {
  const layout = scratchLayout(blocking);
  const lines = ['(module', `  (import "env" "memory" (memory 1 ${MAX_PAGES}${shared ? ' shared' : ''}))`];
  for (const t of ['f32', 'f64'] as const) {
    const b = blocking[t];
    const functions = [
      microKernel(t, b, relaxed), pack(t, b.nr, 'b'), pack(t, b.mr, 'a'), gemmDriver(t, b, layout), slabLoop(t), biasActivation(t),
      reluBackward(t), axpy(t), binary(t), unary(t), columnSums(t), adam(t),
    ];
    for (const fn of functions) lines.push(...fn.map((line) => '  ' + line));
  }
  lines.push(...serve().map((line) => '  ' + line));
  // After serve, so the functions before keep their indices.
  for (const t of ['f32', 'f64'] as const) for (const fn of [im2col(t), col2im(t), maxPool(t)]) lines.push(...fn.map((line) => '  ' + line));
  for (const t of ['f32', 'f64'] as const) lines.push(...outer(t).map((line) => '  ' + line));
  for (const t of ['f32', 'f64'] as const) lines.push(...convImages(t).map((line) => '  ' + line));
  // The micro-kernels of fewer rows than mr, for the last rows of a product.
  for (const t of ['f32', 'f64'] as const) {
    for (let rows = 1; rows < blocking[t].mr; rows++) lines.push(...microKernel(t, blocking[t], relaxed, rows).map((line) => '  ' + line));
  }
  for (const t of ['f32', 'f64'] as const) for (const fn of [softmaxRows(t), softmaxBackwardRows(t)]) lines.push(...fn.map((line) => '  ' + line));
  for (const t of ['f32', 'f64'] as const) for (const fn of [layerNormForward(t), layerNormBackward(t)]) lines.push(...fn.map((line) => '  ' + line));
  for (const t of ['f32', 'f64'] as const) for (const fn of [gatherRows(t), scatterAddRows(t), selectRows(t), addRows(t)]) lines.push(...fn.map((line) => '  ' + line));
  for (const fn of [luPanel(), unitLowerRows(), choleskyLeaf(), lowerTransposedRows(), subtractBlock(), luSolveVector()]) lines.push(...fn.map((line) => '  ' + line));
  lines.push(')');
  return lines.join('\n') + '\n';
}

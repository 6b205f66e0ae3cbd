// Which workloads a run covers (full or --quick), and how a run's time becomes the figure
// the report prints (GFLOP/s, samples/s, µs per op, ms per step).

import type { MemoryRequest, Workload } from './types.js';

export interface Metric {
  unit: string;
  higherIsBetter: boolean;
  /** Converts milliseconds per run to the reported figure. */
  fromMs(ms: number): number;
}

export function metricOf(w: Workload): Metric {
  switch (w.kind) {
    case 'matmul': {
      const flop = 2 * w.n ** 3;
      return { unit: 'GFLOP/s', higherIsBetter: true, fromMs: (ms) => flop / (ms * 1e6) };
    }
    case 'mlp':
      return { unit: 'samples/s', higherIsBetter: true, fromMs: (ms) => (w.batch * 1000) / ms };
    case 'chain':
      return { unit: 'µs/op', higherIsBetter: false, fromMs: (ms) => (ms * 1000) / w.ops };
    case 'scalar':
      return { unit: 'ms/step', higherIsBetter: false, fromMs: (ms) => ms };
    case 'conv':
    case 'lenet':
      return { unit: 'samples/s', higherIsBetter: true, fromMs: (ms) => (w.batch * 1000) / ms };
    case 'layout': {
      const bytes = 4 * w.rows * w.width * w.pieces;
      return { unit: 'GB/s', higherIsBetter: true, fromMs: (ms) => bytes / (ms * 1e6) };
    }
    case 'linalg':
      return { unit: 'ms/op', higherIsBetter: false, fromMs: (ms) => ms };
    case 'indexing':
      return { unit: 'ms/run', higherIsBetter: false, fromMs: (ms) => ms };
    case 'einsum':
      return { unit: 'GFLOP/s', higherIsBetter: true, fromMs: (ms) => w.flop / (ms * 1e6) };
    case 'transformer':
      return { unit: 'samples/s', higherIsBetter: true, fromMs: (ms) => (w.batch * 1000) / ms };
    case 'jvp':
    case 'perSample':
    case 'compiled':
      return { unit: 'ms/run', higherIsBetter: false, fromMs: (ms) => ms };
  }
}

/** One line describing the workload, for the table's heading. */
export function describe(w: Workload): string {
  switch (w.kind) {
    case 'matmul':
      return `matmul ${w.n}×${w.n} ${w.dtype}`;
    case 'mlp':
      return `MLP 784-128-10 train step, batch ${w.batch} (fwd+bwd+SGD)`;
    case 'chain':
      return `chain of ${w.ops} tiny ops on [${w.size}], fwd+bwd`;
    case 'scalar':
      return `scalar Value graph: ${w.sizes.join('-')} tanh MLP × ${w.samples} samples, fwd+bwd+SGD`;
    case 'conv':
      return `LeNet convolutions 1→6 5×5 on 28×28 and 6→16 5×5 on 12×12, batch ${w.batch}, fwd+bwd`;
    case 'lenet':
      return `LeNet-5 train step (conv 5×5 ×2 with max pooling, dense 400-120-84-10), batch ${w.batch} (fwd+bwd+SGD)`;
    case 'layout':
      return w.op === 'concat'
        ? `concat of ${w.pieces} × [${w.rows},${w.width}] float32 along the last axis`
        : `cumsum along the last axis of [${w.rows},${w.width * w.pieces}] float32`;
    case 'linalg':
      return w.op === 'solve' ? `solve ${w.n}×${w.n} float64, one right side (LU)` : `cholesky ${w.n}×${w.n} float64`;
    case 'indexing':
      return w.op === 'embedding'
        ? `embedding of ${w.rows} indices into [${w.vocab},${w.width}] float32, fwd+bwd`
        : `${w.op} of [${w.rows},${w.picks}] int32 indices along the last axis of [${w.rows},${w.width}] float32`;
    case 'einsum':
      return `${w.via === 'einsum' ? `einsum '${w.equation}'` : `matmul for '${w.equation}'`} ${w.shapes.map((s) => `[${s.join(',')}]`).join(' ')} ${w.dtype}`;
    case 'transformer':
      return `transformer encoder layer train step (d=${w.dModel}, ${w.nhead} heads, ff ${w.dimFeedforward}, seq ${w.seq}), batch ${w.batch} (fwd+bwd+SGD)`;
    case 'jvp':
      return w.via === 'jvp'
        ? `jvp of the MLP 784-128-10 forward (tangents on the parameters), batch ${w.batch}`
        : `MLP 784-128-10 forward alone (logits), batch ${w.batch}`;
    case 'perSample':
      return w.mode === 'per-sample'
        ? `MLP 784-128-10 per-sample gradients (vmap of grad), batch ${w.batch}`
        : `MLP 784-128-10 one batch gradient (the per-sample row's baseline), batch ${w.batch}`;
    case 'compiled': {
      const how = w.via === 'jit' ? 'under jit' : 'eager (the jit row\'s baseline)';
      if (w.program === 'elementwise') return `10-op elementwise arithmetic chain on ${w.size} float32, ${how}`;
      if (w.program === 'pinn') return `PINN step, heat equation, u(x,t) MLP 2-32-32-1 tanh, ${w.size} points, u_t and u_xx by nested grad, loss + gradients, ${how}`;
      return `MLP 784-128-10 train step as a function (valueAndGrad + SGD), batch ${w.size}, ${how}`;
    }
  }
}

/**
 * Workloads of one family scale predictably, so a contender far too slow at the next size can
 * be skipped from its time at the previous one (js-pytorch at n=1024 would take minutes).
 */
export function familyOf(w: Workload): { family: string; scale: number } {
  switch (w.kind) {
    case 'matmul':
      return { family: `matmul-${w.dtype}`, scale: w.n ** 3 };
    case 'mlp':
      return { family: 'mlp', scale: w.batch };
    case 'chain':
      return { family: 'chain', scale: w.ops * w.size };
    case 'scalar':
      return { family: 'scalar', scale: w.samples };
    case 'conv':
      return { family: 'conv', scale: w.batch };
    case 'lenet':
      return { family: 'lenet', scale: w.batch };
    case 'layout':
      return { family: `layout-${w.op}`, scale: w.rows * w.width * w.pieces };
    case 'linalg':
      return { family: `linalg-${w.op}`, scale: w.n ** 3 };
    case 'indexing':
      return { family: `indexing-${w.op}`, scale: w.rows * (w.op === 'embedding' ? w.width : w.picks) };
    case 'einsum':
      return { family: `einsum-${w.equation}-${w.via}`, scale: w.flop };
    case 'transformer':
      return { family: 'transformer', scale: w.batch * w.seq };
    case 'jvp':
      return { family: `jvp-${w.via}`, scale: w.batch };
    case 'perSample':
      return { family: `perSample-${w.mode}`, scale: w.batch };
    case 'compiled':
      return { family: `compiled-${w.program}-${w.via}`, scale: w.size };
  }
}

const LR = 0.01;

export function workloads(quick: boolean): Workload[] {
  const f32 = quick ? [64, 256] : [64, 128, 256, 512, 1024];
  const f64 = quick ? [256] : [256, 512];
  const batches = quick ? [64] : [64, 256];
  return [
    ...f32.map((n): Workload => ({ kind: 'matmul', id: `matmul-f32-${n}`, n, dtype: 'float32' })),
    ...f64.map((n): Workload => ({ kind: 'matmul', id: `matmul-f64-${n}`, n, dtype: 'float64' })),
    ...batches.map((batch): Workload => ({ kind: 'mlp', id: `mlp-b${batch}`, batch, batches: 4, lr: LR })),
    // The quick run's chain is shorter: jax-js takes seconds per eager 1,000-op chain.
    quick ? { kind: 'chain', id: 'chain-300', ops: 300, size: 4 } : { kind: 'chain', id: 'chain-1000', ops: 1000, size: 4 },
    { kind: 'scalar', id: 'scalar-mlp', samples: 100, sizes: [2, 16, 16, 1], lr: LR },
    { kind: 'conv', id: 'lenet-conv-b64', batch: 64 },
    { kind: 'transformer', id: 'transformer-encoder-b16', batch: 16, seq: 64, dModel: 128, nhead: 4, dimFeedforward: 512, lr: LR },
    { kind: 'lenet', id: 'lenet-b64', batch: 64, lr: LR },
    // Thin pieces: each row of the result is 16 runs of 4 elements, the case a copy per run makes slow.
    { kind: 'layout', id: 'concat-last-16x4', op: 'concat', rows: 8192, width: 4, pieces: 16 },
    { kind: 'layout', id: 'cumsum-last', op: 'cumsum', rows: 8192, width: 4, pieces: 16 },
    { kind: 'linalg', id: 'solve-f64-256', op: 'solve', n: 256 },
    { kind: 'linalg', id: 'cholesky-f64-256', op: 'cholesky', n: 256 },
    ...einsumWorkloads(),
    // Indexing: 262k picks of 1M elements, and an embedding backward of 8k tokens into 10k rows.
    { kind: 'indexing', id: 'gather-4096x64-of-256', op: 'gather', rows: 4096, width: 256, picks: 64, vocab: 0 },
    { kind: 'indexing', id: 'scatterAdd-4096x64-into-256', op: 'scatterAdd', rows: 4096, width: 256, picks: 64, vocab: 0 },
    { kind: 'indexing', id: 'embedding-bwd-8192-of-10000x64', op: 'embedding', rows: 8192, width: 64, picks: 0, vocab: 10000 },
    // Forward mode: the jvp of the MLP's forward against the forward alone.
    { kind: 'jvp', id: 'mlp-forward-b64', batch: 64, via: 'forward' },
    { kind: 'jvp', id: 'jvp-mlp-b64', batch: 64, via: 'jvp' },
    // Per-sample gradients against the one batch gradient they refine.
    { kind: 'perSample', id: 'per-sample-grad-mlp-b64', batch: 64, mode: 'per-sample' },
    { kind: 'perSample', id: 'batch-grad-mlp-b64', batch: 64, mode: 'batch' },
    // Compiled programs against the same function run eagerly.
    { kind: 'compiled', id: 'elementwise-1m', program: 'elementwise', via: 'eager', size: 1 << 20, lr: 0 },
    { kind: 'compiled', id: 'jit-elementwise-1m', program: 'elementwise', via: 'jit', size: 1 << 20, lr: 0 },
    { kind: 'compiled', id: 'pinn-heat', program: 'pinn', via: 'eager', size: 256, lr: 0 },
    { kind: 'compiled', id: 'pinn-heat-jit', program: 'pinn', via: 'jit', size: 256, lr: 0 },
    { kind: 'compiled', id: 'mlp-step-b64', program: 'mlpStep', via: 'eager', size: 64, lr: LR },
    { kind: 'compiled', id: 'mlp-step-jit-b64', program: 'mlpStep', via: 'jit', size: 64, lr: LR },
  ];
}

/** einsum against the matmul calls it stands for: a batched product and a three-matrix chain. */
function einsumWorkloads(): Workload[] {
  const [b, n] = [16, 128];
  const [i, j, k, l] = [64, 256, 256, 16];
  const cases = [
    { name: 'bmm', equation: 'bij,bjk->bik' as const, shapes: [[b, n, n], [b, n, n]], flop: 2 * b * n ** 3 },
    // (jk·kl) first: the order einsum's greedy planning finds and the matmul row spells out.
    { name: 'chain3', equation: 'ij,jk,kl->il' as const, shapes: [[i, j], [j, k], [k, l]], flop: 2 * (j * k * l + i * j * l) },
  ];
  return cases.flatMap((c) => (['einsum', 'matmul'] as const).map((via): Workload => ({
    kind: 'einsum', id: `einsum-${c.name}-${via}`, equation: c.equation, shapes: c.shapes, via, dtype: 'float32', flop: c.flop,
  })));
}

/** Ten epochs of the batch-64 MLP over a small data set, for chainrule's memory figures. */
export function memoryRequest(quick: boolean): MemoryRequest {
  return { batch: 64, batches: quick ? 4 : 32, epochs: 10, lr: LR };
}

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
      return { unit: 'samples/s', higherIsBetter: true, fromMs: (ms) => (w.batch * 1000) / ms };
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
  ];
}

/** Ten epochs of the batch-64 MLP over a small data set, for chainrule's memory figures. */
export function memoryRequest(quick: boolean): MemoryRequest {
  return { batch: 64, batches: quick ? 4 : 32, epochs: 10, lr: LR };
}

// Shared vocabulary of the benchmark: workloads, contenders, and the messages between the
// orchestrator (main.ts) and the worker processes that host one contender each.

export type Dtype = 'float32' | 'float64';

/** C = A·B for two random n×n matrices; the result is read back each run. */
export interface MatmulWorkload {
  kind: 'matmul';
  id: string;
  n: number;
  dtype: Dtype;
}

/**
 * One SGD step (lr 0.01) of a 784-128-10 ReLU MLP with mean softmax cross-entropy.
 * The data set holds `batches` batches of `batch` samples; each run takes the next batch.
 */
export interface MlpWorkload {
  kind: 'mlp';
  id: string;
  batch: number;
  batches: number;
  lr: number;
}

/**
 * A chain of `ops` tiny elementwise ops on x of shape [size] (requires grad), cycling
 * through `x * 0.5`, `x + 0.1`, `tanh(x)`; then sum and backward.
 */
export interface ChainWorkload {
  kind: 'chain';
  id: string;
  ops: number;
  size: number;
}

/**
 * micrograd-style scalar graph: a 2-16-16-1 tanh MLP (linear output) over `samples`
 * points built from scalar Values, mean squared error, backward and an SGD update.
 */
export interface ScalarWorkload {
  kind: 'scalar';
  id: string;
  samples: number;
  sizes: number[];
  lr: number;
}

/**
 * A memory-bound layout op on float32 data, its result read back each run: 'concat' joins
 * `pieces` tensors of [rows, width] along the last axis; 'cumsum' is the running sum along the
 * last axis of one [rows, width·pieces] tensor.
 */
export interface LayoutWorkload {
  kind: 'layout';
  id: string;
  op: 'concat' | 'cumsum';
  rows: number;
  width: number;
  pieces: number;
}

/**
 * One float64 factorisation of an n×n matrix: `solve` (LU with partial pivoting, A·x = b for one
 * right side b of n values; A = U + n·I from uniform U in [-1, 1]) or `cholesky` (of the
 * positive-definite S = U·Uᵀ/n + I). The result is read back each run.
 */
export interface LinalgWorkload {
  kind: 'linalg';
  id: string;
  op: 'solve' | 'cholesky';
  n: number;
}

/**
 * A contraction of seeded operands (`shapes`, forward only, result read back) written as einsum
 * (`equation`) or as the equivalent matmul calls (the batched product; the chain as
 * a·(b·c), the order einsum picks), so the two rows show what einsum's planning costs.
 */
export interface EinsumWorkload {
  kind: 'einsum';
  id: string;
  equation: 'bij,bjk->bik' | 'ij,jk,kl->il';
  shapes: number[][];
  via: 'einsum' | 'matmul';
  dtype: Dtype;
  /** Floating-point operations of one run (the products in the cheapest order). */
  flop: number;
}

/**
 * An indexing op on float32 data with seeded int32 indices (repeats included), its result read
 * back each run. 'gather' picks `picks` of the `width` columns of each of `rows` rows
 * (torch.gather along axis 1); 'scatterAdd' adds a [rows, picks] src into zeros of
 * [rows, width] at such indices; both forward only. 'embedding' looks up `rows` indices in a
 * [vocab, width] weight that requires grad and backpropagates a fixed gradient of the
 * [rows, width] result: its gradient is a scatter-add of rows into the weight.
 */
export interface IndexingWorkload {
  kind: 'indexing';
  id: string;
  op: 'gather' | 'scatterAdd' | 'embedding';
  rows: number;
  width: number;
  picks: number;
  vocab: number;
}


/**
 * The two convolutions of LeNet, forward and backward, on seeded data (convData): a batch of
 * [1, 28, 28] images through 6 filters 5×5, and a batch of [6, 12, 12] maps through 16 filters
 * 5×5, each with its bias; the loss is the sum of both outputs, and the gradients are those of
 * both weights and biases and of the second input (as in a network, where it is a layer's output).
 */
export interface ConvWorkload {
  kind: 'conv';
  id: string;
  batch: number;
}

/**
 * One training step of a transformer encoder layer (PyTorch's TransformerEncoderLayer: post-norm,
 * relu, batch first, dropout 0 so every contender computes the same numbers) on seeded data
 * (transformerData): a [batch, seq, dModel] input, the mean squared error to a seeded target of
 * the same shape, backward, and an SGD step (lr) on every parameter. Weights are seeded too:
 * the same in every contender, biases 0, LayerNorms 1 and 0.
 */
export interface TransformerWorkload {
  kind: 'transformer';
  id: string;
  batch: number;
  seq: number;
  dModel: number;
  nhead: number;
  dimFeedforward: number;
  lr: number;
}

/**
 * One SGD step (lr 0.01) of LeNet-5 on seeded data (lenetData): [batch, 1, 28, 28] images through
 * conv 1→6 5×5 (padding 2), ReLU, 2×2 max pooling, conv 6→16 5×5, ReLU, 2×2 max pooling, then
 * dense 400→120→84→10 with ReLUs, mean softmax cross-entropy; forward, backward and the update.
 */
export interface LenetWorkload {
  kind: 'lenet';
  id: string;
  batch: number;
  lr: number;
}

/**
 * Forward mode on the 784-128-10 ReLU MLP at batch `batch` (the mlp row's weights and inputs):
 * `via` 'jvp' computes the logits and their directional derivative along seeded tangents of the
 * four parameters (seeds 111-114) in one forward-mode pass; 'forward' computes the
 * logits alone, the baseline the jvp's cost is read against. Results are read back each run.
 */
export interface JvpWorkload {
  kind: 'jvp';
  id: string;
  batch: number;
  via: 'jvp' | 'forward';
}


/**
 * Gradients of the 784-128-10 ReLU MLP's softmax cross-entropy on one seeded batch of `batch`
 * samples (perSampleData): 'per-sample' gives each sample's own gradient of its own loss (vmap
 * of grad, as JAX and torch.func write it; what DP-SGD clips), 'batch' the one gradient of the
 * mean loss it is compared with. Every gradient is read back.
 */
export interface PerSampleWorkload {
  kind: 'perSample';
  id: string;
  batch: number;
  mode: 'per-sample' | 'batch';
}

/**
 * A function run eagerly or compiled whole (`via` 'jit': chainrule's and jax-js's jit), on seeded
 * data (data.ts, seeds 131-135):
 * - 'elementwise': a 10-op arithmetic chain over `size` float32 values x (elementwiseData), in
 *   this order: ·1.5, +0.25, abs, ·x, -0.1, relu, ·0.5, neg, +x, square; its result read back;
 * - 'pinn': one physics-informed step for the heat equation u_t = 0.1·u_xx: u(x, t) a 2-32-32-1
 *   tanh MLP (pinnData), `size` collocation points, u_t and u_xx by nested gradients with respect
 *   to the inputs, loss mean((u_t - 0.1·u_xx)²), its value and the gradients of the six
 *   parameters read back;
 * - 'mlpStep': the mlp row's step (784-128-10 ReLU MLP, mean softmax cross-entropy, SGD at lr)
 *   written as a function of the parameters, batch `size`, mlpData's batches in turn; jit
 *   compiles the whole step (value, gradients and the update).
 */
export interface CompiledWorkload {
  kind: 'compiled';
  id: string;
  program: 'elementwise' | 'pinn' | 'mlpStep';
  via: 'eager' | 'jit';
  size: number;
  lr: number;
}

export type Workload = MatmulWorkload | MlpWorkload | ChainWorkload | ScalarWorkload | LayoutWorkload | LinalgWorkload | EinsumWorkload | IndexingWorkload | ConvWorkload | LenetWorkload | TransformerWorkload | JvpWorkload | PerSampleWorkload | CompiledWorkload;

/** What a contender's setup returns: a closure that performs one unit of work. */
export interface Runner {
  /** One unit of work, complete (results read back) when it returns or resolves. May return the loss. */
  run(): number | void | Promise<number | void>;
  /** Frees what setup allocated (peers with manual memory management need it). */
  dispose?(): void;
}

/** Returned by setup when a contender has no way to run a workload. */
export interface Unsupported {
  unsupported: string;
}

/** What every peer but chainrule answers for the scalar workload. */
export const NO_SCALAR_GRAPH: Unsupported = { unsupported: 'no scalar Value graph' };

/** What the JavaScript peers answer for the linear-algebra workloads. */
export const NO_FACTORISATIONS: Unsupported = { unsupported: 'no float64 LU or Cholesky factorisation' };

/** A contender's setup for each kind of workload. */
export type WorkloadSetups = { [K in Workload['kind']]: (w: Extract<Workload, { kind: K }>) => Runner | Unsupported };

/** One `setup` from a setup per kind of workload. @example const setup = setupByKind({ matmul: (w) => ..., ... }) */
export function setupByKind(setups: WorkloadSetups): (w: Workload) => Runner | Unsupported {
  return (w) => (setups[w.kind] as (w: Workload) => Runner | Unsupported)(w);
}

export interface ContenderInfo {
  version: string;
  /** Backend, device or threads: what a reader needs to interpret the figures. */
  backend: string;
  notes?: string[];
}

/** One file per contender exports one of these. */
export interface Contender {
  name: string;
  /** Loads the library (throws if it is not usable here). */
  load(): Promise<ContenderInfo>;
  setup(workload: Workload): Runner | Unsupported | Promise<Runner | Unsupported>;
}

/** Worker-side calibration: how long a run takes after warm-up and how many runs make a batch. */
export interface Calibration {
  firstRunMs: number;
  perRunMs: number;
  warmupRuns: number;
  batch: number;
  /** What the first run returned (the MLP's initial loss), to cross-check contenders. */
  firstValue?: number;
}

export interface TimingOptions {
  warmupMs: number;
  minWarmupRuns: number;
  targetBatchMs: number;
  /** A warm-up run slower than this ends the warm-up (the first run, often compilation, does not). */
  slowRunMs: number;
}

export interface MemoryRequest {
  batch: number;
  batches: number;
  epochs: number;
  lr: number;
}

export interface MemoryReport {
  rssStartMB: number;
  rssAfterSetupMB: number;
  rssAfterFirstEpochMB: number;
  rssAfterTrainMB: number;
  rssAfterGcMB?: number;
  heapUsedAfterTrainMB: number;
  heapUsedAfterGcMB?: number;
  epochs: number;
  samples: number;
  steps: number;
  trainSeconds: number;
}

export type Request =
  | { type: 'load' }
  | { type: 'setup'; workload: Workload; timing: TimingOptions }
  | { type: 'measure'; batch: number }
  | { type: 'teardown' }
  | { type: 'memory'; request: MemoryRequest }
  | { type: 'exit' };

export type Reply =
  | { type: 'loaded'; info: ContenderInfo }
  | { type: 'ready'; calibration: Calibration }
  | { type: 'unsupported'; reason: string }
  | { type: 'sample'; totalMs: number; batch: number }
  | { type: 'done' }
  | { type: 'memory'; report: MemoryReport }
  | { type: 'error'; message: string };

// Seeded inputs shared by every contender. Each value is a hash of (seed, index), so torch.py
// reproduces the same numbers with numpy (see `uniform` there): every contender sees the
// same matrices, weights, batches and labels.

/** lowbias32 (Chris Wellons): a 32-bit integer hash with good avalanche. */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** n values uniform in [lo, hi), computed in float64 and stored as float32 (or float64). */
export function uniform(n: number, seed: number, lo: number, hi: number, dtype: 'float32'): Float32Array;
export function uniform(n: number, seed: number, lo: number, hi: number, dtype: 'float64'): Float64Array;
export function uniform(
  n: number,
  seed: number,
  lo: number,
  hi: number,
  dtype: 'float32' | 'float64',
): Float32Array | Float64Array;
export function uniform(
  n: number,
  seed: number,
  lo: number,
  hi: number,
  dtype: 'float32' | 'float64',
): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const base = Math.imul(seed, 0x9e3779b1) >>> 0;
  const scale = (hi - lo) / 4294967296;
  for (let i = 0; i < n; i++) out[i] = lo + hash32((base + i) >>> 0) * scale;
  return out;
}

/** n integer labels in [0, classes). */
export function labels(n: number, seed: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  const base = Math.imul(seed, 0x9e3779b1) >>> 0;
  for (let i = 0; i < n; i++) out[i] = Math.floor((hash32((base + i) >>> 0) * classes) / 4294967296);
  return out;
}

/** Row-major one-hot encoding of `y` over `classes` columns. */
export function oneHot(y: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(y.length * classes);
  for (let i = 0; i < y.length; i++) out[i * classes + y[i]!] = 1;
  return out;
}

// Seeds: fixed per array so a change in one workload never shifts another's data.
export const SEEDS = { trX: 101, trTarget: 102, trAttn: 103, trFF1: 104, trFF2: 105, matA: 11, matB: 12, x: 21, y: 22, w1: 31, b1: 32, w2: 33, b2: 34, chain: 41, scalar: 51, layout: 61, index: 81, convX1: 71, convW1: 72, convB1: 73, convX2: 74, convW2: 75, convB2: 76, jvpW1: 111, jvpB1: 112, jvpW2: 113, jvpB2: 114, perSampleX: 121, perSampleY: 122, perSampleW1: 123, perSampleW2: 124, perSampleB: 125, elementwise: 131, pinnPoints: 132, pinnWeights: 133 };

/** The LeNet convolutions' shapes, NCHW inputs and [out, in, kh, kw] weights (PyTorch's layouts). */
export const CONV_SHAPES = { x1: [1, 28, 28], w1: [6, 1, 5, 5], x2: [6, 12, 12], w2: [16, 6, 5, 5] } as const;

/** Seeded inputs, weights (uniform ±1/√fan-in, as PyTorch initialises them) and biases of the conv workload. */
export function convData(batch: number): { x1: Float32Array; w1: Float32Array; b1: Float32Array; x2: Float32Array; w2: Float32Array; b2: Float32Array } {
  const k1 = 1 / Math.sqrt(25), k2 = 1 / Math.sqrt(150);
  return {
    x1: uniform(batch * 28 * 28, SEEDS.convX1, 0, 1, 'float32'),
    w1: uniform(6 * 25, SEEDS.convW1, -k1, k1, 'float32'),
    b1: uniform(6, SEEDS.convB1, -k1, k1, 'float32'),
    x2: uniform(batch * 6 * 144, SEEDS.convX2, -1, 1, 'float32'),
    w2: uniform(16 * 150, SEEDS.convW2, -k2, k2, 'float32'),
    b2: uniform(16, SEEDS.convB2, -k2, k2, 'float32'),
  };
}

export const MLP_SIZES = [784, 128, 10] as const;

export interface MlpData {
  /** batches × [batch, 784] */
  xs: Float32Array[];
  /** batches × [batch] integer labels */
  ys: Int32Array[];
  /** batches × [batch, 10] one-hot */
  yOneHot: Float32Array[];
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** Inputs uniform in [-1, 1); weights and biases uniform in ±1/sqrt(fanIn) (PyTorch's Linear default). */
export function mlpData(batch: number, batches: number): MlpData {
  const [nIn, nHidden, nOut] = MLP_SIZES;
  const x = uniform(batch * batches * nIn, SEEDS.x, -1, 1, 'float32');
  const y = labels(batch * batches, SEEDS.y, nOut);
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  const yOneHot: Float32Array[] = [];
  for (let b = 0; b < batches; b++) {
    xs.push(x.slice(b * batch * nIn, (b + 1) * batch * nIn));
    const yb = y.slice(b * batch, (b + 1) * batch);
    ys.push(yb);
    yOneHot.push(oneHot(yb, nOut));
  }
  const k1 = 1 / Math.sqrt(nIn);
  const k2 = 1 / Math.sqrt(nHidden);
  return {
    xs,
    ys,
    yOneHot,
    w1: uniform(nIn * nHidden, SEEDS.w1, -k1, k1, 'float32'),
    b1: uniform(nHidden, SEEDS.b1, -k1, k1, 'float32'),
    w2: uniform(nHidden * nOut, SEEDS.w2, -k2, k2, 'float32'),
    b2: uniform(nOut, SEEDS.b2, -k2, k2, 'float32'),
  };
}

/** The per-sample workload's batch and MLP (weights [in, out], PyTorch's Linear initialisation), seeds 121-125. */
export function perSampleData(batch: number): { x: Float32Array; y: Int32Array; yOneHot: Float32Array; w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const [nIn, nHidden, nOut] = MLP_SIZES;
  const k1 = 1 / Math.sqrt(nIn);
  const k2 = 1 / Math.sqrt(nHidden);
  const y = labels(batch, SEEDS.perSampleY, nOut);
  const biases = uniform(nHidden + nOut, SEEDS.perSampleB, -1, 1, 'float32');
  return {
    x: uniform(batch * nIn, SEEDS.perSampleX, -1, 1, 'float32'),
    y,
    yOneHot: oneHot(y, nOut),
    w1: uniform(nIn * nHidden, SEEDS.perSampleW1, -k1, k1, 'float32'),
    b1: biases.slice(0, nHidden).map((v) => v * k1),
    w2: uniform(nHidden * nOut, SEEDS.perSampleW2, -k2, k2, 'float32'),
    b2: biases.slice(nHidden).map((v) => v * k2),
  };
}

/** The chain workload's op sequence, shared so every contender runs the same ops. */
export type ChainOp = 'mul' | 'add' | 'tanh';
export const CHAIN_CYCLE: readonly ChainOp[] = ['mul', 'add', 'tanh'];
export const CHAIN_MUL = 0.5;
export const CHAIN_ADD = 0.1;

export function chainOps(count: number): ChainOp[] {
  return Array.from({ length: count }, (_, i) => CHAIN_CYCLE[i % CHAIN_CYCLE.length]!);
}

export interface ScalarData {
  /** samples × 2 inputs in [-1, 1) */
  x: Float64Array;
  /** samples targets in [-1, 1) */
  y: Float64Array;
  /** per layer: weights [fanOut][fanIn] flattened row-major, then biases [fanOut] */
  layers: { w: Float64Array; b: Float64Array; fanIn: number; fanOut: number }[];
}

export function scalarData(samples: number, sizes: number[]): ScalarData {
  const layers: ScalarData['layers'] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l]!;
    const fanOut = sizes[l + 1]!;
    layers.push({
      w: uniform(fanIn * fanOut, SEEDS.scalar + 10 * l + 1, -1, 1, 'float64'),
      b: uniform(fanOut, SEEDS.scalar + 10 * l + 2, -1, 1, 'float64'),
      fanIn,
      fanOut,
    });
  }
  return {
    x: uniform(samples * sizes[0]!, SEEDS.scalar, -1, 1, 'float64'),
    y: uniform(samples, SEEDS.scalar + 100, -1, 1, 'float64'),
    layers,
  };
}

/**
 * The transformer workload's seeded input, target and weights (PyTorch's layouts: in_proj_weight
 * [3d, d] then out_proj.weight [d, d] from one stream, linear1 [ff, d], linear2 [d, ff]), uniform
 * within PyTorch's initial bounds (xavier for the attention projections, ±1/√fan_in for the others).
 */
export function transformerData(w: { batch: number; seq: number; dModel: number; dimFeedforward: number }): {
  x: Float32Array; target: Float32Array; inProj: Float32Array; outProj: Float32Array; linear1: Float32Array; linear2: Float32Array;
} {
  const { batch, seq, dModel: d, dimFeedforward: ff } = w;
  const xavier = Math.sqrt(6 / (4 * d));
  const attn = uniform(4 * d * d, SEEDS.trAttn, -1, 1, 'float32');
  const scaled = (a: Float32Array, k: number) => a.map((v) => v * k);
  return {
    x: uniform(batch * seq * d, SEEDS.trX, -1, 1, 'float32'),
    target: uniform(batch * seq * d, SEEDS.trTarget, -1, 1, 'float32'),
    inProj: scaled(attn.slice(0, 3 * d * d), xavier),
    outProj: scaled(attn.slice(3 * d * d), 1 / Math.sqrt(d)),
    linear1: uniform(ff * d, SEEDS.trFF1, -1 / Math.sqrt(d), 1 / Math.sqrt(d), 'float32'),
    linear2: uniform(d * ff, SEEDS.trFF2, -1 / Math.sqrt(ff), 1 / Math.sqrt(ff), 'float32'),
  };
}

/**
 * Tangents of the MLP's parameters for the jvp rows, in mlpData's layouts: w1 [784, 128], b1,
 * w2 [128, 10], b2, uniform in [-1, 1] from seeds 111-114.
 */
export function jvpTangents(): { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array } {
  const [nIn, nHidden, nOut] = MLP_SIZES;
  return {
    w1: uniform(nIn * nHidden, SEEDS.jvpW1, -1, 1, 'float32'),
    b1: uniform(nHidden, SEEDS.jvpB1, -1, 1, 'float32'),
    w2: uniform(nHidden * nOut, SEEDS.jvpW2, -1, 1, 'float32'),
    b2: uniform(nOut, SEEDS.jvpB2, -1, 1, 'float32'),
  };
}

/** LeNet-5's parameters in PyTorch's layouts and state-dict names, each with its fan-in. */
export const LENET_PARAMS: readonly { name: string; shape: readonly number[]; fanIn: number }[] = [
  { name: '0.weight', shape: [6, 1, 5, 5], fanIn: 25 }, { name: '0.bias', shape: [6], fanIn: 25 },
  { name: '3.weight', shape: [16, 6, 5, 5], fanIn: 150 }, { name: '3.bias', shape: [16], fanIn: 150 },
  { name: '7.weight', shape: [120, 400], fanIn: 400 }, { name: '7.bias', shape: [120], fanIn: 400 },
  { name: '9.weight', shape: [84, 120], fanIn: 120 }, { name: '9.bias', shape: [84], fanIn: 120 },
  { name: '11.weight', shape: [10, 84], fanIn: 84 }, { name: '11.bias', shape: [10], fanIn: 84 },
];

/**
 * The lenet workload's images (uniform [0, 1), seed 91), labels (seed 92) and parameters: one
 * float64 stream (seed 93) cut in LENET_PARAMS order, each piece mapped to ±1/√fan-in (PyTorch's
 * bounds) in float64 and rounded to float32, which torch.py repeats to the bit.
 */
export function lenetData(batch: number): { x: Float32Array; y: Int32Array; params: Float32Array[] } {
  const sizes = LENET_PARAMS.map((p) => p.shape.reduce((a, b) => a * b, 1));
  const stream = uniform(sizes.reduce((a, b) => a + b, 0), 93, 0, 1, 'float64');
  let at = 0;
  const params = LENET_PARAMS.map((p, i) => {
    const k = 1 / Math.sqrt(p.fanIn);
    const piece = Float32Array.from(stream.subarray(at, at + sizes[i]!), (u) => -k + 2 * k * u);
    at += sizes[i]!;
    return piece;
  });
  return { x: uniform(batch * 784, 91, 0, 1, 'float32'), y: labels(batch, 92, 10), params };
}

/** The elementwise chain's input: `size` float32 values uniform in [-2, 2), seed 131. */
export function elementwiseData(size: number): Float32Array {
  return uniform(size, SEEDS.elementwise, -2, 2, 'float32');
}

/** The PINN's layer sizes: u(x, t) through two tanh layers of 32. */
export const PINN_SIZES = [2, 32, 32, 1] as const;

/** The diffusivity of the PINN's heat equation u_t = α·u_xx. */
export const PINN_ALPHA = 0.1;

/**
 * The PINN workload's collocation points (`points` rows of (x, t), both uniform in [0, 1), seed
 * 132) and parameters: weights [in, out] and biases from one float32 stream uniform in [-1, 1)
 * (seed 133), cut in the order w1, b1, w2, b2, w3, b3 and scaled by 1/√fan-in in float64, then
 * rounded to float32 (PyTorch's Linear bounds), which torch.py repeats to the bit.
 */
export function pinnData(points: number): { xt: Float32Array; params: { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; w3: Float32Array; b3: Float32Array } } {
  const [a, b, c, d] = PINN_SIZES;
  const sizes = [a * b, b, b * c, c, c * d, d];
  const fanIns = [a, a, b, b, c, c];
  const stream = uniform(sizes.reduce((p, q) => p + q, 0), SEEDS.pinnWeights, -1, 1, 'float32');
  let at = 0;
  const [w1, b1, w2, b2, w3, b3] = sizes.map((n, i) => {
    const k = 1 / Math.sqrt(fanIns[i]!);
    const piece = stream.slice(at, at + n).map((v) => v * k);
    at += n;
    return piece;
  }) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  return { xt: uniform(points * 2, SEEDS.pinnPoints, 0, 1, 'float32'), params: { w1, b1, w2, b2, w3, b3 } };
}

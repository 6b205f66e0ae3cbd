// chainrule itself, through its public API only (the way a user would write each workload):
// the MLP with @chainrule/nn's MLP, crossEntropyLoss and SGD.

import { cholesky, concat, conv2d, crossEntropy, cumsum, dispose, einsum, embedding, eye, gather, grad, jit, jvp, kernelThreads, linear, logSoftmax, scatterAdd, solve, tensor, Value, valueAndGrad, vmap, wasmGemmFlavour, zeros, type Tensor } from '@chainrule/autograd';
import { Conv2d, crossEntropyLoss, Flatten, Linear, MaxPool2d, MLP, mseLoss, ReLU, Sequential, SGD, TransformerEncoderLayer } from '@chainrule/nn';
import { scalarStep } from './scalar-workload.js';
import { chainOps, CHAIN_ADD, CHAIN_MUL, CONV_SHAPES, convData, elementwiseData, jvpTangents, labels, LENET_PARAMS, lenetData, MLP_SIZES, mlpData, perSampleData, PINN_ALPHA, pinnData, PINN_SIZES, SEEDS, transformerData, uniform } from './data.js';
import { peerVersion } from './peers.js';
import { setupByKind, type CompiledWorkload, type Contender, type ContenderInfo, type EinsumWorkload, type IndexingWorkload, type JvpWorkload, type LayoutWorkload, type PerSampleWorkload, type Runner, type TransformerWorkload } from './types.js';

async function load(): Promise<ContenderInfo> {
  const kernels = process.env.CHAINRULE_KERNELS || 'auto';
  // One large product starts the helper thread (if the setting allows one); give it time to
  // come up so the report says what the runs will use.
  const n = 128;
  const a = tensor(new Float32Array(n * n), { shape: [n, n] });
  for (let tries = 0; tries < 200 && kernelThreads() === 1 && process.env.CHAINRULE_THREADS !== '1'; tries++) {
    a.matmul(a);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const threads = kernelThreads();
  return {
    version: `${peerVersion('@chainrule/autograd')} (workspace)`,
    backend: `kernels: ${kernels} (CHAINRULE_KERNELS), WebAssembly ${wasmGemmFlavour() ?? 'unavailable'}, ${threads} thread${threads === 1 ? '' : 's'} for products of 64³ and up`,
  };
}

function matmul(n: number, dtype: 'float32' | 'float64'): Runner {
  const a = tensor(uniform(n * n, SEEDS.matA, -1, 1, dtype), { shape: [n, n] });
  const b = tensor(uniform(n * n, SEEDS.matB, -1, 1, dtype), { shape: [n, n] });
  return {
    run: () => {
      a.matmul(b).data[0];
    },
  };
}

/** An [rows, cols] row-major matrix transposed: the data's x·W layout into Linear's [out, in]. */
function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

function mlp(batch: number, batches: number, lr: number): Runner {
  const d = mlpData(batch, batches);
  const [nIn, nHidden, nOut] = MLP_SIZES;
  const model = new MLP([nIn, nHidden, nOut], { seed: 0 });
  const [fc1, fc2] = [model.layers.at(0), model.layers.at(2)] as [Linear, Linear];
  fc1.weight.data.set(transposed(d.w1, nIn, nHidden));
  fc1.bias!.data.set(d.b1);
  fc2.weight.data.set(transposed(d.w2, nHidden, nOut));
  fc2.bias!.data.set(d.b2);
  const opt = new SGD(model.parameters(), { lr });
  const xs = d.xs.map((x) => tensor(x, { shape: [batch, nIn] }));
  let i = 0;
  return {
    run: () => {
      const k = i++ % batches;
      opt.zeroGrad();
      const loss = crossEntropyLoss(model.forward(xs[k]!), d.ys[k]!);
      loss.backward();
      opt.step();
      return loss.item();
    },
  };
}

/** Reads a result back, then disposes it: its storage serves the next run, as the TF.js rows' `dispose()`. */
function readAndDispose(t: Tensor): void {
  void t.data[0];
  t.dispose();
}

function chain(ops: number, size: number): Runner {
  const seq = chainOps(ops);
  const x = tensor(uniform(size, SEEDS.chain, -1, 1, 'float32'), { requiresGrad: true });
  return {
    run: () => {
      let y = x;
      for (const op of seq) y = op === 'mul' ? y.mul(CHAIN_MUL) : op === 'add' ? y.add(CHAIN_ADD) : y.tanh();
      y.sum().backward();
      x.grad = null;
    },
  };
}

function scalar(samples: number, sizes: number[], lr: number): Runner {
  return { run: scalarStep(Value, samples, sizes, lr) };
}

function layout(w: LayoutWorkload): Runner {
  if (w.op === 'concat') {
    const parts = Array.from({ length: w.pieces }, (_, p) => tensor(uniform(w.rows * w.width, SEEDS.layout + p, -1, 1, 'float32'), { shape: [w.rows, w.width] }));
    return { run: () => readAndDispose(concat(parts, -1)) };
  }
  const x = tensor(uniform(w.rows * w.width * w.pieces, SEEDS.layout, -1, 1, 'float32'), { shape: [w.rows, w.width * w.pieces] });
  return { run: () => void cumsum(x, -1).data[0] };
}

/** The linear-algebra workloads' inputs (types.ts, LinalgWorkload), the same in every contender. */
function linalg(op: 'solve' | 'cholesky', n: number): Runner {
  const u = tensor(uniform(n * n, SEEDS.matA, -1, 1, 'float64'), { shape: [n, n] });
  const identity = eye(n, n, { dtype: 'float64' });
  if (op === 'solve') {
    const a = u.add(identity.mul(n));
    const b = tensor(uniform(n, SEEDS.matB, -1, 1, 'float64'));
    return { run: () => readAndDispose(solve(a, b)) };
  }
  const s = u.matmul(u.transpose()).div(n).add(identity);
  return { run: () => readAndDispose(cholesky(s)) };
}

function contraction(w: EinsumWorkload): Runner {
  const [a, b, c] = w.shapes.map((shape, i) => tensor(uniform(shape.reduce((p, d) => p * d, 1), SEEDS.matA + i, -1, 1, w.dtype), { shape }));
  if (w.via === 'einsum') return { run: () => void einsum(w.equation, ...[a!, b!, c].filter((t) => t !== undefined)).data[0] };
  return { run: () => void (c === undefined ? a!.matmul(b!) : a!.matmul(b!.matmul(c))).data[0] };
}

function indexing(w: IndexingWorkload): Runner {
  if (w.op === 'embedding') {
    const weight = tensor(uniform(w.vocab * w.width, SEEDS.index, -1, 1, 'float32'), { shape: [w.vocab, w.width], requiresGrad: true });
    const ids = tensor(labels(w.rows, SEEDS.index, w.vocab), { dtype: 'int32' });
    const g = tensor(uniform(w.rows * w.width, SEEDS.index + 1, -1, 1, 'float32'), { shape: [w.rows, w.width] });
    return {
      run: () => {
        const y = embedding(weight, ids);
        y.backward(g);
        const dw = weight.grad!;
        weight.grad = null;
        y.dispose();
        readAndDispose(dw);
      },
    };
  }
  const index = tensor(labels(w.rows * w.picks, SEEDS.index, w.width), { shape: [w.rows, w.picks], dtype: 'int32' });
  if (w.op === 'gather') {
    const x = tensor(uniform(w.rows * w.width, SEEDS.index, -1, 1, 'float32'), { shape: [w.rows, w.width] });
    return { run: () => readAndDispose(gather(x, 1, index)) };
  }
  const base = zeros([w.rows, w.width]);
  const src = tensor(uniform(w.rows * w.picks, SEEDS.index + 1, -1, 1, 'float32'), { shape: [w.rows, w.picks] });
  return { run: () => readAndDispose(scatterAdd(base, 1, index, src)) };
}

function conv(batch: number): Runner {
  const d = convData(batch);
  const x1 = tensor(d.x1, { shape: [batch, ...CONV_SHAPES.x1] });
  const x2 = tensor(d.x2, { shape: [batch, ...CONV_SHAPES.x2], requiresGrad: true });
  const w1 = tensor(d.w1, { shape: [...CONV_SHAPES.w1], requiresGrad: true });
  const w2 = tensor(d.w2, { shape: [...CONV_SHAPES.w2], requiresGrad: true });
  const b1 = tensor(d.b1, { requiresGrad: true });
  const b2 = tensor(d.b2, { requiresGrad: true });
  const params = [x2, w1, w2, b1, b2];
  return {
    run: () => {
      for (const p of params) p.grad = null;
      const loss = conv2d(x1, w1, b1).sum().add(conv2d(x2, w2, b2).sum());
      loss.backward();
      return loss.item();
    },
  };
}

function transformer(w: TransformerWorkload): Runner {
  const d = transformerData(w);
  const layer = new TransformerEncoderLayer(w.dModel, w.nhead, { dimFeedforward: w.dimFeedforward, dropout: 0, batchFirst: true });
  const state = layer.stateDict();
  for (const [key, t] of Object.entries(state)) t.data.fill(key.startsWith('norm') && key.endsWith('weight') ? 1 : 0);
  state['self_attn.in_proj_weight']!.data.set(d.inProj);
  state['self_attn.out_proj.weight']!.data.set(d.outProj);
  state['linear1.weight']!.data.set(d.linear1);
  state['linear2.weight']!.data.set(d.linear2);
  const x = tensor(d.x, { shape: [w.batch, w.seq, w.dModel] });
  const target = tensor(d.target, { shape: [w.batch, w.seq, w.dModel] });
  const opt = new SGD(layer.parameters(), { lr: w.lr });
  return {
    run: () => {
      opt.zeroGrad();
      const loss = mseLoss(layer.forward(x), target);
      loss.backward();
      opt.step();
      return loss.item();
    },
  };
}

/** The MLP's logits as a function of its parameters; with `via` 'jvp', their tangent too, by forward mode. */
function forwardMode(w: JvpWorkload): Runner {
  const d = mlpData(w.batch, 1);
  const t = jvpTangents();
  const [nIn, nHidden, nOut] = MLP_SIZES;
  // linear takes weights as [out, in], PyTorch's layout.
  const x = tensor(d.xs[0]!, { shape: [w.batch, nIn] });
  const params = [
    tensor(transposed(d.w1, nIn, nHidden), { shape: [nHidden, nIn] }), tensor(d.b1),
    tensor(transposed(d.w2, nHidden, nOut), { shape: [nOut, nHidden] }), tensor(d.b2),
  ] as [Tensor, Tensor, Tensor, Tensor];
  const tangents = [
    tensor(transposed(t.w1, nIn, nHidden), { shape: [nHidden, nIn] }), tensor(t.b1),
    tensor(transposed(t.w2, nHidden, nOut), { shape: [nOut, nHidden] }), tensor(t.b2),
  ] as [Tensor, Tensor, Tensor, Tensor];
  const logits = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor => linear(linear(x, w1, b1, 'relu'), w2, b2);
  if (w.via === 'forward') return { run: () => logits(...params).data[0]! };
  return { run: () => jvp(logits, params, tangents).tangent.data[0]! };
}

/** LeNet-5 from @chainrule/nn's layers, its weights loaded from the seeded state dict. */
function lenet(batch: number, lr: number): Runner {
  const d = lenetData(batch);
  const net = new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2), new Flatten(),
    new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  );
  net.loadStateDict(Object.fromEntries(LENET_PARAMS.map((p, i) => [p.name, tensor(d.params[i]!, { shape: [...p.shape] })])));
  const x = tensor(d.x, { shape: [batch, 1, 28, 28] });
  const y = tensor(d.y, { dtype: 'int32' });
  const opt = new SGD(net.parameters(), { lr });
  return {
    run: () => {
      opt.zeroGrad();
      const loss = crossEntropyLoss(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    },
  };
}

interface MlpParams { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }

/** Per-sample gradients as a researcher writes them: vmap of grad of one sample's loss. */
function perSample(w: PerSampleWorkload): Runner {
  const d = perSampleData(w.batch);
  const [nIn, nHidden, nOut] = MLP_SIZES;
  const p: MlpParams = { w1: tensor(d.w1, { shape: [nIn, nHidden] }), b1: tensor(d.b1), w2: tensor(d.w2, { shape: [nHidden, nOut] }), b2: tensor(d.b2) };
  const x = tensor(d.x, { shape: [w.batch, nIn] });
  const y = tensor(d.y, { dtype: 'int32' });
  const logits = (q: MlpParams, xs: Tensor): Tensor => xs.matmul(q.w1).add(q.b1).relu().matmul(q.w2).add(q.b2);
  const readBack = (g: MlpParams): void => {
    for (const t of [g.w1, g.b1, g.w2, g.b2]) void t.data[0];
    dispose(g);
  };
  if (w.mode === 'batch') {
    const g = grad((q: MlpParams) => crossEntropy(logits(q, x), y));
    return { run: () => readBack(g(p)) };
  }
  const one = (q: MlpParams, xi: Tensor, yi: Tensor): Tensor => crossEntropy(logits(q, xi.reshape([1, nIn])), yi.reshape([1]));
  const perExample = vmap(grad(one), { inAxes: [null, 0, 0] });
  return { run: () => readBack(perExample(p, x, y)) };
}

/** The compiled-program rows (types.ts, CompiledWorkload): one function, called as it is or through jit. */
function compiled(w: CompiledWorkload): Runner {
  const compile = <A extends unknown[], R>(f: (...args: A) => R): ((...args: A) => R) => (w.via === 'jit' ? jit(f) : f);
  if (w.program === 'elementwise') {
    const x = tensor(elementwiseData(w.size));
    const chain = compile((v: Tensor) => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).square());
    return { run: () => chain(x).data[0]! };
  }
  if (w.program === 'pinn') {
    const { params: p, points: xt, loss } = pinnProblem(w.size);
    const step = compile(valueAndGrad(loss));
    return {
      run: () => {
        const { value, grads } = step(p, xt);
        for (const g of Object.values(grads)) g.data[0];
        return value.item();
      },
    };
  }
  const d = mlpData(w.size, 4);
  const [nIn, nHidden, nOut] = MLP_SIZES;
  let params: MlpParams = { w1: tensor(d.w1, { shape: [nIn, nHidden] }), b1: tensor(d.b1), w2: tensor(d.w2, { shape: [nHidden, nOut] }), b2: tensor(d.b2) };
  const xs = d.xs.map((x) => tensor(x, { shape: [w.size, nIn] }));
  // Cross-entropy against one-hot targets through logSoftmax, as the jax-js row writes it.
  const ys = d.yOneHot.map((y) => tensor(y, { shape: [w.size, nOut] }));
  const loss = (q: MlpParams, x: Tensor, y: Tensor): Tensor => logSoftmax(x.matmul(q.w1).add(q.b1).relu().matmul(q.w2).add(q.b2), 1).mul(y).sum(1).neg().mean();
  const lossAndGrad = valueAndGrad(loss);
  const step = compile((q: MlpParams, x: Tensor, y: Tensor) => {
    const { value, grads } = lossAndGrad(q, x, y);
    const next: MlpParams = { w1: q.w1.sub(grads.w1.mul(w.lr)), b1: q.b1.sub(grads.b1.mul(w.lr)), w2: q.w2.sub(grads.w2.mul(w.lr)), b2: q.b2.sub(grads.b2.mul(w.lr)) };
    return { params: next, loss: value };
  });
  let i = 0;
  return {
    run: () => {
      const k = i++ % xs.length;
      const out = step(params, xs[k]!, ys[k]!);
      params = out.params;
      return out.loss.item();
    },
  };
}

/** The PINN network's parameters (u(x, t): 2-32-32-1, tanh). */
export interface PinnParams { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor; w3: Tensor; b3: Tensor }

/**
 * The PINN workload's problem (heat equation u_t = α·u_xx at `size` collocation points): its
 * seeded parameters and points, and the residual loss, with u_t and u_xx by nested gradients.
 */
export function pinnProblem(size: number): { params: PinnParams; points: Tensor; loss: (q: PinnParams, pts: Tensor) => Tensor } {
  const d = pinnData(size);
  const [a, b, c, o] = PINN_SIZES;
  const params: PinnParams = {
    w1: tensor(d.params.w1, { shape: [a, b] }), b1: tensor(d.params.b1), w2: tensor(d.params.w2, { shape: [b, c] }),
    b2: tensor(d.params.b2), w3: tensor(d.params.w3, { shape: [c, o] }), b3: tensor(d.params.b3),
  };
  const u = (q: PinnParams, pts: Tensor): Tensor => pts.matmul(q.w1).add(q.b1).tanh().matmul(q.w2).add(q.b2).tanh().matmul(q.w3).add(q.b3);
  const loss = (q: PinnParams, pts: Tensor): Tensor => {
    // Each u(x_i, t_i) depends on its own point only: the gradient of Σu holds every point's (u_x, u_t).
    const du = grad((y: Tensor) => u(q, y).sum());
    const ut = du(pts).narrow(1, 1, 1);
    const uxx = grad((y: Tensor) => du(y).narrow(1, 0, 1).sum())(pts).narrow(1, 0, 1);
    return ut.sub(uxx.mul(PINN_ALPHA)).square().mean();
  };
  return { params, points: tensor(d.xt, { shape: [size, 2] }), loss };
}

const setup = setupByKind({
  matmul: (w) => matmul(w.n, w.dtype),
  mlp: (w) => mlp(w.batch, w.batches, w.lr),
  chain: (w) => chain(w.ops, w.size),
  scalar: (w) => scalar(w.samples, w.sizes, w.lr),
  conv: (w) => conv(w.batch),
  lenet: (w) => lenet(w.batch, w.lr),
  layout,
  linalg: (w) => linalg(w.op, w.n),
  einsum: contraction,
  indexing,
  transformer,
  jvp: forwardMode,
  perSample,
  compiled,
});

export const contender: Contender = { name: 'chainrule', load, setup };

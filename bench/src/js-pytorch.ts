// js-pytorch: a PyTorch-like autograd in plain JavaScript over nested arrays of numbers
// (so it computes in float64 whatever the input). CPU device; it has no SGD (only Adam), so
// the step updates parameters by hand, as the other contenders' SGD does.

import { CHAIN_ADD, CHAIN_MUL, chainOps, mlpData, SEEDS, uniform } from './data.js';
import { peerVersion, requirePeer } from './peers.js';
import { setupByKind, NO_SCALAR_GRAPH, NO_FACTORISATIONS, type Contender, type ContenderInfo, type Runner } from './types.js';

type JsPytorch = typeof import('js-pytorch');
type Tensor = InstanceType<JsPytorch['torch']['Tensor']>;
type Nested = number | Nested[];

let torch: JsPytorch['torch'];

async function load(): Promise<ContenderInfo> {
  torch = requirePeer<JsPytorch>('js-pytorch').torch;
  return {
    version: peerVersion('js-pytorch'),
    backend: 'cpu device, nested JS arrays (float64 arithmetic)',
    notes: ['no tanh: the chain composes it from 5 ops', 'its ReLU leaks 1e-3 for x <= 0'],
  };
}

/** Row-major data as nested arrays of the given shape. */
function nested(data: Float32Array, shape: number[]): Nested[] {
  const [rows, ...rest] = shape;
  if (rest.length === 0) return Array.from(data);
  const stride = data.length / rows!;
  return Array.from({ length: rows! }, (_, i) => nested(data.subarray(i * stride, (i + 1) * stride), rest));
}

/** In place: w -= lr * g over nested arrays of the same shape. */
function sgd(w: Nested[], g: Nested[], lr: number): void {
  for (let i = 0; i < w.length; i++) {
    const wi = w[i]!;
    const gi = g[i]!;
    if (typeof wi === 'number') w[i] = wi - lr * (gi as number);
    else sgd(wi, gi as Nested[], lr);
  }
}

function matmul(n: number): Runner {
  const a = torch.tensor(nested(uniform(n * n, SEEDS.matA, -1, 1, 'float32'), [n, n]));
  const b = torch.tensor(nested(uniform(n * n, SEEDS.matB, -1, 1, 'float32'), [n, n]));
  return {
    run: () => {
      a.matmul(b);
    },
  };
}

function mlp(batch: number, batches: number, lr: number): Runner {
  const d = mlpData(batch, batches);
  const params = [
    torch.tensor(nested(d.w1, [784, 128]), true),
    torch.tensor(Array.from(d.b1), true),
    torch.tensor(nested(d.w2, [128, 10]), true),
    torch.tensor(Array.from(d.b2), true),
  ] as const;
  const [w1, b1, w2, b2] = params;
  const xs = d.xs.map((x) => torch.tensor(nested(x, [batch, 784])));
  const ys = d.ys.map((y) => torch.tensor(Array.from(y)));
  const relu = new torch.nn.ReLU();
  const crossEntropy = new torch.nn.CrossEntropyLoss();
  let i = 0;
  return {
    run: () => {
      const k = i++ % batches;
      const h = relu.forward(xs[k]!.matmul(w1).add(b1));
      const logits = h.matmul(w2).add(b2);
      const loss = crossEntropy.forward(logits, ys[k]!);
      loss.backward();
      for (const p of params) sgd(p._data, p._grad._data, lr);
      const value = loss.data[0] as number;
      // Frees the graph and resets every gradient (parameters included).
      loss.zero_grad_graph();
      return value;
    },
  };
}

function chain(ops: number, size: number): Runner {
  const seq = chainOps(ops);
  const x = torch.tensor(Array.from(uniform(size, SEEDS.chain, -1, 1, 'float32')), true);
  const tanh = (y: Tensor): Tensor => {
    const e = y.mul(2).exp();
    return e.sub(1).div(e.add(1));
  };
  return {
    run: () => {
      let y: Tensor = x;
      for (const op of seq) y = op === 'mul' ? y.mul(CHAIN_MUL) : op === 'add' ? y.add(CHAIN_ADD) : tanh(y);
      const s = y.sum();
      s.backward();
      s.zero_grad_graph();
    },
  };
}

const setup = setupByKind({
  matmul: (w) => (w.dtype === 'float32' ? matmul(w.n) : { unsupported: 'no dtypes (its float32 rows already compute in float64)' }),
  mlp: (w) => mlp(w.batch, w.batches, w.lr),
  chain: (w) => chain(w.ops, w.size),
  scalar: () => NO_SCALAR_GRAPH,
  conv: () => ({ unsupported: 'no convolution op' }),
  lenet: () => ({ unsupported: 'no convolution op' }),
  layout: (w) => ({ unsupported: `no ${w.op} op` }),
  linalg: () => NO_FACTORISATIONS,
  einsum: () => ({ unsupported: 'no einsum' }),
  jvp: () => ({ unsupported: 'no forward mode' }),
  indexing: (w) => ({ unsupported: `no ${w.op}` }),
  transformer: () => ({ unsupported: "its transformer Block is a causal pre-norm GPT block with its own layout, not PyTorch's encoder layer" }),
  perSample: () => ({ unsupported: 'no vmap' }),
  compiled: () => ({ unsupported: 'no jit, nor gradients with respect to inputs nested' }),
});

export const contender: Contender = { name: 'js-pytorch', load, setup };

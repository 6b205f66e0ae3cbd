// jax-js (@jax-js/jax) on its WebAssembly device: the fastest JavaScript peer. Node has no
// global Worker, so its WASM device runs on one thread here. Matmul and the MLP step run
// under jit (how jax is meant to be used); the tiny-op chain runs eagerly through grad(),
// since it measures per-op dispatch.
//
// NOTE: jax-js arrays are reference counted and every call consumes its array arguments:
// an array used again later is passed as `a.ref`. dataSync() consumes the array too.

import { chainOps, CHAIN_ADD, CHAIN_MUL, convData, elementwiseData, jvpTangents, labels, LENET_PARAMS, lenetData, mlpData, oneHot, perSampleData, PINN_ALPHA, pinnData, PINN_SIZES, SEEDS, transformerData, uniform } from './data.js';
import { peerVersion, requirePeer } from './peers.js';
import { setupByKind, NO_SCALAR_GRAPH, type CompiledWorkload, type Contender, type EinsumWorkload, type IndexingWorkload, type JvpWorkload, type LayoutWorkload, type PerSampleWorkload, type Runner, type TransformerWorkload, type Unsupported } from './types.js';

type Jax = typeof import('@jax-js/jax');
type JArray = import('@jax-js/jax').Array;

let jax: Jax;

async function load(): Promise<{ version: string; backend: string; notes: string[] }> {
  jax = requirePeer<Jax>('@jax-js/jax');
  // init() with no argument also probes WebGPU, which throws in Node (no `navigator`).
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  return {
    version: peerVersion('@jax-js/jax'),
    backend: 'wasm device, 1 thread (no global Worker in Node)',
    notes: ['matmul and MLP step under jit; the chain eager through grad() (under jit it fuses into one kernel, after a compile of seconds)'],
  };
}

/** A float32 buffer as a jax array of the given shape and dtype. */
function array(data: Float32Array, shape: number[], dtype: 'float32' | 'float64' = 'float32'): JArray {
  const { numpy: np } = jax;
  const a = np.array(data).reshape(shape);
  // NOTE: np.array(Float64Array) tests `instanceof Float16Array`, which Node 20 lacks: cast instead.
  return dtype === 'float64' ? a.astype(np.float64) : a;
}

function matmul(n: number, dtype: 'float32' | 'float64'): Runner {
  const { numpy: np, jit } = jax;
  const a = array(uniform(n * n, SEEDS.matA, -1, 1, 'float32'), [n, n], dtype);
  const b = array(uniform(n * n, SEEDS.matB, -1, 1, 'float32'), [n, n], dtype);
  const mm = jit((x: JArray, y: JArray) => np.matmul(x, y));
  return {
    run: () => {
      mm(a.ref, b.ref).dataSync();
    },
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

/** The linear-algebra workloads (types.ts, LinalgWorkload) in float64: cholesky under jit, solve eager. */
function linalg(op: 'solve' | 'cholesky', n: number): Runner {
  const { numpy: np, jit } = jax;
  const identity = np.eye(n).astype(np.float64);
  const u = array(uniform(n * n, SEEDS.matA, -1, 1, 'float32'), [n, n], 'float64');
  const b = array(uniform(n, SEEDS.matB, -1, 1, 'float32'), [n], 'float64');
  const a = op === 'solve' ? np.add(u.ref, np.multiply(identity.ref, n)) : np.add(np.divide(np.matmul(u.ref, np.matrixTranspose(u.ref)), n), identity.ref);
  // NOTE: eager: jax-js 0.1.25 fails to jit solve ("routine primitive triangular_solve input is not imm...").
  const solve = (x: JArray, y: JArray): JArray => np.linalg.solve(x, y);
  const cholesky = jit((x: JArray) => np.linalg.cholesky(x));
  return {
    run: () => {
      (op === 'solve' ? solve(a.ref, b.ref) : cholesky(a.ref)).dataSync();
    },
    dispose: () => {
      for (const t of [identity, u, b, a]) t.dispose();
    },
  };
}

type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray };

function mlp(batch: number, batches: number, lr: number): Runner {
  const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
  const d = mlpData(batch, batches);
  let params: Params = {
    w1: array(d.w1, [784, 128]),
    b1: array(d.b1, [128]),
    w2: array(d.w2, [128, 10]),
    b2: array(d.b2, [10]),
  };
  const xs = d.xs.map((x) => array(x, [batch, 784]));
  const ys = d.yOneHot.map((y) => array(y, [batch, 10]));
  const loss = (p: Params, x: JArray, y: JArray): JArray => {
    const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    const logits = np.matmul(h, p.w2).add(p.b2);
    return nn.logSoftmax(logits, -1).mul(y).sum().neg().div(batch);
  };
  const step = jit((p: Params, x: JArray, y: JArray): [Params, JArray] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), x, y);
    const next = tree.map((w: JArray, g: JArray) => w.sub(g.mul(lr)), p, grads) as Params;
    return [next, value];
  });
  let i = 0;
  return {
    run: () => {
      const k = i++ % batches;
      const [next, value] = step(params, xs[k]!.ref, ys[k]!.ref);
      params = next;
      return value.dataSync()[0]!;
    },
    dispose: () => {
      tree.dispose(params);
      for (const a of [...xs, ...ys]) a.dispose();
    },
  };
}

function chain(ops: number, size: number): Runner {
  const { numpy: np, grad } = jax;
  const seq = chainOps(ops);
  const x = array(uniform(size, SEEDS.chain, -1, 1, 'float32'), [size]);
  const f = (v: JArray): JArray => {
    let y = v;
    for (const op of seq) y = op === 'mul' ? y.mul(CHAIN_MUL) : op === 'add' ? y.add(CHAIN_ADD) : np.tanh(y);
    return y.sum();
  };
  const df = grad(f);
  return {
    run: () => {
      df(x.ref).dataSync();
    },
    dispose: () => x.dispose(),
  };
}

function layout(w: LayoutWorkload): Runner {
  const { numpy: np, jit } = jax;
  if (w.op === 'concat') {
    const parts = Array.from({ length: w.pieces }, (_, p) => array(uniform(w.rows * w.width, SEEDS.layout + p, -1, 1, 'float32'), [w.rows, w.width]));
    const join = jit((xs: JArray[]) => np.concatenate(xs, -1));
    return {
      run: () => {
        join(parts.map((p) => p.ref)).dataSync();
      },
      dispose: () => parts.forEach((p) => p.dispose()),
    };
  }
  const x = array(uniform(w.rows * w.width * w.pieces, SEEDS.layout, -1, 1, 'float32'), [w.rows, w.width * w.pieces]);
  const scan = jit((v: JArray) => np.cumsum(v, -1));
  return {
    run: () => {
      scan(x.ref).dataSync();
    },
    dispose: () => x.dispose(),
  };
}

/** The einsum rows: np.einsum or the matmul calls it stands for, under jit. */
function contraction(w: EinsumWorkload): Runner | Unsupported {
  const { numpy: np, jit } = jax;
  // NOTE: its einsum parser calls Iterator.prototype.map, which Node 20 lacks (Node 22 has it).
  const iterator = (globalThis as { Iterator?: { prototype: { map?: unknown } } }).Iterator;
  if (w.via === 'einsum' && typeof iterator?.prototype.map !== 'function') {
    return { unsupported: 'np.einsum needs iterator helpers (Node 22+)' };
  }
  const xs = w.shapes.map((s, i) => array(uniform(s.reduce((p, d) => p * d, 1), SEEDS.matA + i, -1, 1, 'float32'), s));
  const [a, b, c] = xs as [JArray, JArray, JArray | undefined];
  let run: () => JArray;
  if (c === undefined) {
    const f = jit(w.via === 'einsum' ? (x: JArray, y: JArray) => np.einsum(w.equation, x, y) : (x: JArray, y: JArray) => np.matmul(x, y));
    run = () => f(a.ref, b.ref);
  } else {
    const f = jit(w.via === 'einsum' ? (x: JArray, y: JArray, z: JArray) => np.einsum(w.equation, x, y, z) : (x: JArray, y: JArray, z: JArray) => np.matmul(x, np.matmul(y, z)));
    run = () => f(a.ref, b.ref, c.ref);
  }
  return {
    run: () => {
      run().dataSync();
    },
    dispose: () => xs.forEach((x) => x.dispose()),
  };
}

/** The indexing rows under jit: np.takeAlongAxis for gather, grad of np.take for embedding. */
function indexing(w: IndexingWorkload): Runner | Unsupported {
  const { numpy: np, jit, grad } = jax;
  if (w.op === 'scatterAdd') return { unsupported: 'no scatter-add in the public API' };
  if (w.op === 'embedding') {
    const weight = array(uniform(w.vocab * w.width, SEEDS.index, -1, 1, 'float32'), [w.vocab, w.width]);
    const ids = np.array(labels(w.rows, SEEDS.index, w.vocab));
    const g = array(uniform(w.rows * w.width, SEEDS.index + 1, -1, 1, 'float32'), [w.rows, w.width]);
    const backward = jit((v: JArray, i: JArray, gg: JArray) => grad((u: JArray) => np.take(u, i, 0).mul(gg).sum())(v));
    return {
      run: () => {
        backward(weight.ref, ids.ref, g.ref).dataSync();
      },
      dispose: () => [weight, ids, g].forEach((a) => a.dispose()),
    };
  }
  const x = array(uniform(w.rows * w.width, SEEDS.index, -1, 1, 'float32'), [w.rows, w.width]);
  const index = np.array(labels(w.rows * w.picks, SEEDS.index, w.width)).reshape([w.rows, w.picks]);
  const pick = jit((v: JArray, i: JArray) => np.takeAlongAxis(v, i, 1));
  return {
    run: () => {
      pick(x.ref, index.ref).dataSync();
    },
    dispose: () => [x, index].forEach((a) => a.dispose()),
  };
}

type ConvParams = { x2: JArray; w1: JArray; b1: JArray; w2: JArray; b2: JArray };

function conv(batch: number): Runner {
  const { lax, jit, valueAndGrad, tree } = jax;
  const d = convData(batch);
  const x1 = array(d.x1, [batch, 1, 28, 28]);
  const params: ConvParams = {
    x2: array(d.x2, [batch, 6, 12, 12]),
    w1: array(d.w1, [6, 1, 5, 5]),
    b1: array(d.b1, [1, 6, 1, 1]),
    w2: array(d.w2, [16, 6, 5, 5]),
    b2: array(d.b2, [1, 16, 1, 1]),
  };
  const loss = (p: ConvParams, x: JArray): JArray =>
    lax.conv(x, p.w1, [1, 1], 'VALID').add(p.b1).sum().add(lax.conv(p.x2, p.w2, [1, 1], 'VALID').add(p.b2).sum());
  const step = jit((p: ConvParams, x: JArray): [ConvParams, JArray] => {
    const [value, grads] = valueAndGrad(loss)(p, x);
    return [grads as ConvParams, value];
  });
  return {
    run: () => {
      const [grads, value] = step(tree.ref(params), x1.ref);
      const v = value.dataSync()[0]!;
      for (const g of Object.values(grads)) g.dataSync();
      return v;
    },
    dispose: () => {
      tree.dispose(params);
      x1.dispose();
    },
  };
}

type LenetParams = { c1: JArray; b1: JArray; c2: JArray; b2: JArray; f1: JArray; g1: JArray; f2: JArray; g2: JArray; f3: JArray; g3: JArray };

/**
 * LeNet-5 (types.ts, LenetWorkload) in jax.numpy and lax.conv under jit, with the values the
 * other contenders use: convolution weights in PyTorch's [out, in, kh, kw] (lax.conv's layout),
 * dense weights transposed once to [in, out]. Max pooling 2×2 with stride 2 is a reshape to
 * [n, c, h/2, 2, w/2, 2] and a max over the two size-2 axes.
 */
function lenet(batch: number, lr: number): Runner {
  const { numpy: np, nn, lax, jit, valueAndGrad, tree } = jax;
  const d = lenetData(batch);
  const p = (i: number): JArray => {
    const shape = [...LENET_PARAMS[i]!.shape];
    const a = array(d.params[i]!, shape);
    return shape.length === 2 ? np.matrixTranspose(a) : a;
  };
  const bias4 = (i: number): JArray => p(i).reshape([1, LENET_PARAMS[i]!.shape[0]!, 1, 1]);
  let params: LenetParams = { c1: p(0), b1: bias4(1), c2: p(2), b2: bias4(3), f1: p(4), g1: p(5), f2: p(6), g2: p(7), f3: p(8), g3: p(9) };
  const x = array(d.x, [batch, 1, 28, 28]);
  const y = array(oneHot(d.y, 10), [batch, 10]);
  const pool = (h: JArray, c: number, size: number): JArray => h.reshape([batch, c, size / 2, 2, size / 2, 2]).max([3, 5]);
  const loss = (q: LenetParams, xs: JArray, ys: JArray): JArray => {
    let h = pool(nn.relu(lax.conv(xs, q.c1, [1, 1], [[2, 2], [2, 2]]).add(q.b1)), 6, 28);
    h = pool(nn.relu(lax.conv(h, q.c2, [1, 1], 'VALID').add(q.b2)), 16, 10).reshape([batch, 400]);
    h = nn.relu(np.matmul(nn.relu(np.matmul(h, q.f1).add(q.g1)), q.f2).add(q.g2));
    const logits = np.matmul(h, q.f3).add(q.g3);
    return nn.logSoftmax(logits, -1).mul(ys).sum().neg().div(batch);
  };
  const step = jit((q: LenetParams, xs: JArray, ys: JArray): [LenetParams, JArray] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(q), xs, ys);
    const next = tree.map((w: JArray, g: JArray) => w.sub(g.mul(lr)), q, grads) as LenetParams;
    return [next, value];
  });
  return {
    run: () => {
      const [next, value] = step(params, x.ref, y.ref);
      params = next;
      return value.dataSync()[0]!;
    },
    dispose: () => {
      tree.dispose(params);
      x.dispose();
      y.dispose();
    },
  };
}

type EncoderParams = {
  inProj: JArray; inBias: JArray; outProj: JArray; outBias: JArray; l1: JArray; b1: JArray; l2: JArray; b2: JArray;
  g1: JArray; n1: JArray; g2: JArray; n2: JArray;
};

/** The encoder layer step (types.ts, TransformerWorkload) in jax.numpy, PyTorch's maths and layouts, under jit. */
function transformer(w: TransformerWorkload): Runner {
  const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
  const { batch: b, seq: s, dModel: d, nhead: h, dimFeedforward: ff, lr } = w;
  const dh = d / h;
  const data = transformerData(w);
  let params: EncoderParams = {
    inProj: array(data.inProj, [3 * d, d]), inBias: np.zeros([3 * d]), outProj: array(data.outProj, [d, d]), outBias: np.zeros([d]),
    l1: array(data.linear1, [ff, d]), b1: np.zeros([ff]), l2: array(data.linear2, [d, ff]), b2: np.zeros([d]),
    g1: np.ones([d]), n1: np.zeros([d]), g2: np.ones([d]), n2: np.zeros([d]),
  };
  const x = array(data.x, [b * s, d]);
  const target = array(data.target, [b * s, d]);
  const linear = (t: JArray, wt: JArray, bias: JArray): JArray => np.matmul(t, np.matrixTranspose(wt)).add(bias);
  const norm = (t: JArray, g: JArray, beta: JArray): JArray => {
    const centred = t.ref.sub(t.mean(-1, { keepdims: true }));
    const variance = np.square(centred.ref).mean(-1, { keepdims: true });
    return centred.div(np.sqrt(variance.add(1e-5))).mul(g).add(beta);
  };
  const heads = (t: JArray): JArray => t.reshape([b, s, h, dh]).transpose([0, 2, 1, 3]);
  const loss = (p: EncoderParams, xx: JArray, tt: JArray): JArray => {
    const [q, k, v] = np.split(linear(xx.ref, p.inProj, p.inBias), 3, 1) as [JArray, JArray, JArray];
    const scores = np.matmul(heads(q), heads(k).transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(dh));
    const attended = np.matmul(nn.softmax(scores, -1), heads(v)).transpose([0, 2, 1, 3]).reshape([b * s, d]);
    const h1 = norm(xx.add(linear(attended, p.outProj, p.outBias)), p.g1, p.n1);
    const y = norm(h1.ref.add(linear(nn.relu(linear(h1, p.l1, p.b1)), p.l2, p.b2)), p.g2, p.n2);
    return np.square(y.sub(tt)).mean();
  };
  const step = jit((p: EncoderParams, xx: JArray, tt: JArray): [EncoderParams, JArray] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), xx, tt);
    const next = tree.map((wt: JArray, g: JArray) => wt.sub(g.mul(lr)), p, grads) as EncoderParams;
    return [next, value];
  });
  return {
    run: () => {
      const [next, value] = step(params, x.ref, target.ref);
      params = next;
      return value.dataSync()[0]!;
    },
    dispose: () => {
      tree.dispose(params);
      x.dispose();
      target.dispose();
    },
  };
}

/** Per-sample gradients: vmap of grad of one sample's loss under jit, as JAX writes it; the batch gradient likewise. */
function perSample(w: PerSampleWorkload): Runner {
  const { numpy: np, nn, jit, grad, vmap, tree } = jax;
  const d = perSampleData(w.batch);
  const params: Params = { w1: array(d.w1, [784, 128]), b1: array(d.b1, [128]), w2: array(d.w2, [128, 10]), b2: array(d.b2, [10]) };
  const x = array(d.x, [w.batch, 784]);
  const y = array(d.yOneHot, [w.batch, 10]);
  const loss = (p: Params, xs: JArray, ys: JArray): JArray => {
    const h = nn.relu(np.matmul(xs, p.w1).add(p.b1));
    return nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1).mul(ys).sum().neg();
  };
  const batchLoss = (p: Params, xs: JArray, ys: JArray): JArray => loss(p, xs, ys).div(w.batch);
  const step = w.mode === 'batch' ? jit(grad(batchLoss)) : jit(vmap(grad(loss), [null, 0, 0]));
  return {
    run: () => {
      const grads = step(tree.ref(params), x.ref, y.ref) as Params;
      for (const g of Object.values(grads)) g.dataSync();
    },
    dispose: () => {
      tree.dispose(params);
      x.dispose();
      y.dispose();
    },
  };
}

/** The MLP's logits, or their jvp along seeded tangents of the parameters (the input's is zero), under jit. */
function forwardMode(w: JvpWorkload): Runner {
  const { numpy: np, nn, jit } = jax;
  const d = mlpData(w.batch, 1);
  const t = jvpTangents();
  const shapes = [[w.batch, 784], [784, 128], [128], [128, 10], [10]];
  const primals = [d.xs[0]!, d.w1, d.b1, d.w2, d.b2].map((a, k) => array(a, shapes[k]!));
  // The input's tangent is zero: the direction is in the parameters only.
  const tangents = [new Float32Array(w.batch * 784), t.w1, t.b1, t.w2, t.b2].map((a, k) => array(a, shapes[k]!));
  const logits = (x: JArray, w1: JArray, b1: JArray, w2: JArray, b2: JArray): JArray => np.matmul(nn.relu(np.matmul(x, w1).add(b1)), w2).add(b2);
  const forward = jit(logits);
  const both = jit((x: JArray, w1: JArray, b1: JArray, w2: JArray, b2: JArray, tx: JArray, tw1: JArray, tb1: JArray, tw2: JArray, tb2: JArray): JArray => {
    const [, tangent] = jax.jvp(logits, [x, w1, b1, w2, b2], [tx, tw1, tb1, tw2, tb2]);
    return tangent;
  });
  const refs = (as: JArray[]): JArray[] => as.map((a) => a.ref);
  return {
    run: () => {
      const out = w.via === 'forward'
        ? forward(...(refs(primals) as [JArray, JArray, JArray, JArray, JArray]))
        : both(...(refs([...primals, ...tangents]) as [JArray, JArray, JArray, JArray, JArray, JArray, JArray, JArray, JArray, JArray]));
      return out.dataSync()[0]!;
    },
    dispose: () => {
      for (const a of [...primals, ...tangents]) a.dispose();
    },
  };
}

interface PinnParams { w1: JArray; b1: JArray; w2: JArray; b2: JArray; w3: JArray; b3: JArray }

/** The compiled-program rows (types.ts, CompiledWorkload): one function, called as it is or through jit. */
function compiled(w: CompiledWorkload): Runner {
  const { numpy: np, nn, jit, grad, valueAndGrad, tree } = jax;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compile = <F extends (...args: any[]) => any>(f: F): F => (w.via === 'jit' ? (jit(f) as unknown as F) : f);
  if (w.program === 'elementwise') {
    const x = array(elementwiseData(w.size), [w.size]);
    const chain = compile((v: JArray): JArray => {
      const h = np.maximum(np.abs(v.ref.mul(1.5).add(0.25)).mul(v.ref).sub(0.1), 0).mul(0.5).neg().add(v);
      return h.ref.mul(h);
    });
    return { run: () => chain(x.ref).dataSync()[0]!, dispose: () => x.dispose() };
  }
  if (w.program === 'pinn') {
    const d = pinnData(w.size);
    const [a, b, c, o] = PINN_SIZES;
    const params: PinnParams = {
      w1: array(d.params.w1, [a, b]), b1: array(d.params.b1, [b]), w2: array(d.params.w2, [b, c]),
      b2: array(d.params.b2, [c]), w3: array(d.params.w3, [c, o]), b3: array(d.params.b3, [o]),
    };
    const xt = array(d.xt, [w.size, 2]);
    const u = (q: PinnParams, pts: JArray): JArray =>
      np.matmul(np.tanh(np.matmul(np.tanh(np.matmul(pts, q.w1).add(q.b1)), q.w2).add(q.b2)), q.w3).add(q.b3);
    const loss = (q: PinnParams, pts: JArray): JArray => {
      const du = (qq: PinnParams, y: JArray): JArray => grad((yy: JArray) => u(qq, yy).sum())(y);
      const g = du(tree.ref(q), pts.ref);
      const ut = g.slice([], [1, 2]);
      const uxx = grad((y: JArray) => du(tree.ref(q), y).slice([], [0, 1]).sum())(pts).slice([], [0, 1]);
      tree.dispose(q);
      const r = ut.sub(uxx.mul(PINN_ALPHA));
      return r.ref.mul(r).mean();
    };
    const step = compile(valueAndGrad(loss));
    return {
      run: () => {
        const [value, grads] = step(tree.ref(params), xt.ref) as [JArray, PinnParams];
        for (const g of Object.values(grads)) g.dataSync();
        return value.dataSync()[0]!;
      },
      dispose: () => {
        tree.dispose(params);
        xt.dispose();
      },
    };
  }
  const d = mlpData(w.size, 4);
  let params: Params = { w1: array(d.w1, [784, 128]), b1: array(d.b1, [128]), w2: array(d.w2, [128, 10]), b2: array(d.b2, [10]) };
  const xs = d.xs.map((x) => array(x, [w.size, 784]));
  const ys = d.yOneHot.map((y) => array(y, [w.size, 10]));
  const loss = (p: Params, x: JArray, y: JArray): JArray => {
    const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    return nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1).mul(y).sum().neg().div(w.size);
  };
  const step = compile((p: Params, x: JArray, y: JArray): [Params, JArray] => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), x, y);
    return [tree.map((v: JArray, g: JArray) => v.sub(g.mul(w.lr)), p, grads) as Params, value];
  });
  let i = 0;
  return {
    run: () => {
      const k = i++ % xs.length;
      const [next, value] = step(params, xs[k]!.ref, ys[k]!.ref);
      params = next;
      return value.dataSync()[0]!;
    },
    dispose: () => {
      tree.dispose(params);
      for (const t of [...xs, ...ys]) t.dispose();
    },
  };
}

const setup = setupByKind({
  matmul: (w) => matmul(w.n, w.dtype),
  mlp: (w) => mlp(w.batch, w.batches, w.lr),
  jvp: forwardMode,
  chain: (w) => chain(w.ops, w.size),
  scalar: () => NO_SCALAR_GRAPH,
  conv: (w) => conv(w.batch),
  lenet: (w) => lenet(w.batch, w.lr),
  layout,
  linalg: (w) => linalg(w.op, w.n),
  einsum: contraction,
  indexing,
  transformer,
  perSample,
  compiled,
});

export const contender: Contender = { name: 'jax-js', load, setup };

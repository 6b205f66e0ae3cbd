// TensorFlow.js contenders (tfjs-wasm.ts, tfjs-cpu.ts) share everything but the backend.
// @tensorflow/tfjs-layers is loaded for its side effect of registering the gradients of
// tfjs-core's kernels (tfjs-core alone cannot differentiate most ops).

import { chainOps, CHAIN_ADD, CHAIN_MUL, convData, labels, LENET_PARAMS, lenetData, mlpData, oneHot, SEEDS, transformerData, uniform } from './data.js';
import { peerVersion, requirePeer } from './peers.js';
import { setupByKind, NO_SCALAR_GRAPH, NO_FACTORISATIONS, type Contender, type ContenderInfo, type EinsumWorkload, type IndexingWorkload, type LayoutWorkload, type Runner, type TransformerWorkload, type Unsupported } from './types.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

export function tfjsContender(name: string, backend: 'wasm' | 'cpu'): Contender {
  let tf: Tf;

  async function load(): Promise<ContenderInfo> {
    tf = requirePeer<Tf>('@tensorflow/tfjs-core');
    requirePeer('@tensorflow/tfjs-layers');
    const notes: string[] = [];
    let detail: string;
    if (backend === 'wasm') {
      requirePeer('@tensorflow/tfjs-backend-wasm');
      // NOTE: the threaded build fails in Node (ERR_WORKER_PATH): force the single-threaded one.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      detail = `wasm backend ${peerVersion('@tensorflow/tfjs-backend-wasm')}, ${simd ? 'SIMD' : 'no SIMD'}, 1 thread`;
    } else {
      requirePeer('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
      detail = `cpu backend ${peerVersion('@tensorflow/tfjs-backend-cpu')} (plain JS)`;
    }
    await tf.ready();
    if (tf.getBackend() !== backend) throw new Error(`backend is ${tf.getBackend()}, wanted ${backend}`);
    notes.push('MLP via optimizer.minimize with tf.losses.softmaxCrossEntropy');
    return { version: peerVersion('@tensorflow/tfjs-core'), backend: detail, notes };
  }

  function matmul(n: number): Runner {
    const a = tf.tensor2d(uniform(n * n, SEEDS.matA, -1, 1, 'float32'), [n, n]);
    const b = tf.tensor2d(uniform(n * n, SEEDS.matB, -1, 1, 'float32'), [n, n]);
    return {
      run: () => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      },
      dispose: () => tf.dispose([a, b]),
    };
  }

  function mlp(batch: number, batches: number, lr: number): Runner {
    const d = mlpData(batch, batches);
    const w1 = tf.variable(tf.tensor2d(d.w1, [784, 128]));
    const b1 = tf.variable(tf.tensor1d(d.b1));
    const w2 = tf.variable(tf.tensor2d(d.w2, [128, 10]));
    const b2 = tf.variable(tf.tensor1d(d.b2));
    const xs = d.xs.map((x) => tf.tensor2d(x, [batch, 784]));
    const ys = d.yOneHot.map((y) => tf.tensor2d(y, [batch, 10]));
    const opt = tf.train.sgd(lr);
    let i = 0;
    return {
      run: () => {
        const k = i++ % batches;
        const cost = opt.minimize(() => {
          const h = tf.relu(tf.add(tf.matMul(xs[k]!, w1), b1));
          const logits = tf.add(tf.matMul(h, w2), b2);
          return tf.losses.softmaxCrossEntropy(ys[k]!, logits) as import('@tensorflow/tfjs-core').Scalar;
        }, true)!;
        const v = cost.dataSync()[0]!;
        cost.dispose();
        return v;
      },
      dispose: () => {
        tf.dispose([w1, b1, w2, b2, ...xs, ...ys]);
        opt.dispose();
      },
    };
  }

  function chain(ops: number, size: number): Runner {
    const seq = chainOps(ops);
    const x = tf.tensor1d(uniform(size, SEEDS.chain, -1, 1, 'float32'));
    const mul = tf.scalar(CHAIN_MUL);
    const add = tf.scalar(CHAIN_ADD);
    const f = (v: Tensor): Tensor => {
      let y = v;
      for (const op of seq) y = op === 'mul' ? tf.mul(y, mul) : op === 'add' ? tf.add(y, add) : tf.tanh(y);
      return tf.sum(y);
    };
    const df = tf.grad(f);
    return {
      run: () => {
        const g = tf.tidy(() => df(x));
        g.dataSync();
        g.dispose();
      },
      dispose: () => tf.dispose([x, mul, add]),
    };
  }

  function layout(w: LayoutWorkload): Runner {
    if (w.op === 'concat') {
      const parts = Array.from({ length: w.pieces }, (_, p) => tf.tensor2d(uniform(w.rows * w.width, SEEDS.layout + p, -1, 1, 'float32'), [w.rows, w.width]));
      return {
        run: () => {
          const y = tf.concat(parts, -1);
          y.dataSync();
          y.dispose();
        },
        dispose: () => tf.dispose(parts),
      };
    }
    const x = tf.tensor2d(uniform(w.rows * w.width * w.pieces, SEEDS.layout, -1, 1, 'float32'), [w.rows, w.width * w.pieces]);
    return {
      run: () => {
        const y = tf.cumsum(x, 1);
        y.dataSync();
        y.dispose();
      },
      dispose: () => x.dispose(),
    };
  }

  /** The einsum rows: tf.einsum (two operands at most, cpu backend) or the matmul calls it stands for. */
  function contraction(w: EinsumWorkload): Runner | Unsupported {
    if (w.via === 'einsum' && backend === 'wasm') return { unsupported: 'no Einsum kernel in the wasm backend' };
    if (w.via === 'einsum' && w.shapes.length > 2) return { unsupported: 'tf.einsum takes at most two operands' };
    const xs = w.shapes.map((s, i) => tf.tensor(uniform(s.reduce((p, d) => p * d, 1), SEEDS.matA + i, -1, 1, 'float32'), s));
    const [a, b, c] = xs as [Tensor, Tensor, Tensor | undefined];
    return {
      run: () => {
        const out = tf.tidy(() => (w.via === 'einsum' ? tf.einsum(w.equation, a, b) : c === undefined ? tf.matMul(a, b) : tf.matMul(a, tf.matMul(b, c))));
        out.dataSync();
        out.dispose();
      },
      dispose: () => tf.dispose(xs),
    };
  }

  /**
   * The indexing rows: torch.gather's form as tf.gatherND of (row, column) pairs, scatter-add as
   * tf.scatterND (which sums repeats) into zeros, and embedding's gradient through tf.grad of tf.gather.
   */
  function indexing(w: IndexingWorkload): Runner | Unsupported {
    if (w.op === 'embedding' && backend === 'wasm') return { unsupported: "no UnsortedSegmentSum kernel (gather's gradient) in the wasm backend" };
    if (w.op === 'embedding') {
      const weight = tf.tensor2d(uniform(w.vocab * w.width, SEEDS.index, -1, 1, 'float32'), [w.vocab, w.width]);
      const ids = tf.tensor1d(labels(w.rows, SEEDS.index, w.vocab), 'int32');
      const g = tf.tensor2d(uniform(w.rows * w.width, SEEDS.index + 1, -1, 1, 'float32'), [w.rows, w.width]);
      const backward = tf.grad((v: Tensor) => tf.gather(v, ids));
      return {
        run: () => {
          const dw = backward(weight, g);
          dw.dataSync();
          dw.dispose();
        },
        dispose: () => tf.dispose([weight, ids, g]),
      };
    }
    const cols = labels(w.rows * w.picks, SEEDS.index, w.width);
    const pairs = new Int32Array(2 * cols.length);
    for (let k = 0; k < cols.length; k++) {
      pairs[2 * k] = Math.floor(k / w.picks);
      pairs[2 * k + 1] = cols[k]!;
    }
    const index = tf.tensor3d(pairs, [w.rows, w.picks, 2], 'int32');
    const x = w.op === 'gather'
      ? tf.tensor2d(uniform(w.rows * w.width, SEEDS.index, -1, 1, 'float32'), [w.rows, w.width])
      : tf.tensor2d(uniform(w.rows * w.picks, SEEDS.index + 1, -1, 1, 'float32'), [w.rows, w.picks]);
    return {
      run: () => {
        const y = w.op === 'gather' ? tf.gatherND(x, index) : tf.scatterND(index, x, [w.rows, w.width]);
        y.dataSync();
        y.dispose();
      },
      dispose: () => tf.dispose([index, x]),
    };
  }

  /** [o, i, kh, kw] (PyTorch's layout, the data's) to TF.js's [kh, kw, i, o]. */
  function filter(w: Float32Array, o: number, i: number, k: number): Tensor {
    return tf.transpose(tf.tensor4d(w, [o, i, k, k]), [2, 3, 1, 0]);
  }

  // TF.js convolves NHWC only on these backends: the inputs are given in that layout (the
  // same values, transposed once at setup), so the runs time the convolutions alone.
  function conv(batch: number): Runner {
    const d = convData(batch);
    const x1 = tf.transpose(tf.tensor4d(d.x1, [batch, 1, 28, 28]), [0, 2, 3, 1]);
    const x2 = tf.transpose(tf.tensor4d(d.x2, [batch, 6, 12, 12]), [0, 2, 3, 1]);
    const w1 = filter(d.w1, 6, 1, 5), w2 = filter(d.w2, 16, 6, 5);
    const b1 = tf.tensor1d(d.b1), b2 = tf.tensor1d(d.b2);
    const f = (a: Tensor, k1: Tensor, c1: Tensor, k2: Tensor, c2: Tensor): Tensor =>
      tf.add(
        tf.sum(tf.add(tf.conv2d(x1 as import('@tensorflow/tfjs-core').Tensor4D, k1 as import('@tensorflow/tfjs-core').Tensor4D, 1, 'valid'), c1)),
        tf.sum(tf.add(tf.conv2d(a as import('@tensorflow/tfjs-core').Tensor4D, k2 as import('@tensorflow/tfjs-core').Tensor4D, 1, 'valid'), c2)),
      );
    const df = tf.valueAndGrads(f);
    return {
      run: () => {
        const { value, grads } = df([x2, w1, b1, w2, b2]);
        for (const g of grads) g.dataSync();
        const v = value.dataSync()[0]!;
        tf.dispose([value, ...grads]);
        return v;
      },
      dispose: () => tf.dispose([x1, x2, w1, w2, b1, b2]),
    };
  }

  /** The encoder layer written in tfjs-core ops (PyTorch's maths and weight layouts), trained by optimizer.minimize. */
  function transformer(w: TransformerWorkload): Runner {
    const { batch: b, seq: s, dModel: d, nhead: h, dimFeedforward: ff } = w;
    const dh = d / h;
    const data = transformerData(w);
    const v = (t: Tensor) => tf.variable(t);
    const p = {
      inProj: v(tf.tensor2d(data.inProj, [3 * d, d])), inBias: v(tf.zeros([3 * d])),
      outProj: v(tf.tensor2d(data.outProj, [d, d])), outBias: v(tf.zeros([d])),
      l1: v(tf.tensor2d(data.linear1, [ff, d])), b1: v(tf.zeros([ff])), l2: v(tf.tensor2d(data.linear2, [d, ff])), b2: v(tf.zeros([d])),
      g1: v(tf.ones([d])), n1: v(tf.zeros([d])), g2: v(tf.ones([d])), n2: v(tf.zeros([d])),
    };
    const x = tf.tensor2d(data.x, [b * s, d]);
    const target = tf.tensor2d(data.target, [b * s, d]);
    const linear = (t: Tensor, wt: Tensor, bias: Tensor) => tf.add(tf.matMul(t, wt, false, true), bias);
    const norm = (t: Tensor, g: Tensor, beta: Tensor) => {
      const mean = tf.mean(t, -1, true);
      const centred = tf.sub(t, mean);
      return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5))), g), beta);
    };
    const heads = (t: Tensor) => tf.transpose(tf.reshape(t, [b, s, h, dh]), [0, 2, 1, 3]);
    const opt = tf.train.sgd(w.lr);
    return {
      run: () => {
        const cost = opt.minimize(() => {
          const [q, k, vv] = tf.split(linear(x, p.inProj, p.inBias), 3, 1) as [Tensor, Tensor, Tensor];
          const scores = tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(dh));
          const attended = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), heads(vv)), [0, 2, 1, 3]), [b * s, d]);
          const h1 = norm(tf.add(x, linear(attended, p.outProj, p.outBias)), p.g1, p.n1);
          const y = norm(tf.add(h1, linear(tf.relu(linear(h1, p.l1, p.b1)), p.l2, p.b2)), p.g2, p.n2);
          return tf.mean(tf.squaredDifference(y, target)) as import('@tensorflow/tfjs-core').Scalar;
        }, true)!;
        const value = cost.dataSync()[0]!;
        cost.dispose();
        return value;
      },
      dispose: () => {
        tf.dispose([x, target, ...Object.values(p)]);
        opt.dispose();
      },
    };
  }

  /**
   * LeNet-5 in TF.js ops (NHWC, filters [kh, kw, in, out], dense weights [in, out]) with the same
   * values as the other contenders, trained by tf.train.sgd. Flattening transposes the NHWC maps
   * back to NCHW order first, so the first dense layer reads PyTorch's weight as it is.
   */
  function lenet(batch: number, lr: number): Runner {
    const d = lenetData(batch);
    const p = LENET_PARAMS.map((spec, i) => {
      const values = d.params[i]!;
      if (spec.shape.length === 4) return tf.variable(filter(values, spec.shape[0]!, spec.shape[1]!, spec.shape[2]!));
      if (spec.shape.length === 2) return tf.variable(tf.transpose(tf.tensor2d(values, [spec.shape[0]!, spec.shape[1]!])));
      return tf.variable(tf.tensor1d(values));
    });
    const x = tf.transpose(tf.tensor4d(d.x, [batch, 1, 28, 28]), [0, 2, 3, 1]) as import('@tensorflow/tfjs-core').Tensor4D;
    const y = tf.tensor2d(oneHot(d.y, 10), [batch, 10]);
    const opt = tf.train.sgd(lr);
    type T4 = import('@tensorflow/tfjs-core').Tensor4D;
    const [c1, b1, c2, b2, f1, g1, f2, g2, f3, g3] = p as unknown as [T4, Tensor, T4, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    return {
      run: () => {
        const cost = opt.minimize(() => {
          let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]), b1)) as T4, 2, 2, 'valid');
          h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2, 1, 'valid'), b2)) as T4, 2, 2, 'valid');
          const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [batch, 400]);
          const z = tf.relu(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(flat, f1), g1)), f2), g2));
          return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(z, f3), g3)) as import('@tensorflow/tfjs-core').Scalar;
        }, true)!;
        const v = cost.dataSync()[0]!;
        cost.dispose();
        return v;
      },
      dispose: () => {
        tf.dispose([...p, x, y]);
        opt.dispose();
      },
    };
  }

  const setup = setupByKind({
    matmul: (w) => (w.dtype === 'float32' ? matmul(w.n) : { unsupported: 'no float64 dtype' }),
    mlp: (w) => mlp(w.batch, w.batches, w.lr),
    chain: (w) => chain(w.ops, w.size),
    scalar: () => NO_SCALAR_GRAPH,
    conv: (w) =>
      // NOTE: tfjs-backend-wasm 4.22 has no filter-gradient kernel, so it cannot train a convolution.
      tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined ? { unsupported: `no Conv2DBackpropFilter kernel in the ${backend} backend` } : conv(w.batch),
    lenet: (w) =>
      tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined ? { unsupported: `no Conv2DBackpropFilter kernel in the ${backend} backend` } : lenet(w.batch, w.lr),
    layout,
    linalg: () => NO_FACTORISATIONS,
    einsum: contraction,
    jvp: () => ({ unsupported: 'no forward mode' }),
    indexing,
    transformer,
    perSample: () => ({ unsupported: 'no vmap' }),
    compiled: () => ({ unsupported: 'no jit, nor gradients with respect to inputs nested' }),
  });

  return { name, load, setup };
}

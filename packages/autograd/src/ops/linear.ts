import { allocateUnset, type FloatArray, type TensorData } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { gemm, gemmWithTangent, linearBackward, type GemmTangents } from '../kernels/gemm.js';
import { constant, expectFloat, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { forwardActive, soleLevel, tangentAt } from '../engine/forward.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { isTracing } from '../engine/trace-access.js';
import { checkSameDType } from './operands.js';
import { matmulT } from './matmul.js';
import { sum } from './reduce.js';
import { expand, reshape } from './shape.js';
import { reluGrad } from './unary.js';
import { opsRunEagerly, primitive } from '../engine/dispatch.js';

/** The activations `linear` can apply to its result. */
export type LinearActivation = 'none' | 'relu';

/**
 * A fully connected layer in one op: `activation(x·Wᵀ + b)` with x [..., in], W [out, in] (as
 * PyTorch's F.linear) and b [out] or null; the result is [..., out]. The product reads W
 * transposed in place, the bias and relu are applied in the same pass over the result, and the
 * VJP computes dX = dH·W, dW = dHᵀ·X (gemm transpose flags, no transposed copies) and db as
 * column sums, dH being the gradient masked by relu. Those are Tensor ops, so the VJP is
 * differentiable again under createGraph.
 * @throws ShapeError if W is not 2-D, x's last axis is not W's in, or b is not [out].
 * @throws ArgumentError for an activation other than 'none' or 'relu'.
 * @throws DTypeError if the dtypes differ.
 * @example linear(x, w, b, 'relu') // x [64, 784], w [128, 784], b [128] -> [64, 128]
 */
export const linear = primitive('linear', { kind: 'contraction', rule: 'linear' }, function (input: Tensor, weight: Tensor, bias?: Tensor | null, activation: LinearActivation = 'none'): Tensor {
  const x = floatInput('linear', 'input', input);
  const w = floatInput('linear', 'weight', weight);
  const b = bias === undefined || bias === null ? null : floatInput('linear', 'bias', bias);
  if (activation !== 'none' && activation !== 'relu') {
    throw new ArgumentError(`linear: activation must be 'none' or 'relu', got ${JSON.stringify(activation)}`);
  }
  if (b === null) checkSameDType('linear', x, w);
  else checkSameDType('linear', x, w, b);
  if (w.ndim !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${formatShape(w.shape)}`);
  const outF = w.shape[0]!;
  const inF = w.shape[1]!;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`linear: input ${formatShape(x.shape)} must end in ${inF} features to match weight ${formatShape(w.shape)}`);
  }
  if (b !== null && (b.ndim !== 1 || b.shape[0] !== outF)) {
    throw new ShapeError(`linear: bias must be [${outF}] to match weight ${formatShape(w.shape)}, got ${formatShape(b.shape)}`);
  }
  const lead = x.shape.slice(0, x.ndim - 1);
  const rows = sizeOf(lead);
  const relu = activation === 'relu';
  const y = allocateUnset(x.dtype, rows * outF, 'linear', [...lead, outF]);
  // The bias and relu are gemm's epilogue: applied before the product leaves WebAssembly memory.
  const call = { transA: false, transB: true, m: rows, n: outF, k: inF, a: x.data, b: w.data, c: y, bias: b === null ? null : b.data, relu };
  // Forward mode: the tangent's products share x and W with the output's, so output and
  // tangent are made in one pass when nothing needs them recorded.
  const along = onePassTangents(x, w, b);
  let ty: TensorData | null = null;
  if (along !== null) {
    const t = allocateUnset(x.dtype, rows * outF, 'linear', [...lead, outF]);
    if (gemmWithTangent(call, along, t)) ty = t;
  }
  if (ty === null) gemm(call);
  const made = ty;
  const inputs = b === null ? [x, w] : [x, w, b];
  return makeOutput('linear', y, [...lead, outF], inputs, (g, out) => {
    const fused = fusedBackward(x, w, b, g, out, rows, relu);
    if (fused !== null) return fused;
    // dH, the gradient at x·Wᵀ + b: g where relu passed its input, 0 where it did not.
    const g2 = reshape(g, [rows, outF]);
    const dh = relu ? reluGrad(g2, out) : g2;
    const grads = [
      // dX = dH·W and dW = dHᵀ·X, with W and dH read transposed in place.
      x.requiresGrad ? reshape(matmulT(dh, w, false, false), x.shape) : null,
      w.requiresGrad ? matmulT(dh, reshape(x, [rows, inF]), true, false) : null,
    ];
    if (b !== null) grads.push(b.requiresGrad ? sum(dh, 0) : null);
    return grads;
    // dX reads W, dW reads X, and all three read the output for relu's mask; none reads b.
  }, {
    saves: relu ? [[1, 'output'], [0, 'output'], ['output']] : [[1], [0], []],
    // dH = dX·Wᵀ + (X·dWᵀ + db), each a linear of its own (the bias in the product's pass), masked by relu as the gradient is.
    jvp: made !== null ? () => constant(made, [...lead, outF]) : ([tx, tw, tb], out) => {
      let dh: Tensor | null = null;
      if (tw !== null && tw !== undefined) dh = linear(x, tw, tb ?? null);
      else if (tb !== null && tb !== undefined) dh = expand(tb, [...lead, outF]);
      if (tx !== null && tx !== undefined) {
        const term = linear(tx, w, null);
        dh = dh === null ? term : dh.add(term);
      }
      if (dh === null || !relu) return dh;
      return reshape(reluGrad(reshape(dh, [rows, outF]), reshape(out, [rows, outF])), [...lead, outF]);
    },
  });
});

/**
 * linear's gradients from one kernel call (`linearBackward`) when no graph is built, no tangent
 * carried and no transform but eager running sees the ops: the values of the Tensor-op VJP, to
 * the bit. Null where that kernel does not take the call: the VJP then runs in Tensor ops.
 */
function fusedBackward(x: FloatTensor, w: FloatTensor, b: FloatTensor | null, g: Tensor, out: Tensor, rows: number, relu: boolean): (Tensor | null)[] | null {
  if (!opsRunEagerly() || isGradEnabled() || forwardActive()) return null;
  const [outF, inF] = w.shape as [number, number];
  const want = (t: FloatTensor | null) => (t !== null && t.requiresGrad ? allocateUnset(x.dtype, t.size) : null);
  const dx = want(x), dw = want(w), db = want(b);
  const done = linearBackward({
    g: expectFloat('linear', g).data, y: relu ? expectFloat('linear', out).data : null, w: w.data, x: x.data,
    rows, inF, outF, dx, dw, db,
  });
  if (!done) return null;
  const grads = [dx === null ? null : constant(dx, x.shape), dw === null ? null : constant(dw, w.shape)];
  if (b !== null) grads.push(db === null ? null : constant(db, b.shape));
  return grads;
}

/**
 * The tangents' storage (of x, w and b, null where one has none) at the one open `jvp` level,
 * when linear may make its output's tangent in its own pass: x or w has a tangent there, and the
 * tangent needs no graph (nothing requires grad under grad mode) and no trace. Otherwise null:
 * the JVP rule then computes the tangent in Tensor ops.
 */
function onePassTangents(x: FloatTensor, w: FloatTensor, b: FloatTensor | null): GemmTangents | null {
  if (!forwardActive()) return null;
  const level = soleLevel();
  if (level === null || isTracing()) return null;
  const tx = tangentAt(x, level);
  const tw = tangentAt(w, level);
  if (tx === null && tw === null) return null;
  const tb = b === null ? null : tangentAt(b, level);
  // One by one, not through lists: this runs for every linear of every jvp.
  const recording = isGradEnabled();
  if (unfit(tx, w, recording) || unfit(tw, w, recording) || unfit(tb, w, recording)) return null;
  if (recording && (x.requiresGrad || w.requiresGrad || (b !== null && b.requiresGrad))) return null;
  return { a: storageOf(tx), b: storageOf(tw), bias: storageOf(tb) };
}

/** Whether tangent `t` keeps linear from making it in one pass: another dtype than w's, or on a graph being recorded. */
function unfit(t: Tensor | null, w: FloatTensor, recording: boolean): boolean {
  return t !== null && (t.dtype !== w.dtype || (recording && t.requiresGrad));
}

function storageOf(t: Tensor | null): FloatArray | null {
  return t === null ? null : expectFloat('linear', t).data;
}

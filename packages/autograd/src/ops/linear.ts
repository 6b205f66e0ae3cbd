import { allocate } from '../dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { gemm } from '../kernels/gemm.js';
import { reluBackward } from '../kernels/fused.js';
import { reduceAxis } from '../kernels/reduce.js';
import { mapUnary } from '../kernels/unary.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { constant, expectTensor, makeOutput, type Tensor } from '../tensor.js';
import { checkSameDType } from './operands.js';
import { matmulT } from './matmul.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

/** The activations `linear` can apply to its result. */
export type LinearActivation = 'none' | 'relu';

/**
 * A fully connected layer in one op: `activation(x·Wᵀ + b)` with x [..., in], W [out, in] (as
 * PyTorch's F.linear) and b [out] or null; the result is [..., out]. The product reads W
 * transposed in place, the bias and relu are applied in the same pass over the result, and the
 * VJP computes dX = dH·W, dW = dHᵀ·X (gemm transpose flags, no transposed copies) and db as
 * column sums, dH being the gradient masked by relu. While a graph is recorded through the
 * backward pass (createGraph), the VJP is the same maths in differentiable Tensor ops instead.
 * @example linear(x, w, b, 'relu') // x [64, 784], w [128, 784], b [128] -> [64, 128]
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null, activation: LinearActivation = 'none'): Tensor {
  const x = expectTensor('linear', 'input', input);
  const w = expectTensor('linear', 'weight', weight);
  const b = bias === undefined || bias === null ? null : expectTensor('linear', 'bias', bias);
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
  const y = allocate(x.dtype, rows * outF, 'linear', [...lead, outF]);
  // The bias and relu are gemm's epilogue: applied before the product leaves WebAssembly memory.
  gemm({ transA: false, transB: true, m: rows, n: outF, k: inF, a: x.data, b: w.data, c: y, bias: b === null ? null : b.data, relu });
  const inputs = b === null ? [x, w] : [x, w, b];
  return makeOutput('linear', y, [...lead, outF], inputs, (g, out) => {
    const grads = isGradEnabled() ? composedVjp(g, out, x, w, b, rows, relu) : fusedVjp(g, out, x, w, b, rows, relu);
    return b === null ? grads.slice(0, 2) : grads;
    // dX reads W, dW reads X, and all three read the output for relu's mask; none reads b.
  }, { saves: relu ? [[1, 'output'], [0, 'output'], ['output']] : [[1], [0], []] });
}

type Grads = [Tensor | null, Tensor | null, Tensor | null];

/** The VJP on raw buffers: one pass for the relu mask and the bias gradient, two products; every result fresh. */
function fusedVjp(g: Tensor, out: Tensor, x: Tensor, w: Tensor, b: Tensor | null, rows: number, relu: boolean): Grads {
  const [outF, inF] = w.shape as [number, number];
  const needDb = b !== null && b.requiresGrad;
  const dbData = needDb ? allocate(b.dtype, outF) : null;
  let dh = g.data;
  if (relu) {
    // The masked gradient and, in the same pass, its column sums: the bias gradient.
    dh = allocate(g.dtype, g.size);
    reluBackward(g.data, out.data, rows, outF, dh, dbData);
  } else if (dbData !== null) {
    reduceAxis('sum', dh, 1, rows, outF, dbData);
  }
  let dx: Tensor | null = null;
  let dw: Tensor | null = null;
  if (x.requiresGrad) {
    const data = allocate(x.dtype, x.size);
    gemm({ transA: false, transB: false, m: rows, n: inF, k: outF, a: dh, b: w.data, c: data });
    dx = constant(data, x.shape);
  }
  if (w.requiresGrad) {
    const data = allocate(w.dtype, w.size);
    gemm({ transA: true, transB: false, m: outF, n: inF, k: rows, a: dh, b: x.data, c: data });
    dw = constant(data, w.shape);
  }
  const db = dbData === null ? null : constant(dbData, b!.shape);
  return [dx, dw, db];
}

/** The same VJP in Tensor ops, recorded on the graph so it can be differentiated again. */
function composedVjp(g: Tensor, out: Tensor, x: Tensor, w: Tensor, b: Tensor | null, rows: number, relu: boolean): Grads {
  const [outF, inF] = w.shape as [number, number];
  let dh = reshape(g, [rows, outF]);
  if (relu) {
    // The mask is a constant: relu's second derivative is zero wherever it is defined.
    const mask = allocate(out.dtype, out.size);
    mapUnary('step', out.data, mask);
    dh = dh.mul(constant(mask, dh.shape));
  }
  return [
    x.requiresGrad ? reshape(matmulT(dh, w, false, false), x.shape) : null,
    w.requiresGrad ? matmulT(dh, reshape(x, [rows, inF]), true, false) : null,
    b !== null && b.requiresGrad ? sum(dh, 0) : null,
  ];
}

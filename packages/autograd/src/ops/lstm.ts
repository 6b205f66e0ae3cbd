import { allocate, type FloatArray } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { isGradEnabled } from '../engine/grad-mode.js';
import { forwardActive } from '../engine/forward.js';
import { opsRunEagerly, primitive } from '../engine/dispatch.js';
import { lstmCellBackward, lstmCellForward } from '../kernels/lstm.js';
import { constant, expectFloat, floatInput, makeOutput, type FloatTensor, type Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import { checkSameDType } from './operands.js';
import { chunk, concat } from './shape.js';
import { sigmoid, tanh } from './unary.js';

/**
 * The pointwise part of an LSTM cell, as torch.nn.LSTMCell computes it after its two products:
 * from the gate pre-activations `gates` [..., 4H] (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, PyTorch's
 * gate order i, f, g, o) and the cell state `c` [..., H], returns `[h', c']` with
 * c' = σ(f)⊙c + σ(i)⊙tanh(g) and h' = σ(o)⊙tanh(c'). One pass of a fused kernel forward, and
 * one backward when no graph is being built; under `createGraph`, forward mode or a transform
 * the gradient is the same formula in Tensor ops, so it differentiates again.
 * @throws ShapeError if c has no axes, gates and c differ in their leading axes, or gates' last axis is not 4× c's.
 * @throws DTypeError if the dtypes differ.
 * @example const [h1, c1] = lstmCell(linear(x, wIh, bIh).add(linear(h0, wHh, bHh)), c0);
 */
export const lstmCell = primitive('lstmCell', { kind: 'other', rule: 'rowwise' }, function (gates: Tensor, c: Tensor): [Tensor, Tensor] {
  const z = floatInput('lstmCell', 'gates', gates);
  const c0 = floatInput('lstmCell', 'c', c);
  checkSameDType('lstmCell', z, c0);
  const hidden = c0.shape[c0.ndim - 1];
  if (hidden === undefined || z.ndim !== c0.ndim || z.shape.some((d, i) => d !== (i === z.ndim - 1 ? 4 * hidden : c0.shape[i]))) {
    throw new ShapeError(`lstmCell: gates must be [..., 4H] and c [..., H] with the same leading axes; got gates ${formatShape(z.shape)} and c ${formatShape(c0.shape)}`);
  }
  const rows = hidden === 0 ? 0 : c0.size / hidden;
  const hData = allocate(c0.dtype, c0.size, 'lstmCell', c0.shape);
  const cData = allocate(c0.dtype, c0.size, 'lstmCell', c0.shape);
  // The activations, for the fused backward (the saved inputs' versions guard them as they guard the inputs).
  const acts = allocate(c0.dtype, 5 * c0.size);
  lstmCellForward(z.data, c0.data, rows, hidden, hData, cData, acts);
  const cNew = makeOutput('lstmCell', cData, c0.shape, [z, c0], (v, out) => cellVjp(z, c0, expectFloat('lstmCell', out), acts, null, v), {
    // dGates reads the gates, c (σ'(f)⊙c) and c'; dc reads the gates (σ(f)).
    saves: [[0, 1, 'output'], [0, 'output']],
    jvp: ([tz, tc]) => cellTangents(z, c0, tz ?? null, tc ?? null, null)[1],
  });
  const cNewFloat = expectFloat('lstmCell', cNew);
  const hNew = makeOutput('lstmCell', hData, c0.shape, [z, c0], (u) => cellVjp(z, c0, cNewFloat, acts, u, null), {
    saves: [[0, 1, cNew], [0, cNew]],
    jvp: ([tz, tc]) => cellTangents(z, c0, tz ?? null, tc ?? null, cNewFloat)[0],
  });
  return [hNew, cNew];
});

/** The gates' and c's gradients given h''s (dh) and c''s (dcNew), one of them null. */
function cellVjp(z: FloatTensor, c: FloatTensor, cNew: FloatTensor, acts: FloatArray, dh: Tensor | null, dcNew: Tensor | null): (Tensor | null)[] {
  if ((opsRunEagerly() && !isGradEnabled() && !forwardActive()) || z.size === 0) {
    // No graph to build, no tangent to carry, no transform but jit's recording to see the ops: the fused kernel.
    const hidden = c.shape[c.ndim - 1]!;
    const dGates = allocate(z.dtype, z.size, 'lstmCell', z.shape);
    const dc = allocate(c.dtype, c.size, 'lstmCell', c.shape);
    const gradData = (t: Tensor | null) => (t === null ? null : expectFloat('lstmCell', t).data);
    lstmCellBackward(acts, c.data, gradData(dh), gradData(dcNew), hidden === 0 ? 0 : c.size / hidden, hidden, dGates, dc);
    return [z.requiresGrad ? constant(dGates, z.shape) : null, c.requiresGrad ? constant(dc, c.shape) : null];
  }
  const [zi, zf, zg, zo] = chunk(z, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
  const i = sigmoid(zi), f = sigmoid(zf), g = tanh(zg), o = sigmoid(zo);
  const tc = tanh(cNew);
  const oneMinus = (t: Tensor) => t.neg().add(1);
  // δ = dc' + dh⊙σ(o)⊙(1 - tanh²c'): the whole gradient reaching c'.
  const fromH = dh === null ? null : dh.mul(o).mul(oneMinus(tc.square()));
  const delta = fromH === null ? dcNew! : dcNew === null ? fromH : dcNew.add(fromH);
  const dO = dh === null ? zerosLike(zo) : dh.mul(tc).mul(o.mul(oneMinus(o)));
  const dGates = concat([delta.mul(g).mul(i.mul(oneMinus(i))), delta.mul(c).mul(f.mul(oneMinus(f))), delta.mul(i).mul(oneMinus(g.square())), dO], -1);
  return [z.requiresGrad ? dGates : null, c.requiresGrad ? delta.mul(f) : null];
}

/**
 * [ḣ', ċ'] from the tangents of the gates and c (null for none): ċ' = σ̇(f)⊙c + σ(f)⊙ċ + σ̇(i)⊙tanh(g)
 * + σ(i)⊙(1 - tanh²g)⊙ġ and ḣ' = σ̇(o)⊙tanh(c') + σ(o)⊙(1 - tanh²c')⊙ċ', with σ̇ = σ(1 - σ)·ż.
 * `cNew` is c' (null when only ċ' is wanted).
 */
function cellTangents(z: FloatTensor, c: FloatTensor, tz: Tensor | null, tc: Tensor | null, cNew: Tensor | null): [Tensor | null, Tensor | null] {
  if (tz === null && tc === null) return [null, null];
  const [zi, zf, zg, zo] = chunk(z, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
  const i = sigmoid(zi), f = sigmoid(zf), g = tanh(zg), o = sigmoid(zo);
  const oneMinus = (t: Tensor) => t.neg().add(1);
  const terms: Tensor[] = [];
  let dO: Tensor | null = null;
  if (tz !== null) {
    const [ti, tf, tg, to] = chunk(tz, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
    terms.push(f.mul(oneMinus(f)).mul(tf).mul(c), i.mul(oneMinus(i)).mul(ti).mul(g), i.mul(oneMinus(g.square())).mul(tg));
    dO = o.mul(oneMinus(o)).mul(to);
  }
  if (tc !== null) terms.push(f.mul(tc));
  const dc = terms.reduce((a, b) => a.add(b));
  if (cNew === null) return [null, dc];
  const tanhC = tanh(cNew);
  const dh = o.mul(oneMinus(tanhC.square())).mul(dc);
  return [dO === null ? dh : dO.mul(tanhC).add(dh), dc];
}

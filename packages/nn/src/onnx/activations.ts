// The activations beyond ReLU, Sigmoid and Tanh: ONNX's own operator where the opset has one
// that computes what the layer's forward computes, else the forward's formula node by node.
// NOTE: ONNX Runtime's CPU provider has no double kernels for Selu, Elu, Celu, HardSigmoid,
// HardSwish, Softsign, Softplus, or (at opset 22) Mish and PRelu, and ONNX float attributes are
// float32: a float64 graph spells those out with operators it runs in double and constants of the
// graph's dtype, as GELU and Softplus do.
import { ShapeError } from '@chainrule/autograd';
import {
  CELU, ELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SELU, SiLU, Softsign, Tanhshrink,
} from '../layers/activations.js';
import type { GraphBuilder, SymValue } from './graph.js';
import { at, describeModule, formatDims, perChannel, register, softplus, unary, type ExportContext } from './layers.js';

// SELU's constants as PyTorch (and autograd's selu) have them; ONNX's Selu defaults are these rounded to float32.
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Whether the graph is float32, where ONNX Runtime runs every activation operator. */
function inFloat32(ctx: ExportContext): boolean {
  return ctx.graph.dtype === 'float32';
}

/** `x` limited to [lo, hi]: Clip, whose limits are inputs of the graph's dtype (exact in float64 too). */
function clip(g: GraphBuilder, path: string, x: string, lo: number, hi: number): string {
  return g.node('Clip', [x, g.constant(lo), g.constant(hi)], at(path, 'Clip'));
}

/**
 * `scale·x` where x > 0, else `negScale·(e^{min(x, 0)·inputScale} − 1)`: the form autograd's elu,
 * selu and celu share (the curve reads min(x, 0), so the branch not taken never overflows).
 */
function eluForm(g: GraphBuilder, path: string, x: string, scale: number, negScale: number, inputScale: number): string {
  const negative = g.node('Min', [x, g.constant(0)], at(path, 'Min'));
  const exponent = inputScale === 1 ? negative : g.node('Mul', [negative, g.constant(inputScale)], at(path, 'Mul'));
  const expm1 = g.node('Sub', [g.node('Exp', [exponent], at(path, 'Exp')), g.constant(1)], at(path, 'Sub'));
  const curve = negScale === 1 ? expm1 : g.node('Mul', [expm1, g.constant(negScale)], at(path, 'Mul'));
  const line = scale === 1 ? x : g.node('Mul', [x, g.constant(scale)], at(path, 'Mul'));
  return g.node('Where', [g.node('LessOrEqual', [x, g.constant(0)], at(path, 'LessOrEqual')), curve, line], at(path, 'Where'));
}

/** min(max(x + 3, 0), 6): relu6(x + 3), the core of Hardsigmoid and Hardswish. */
function relu6Shifted(g: GraphBuilder, path: string, x: string): string {
  return clip(g, path, g.node('Add', [x, g.constant(3)], at(path, 'Add')), 0, 6);
}

const same = (x: SymValue, name: string): SymValue => ({ name, shape: x.shape });

// x·σ(x), as torch.onnx writes it: ONNX has no SiLU operator.
// NOTE: ONNX Runtime fuses Mul(x, Sigmoid(x)) into its float-only QuickGelu kernel whatever the
// dtype, so a float64 graph is x / (1 + e^{−x}), autograd's formula, which it leaves alone.
register(SiLU, (_m, path, x, ctx) => {
  const g = ctx.graph;
  if (inFloat32(ctx)) return same(x, g.node('Mul', [x.name, g.node('Sigmoid', [x.name], at(path, 'Sigmoid'))], at(path, 'Mul')));
  const decay = g.node('Exp', [g.node('Neg', [x.name], at(path, 'Neg'))], at(path, 'Exp'));
  return same(x, g.node('Div', [x.name, g.node('Add', [decay, g.constant(1)], at(path, 'Add'))], at(path, 'Div')));
});

// Mish is an operator from opset 18; before, and in double, x·tanh(softplus(x)).
register(Mish, (_m, path, x, ctx) => {
  const g = ctx.graph;
  if (ctx.opset >= 18 && inFloat32(ctx)) return same(x, g.node('Mish', [x.name], at(path, 'Mish')));
  const tanh = g.node('Tanh', [softplus(g, path, x.name)], at(path, 'Tanh'));
  return same(x, g.node('Mul', [x.name, tanh], at(path, 'Mul')));
});

register(ReLU6, (_m, path, x, ctx) => same(x, clip(ctx.graph, path, x.name, 0, 6)));

register(Hardtanh, (m, path, x, ctx) => same(x, clip(ctx.graph, path, x.name, m.minVal, m.maxVal)));

register(SELU, (m, path, x, ctx) => {
  if (inFloat32(ctx)) return unary('Selu')(m, path, x, ctx);
  return same(x, eluForm(ctx.graph, path, x.name, SELU_SCALE, SELU_ALPHA * SELU_SCALE, 1));
});

register(ELU, (m, path, x, ctx) => {
  if (inFloat32(ctx)) return same(x, ctx.graph.node('Elu', [x.name], at(path, 'Elu'), { alpha: { float: m.alpha } }));
  return same(x, eluForm(ctx.graph, path, x.name, 1, m.alpha, 1));
});

// ONNX's Celu is max(0, x) + min(0, α·(e^{x/α} − 1)), PyTorch's formula, for either sign of α.
register(CELU, (m, path, x, ctx) => {
  if (inFloat32(ctx)) return same(x, ctx.graph.node('Celu', [x.name], at(path, 'Celu'), { alpha: { float: m.alpha } }));
  return same(x, eluForm(ctx.graph, path, x.name, 1, m.alpha, 1 / m.alpha));
});

// HardSigmoid(α = 1/6, β = 1/2) is max(0, min(1, x/6 + 1/2)) = relu6(x + 3)/6, as torch.onnx writes it.
register(Hardsigmoid, (_m, path, x, ctx) => {
  const g = ctx.graph;
  if (inFloat32(ctx)) return same(x, g.node('HardSigmoid', [x.name], at(path, 'HardSigmoid'), { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }));
  return same(x, g.node('Div', [relu6Shifted(g, path, x.name), g.constant(6)], at(path, 'Div')));
});

// HardSwish (opset 14) is x·max(0, min(1, x/6 + 1/2)) = x·relu6(x + 3)/6.
register(Hardswish, (m, path, x, ctx) => {
  const g = ctx.graph;
  if (inFloat32(ctx)) return unary('HardSwish')(m, path, x, ctx);
  const scaled = g.node('Mul', [x.name, relu6Shifted(g, path, x.name)], at(path, 'Mul'));
  return same(x, g.node('Div', [scaled, g.constant(6)], at(path, 'Div')));
});

register(Softsign, (m, path, x, ctx) => {
  const g = ctx.graph;
  if (inFloat32(ctx)) return unary('Softsign')(m, path, x, ctx);
  const denominator = g.node('Add', [g.node('Abs', [x.name], at(path, 'Abs')), g.constant(1)], at(path, 'Add'));
  return same(x, g.node('Div', [x.name, denominator], at(path, 'Div')));
});

// log σ(x) = −softplus(−x): exact far below 0, where torch.onnx's Log(Sigmoid(x)) reaches −∞.
register(LogSigmoid, (_m, path, x, ctx) => {
  const g = ctx.graph;
  const soft = softplus(g, path, g.node('Neg', [x.name], at(path, 'Neg')));
  return same(x, g.node('Neg', [soft], at(path, 'Neg')));
});

register(Tanhshrink, (_m, path, x, ctx) => {
  const g = ctx.graph;
  return same(x, g.node('Sub', [x.name, g.node('Tanh', [x.name], at(path, 'Tanh'))], at(path, 'Sub')));
});

// PRelu broadcasts its slope against the input from the right: one slope is [1], one per
// channel is [C, 1, ...] so it lines up with axis 1 of [N, C, ...], as PReLU.forward reshapes it.
register(PReLU, (m, path, x, ctx) => {
  const n = m.numSlopes;
  const r = x.shape.length;
  const c = x.shape[1];
  if (n > 1 && (r < 2 || (typeof c === 'number' && c !== n))) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} has ${n} slopes for the channels on axis 1, but its input has shape ${formatDims(x.shape)}`);
  }
  const slopes = new Map(m.namedParameters()).get('weight')!;
  const slope = perChannel(ctx, path, m, 'weight', slopes, n > 1 ? r : 1);
  const g = ctx.graph;
  if (inFloat32(ctx)) return same(x, g.node('PRelu', [x.name, slope], at(path, 'PRelu')));
  // ONNX Runtime runs PRelu in double only at some opsets: there, forward's where(x > 0, x, a·x).
  const positive = g.node('Greater', [x.name, g.constant(0)], at(path, 'Greater'));
  return same(x, g.node('Where', [positive, x.name, g.node('Mul', [x.name, slope], at(path, 'Mul'))], at(path, 'Where')));
});

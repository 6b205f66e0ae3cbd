// Reshaping, lookups and reductions: Flatten, Unflatten, Embedding and the containers that have
// no forward, plus the Reshape and ReduceMean helpers other exporters build on.
import { ShapeError } from '@chainrule/autograd';
import type { AnyModule } from '../module.js';
import { Flatten, Unflatten } from '../layers/activations.js';
import { Embedding } from '../layers/embedding.js';
import { ModuleDict, ModuleList } from '../layers/containers.js';
import type { SymDim, SymValue } from './graph.js';
import { OnnxExportError, at, describeModule, formatDims, register, weight, type ExportContext } from './layers.js';

/** One axis of a Reshape's target: a size, the size of an input axis, or the one inferred axis. */
export type TargetDim = number | { readonly axis: number } | 'infer';

/**
 * Reshapes `x` to `dims`. When every copied axis keeps its position, the target is one constant
 * (ONNX's 0 copies the input's size at that position, -1 infers); otherwise copied sizes are read
 * at run time with Shape and concatenated, so dynamic axes may move.
 */
export function reshape(ctx: ExportContext, path: string, x: SymValue, dims: readonly TargetDim[], shape: readonly SymDim[]): SymValue {
  const g = ctx.graph;
  const inPlace = dims.every((d, i) => typeof d !== 'object' || d.axis === i);
  let target: string;
  if (inPlace) {
    target = g.int64s(dims.map((d) => (typeof d === 'object' ? 0 : d === 'infer' ? -1 : d)));
  } else {
    const pieces = dims.map((d) =>
      typeof d === 'object'
        ? g.node('Shape', [x.name], at(path, 'Shape'), { start: { int: d.axis }, end: { int: d.axis + 1 } })
        : g.int64s([d === 'infer' ? -1 : d]),
    );
    target = g.node('Concat', pieces, at(path, 'Concat'), { axis: { int: 0 } });
  }
  return { name: g.node('Reshape', [x.name, target], at(path, 'Reshape')), shape };
}

/** An input axis as a Reshape target: its size where known, else a copy of it at run time. */
function keep(x: SymValue, axis: number): TargetDim {
  const d = x.shape[axis];
  return typeof d === 'number' ? d : { axis };
}

/** The product of `dims`, or null if one is not known at export. */
export function product(dims: readonly SymDim[]): number | null {
  return dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a * b, 1) : null;
}

/** ReduceMean over `axes`, keeping them: the axes are an attribute up to opset 17 and an input from 18. */
export function reduceMean(ctx: ExportContext, path: string, x: string, axes: readonly number[]): string {
  const g = ctx.graph;
  if (ctx.opset < 18) return g.node('ReduceMean', [x], at(path, 'ReduceMean'), { axes: { ints: axes }, keepdims: { int: 1 } });
  return g.node('ReduceMean', [x, g.int64s(axes)], at(path, 'ReduceMean'), { keepdims: { int: 1 } });
}

register(Flatten, (m, path, x, ctx) => {
  const r = x.shape.length;
  // Flatten.forward leaves 0-d and 1-d inputs alone.
  if (r <= 1) return x;
  const axis = (d: number): number => (d < 0 ? d + r : d);
  const start = axis(m.startDim), end = axis(m.endDim);
  if (start < 0 || start >= r || end < 0 || end >= r || start > end) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} has no axes ${m.startDim} to ${m.endDim} in order for an input of shape ${formatDims(x.shape)}`);
  }
  if (start === end) return x;
  const merged = product(x.shape.slice(start, end + 1));
  const shape = [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)];
  // ONNX's Flatten makes a matrix of the axes before and from its axis: PyTorch's default on a batch.
  if (start === 1 && end === r - 1) return { name: ctx.graph.node('Flatten', [x.name], at(path, 'Flatten'), { axis: { int: 1 } }), shape };
  const dims: TargetDim[] = [
    ...x.shape.slice(0, start).map((_, i) => keep(x, i)),
    merged ?? 'infer',
    ...x.shape.slice(end + 1).map((_, i) => keep(x, end + 1 + i)),
  ];
  return reshape(ctx, path, x, dims, shape);
});

register(Unflatten, (m, path, x, ctx) => {
  const r = x.shape.length;
  const d = m.dim < 0 ? m.dim + r : m.dim;
  if (d < 0 || d >= r) throw new ShapeError(`exportOnnx: ${describeModule(path, m)} has no axis ${m.dim} in an input of shape ${formatDims(x.shape)}`);
  const n = x.shape[d]!;
  const known = m.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  const inferred = m.unflattenedSize.includes(-1);
  if (typeof n === 'number' && (inferred ? known === 0 || n % known !== 0 : known !== n)) {
    throw new ShapeError(`exportOnnx: ${describeModule(path, m)} cannot split axis ${m.dim} of size ${n} (input ${formatDims(x.shape)}) into [${m.unflattenedSize.join(',')}]`);
  }
  const sizes = m.unflattenedSize.map((s) => (s !== -1 ? s : typeof n === 'number' ? n / known : null));
  const shape = [...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)];
  const dims: TargetDim[] = [
    ...x.shape.slice(0, d).map((_, i) => keep(x, i)),
    ...sizes.map((s): TargetDim => s ?? 'infer'),
    ...x.shape.slice(d + 1).map((_, i) => keep(x, d + 1 + i)),
  ];
  return reshape(ctx, path, x, dims, shape);
});

register(Embedding, (m, path, x, ctx) => {
  if (x.dtype !== 'int32') {
    throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} looks up int32 indices, but its input is ${x.dtype ?? ctx.graph.dtype}; export with inputDtype: 'int32'`);
  }
  // maxNorm rescales the table's rows in place on every call: a side effect a graph cannot have.
  if (m.maxNorm !== null) throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} with maxNorm=${m.maxNorm} is not supported (it renormalises the table in place at each call)`);
  const table = weight(ctx, path, m, 'weight', m.weight);
  // Gather counts negative indices from the end, as Embedding.forward does.
  return { name: ctx.graph.node('Gather', [table, x.name], at(path, 'Gather'), { axis: { int: 0 } }), shape: [...x.shape, m.embeddingDim] };
}, { indices: true });

function noForward(m: AnyModule, path: string): never {
  throw new OnnxExportError(`exportOnnx: ${describeModule(path, m)} is not supported: it only holds modules and has no forward; export the module whose forward calls them (a Sequential runs its children in order)`);
}
register(ModuleList, noForward);
register(ModuleDict, noForward);

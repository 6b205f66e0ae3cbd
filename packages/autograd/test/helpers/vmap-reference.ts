import fc from 'fast-check';
import { stack, Tensor, treeFlatten, treeUnflatten, unbind } from '@chainrule/autograd';
import { assertClose, seededTensor, type ValueConstraints } from '@chainrule/autograd/testing';

/** What vmap must equal: f on each example (the batched arguments sliced at their axes), the results stacked at `outAxis`. */
export function stackedReference(f: (...args: Tensor[]) => unknown, args: readonly Tensor[], inAxes: readonly (number | null)[], outAxis: number): unknown {
  const size = args.map((a, i) => (inAxes[i] === null ? -1 : a.shape[norm(inAxes[i]!, a.ndim)]!)).find((n) => n >= 0)!;
  const slices = args.map((a, i) => (inAxes[i] === null ? null : unbind(a, norm(inAxes[i]!, a.ndim))));
  const results = Array.from({ length: size }, (_, b) => f(...args.map((a, i) => slices[i]?.[b] ?? a)));
  const flat = results.map((r) => treeFlatten(r));
  const leaves = flat[0]!.leaves.map((leaf, k) => stack(flat.map((fl) => fl.leaves[k]!), norm(outAxis, leaf.ndim + 1)));
  return treeUnflatten(flat[0]!.def, leaves);
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Compares two structures of tensors leaf by leaf (shapes, dtypes and values). */
export function assertTreesClose(actual: unknown, expected: unknown, rtol = 1e-10, atol = 1e-12): void {
  const a = treeFlatten(actual);
  const e = treeFlatten(expected);
  if (!a.def.equals(e.def)) throw new Error(`structures differ: ${String(a.def)} vs ${String(e.def)}`);
  a.leaves.forEach((t, k) => {
    const x = e.leaves[k]!;
    if (t.dtype !== x.dtype) throw new Error(`leaf ${k}: dtype ${t.dtype} vs ${x.dtype}`);
    assertClose(t, x, rtol, atol);
  });
}

/** A batched version of each logical shape: the batch (size `size`) inserted at its axis, or none for null. */
export function batchedShape(shape: readonly number[], axis: number | null, size: number): number[] {
  if (axis === null) return [...shape];
  const a = norm(axis, shape.length + 1);
  return [...shape.slice(0, a), size, ...shape.slice(a)];
}

/**
 * A random vmap case over logical shapes drawn by `shapes`: a batch size, an in-axis per
 * argument (negative ones and null included, at least one batched), a fraction choosing the out
 * axis, and a seed for the values.
 */
export function vmapCaseArb(shapes: fc.Arbitrary<number[][]>): fc.Arbitrary<{ shapes: number[][]; size: number; inAxes: (number | null)[]; out: number; seed: number }> {
  return shapes.chain((list) =>
    fc.record({
      shapes: fc.constant(list),
      size: fc.integer({ min: 1, max: 3 }),
      inAxes: fc
        .tuple(...list.map((s) => fc.oneof(fc.constant(null), fc.integer({ min: -(s.length + 1), max: s.length }))))
        .map((axes) => (axes.every((a) => a === null) ? [0, ...axes.slice(1)] : axes)),
      out: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      seed: fc.noShrink(fc.integer()),
    }),
  );
}

/** The tensors of a case, batched at their axes. */
export function caseTensors(c: { shapes: number[][]; size: number; inAxes: (number | null)[]; seed: number }, values: ValueConstraints = {}): Tensor[] {
  return c.shapes.map((s, i) => seededTensor(batchedShape(s, c.inAxes[i]!, c.size), c.seed + 7919 * i, { requiresGrad: false, ...values }));
}

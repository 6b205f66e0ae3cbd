import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, einsum, formatGradcheckReport, gradcheck, gradgradcheck, ShapeError, tensor, type Tensor } from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import { einsumCaseArb, einsumRef } from './helpers/einsum-reference.js';
import { matmulRef } from './helpers/reduce-reference.js';
import { f64, grad64 } from './helpers/tensors.js';

const operandsOf = (shapes: number[][], seed: number, requiresGrad = false): Tensor[] =>
  shapes.map((s, i) => seededTensor(s, seed + 31 * i, { requiresGrad }));

describe('einsum', () => {
  it('matches a plain-loop reference over random equations (diagonals, ellipses, broadcast and zero sizes, implicit outputs)', () => {
    fc.assert(
      fc.property(einsumCaseArb(), fc.noShrink(fc.integer()), ({ equation, shapes }, seed) => {
        const xs = operandsOf(shapes, seed);
        const before = xs.map((x) => Array.from(x.data));
        const got = einsum(equation, ...xs);
        assertClose(got, einsumRef(equation, xs), 1e-12, 1e-12);
        xs.forEach((x, i) => expect(Array.from(x.data)).toEqual(before[i])); // inputs untouched
      }),
      { numRuns: 300 },
    );
  });

  it('keeps float32 in and out, within float32 rounding of the float64 result', () => {
    fc.assert(
      fc.property(einsumCaseArb(), fc.noShrink(fc.integer()), ({ equation, shapes }, seed) => {
        const xs = operandsOf(shapes, seed);
        const got = einsum(equation, ...xs.map((x) => x.toDtype('float32')));
        expect(got.dtype).toBe('float32');
        assertClose(got, einsumRef(equation, xs.map((x) => x.toDtype('float32'))), 1e-5, 1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('passes gradcheck over random equations (float64)', () => {
    fc.assert(
      fc.property(einsumCaseArb({ zeroSizes: false }), fc.noShrink(fc.integer()), ({ equation, shapes }, seed) => {
        const xs = operandsOf(shapes, seed, true);
        const report = gradcheck((...ts) => einsum(equation, ...ts), xs);
        if (!report.ok) throw new Error(`${equation} ${JSON.stringify(shapes)}: ${formatGradcheckReport(report)}`);
      }),
      { numRuns: 60 },
    );
  });

  it('passes gradgradcheck over random equations (float64)', () => {
    fc.assert(
      fc.property(einsumCaseArb({ maxSize: 2, zeroSizes: false }), fc.noShrink(fc.integer()), ({ equation, shapes }, seed) => {
        const xs = operandsOf(shapes, seed, true);
        const report = gradgradcheck((...ts) => einsum(equation, ...ts), xs);
        if (!report.ok) throw new Error(`${equation} ${JSON.stringify(shapes)}: ${formatGradcheckReport(report)}`);
      }),
      { numRuns: 25 },
    );
  });

  it('gives zero-size operands gradients of their shape', () => {
    const a = tensor(new Float64Array(0), { shape: [2, 0], requiresGrad: true });
    const b = tensor(new Float64Array(0), { shape: [0, 3], requiresGrad: true });
    const out = einsum('ij,jk->ik', a, b);
    expect(out.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    out.sum().backward();
    expect(a.grad!.shape).toEqual([2, 0]);
    expect(b.grad!.shape).toEqual([0, 3]);
  });

  it('computes hand-checked cases', () => {
    const m = f64([[1, 2], [3, 4]]);
    expect(einsum('ii', m).item()).toBe(5);
    expect(einsum('ii->i', m).toArray()).toEqual([1, 4]);
    expect(einsum('ij->ji', m).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(einsum('ij', m).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(einsum('ji', m).toArray()).toEqual([[1, 3], [2, 4]]); // implicit output: i before j
    expect(einsum('i,i', f64([1, 2, 3]), f64([4, 5, 6])).item()).toBe(32);
    expect(einsum('i,j->ij', f64([1, 2]), f64([3, 4, 5])).toArray()).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(einsum(' i j , j k -> i k ', m, m).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(einsum('aB', f64([[1, 2, 3], [4, 5, 6]])).shape).toEqual([3, 2]); // upper case sorts first, as in ASCII
  });

  it('agrees with matmul on the batched product', () => {
    const a = seededTensor([3, 4, 5], 1);
    const b = seededTensor([3, 5, 2], 2);
    assertClose(einsum('bij,bjk->bik', a, b), matmulRef(a.data, a.shape, b.data, b.shape), 1e-13, 1e-13);
  });

  it('gives the same results when an equation is called again, with other values or other shapes', () => {
    for (const shapes of [[[2, 3], [3, 4]], [[2, 3], [3, 4]], [[5, 1], [1, 2]], [[2, 3], [3, 4]]]) {
      for (const seed of [1, 2]) {
        const [a, b] = operandsOf(shapes, seed, true) as [Tensor, Tensor];
        const out = einsum('ij,jk->ik', a, b);
        assertClose(out, einsumRef('ij,jk->ik', [a, b]), 1e-13);
        out.sum().backward();
        assertClose(a.grad!, einsumRef('ik,jk->ij', [f64(new Array(shapes[0]![0]! * shapes[1]![1]!).fill(1), [shapes[0]![0]!, shapes[1]![1]!]), b]), 1e-13);
      }
    }
    const bad = f64([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    for (let i = 0; i < 2; i++) expect(() => einsum('ij,jk->ik', f64([[1, 2]]), bad)).toThrow(/^einsum: label j of 'ij,jk->ik' has sizes 2 and 3/); // refused every time
  });

  it('accumulates the gradient of an operand used twice', () => {
    const x = grad64([1, 2, 3]);
    einsum('i,i->', x, x).backward();
    expect(Array.from(x.grad!.data)).toEqual([2, 4, 6]);
  });

  it('names the equation, operands and shapes in its errors', () => {
    const m = f64([[1, 2], [3, 4]]);
    const v = f64([1, 2, 3]);
    expect(() => einsum('ij,jk', m)).toThrow(ArgumentError);
    expect(() => einsum('ij,jk', m)).toThrow(/^einsum: 'ij,jk' has 2 term\(s\) but 1 operand\(s\)/);
    expect(() => einsum('ijk', m)).toThrow(ShapeError);
    expect(() => einsum('ijk', m)).toThrow(/^einsum: term 0 of 'ijk' has 3 subscript\(s\) but operand 0 has shape \[2,2\]/);
    expect(() => einsum('ij,j->i', m, v)).toThrow(/^einsum: label j of 'ij,j->i' has sizes 2 and 3 \(shapes \[2,2\], \[3\]\)/);
    expect(() => einsum('ij->k', m)).toThrow(/^einsum: output label k of 'ij->k' appears in no operand/);
    expect(() => einsum('ij->ii', m)).toThrow(/^einsum: output label i of 'ij->ii' appears more than once/);
    expect(() => einsum('i1', m)).toThrow(/^einsum: 'i1' holds '1'/);
    expect(() => einsum('i..j', m)).toThrow(/^einsum: 'i..j' has a '\.'/);
    expect(() => einsum('ij->i->j', m)).toThrow(/more than one '->'/);
    expect(() => einsum('ii', f64([[1, 2, 3], [4, 5, 6]]))).toThrow(/^einsum: label i of 'ii' has sizes 2 and 3/);
    expect(() => einsum('ii', f64([[1, 2, 3]]))).toThrow(/^einsum: label i repeats in an operand of shape \[1,3\] over axes of different sizes/);
    expect(() => einsum('ij,jk', m, tensor([[1, 2], [3, 4]]))).toThrow(DTypeError);
    expect(() => einsum('ij')).toThrow(/needs at least one operand/);
    expect(() => einsum('ij', [[1]] as unknown as Tensor)).toThrow(/^einsum: operands\[0\] must be a Tensor/);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('einsum of integer and bool operands', () => {
  it('computes in float, taking a float operand’s width', () => {
    const i = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(einsum('ij,jk->ik', i, i).dtype).toBe('float32');
    expect(einsum('ii', i).item()).toBe(5);
    const mixed = einsum('ij,j->i', i, f64([1, 1]));
    expect(mixed.dtype).toBe('float64');
    expect(mixed.toArray()).toEqual([3, 7]);
  });
});

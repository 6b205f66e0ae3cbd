/**
 * einsum by its definition, written apart from the library: every output element is the sum,
 * over all values of the labels the output leaves out, of the product of the operands' elements
 * those labels pick (a size-1 axis reads index 0 whatever the label's size, as broadcasting
 * does). Also a fast-check arbitrary of random valid einsum calls.
 */
import fc from 'fast-check';
import { ravel, size, unravel, type Flat } from './reference.js';
import type { Ref } from './reduce-reference.js';

/** Stand-ins for the axes of an ellipsis (not letters, so they never clash with labels). */
const ELLIPSIS = '0123456789';

export function einsumRef(equation: string, operands: readonly Flat[]): Ref {
  const [lhs, rhs] = equation.replace(/ /g, '').split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  const ellRank = (t: string, i: number): number => (t.includes('...') ? operands[i]!.shape.length - (t.length - 3) : 0);
  const widest = Math.max(0, ...terms.map(ellRank));
  const ell = ELLIPSIS.slice(0, widest);
  const labels = terms.map((t, i) => t.replace('...', ell.slice(widest - ellRank(t, i))));
  let out: string;
  if (rhs !== undefined) {
    out = rhs.replace('...', ell);
  } else {
    const letters = terms.join('').replace(/\./g, '');
    const once = [...new Set(letters)].filter((c) => letters.split(c).length === 2).sort();
    out = ell + once.join('');
  }
  const sizes = new Map<string, number>();
  labels.forEach((ls, i) => [...ls].forEach((l, d) => {
    const n = operands[i]!.shape[d]!;
    if (!sizes.has(l) || sizes.get(l) === 1) sizes.set(l, n);
  }));
  const summed = [...sizes.keys()].filter((l) => !out.includes(l));
  const outShape = [...out].map((l) => sizes.get(l)!);
  const sumShape = summed.map((l) => sizes.get(l)!);
  const data: number[] = [];
  for (let o = 0; o < size(outShape); o++) {
    const at = new Map<string, number>();
    unravel(o, outShape).forEach((v, i) => at.set(out[i]!, v));
    let total = 0;
    for (let s = 0; s < size(sumShape); s++) {
      unravel(s, sumShape).forEach((v, i) => at.set(summed[i]!, v));
      let product = 1;
      operands.forEach((x, i) => {
        const index = [...labels[i]!].map((l, d) => (x.shape[d] === 1 ? 0 : at.get(l)!));
        product *= x.data[ravel(index, x.shape)]!;
      });
      total += product;
    }
    data.push(total);
  }
  return { data, shape: outShape };
}

/** A random valid einsum call: equation and operand shapes. */
export interface EinsumCase {
  equation: string;
  shapes: number[][];
}

/**
 * Equations of 1..3 operands over labels a, b, c, d, B (repeats in a term: diagonals), with an
 * ellipsis now and then (its axes broadcast: some are 1 in some operands), size-1 labels
 * broadcasting against larger ones, zero sizes now and then, and explicit or implicit outputs.
 */
export function einsumCaseArb(options: { maxSize?: number; zeroSizes?: boolean } = {}): fc.Arbitrary<EinsumCase> {
  const { maxSize = 3, zeroSizes = true } = options;
  const pool = ['a', 'b', 'c', 'd', 'B'];
  const nonZero = fc.oneof({ arbitrary: fc.integer({ min: 2, max: maxSize }), weight: 3 }, { arbitrary: fc.constant(1), weight: 1 });
  const dim = zeroSizes ? fc.oneof({ arbitrary: nonZero, weight: 8 }, { arbitrary: fc.constant(0), weight: 1 }) : nonZero;
  const term = fc.record({
    letters: fc.array(fc.constantFrom(...pool), { maxLength: 3 }),
    ellipsis: fc.boolean(),
    ellipsisAt: fc.nat(),
    // One axis in five broadcast as size 1: enough to test it, few enough to keep real sizes.
    ones: fc.array(fc.integer({ min: 0, max: 4 }).map((v) => v === 0), { minLength: 5, maxLength: 5 }),
    ellipsisTail: fc.integer({ min: 0, max: 2 }),
  });
  return fc
    .record({
      sizes: fc.array(dim, { minLength: pool.length, maxLength: pool.length }),
      ellipsisShape: fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: 1, maxLength: 2 }),
      terms: fc.array(term, { minLength: 1, maxLength: 3 }),
      explicit: fc.boolean(),
      outputOrder: fc.array(fc.nat(), { minLength: pool.length, maxLength: pool.length }),
      outputKeep: fc.array(fc.boolean(), { minLength: pool.length, maxLength: pool.length }),
      outputEllipsis: fc.boolean(),
    })
    .map(({ sizes, ellipsisShape, terms, explicit, outputOrder, outputKeep, outputEllipsis }) => {
      const sizeOf = (l: string): number => sizes[pool.indexOf(l)]!;
      const shapes: number[][] = [];
      const parts = terms.map((t) => {
        const shape = t.letters.map((l, k) => {
          // A label once in its term may be 1 here and larger elsewhere (broadcast).
          const alone = t.letters.indexOf(l) === t.letters.lastIndexOf(l);
          return alone && t.ones[k] ? 1 : sizeOf(l);
        });
        let text = t.letters.join('');
        if (t.ellipsis) {
          const at = t.ellipsisAt % (t.letters.length + 1);
          const rank = Math.min(t.ellipsisTail, ellipsisShape.length);
          const ell = ellipsisShape.slice(ellipsisShape.length - rank).map((n, k) => (t.ones[4 - k] ? 1 : n));
          text = `${text.slice(0, at)}...${text.slice(at)}`;
          shape.splice(at, 0, ...ell);
        }
        shapes.push(shape);
        return text;
      });
      const used = pool.filter((l) => terms.some((t) => t.letters.includes(l)));
      let equation = parts.join(',');
      if (explicit) {
        const out = used.filter((l) => outputKeep[pool.indexOf(l)]).sort((x, y) => outputOrder[pool.indexOf(x)]! - outputOrder[pool.indexOf(y)]!);
        const anyEllipsis = terms.some((t) => t.ellipsis);
        equation += `->${anyEllipsis && outputEllipsis ? '...' : ''}${out.join('')}`;
      }
      return { equation, shapes };
    });
}

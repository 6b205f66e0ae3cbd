import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { broadcastBinary, type BinaryKind } from '../src/kernels/binary.js';
import { BINARY_EXPRESSIONS, EXPRESSION_HELPERS, helpersOf, UNARY_EXPRESSIONS } from '../src/kernels/expressions.js';
import { erf } from '../src/kernels/special.js';
import { mapUnary, type UnaryKind } from '../src/kernels/unary.js';

// The formulas the fused loops are generated from, held bit for bit to the eager kernels they
// restate: every kind, both dtypes, special values and random ones.

const SPECIAL = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -3, 6, -6, 2, -2, 0.1, -0.1, 1e-8, -1e-8, 1e-300, -1e-300, 5e-324, -5e-324,
  1e300, -1e300, 20, -20, 50, -50, 710, -710, 3.4028234663852886e38, Infinity, -Infinity, NaN, Math.PI, -Math.E, 0.9999999, 1.0000001,
];

type Dtype = 'float32' | 'float64';
const make = (dtype: Dtype, values: readonly number[]): Float32Array | Float64Array =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

function compile(formula: string, params: string): (...xs: number[]) => number {
  const helpers = helpersOf(formula).map((h) => EXPRESSION_HELPERS[h]!);
  return new Function('erf', `'use strict'; ${helpers.join('\n')} return function (${params}) { return ${formula}; };`)(erf) as (...xs: number[]) => number;
}

/** The formula applied elementwise and rounded to the dtype as a fused float32 loop does. */
function viaFormula(dtype: Dtype, f: (...xs: number[]) => number, ...cols: (Float32Array | Float64Array)[]): Float32Array | Float64Array {
  const out = make(dtype, new Array<number>(cols[0]!.length).fill(0));
  for (let i = 0; i < out.length; i++) out[i] = f(...cols.map((c) => c[i]!));
  return out;
}

function sameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: (i: number) => string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what(i)}: formula ${actual[i]}, kernel ${expected[i]}`);
  }
}

describe('elementwise formulas against the kernels', () => {
  const unaryKinds = Object.keys(UNARY_EXPRESSIONS) as UnaryKind[];
  const binaryKinds = Object.keys(BINARY_EXPRESSIONS) as BinaryKind[];

  for (const dtype of ['float32', 'float64'] as const) {
    test.each(unaryKinds)(`unary %s (${dtype}), special values and random ones`, (kind) => {
      const f = compile(UNARY_EXPRESSIONS[kind], 'v');
      const check = (values: readonly number[]): void => {
        const x = make(dtype, values);
        const out = make(dtype, new Array<number>(x.length).fill(0));
        mapUnary(kind, x, out);
        sameBits(viaFormula(dtype, f, x), out, (i) => `${kind}(${x[i]})`);
      };
      check(SPECIAL);
      fc.assert(fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 64 }), (values) => check(values)), { numRuns: 50 });
    });

    test.each(binaryKinds)(`binary %s (${dtype}), every pair of special values and random ones`, (kind) => {
      const f = compile(BINARY_EXPRESSIONS[kind], 'p, q');
      const check = (ps: readonly number[], qs: readonly number[]): void => {
        const a = make(dtype, ps), b = make(dtype, qs);
        const out = make(dtype, new Array<number>(a.length).fill(0));
        broadcastBinary(kind, a, [a.length], b, [b.length], out, [a.length]);
        sameBits(viaFormula(dtype, f, a, b), out, (i) => `${kind}(${a[i]}, ${b[i]})`);
      };
      check(SPECIAL.flatMap((p) => SPECIAL.map(() => p)), SPECIAL.flatMap(() => SPECIAL));
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.double(), fc.double()), { minLength: 1, maxLength: 64 }), (pairs) => check(pairs.map((x) => x[0]), pairs.map((x) => x[1]))),
        { numRuns: 50 },
      );
    });
  }

  test('helpersOf finds called helpers only, not Math methods of the same name', () => {
    expect(helpersOf('Math.max(v, 0)')).toEqual([]);
    expect(helpersOf('max(p, q)')).toEqual(['max']);
    expect(helpersOf(BINARY_EXPRESSIONS.logaddexp)).toEqual(['logaddexp']);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, GradcheckError, Tensor, assertGradcheck, grad, gradcheck, gradgradcheck, gradients, noGrad, numericGrad, randn, tensor,
} from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { makeOutput } from '../src/tensor.js';
import { f64, grad64 } from './helpers/tensors.js';

/**
 * An elementwise op built directly with makeOutput: forward applies `fn` to each element, the
 * VJP is whatever the test says, right or wrong.
 */
function customElementwise(x: Tensor, fn: (v: number) => number, vjp: (g: Tensor, x: Tensor) => Tensor): Tensor {
  return makeOutput('custom', x.data.map(fn), x.shape, [x], (g) => [vjp(g, x)]);
}

/** x² with a VJP off by a factor of 2 (g·x instead of 2·g·x). */
const badSquare = (x: Tensor): Tensor => customElementwise(x, (v) => v * v, (g, xi) => g.mul(xi));
/** x² with the right VJP. */
const goodSquare = (x: Tensor): Tensor => customElementwise(x, (v) => v * v, (g, xi) => g.mul(xi).mul(2));

describe('gradcheck: the report', () => {
  it('passes a correct op and reports its small errors', () => {
    const x = grad64([0.5, -3, 1, 2]);
    const report = gradcheck((t) => goodSquare(t).sum(), [x]);
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('full');
    expect(report.maxAbsError).toBeLessThan(1e-8);
    expect(report.maxRelError).toBeLessThan(1e-8);
    expect(report.worst).not.toBeNull();
    expect(Object.keys(report.worst!).sort()).toEqual(['analytic', 'index', 'input', 'numeric', 'output']);
  });

  it('catches a VJP off by a factor of 2 and names the worst element', () => {
    const x = grad64([0.5, -3, 1, 2]);
    const report = gradcheck((t) => badSquare(t).sum(), [x]);
    expect(report.ok).toBe(false);
    // Analytic x vs numeric 2x: the error |x| is furthest outside atol + rtol·|2x| at x = -3.
    expect(report.worst!.input).toBe(0);
    expect(report.worst!.index).toEqual([1]);
    expect(report.worst!.output).toBe(0);
    expect(report.worst!.analytic).toBe(-3);
    expect(report.worst!.numeric).toBeCloseTo(-6, 6);
    expect(report.maxAbsError).toBeCloseTo(3, 6);
    expect(report.maxRelError).toBeCloseTo(0.5, 6);
  });

  it('names the input and multi-index among several inputs', () => {
    const a = grad64([1, 2, 3]);
    const b = grad64([[1, 2], [-4, 0.5]]);
    const report = gradcheck((p, q) => p.mul(2).sum().add(badSquare(q).sum()), [a, b]);
    expect(report.ok).toBe(false);
    expect(report.worst!.input).toBe(1);
    expect(report.worst!.index).toEqual([1, 0]);
    expect(report.worst!.analytic).toBe(-4);
    expect(report.worst!.numeric).toBeCloseTo(-8, 6);
  });

  it('names the output element of a non-scalar output', () => {
    const report = gradcheck((t) => badSquare(t), [grad64([0.5, -3, 1])]);
    expect(report.ok).toBe(false);
    expect(report.worst!.index).toEqual([1]);
    expect(report.worst!.output).toBe(1);
  });

  it('checks only the inputs that require grad, and leaves inputs untouched', () => {
    const a = grad64([1, 2]);
    const b = f64([3, -4]);
    const report = gradcheck((p, q) => p.mul(badSquare(q)).sum(), [a, b]);
    expect(report.ok).toBe(true);
    expect(a.grad).toBeNull();
    expect([...a.data]).toEqual([1, 2]);
    expect([...b.data]).toEqual([3, -4]);
  });

  it('passes an input the output does not depend on (both gradients are zero)', () => {
    expect(gradcheck((p) => p.mul(0).sum(), [grad64([1, 2])]).ok).toBe(true);
    expect(gradcheck((p, _q) => p.sum(), [grad64([1, 2]), grad64([3])]).ok).toBe(true);
  });
});

describe("gradcheck: PyTorch's defaults", () => {
  it('eps is 1e-6: the numeric derivative of x³ at 0 is eps²', () => {
    // (eps³ - (-eps)³) / 2eps = eps²; the analytic derivative is 0.
    const cube = (t: Tensor): Tensor => t.pow(3).sum();
    const report = gradcheck(cube, [grad64([0])]);
    expect(report.ok).toBe(true);
    assertClose([report.worst!.numeric], [1e-12], 1e-6, 0);
    const wide = gradcheck(cube, [grad64([0])], { eps: 1e-2 });
    assertClose([wide.worst!.numeric], [1e-4], 1e-6, 0);
    expect(wide.ok).toBe(false); // 1e-4 > atol
  });

  it('atol is 1e-5: an absolute error just below passes, just above fails', () => {
    // Constant forward (numeric derivative exactly 0), VJP d·g.
    const offBy = (d: number) => (t: Tensor): Tensor => customElementwise(t, () => 1, (g) => g.mul(d)).sum();
    expect(gradcheck(offBy(0.9e-5), [grad64([1, 2])]).ok).toBe(true);
    expect(gradcheck(offBy(1.1e-5), [grad64([1, 2])]).ok).toBe(false);
    expect(gradcheck(offBy(1.1e-5), [grad64([1, 2])], { atol: 2e-5 }).ok).toBe(true);
  });

  it('rtol is 1e-3: for a derivative of 100 the tolerance is 1e-5 + 0.1', () => {
    const scaled = (d: number) => (t: Tensor): Tensor => customElementwise(t, (v) => 100 * v, (g) => g.mul(100 + d)).sum();
    expect(gradcheck(scaled(0.099), [grad64([1, -2])]).ok).toBe(true);
    expect(gradcheck(scaled(0.101), [grad64([1, -2])]).ok).toBe(false);
    expect(gradcheck(scaled(0.101), [grad64([1, -2])], { rtol: 2e-3 }).ok).toBe(true);
  });
});

describe('gradcheck: float32 inputs', () => {
  it('are checked on float64 copies, leaving the originals alone', () => {
    const x = tensor([0.1, 0.2, 0.3], { requiresGrad: true });
    const seen: string[] = [];
    const report = gradcheck((t) => {
      seen.push(t.dtype);
      return t.exp().sum();
    }, [x]);
    expect(report.ok).toBe(true);
    expect(new Set(seen)).toEqual(new Set(['float64']));
    expect(x.dtype).toBe('float32');
    expect(x.grad).toBeNull();
    // The check itself ran at float64 precision.
    expect(report.maxAbsError).toBeLessThan(1e-8);
  });

  it('a function that leaves float64 is an error', () => {
    expect(() => gradcheck((t) => t.toDtype('float32').sum(), [grad64([1])])).toThrow(ArgumentError);
    expect(() => gradcheck((t) => t.toDtype('float32').sum(), [grad64([1])])).toThrow(/^gradcheck: the function returned float32 for float64 inputs/);
  });
});

describe("gradcheck: mode 'fast'", () => {
  it('passes correct ops with a few evaluations, whatever the input size', () => {
    const x = tensor(Array.from({ length: 50 }, (_, i) => Math.sin(i)), { dtype: 'float64', requiresGrad: true });
    let calls = 0;
    const report = gradcheck((t) => {
      calls++;
      return goodSquare(t).tanh().sum();
    }, [x], { mode: 'fast' });
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('fast');
    expect(calls).toBe(3); // one forward and ±eps along one random direction
    const full = gradcheck((t) => goodSquare(t).tanh().sum(), [x]);
    expect(full.ok).toBe(true);
    const m = grad64([[1, 2], [3, 4]]);
    expect(gradcheck((a, b) => a.matmul(b).sin().sum(), [m, grad64([[0.5], [-1]])], { mode: 'fast' }).ok).toBe(true);
  });

  it('catches the wrong VJP and reports the worst element after its full re-run', () => {
    const x = grad64([0.5, -3, 1, 2]);
    const report = gradcheck((t) => badSquare(t).sum(), [x], { mode: 'fast' });
    expect(report.ok).toBe(false);
    expect(report.mode).toBe('fast');
    expect(report.worst!.input).toBe(0);
    expect(report.worst!.index).toEqual([1]);
    expect(report.worst!.analytic).toBe(-3);
    expect(report.worst!.numeric).toBeCloseTo(-6, 6);
  });
});

describe('gradcheck: bad input is a clear error', () => {
  it('NaN or Inf in an input', () => {
    const f = (t: Tensor): Tensor => t.sum();
    expect(() => gradcheck(f, [grad64([1, NaN])])).toThrow(ArgumentError);
    expect(() => gradcheck(f, [grad64([1, NaN])])).toThrow(
      'gradcheck: input 0 (shape [2]) holds NaN at [1]; gradients are checked at finite points only',
    );
    expect(() => gradcheck((a, b) => a.add(b).sum(), [grad64([1]), grad64([[2, Infinity]])])).toThrow(/^gradcheck: input 1 \(shape \[1,2\]\) holds Infinity at \[0,1\]/);
    expect(() => numericGrad(f, [grad64([-Infinity])])).toThrow(/^numericGrad: input 0 \(shape \[1\]\) holds -Infinity/);
  });

  it('no input requiring grad', () => {
    expect(() => gradcheck((t) => t.sum(), [f64([1, 2])])).toThrow(ArgumentError);
    expect(() => gradcheck((t) => t.sum(), [f64([1, 2])])).toThrow(/^gradcheck: no input requires grad/);
  });

  it('a function that does not return a Tensor', () => {
    expect(() => gradcheck((() => 3) as unknown as (t: Tensor) => Tensor, [grad64([1])])).toThrow(/^gradcheck: the function must return a Tensor/);
  });
});

describe('assertGradcheck', () => {
  it('returns the report when the check passes', () => {
    const report = assertGradcheck((t) => t.square().sum(), [grad64([1, 2])]);
    expect(report.ok).toBe(true);
  });

  it('throws a GradcheckError carrying the report, with the worst element in its message', () => {
    let caught: unknown;
    try {
      assertGradcheck((t) => badSquare(t).sum(), [grad64([0.5, -3])]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GradcheckError);
    const error = caught as GradcheckError;
    expect(error.report.ok).toBe(false);
    expect(error.report.worst!.index).toEqual([1]);
    expect(error.message).toMatch(/^gradcheck \(full\): FAILED; max abs error 3\.000e\+0, max rel error 5\.000e-1/);
    expect(error.message).toMatch(/worst: input 0 at \[1\], output element 0: analytic -3, numeric -6\.0000/);
  });
});

describe('numericGrad', () => {
  const tol = 1e-8;

  it('matches known derivatives', () => {
    const x = grad64([-1, 0, 0.5, 2]);
    const [dCube] = numericGrad((t) => t.pow(3).sum(), [x]);
    assertClose(dCube!.data, [3, 0, 0.75, 12], tol, tol);
    const [dExp] = numericGrad((t) => t.exp().sum(), [x]);
    assertClose(dExp!.data, [...x.data].map(Math.exp), tol, tol);
    const [dSin] = numericGrad((t) => t.sin().sum(), [x]);
    assertClose(dSin!.data, [...x.data].map(Math.cos), tol, tol);
  });

  it('handles several inputs and a gradOutput for a non-scalar output', () => {
    const a = grad64([1, 2]);
    const b = grad64([3, -4]);
    const [da, db] = numericGrad((p, q) => p.mul(q).sum(), [a, b]);
    assertClose(da!.data, [3, -4], tol, tol);
    assertClose(db!.data, [1, 2], tol, tol);
    // d<x², v>/dx = 2x·v
    const [dx] = numericGrad((t) => t.square(), [grad64([1, 3])], { gradOutput: f64([1, 10]) });
    assertClose(dx!.data, [2, 60], tol, tol);
  });

  it('works in float64 for float32 inputs, whose data it leaves alone', () => {
    const x = tensor([0.1, 0.7], { requiresGrad: true });
    const [dx] = numericGrad((t) => t.square().sum(), [x]);
    expect(dx!.dtype).toBe('float64');
    assertClose(dx!.data, [2 * Math.fround(0.1), 2 * Math.fround(0.7)], tol, tol);
    expect([...x.data]).toEqual([Math.fround(0.1), Math.fround(0.7)]);
  });
});

describe('losses that take a gradient themselves (gradient penalty, MAML)', () => {
  // P(x, w) = Σ (∂/∂x Σ w·sin x)² = Σ w² cos² x, written as research code writes it: the inner
  // gradient by `gradients` with createGraph, which needs x on the graph.
  const penalty = (x: Tensor, w: Tensor): Tensor => {
    const [dx] = gradients([w.mul(x.sin()).sum()], [x], { createGraph: true });
    return dx!.square().sum();
  };

  it('numericGrad evaluates it, and agrees with the closed form and with gradcheck', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const x = randn([n], { dtype: 'float64', seed, requiresGrad: true });
        const w = randn([n], { dtype: 'float64', seed: seed + 1, requiresGrad: true });
        const [dx, dw] = numericGrad(penalty, [x, w]);
        // dP/dx = -2 w² cos x sin x, dP/dw = 2 w cos² x
        const xs = [...x.data];
        const ws = [...w.data];
        assertClose(dx!.data, xs.map((v, i) => -2 * ws[i]! ** 2 * Math.cos(v) * Math.sin(v)), 1e-7, 1e-6);
        assertClose(dw!.data, xs.map((v, i) => 2 * ws[i]! * Math.cos(v) ** 2), 1e-7, 1e-6);
        expect(gradcheck(penalty, [x, w]).ok).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('gives the same numbers inside noGrad, and leaves the inputs untouched', () => {
    const x = grad64([0.3, -1.2]);
    const w = grad64([2, 0.5]);
    const outside = numericGrad(penalty, [x, w]);
    const inside = noGrad(() => numericGrad(penalty, [x, w]));
    expect(inside.map((t) => [...t.data])).toEqual(outside.map((t) => [...t.data]));
    expect(noGrad(() => gradcheck(penalty, [x, w])).ok).toBe(true);
    expect([...x.data]).toEqual([0.3, -1.2]);
    expect(x.grad).toBeNull();
  });

  it('a MAML-style inner step through the grad transform: numericGrad matches a(1 - αa)²·w', () => {
    const a = f64([0.5, 2, -1]);
    const alpha = 0.1;
    const inner = (w: Tensor): Tensor => w.square().mul(a).sum().mul(0.5);
    const maml = (w: Tensor): Tensor => inner(w.sub(grad(inner)(w).mul(alpha)));
    const w = grad64([1, -0.5, 3]);
    const [dw] = numericGrad(maml, [w]);
    assertClose(dw!.data, [...w.data].map((v, i) => a.data[i]! * (1 - alpha * a.data[i]!) ** 2 * v), 1e-7, 1e-6);
    expect(gradcheck(maml, [w]).ok).toBe(true);
  });

  it('gradgradcheck takes such a loss too', () => {
    expect(gradgradcheck(penalty, [grad64([0.3, -1.2]), grad64([2, 0.5])]).ok).toBe(true);
  });
});

describe('options and gradOutputs are checked before anything runs', () => {
  const x = grad64([0.5, 1.5]);
  const f = (t: Tensor): Tensor => t.exp().sum();

  it('a step that is not a positive finite number, a bad tolerance, mode or seed, or an unknown option is an error naming the function', () => {
    // eps = 0 would divide by zero and report a NaN failure for a correct gradient.
    expect(() => gradcheck(f, [x], { eps: 0 })).toThrow(/^gradcheck: eps must be a finite number > 0, got 0$/);
    expect(() => gradcheck(f, [x], { eps: -1e-6 })).toThrow(/^gradcheck: eps must be a finite number > 0/);
    expect(() => gradcheck(f, [x], { atol: Number.NaN })).toThrow(/^gradcheck: atol must be a finite number >= 0, got NaN$/);
    expect(() => gradcheck(f, [x], { rtol: -1 })).toThrow(/^gradcheck: rtol must be a finite number >= 0/);
    expect(() => gradcheck(f, [x], { mode: 'quick' } as never)).toThrow(/^gradcheck: mode must be 'full' or 'fast', got "quick"$/);
    expect(() => gradcheck(f, [x], { seed: 0.5 })).toThrow(/^gradcheck: seed must be an integer/);
    expect(() => gradcheck(f, [x], { raiseException: true } as never)).toThrow(/^gradcheck: unknown option 'raiseException' \(the options are eps, atol, rtol, mode, seed\)/);
    expect(() => gradgradcheck(f, [x], undefined, { eps: 0 })).toThrow(/^gradgradcheck: eps must be a finite number > 0/);
    expect(() => numericGrad(f, [x], { eps: 0 })).toThrow(/^numericGrad: eps must be a finite number > 0/);
    expect(() => numericGrad(f, [x], { gradOutputs: f64([1]) } as never)).toThrow(/^numericGrad: unknown option 'gradOutputs' \(the options are eps, gradOutput\)/);
    expect(Array.from(x.data)).toEqual([0.5, 1.5]);
  });

  it('a gradOutputs or gradOutput of another shape than the output is an error naming the function and both shapes', () => {
    const g = (t: Tensor): Tensor => t.exp();
    expect(() => gradgradcheck(g, [x], f64([1, 2, 3]))).toThrow(/^gradgradcheck: gradOutputs has shape \[3\], the function's output \[2\]$/);
    // A short gradOutput would read past its end and give NaN derivatives.
    expect(() => numericGrad(g, [x], { gradOutput: f64([1]) })).toThrow(/^numericGrad: gradOutput has shape \[1\], the function's output \[2\]$/);
    expect(gradgradcheck(g, [x], f64([0.3, -2])).ok).toBe(true);
  });
});

describe('functions of several outputs (PyTorch: a tuple of outputs)', () => {
  const x = grad64([0.5, -3, 1.5]);

  it('checks every float output; an integer output is left out; a wrong VJP in the second output is found there', () => {
    const ok = gradcheck((t) => [t.sin(), goodSquare(t).sum(), t.argmax()], [x]);
    expect(ok.ok).toBe(true);
    const bad = gradcheck((t) => [t.sin(), badSquare(t)], [x], { mode: 'fast' });
    expect(bad.ok).toBe(false);
    // Output elements count through the outputs in order: sin's 3, then the square's 3. The
    // worst is at x = -3 (index 1), the square's element 1, flat output 4.
    expect(bad.worst).toMatchObject({ input: 0, index: [1], output: 4 });
    assertClose(numericGrad((t) => [t.square(), t.sum()], [x])[0]!, [2, -5, 4], 1e-8, 1e-8);
  });

  it('gradgradcheck takes one gradOutput per float output, each of its shape', () => {
    const f = (t: Tensor): Tensor[] => [t.sin(), t.square().sum()];
    expect(gradgradcheck(f, [x]).ok).toBe(true);
    expect(gradgradcheck(f, [x], [f64([1, -1, 2]), f64(0.5)]).ok).toBe(true);
    // Right first derivative 2x·g, but written on a detached x: its own derivative is lost.
    const flatSecond = (t: Tensor): Tensor => customElementwise(t, (v) => v * v, (g, xi) => g.mul(xi.detach()).mul(2));
    expect(gradcheck((t) => [t.sin(), flatSecond(t).sum()], [x]).ok).toBe(true);
    expect(gradgradcheck((t) => [t.sin(), flatSecond(t).sum()], [x]).ok).toBe(false);
    expect(() => gradgradcheck(f, [x], [f64([1, -1, 2])])).toThrow(/^gradgradcheck: got 1 gradOutputs for 2 float outputs$/);
    expect(() => gradgradcheck(f, [x], [f64([1, -1, 2]), f64([1])])).toThrow(/^gradgradcheck: gradOutputs\[1\] has shape \[1\], the function's output \[\]$/);
    expect(() => gradcheck((t) => [t, 3] as never, [x])).toThrow(/^gradcheck: the function must return a Tensor or an array of Tensors$/);
  });
});

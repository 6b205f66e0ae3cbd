import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, grad, jit, tensor, valueAndGrad, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { exact, initParams, loss, main, relativeError, residual, samplePoints, u, type Params, type PinnResult } from '../pinn-heat.js';

/** d/dx and d²/dx² of u at one point by central differences in float64 weights. */
function differences(p: Params, x: number, t: number, h = 1e-3): { ut: number; uxx: number } {
  const at = (a: number, b: number): number => u(p, tensor([[a]], { dtype: 'float64' }), tensor([[b]], { dtype: 'float64' })).item();
  return { ut: (at(x, t + h) - at(x, t - h)) / (2 * h), uxx: (at(x + h, t) - 2 * at(x, t) + at(x - h, t)) / (h * h) };
}

function float64(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (v as Tensor).toDtype('float64')])) as unknown as Params;
}

describe('examples/pinn-heat', () => {
  let r: PinnResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0 });
  });

  it('the residual is u_t - u_xx by nested gradients, as finite differences give it', () => {
    const p = float64(initParams(3));
    const xs = [0.2, 0.55, 0.9], ts = [0.1, 0.4, 0.7];
    const res = residual(p, tensor(xs.map((v) => [v]), { dtype: 'float64' }), tensor(ts.map((v) => [v]), { dtype: 'float64' }));
    xs.forEach((x, i) => {
      const d = differences(p, x, ts[i]!);
      expect(res.data[i]!).toBeCloseTo(d.ut - d.uxx, 4);
    });
  });

  it('the exact solution has a zero residual under the same derivatives', () => {
    // exp(-π²t)·sin(πx) through the same nested grads: u_t = -π²u = u_xx.
    const f = (x: Tensor, t: Tensor): Tensor => exact(x, t).sum();
    const x = tensor([[0.3], [0.8]], { dtype: 'float64' }), t = tensor([[0.2], [0.6]], { dtype: 'float64' });
    const ut = grad(f, { argnums: 1 })(x, t);
    const uxx = grad((a: Tensor, b: Tensor) => grad(f)(a, b).sum())(x, t);
    assertClose(ut, uxx, 1e-12, 1e-12);
  });

  it('the jitted step gives the eager loss and gradients', () => {
    const p = initParams(1);
    const pts = samplePoints(new Generator(5));
    const eager = valueAndGrad(loss)(p, pts);
    const compiled = jit(valueAndGrad(loss))(p, pts);
    assertClose(compiled.value, eager.value, 0, 0);
    for (const k of Object.keys(p) as (keyof Params)[]) assertClose(compiled.grads[k], eager.grads[k], 0, 0);
  });

  it('learns (short run): the loss falls threefold and the error against the exact solution drops well below the untrained network\'s', () => {
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]! / 3);
    const untrained = relativeError(initParams(0));
    expect(untrained).toBeGreaterThan(0.9);
    expect(r.relativeError).toBeLessThan(0.7 * untrained);
    expect(r.msPerStepEager).toBeGreaterThan(0);
    expect(r.msPerStepJit).toBeGreaterThan(0);
  });
});

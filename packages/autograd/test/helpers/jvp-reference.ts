/**
 * References forward mode is checked against: the double-VJP trick (u ↦ Jᵀu is linear in u, and
 * its own VJP along v is J·v: two reverse passes, no JVP rule involved) and central finite
 * differences in float64.
 */
import { gradients, noGrad, Tensor, zeros } from '@chainrule/autograd';

/** J·v of f at xs along vs by two reverse passes. */
export function jvpByDoubleVjp(f: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], vs: readonly Tensor[]): Tensor {
  const tracked = xs.map((x) => new Tensor(x.data, x.shape, { requiresGrad: true }));
  const y = f(...tracked);
  if (!y.requiresGrad) return zeros(y.shape, { dtype: y.dtype });
  const u = zeros(y.shape, { dtype: y.dtype, requiresGrad: true });
  const jtu = gradients([y], tracked, { gradOutputs: [u], createGraph: true, allowUnused: true });
  const live = jtu.map((_, k) => k).filter((k) => jtu[k]!.requiresGrad);
  if (live.length === 0) return zeros(y.shape, { dtype: y.dtype });
  const [jv] = gradients(live.map((k) => jtu[k]!), [u], { gradOutputs: live.map((k) => vs[k]!), allowUnused: true });
  return jv!;
}

/** (f(x + h·v) - f(x - h·v)) / 2h, elementwise over f's output. */
export function jvpByDifferences(f: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], vs: readonly Tensor[], h = 1e-6): Tensor {
  const moved = (sign: number): Tensor =>
    noGrad(() => f(...xs.map((x, k) => new Tensor(Float64Array.from(x.data, (e, i) => e + sign * h * vs[k]!.data[i]!), x.shape))));
  const plus = moved(1);
  const minus = moved(-1);
  return new Tensor(Float64Array.from(plus.data, (p, i) => (p - minus.data[i]!) / (2 * h)), plus.shape);
}

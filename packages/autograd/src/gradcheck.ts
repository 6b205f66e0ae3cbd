import { ArgumentError } from './errors.js';
import { formatShape, stridesOf } from './shape.js';
import { isFloat, Tensor } from './tensor.js';
import { enableGrad } from './engine/grad-mode.js';
import { gradients } from './engine/gradients.js';
import { Generator } from './random.js';
import { flattenAll } from './functional.js';
import { checkOptions } from './options.js';

/**
 * A function gradcheck can test: tensors in, a tensor or a list of tensors out (PyTorch's tuple of
 * outputs; integer and bool outputs have no gradient and are left out of the check).
 */
export type TensorFunction = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

/** Options of `gradcheck`. PyTorch's defaults. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /**
   * 'full' compares every Jacobian entry; 'fast' compares one random projection per input
   * (two evaluations of f per input, whatever its size) and, on failure, re-runs in full to
   * find the worst element.
   */
  mode?: 'full' | 'fast';
  /** Seed of the random projections of fast mode. */
  seed?: number;
}

/** The Jacobian entry that failed worst. */
export interface GradcheckWorst {
  /** Which input (position among f's arguments). */
  input: number;
  /** Multi-index of the element within that input. */
  index: number[];
  /** Flat index of the output element (0 for a scalar output). */
  output: number;
  /** The entry of the Jacobian from the op's VJP. */
  analytic: number;
  /** The same entry by central differences. */
  numeric: number;
}

/** What `gradcheck` found. */
export interface GradcheckReport {
  /** Whether every compared entry is within tolerance. */
  ok: boolean;
  /** 'full' (every Jacobian entry) or 'fast' (one random projection per input). */
  mode: 'full' | 'fast';
  /** Largest |analytic - numeric| over the entries compared. */
  maxAbsError: number;
  /** Largest |analytic - numeric| / |numeric| over the entries compared (0 where numeric is 0). */
  maxRelError: number;
  /** The entry farthest outside tolerance (or nearest to it when all pass); null if nothing was compared. */
  worst: GradcheckWorst | null;
}

/**
 * The options, checked: an unknown key, a step that is not a positive finite number or a
 * tolerance that is not a finite number ≥ 0 would otherwise give a NaN or a check that cannot fail.
 */
function checkGradcheckOptions(op: string, options: unknown, known: readonly string[]): void {
  checkOptions(op, options, known);
  const o = (options ?? {}) as Record<string, unknown>;
  const { eps, atol, rtol, mode, seed } = o;
  if (eps !== undefined && !(typeof eps === 'number' && Number.isFinite(eps) && eps > 0)) {
    throw new ArgumentError(`${op}: eps must be a finite number > 0, got ${String(eps)}`);
  }
  for (const [name, value] of [['atol', atol], ['rtol', rtol]] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new ArgumentError(`${op}: ${name} must be a finite number >= 0, got ${String(value)}`);
    }
  }
  if (mode !== undefined && mode !== 'full' && mode !== 'fast') throw new ArgumentError(`${op}: mode must be 'full' or 'fast', got ${JSON.stringify(mode)}`);
  if (seed !== undefined && !(typeof seed === 'number' && Number.isInteger(seed))) throw new ArgumentError(`${op}: seed must be an integer, got ${String(seed)}`);
}

const GRADCHECK_OPTIONS = ['eps', 'atol', 'rtol', 'mode', 'seed'] as const;

function float64Copies(op: string, inputs: readonly Tensor[]): Tensor[] {
  return inputs.map((t, i) => {
    if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: input ${i} is not a Tensor`);
    for (let e = 0; e < t.size; e++) {
      const v = t.data[e]!;
      if (!Number.isFinite(v)) {
        throw new ArgumentError(`${op}: input ${i} (shape ${formatShape(t.shape)}) holds ${v} at ${JSON.stringify(unravel(e, t.shape))}; gradients are checked at finite points only`);
      }
    }
    // Integer and bool inputs (indices, masks) are passed as they are: they have no gradient.
    return isFloat(t) ? new Tensor(Float64Array.from(t.data), t.shape, { requiresGrad: t.requiresGrad }) : t;
  });
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  return strides.map((s, d) => Math.floor(flat / s) % shape[d]!);
}

/** f's outputs as returned: one Tensor, or the list f returned. */
function outputsOf(op: string, f: TensorFunction, xs: Tensor[]): Tensor[] {
  const out = f(...xs);
  const list = out instanceof Tensor ? [out] : Array.isArray(out) ? (out as readonly unknown[]) : null;
  if (list === null || list.some((t) => !(t instanceof Tensor))) throw new ArgumentError(`${op}: the function must return a Tensor or an array of Tensors`);
  const ts = list as Tensor[];
  const bad = ts.find((t) => isFloat(t) && t.dtype !== 'float64');
  if (bad !== undefined) {
    throw new ArgumentError(`${op}: the function returned ${bad.dtype} for float64 inputs; keep it in the inputs' dtype so the check runs in float64`);
  }
  return ts;
}

/**
 * f's output as one tensor: the Tensor it returned, or its float outputs flattened and
 * concatenated (an output element's index in the report counts through them in order).
 */
function evaluate(op: string, f: TensorFunction, xs: Tensor[]): Tensor {
  const out = f(...xs);
  if (out instanceof Tensor && out.dtype === 'float64') return out;
  const ts = outputsOf(op, () => out, xs);
  if (out instanceof Tensor) {
    throw new ArgumentError(`${op}: the function returned ${out.dtype} for float64 inputs; keep it in the inputs' dtype so the check runs in float64`);
  }
  return flattenAll(ts.filter((t) => isFloat(t)));
}

/**
 * d<f(x), v>/dx by central differences in float64, for each input (v defaults to ones, so a
 * scalar f gives its gradient; zeros for int32 and bool inputs, which have none). f runs exactly as `gradcheck` runs it: on float64 copies that
 * keep each input's `requiresGrad`, with recording on (even inside `noGrad`), so a loss that
 * differentiates internally (a gradient penalty, MAML's inner step, a PINN residual) is evaluated
 * as in training; the two functions give the same numeric derivatives.
 * @throws ArgumentError as `gradcheck` (a non-Tensor or non-finite input, an unknown option or an
 * eps that is not a finite number > 0), or for a gradOutput of another shape than f's output.
 * @example const [dx] = numericGrad(x => x.pow(3).sum(), [x])
 */
export function numericGrad(f: TensorFunction, inputs: readonly Tensor[], options: { eps?: number; gradOutput?: Tensor } = {}): Tensor[] {
  checkGradcheckOptions('numericGrad', options, ['eps', 'gradOutput']);
  const eps = options.eps ?? 1e-6;
  const xs = float64Copies('numericGrad', inputs);
  return enableGrad(() => {
    const { gradOutput } = options;
    if (gradOutput !== undefined) {
      if (!(gradOutput instanceof Tensor)) throw new ArgumentError('numericGrad: gradOutput must be a Tensor');
      const shape = evaluate('numericGrad', f, xs).shape;
      if (gradOutput.shape.length !== shape.length || gradOutput.shape.some((d, i) => d !== shape[i])) {
        throw new ArgumentError(`numericGrad: gradOutput has shape ${formatShape(gradOutput.shape)}, the function's output ${formatShape(shape)}`);
      }
    }
    const v = gradOutput?.detach().toDtype('float64').data;
    return xs.map((x) => {
      const out = new Float64Array(x.size);
      // An int32 or bool input cannot be moved by eps: its gradient is zero, as it has none.
      for (let e = 0; e < (isFloat(x) ? x.size : 0); e++) {
        const [plus, minus] = perturbed('numericGrad', f, xs, x, e, eps);
        let d = 0;
        for (let j = 0; j < plus.length; j++) d += (v === undefined ? 1 : v[j]!) * (plus[j]! - minus[j]!);
        out[e] = d / (2 * eps);
      }
      return new Tensor(out, x.shape);
    });
  });
}

/** f's output with x[e] moved by +eps and by -eps; x is restored afterwards. */
function perturbed(op: string, f: TensorFunction, xs: Tensor[], x: Tensor, e: number, eps: number): [Float64Array, Float64Array] {
  const original = x.data[e]!;
  try {
    x.data[e] = original + eps;
    const plus = Float64Array.from(evaluate(op, f, xs).data);
    x.data[e] = original - eps;
    const minus = Float64Array.from(evaluate(op, f, xs).data);
    return [plus, minus];
  } finally {
    x.data[e] = original;
  }
}

class Tally {
  maxAbs = 0;
  maxRel = 0;
  worst: GradcheckWorst | null = null;
  private worstScore = -Infinity;
  ok = true;
  constructor(private readonly atol: number, private readonly rtol: number) {}

  add(analytic: number, numeric: number, where: () => Omit<GradcheckWorst, 'analytic' | 'numeric'>): void {
    const err = Math.abs(analytic - numeric);
    const bad = !(err <= this.atol + this.rtol * Math.abs(numeric)); // NaN fails
    if (bad) this.ok = false;
    this.maxAbs = Math.max(this.maxAbs, Number.isNaN(err) ? Infinity : err);
    if (numeric !== 0) this.maxRel = Math.max(this.maxRel, err / Math.abs(numeric));
    const score = Number.isNaN(err) ? Infinity : err / (this.atol + this.rtol * Math.abs(numeric));
    if (score > this.worstScore) {
      this.worstScore = score;
      this.worst = { ...where(), analytic, numeric };
    }
  }
}

/**
 * Compares f's analytic gradients with central differences, in float64 (float32 inputs are
 * checked on float64 copies), for the inputs that require grad. Entry (i, j) passes when
 * |analytic - numeric| ≤ atol + rtol·|numeric|. f runs on the float64 copies themselves, with
 * recording on even inside `noGrad`, so it may differentiate internally. Returns a report
 * rather than a boolean (PyTorch's gradcheck returns True or raises); `assertGradcheck` throws
 * instead.
 * @throws ArgumentError if an input is not a Tensor or holds NaN or ±Inf (gradients are checked at
 * finite points only), or an option is unknown or out of range (eps a finite number > 0, atol and
 * rtol finite and ≥ 0, mode 'full' or 'fast', seed an integer); f's own errors pass through.
 * @example gradcheck((a, b) => a.mul(b).sum(), [a, b]).ok
 */
export function gradcheck(f: TensorFunction, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  checkGradcheckOptions('gradcheck', options, GRADCHECK_OPTIONS);
  return enableGrad(() => gradcheckRecorded(f, inputs, options));
}

function gradcheckRecorded(f: TensorFunction, inputs: readonly Tensor[], options: GradcheckOptions): GradcheckReport {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, mode = 'full', seed = 0 } = options;
  const xs = float64Copies('gradcheck', inputs);
  const checked = xs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (checked.length === 0) {
    throw new ArgumentError('gradcheck: no input requires grad; mark the inputs to check with requiresGrad: true');
  }
  if (mode === 'fast') {
    const fast = fastCheck(f, xs, checked, eps, atol, rtol, seed);
    if (fast.ok) return fast;
    const full = fullCheck(f, xs, checked, eps, atol, rtol);
    return { ...full, ok: false, mode: 'fast' };
  }
  return fullCheck(f, xs, checked, eps, atol, rtol);
}

function fullCheck(f: TensorFunction, xs: Tensor[], checked: number[], eps: number, atol: number, rtol: number): GradcheckReport {
  const out = evaluate('gradcheck', f, xs);
  const targets = checked.map((i) => xs[i]!);
  // Analytic Jacobian, one reverse pass per output element: rows[j][input] = d out_j / d input.
  const rows: Float64Array[][] = [];
  if (out.requiresGrad) {
    for (let j = 0; j < out.size; j++) {
      const onehot = new Float64Array(out.size);
      onehot[j] = 1;
      const gs = gradients([out], targets, { gradOutputs: [new Tensor(onehot, out.shape)], retainGraph: true, allowUnused: true });
      rows.push(gs.map((g) => Float64Array.from(g.data)));
    }
  }
  const tally = new Tally(atol, rtol);
  // NOTE: f runs on the checked copies themselves, with grad mode left on, because f may
  // differentiate internally (gradgradcheck's first derivative does).
  checked.forEach((inputIndex, c) => {
    const x = xs[inputIndex]!;
    for (let e = 0; e < x.size; e++) {
      const [plus, minus] = perturbed('gradcheck', f, xs, x, e, eps);
      for (let j = 0; j < plus.length; j++) {
        const numeric = (plus[j]! - minus[j]!) / (2 * eps);
        const analytic = rows.length > 0 ? rows[j]![c]![e]! : 0;
        tally.add(analytic, numeric, () => ({ input: inputIndex, index: unravel(e, x.shape), output: j }));
      }
    }
  });
  return { ok: tally.ok, mode: 'full', maxAbsError: tally.maxAbs, maxRelError: tally.maxRel, worst: tally.worst };
}

function randomNormal(g: Generator, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = g.normal();
  return out;
}

function fastCheck(f: TensorFunction, xs: Tensor[], checked: number[], eps: number, atol: number, rtol: number, seed: number): GradcheckReport {
  const rng = new Generator(seed);
  const out = evaluate('gradcheck', f, xs);
  const v = randomNormal(rng, out.size);
  const targets = checked.map((i) => xs[i]!);
  const gs = out.requiresGrad
    ? gradients([out], targets, { gradOutputs: [new Tensor(v, out.shape)], allowUnused: true })
    : targets.map((t) => new Tensor(new Float64Array(t.size), t.shape));
  const tally = new Tally(atol, rtol);
  checked.forEach((inputIndex, c) => {
    const x = xs[inputIndex]!;
    const u = randomNormal(rng, x.size);
    // analytic: <J^T v, u>; numeric: <(f(x + eps u) - f(x - eps u)) / 2eps, v>
    let analytic = 0;
    for (let e = 0; e < x.size; e++) analytic += gs[c]!.data[e]! * u[e]!;
    const original = Float64Array.from(x.data);
    const shifted = (sign: number): Float64Array => {
      for (let e = 0; e < x.size; e++) x.data[e] = original[e]! + sign * eps * u[e]!;
      return Float64Array.from(evaluate('gradcheck', f, xs).data);
    };
    let numeric = 0;
    try {
      const plus = shifted(1);
      const minus = shifted(-1);
      for (let j = 0; j < v.length; j++) numeric += (v[j]! * (plus[j]! - minus[j]!)) / (2 * eps);
    } finally {
      x.data.set(original);
    }
    tally.add(analytic, numeric, () => ({ input: inputIndex, index: [], output: -1 }));
  });
  return { ok: tally.ok, mode: 'fast', maxAbsError: tally.maxAbs, maxRelError: tally.maxRel, worst: tally.worst };
}

/**
 * Runs gradcheck and throws with its report when it fails (PyTorch's gradcheck with raise_exception).
 * @throws GradcheckError with the report when the check fails; ArgumentError as `gradcheck`.
 * @example assertGradcheck(f, [x])
 */
export function assertGradcheck(f: TensorFunction, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  const report = gradcheck(f, inputs, options);
  if (!report.ok) throw new GradcheckError(report);
  return report;
}

/** Thrown by `assertGradcheck`; carries the report. */
export class GradcheckError extends RangeError {
  /** Always 'GradcheckError'. */
  override name = 'GradcheckError';
  /** An error whose message is `formatGradcheckReport(report)`. */
  constructor(
    /** The failed check, worst entry included. */
    readonly report: GradcheckReport,
  ) {
    super(formatGradcheckReport(report));
  }
}

/** A readable summary of a gradcheck report: the verdict and the worst entry, not whole Jacobians. */
export function formatGradcheckReport(r: GradcheckReport): string {
  const head = `gradcheck (${r.mode}): ${r.ok ? 'passed' : 'FAILED'}; max abs error ${r.maxAbsError.toExponential(3)}, max rel error ${r.maxRelError.toExponential(3)}`;
  if (r.worst === null) return head;
  const w = r.worst;
  return `${head}\n  worst: ${worstLocation(w)}: analytic ${w.analytic}, numeric ${w.numeric}`;
}

/** Where the worst entry sits, in words: shared by the text and HTML reports. */
export function worstLocation(w: GradcheckWorst): string {
  return w.index.length > 0 || w.output >= 0 ? `input ${w.input} at ${JSON.stringify(w.index)}, output element ${w.output}` : `input ${w.input} (projection)`;
}

/**
 * Checks second derivatives, with PyTorch's semantics: gradcheck of the map
 * (inputs, v) ↦ ∂<f(inputs), v>/∂inputs, whose analytic gradient comes from double backward.
 * `gradOutputs` (v) defaults to seeded random normals of the output's shape; for an f returning a
 * list, it is one tensor per float output.
 * @throws ArgumentError as `gradcheck`, or for gradOutputs that do not match f's output.
 * @example gradgradcheck((x) => x.tanh().sum(), [x]).ok
 */
export function gradgradcheck(f: TensorFunction, inputs: readonly Tensor[], gradOutputs?: Tensor | readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  checkGradcheckOptions('gradgradcheck', options, GRADCHECK_OPTIONS);
  const xs = float64Copies('gradgradcheck', inputs);
  const checked = xs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (checked.length === 0) {
    throw new ArgumentError('gradgradcheck: no input requires grad; mark the inputs to check with requiresGrad: true');
  }
  const shape = enableGrad(() => evaluate('gradgradcheck', f, xs)).shape;
  let v: Tensor;
  if (gradOutputs === undefined) {
    const rng = new Generator(options.seed ?? 0);
    v = new Tensor(randomNormal(rng, shape.reduce((a, b) => a * b, 1)), shape, { requiresGrad: true });
  } else {
    const given = enableGrad(() => f(...xs));
    // One cotangent per float output when f returns a list (PyTorch's tuple of grad_outputs).
    const outs = given instanceof Tensor ? [given] : outputsOf('gradgradcheck', () => given, xs).filter((t) => isFloat(t));
    const cots = gradOutputs instanceof Tensor ? [gradOutputs] : Array.isArray(gradOutputs) ? (gradOutputs as readonly unknown[]) : null;
    if (cots === null || cots.some((c) => !(c instanceof Tensor))) {
      throw new ArgumentError('gradgradcheck: gradOutputs must be a Tensor of the output\'s shape, or an array of one per float output');
    }
    if (cots.length !== outs.length) throw new ArgumentError(`gradgradcheck: got ${cots.length} gradOutputs for ${outs.length} float outputs`);
    (cots as Tensor[]).forEach((c, k) => {
      const want = outs[k]!.shape;
      if (c.shape.length !== want.length || c.shape.some((d, i) => d !== want[i])) {
        throw new ArgumentError(`gradgradcheck: gradOutputs${cots.length > 1 ? `[${k}]` : ''} has shape ${formatShape(c.shape)}, the function's output ${formatShape(want)}`);
      }
    });
    v = float64Copies('gradgradcheck', [flattenAll(cots as Tensor[]).reshape(shape)])[0]!;
    v.requiresGrad = true;
  }
  const firstDerivative: TensorFunction = (...args) => {
    const ins = args.slice(0, xs.length);
    const cot = args[xs.length]!;
    const out = evaluate('gradgradcheck', f, ins);
    const wrt = checked.map((i) => ins[i]!);
    if (!out.requiresGrad) return new Tensor(new Float64Array(wrt.reduce((s, t) => s + t.size, 0)), [wrt.reduce((s, t) => s + t.size, 0)]);
    return flattenAll(gradients([out], wrt, { gradOutputs: [cot], createGraph: true, allowUnused: true }));
  };
  return gradcheck(firstDerivative, [...xs, v], options);
}

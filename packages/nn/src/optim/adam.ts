import { adamUpdate, type FloatArray, type FloatTensor, type Tensor } from '@chainrule/autograd';
import { rules, type OptionSchema } from './options.js';
import {
  Optimizer, definedOnly, bufferLike, check, exportBuffer, importBuffer, importCount, importOptionalBuffer,
  type BaseOptions, type ParamGroup, type ParamState, type ParamsInput,
} from './optimizer.js';

/** Options of `Adam` and `AdamW` (PyTorch's defaults). */
export interface AdamOptions extends BaseOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay: number;
  /** Normalise by the running maximum of the second moment (default false). */
  amsgrad: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

interface AdamState {
  step: number;
  expAvg: FloatArray;
  expAvgSq: FloatArray;
  maxExpAvgSq: FloatArray | null;
}

const DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
const SCHEMA: OptionSchema = {
  lr: rules.nonNegative, betas: rules.tuple(2, rules.finite), eps: rules.nonNegative, weightDecay: rules.nonNegative, amsgrad: rules.boolean, maximize: rules.boolean,
};

/** The shared update of Adam and AdamW; they differ only in how weight decay enters. */
abstract class AdamFamily extends Optimizer<AdamOptions, AdamState> {
  /** AdamW: decay multiplies θ by (1 - γλ) before the step, instead of adding λθ to the gradient. */
  protected abstract readonly decoupled: boolean;

  protected validate(o: AdamOptions): void {
    check(this.name, o.betas[0] >= 0 && o.betas[0] < 1, 'betas[0] must be in [0, 1)', o.betas[0]);
    check(this.name, o.betas[1] >= 0 && o.betas[1] < 1, 'betas[1] must be in [0, 1)', o.betas[1]);
  }

  protected update(param: FloatTensor, grad: FloatArray, group: ParamGroup<AdamOptions>): void {
    const { lr, betas, eps, weightDecay: wd, amsgrad, maximize } = group;
    const b1 = betas[0];
    const b2 = betas[1];
    const s = this.stateOf(param, () => ({ step: 0, expAvg: bufferLike(param), expAvgSq: bufferLike(param), maxExpAvgSq: null }));
    if (amsgrad) s.maxExpAvgSq ??= bufferLike(param);
    s.step += 1;
    const stepSize = lr / (1 - b1 ** s.step);
    const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
    const decay = this.decoupled ? 1 - lr * wd : 1;
    const l2 = this.decoupled ? 0 : wd;
    const { expAvg: m, expAvgSq: v, maxExpAvgSq: vMax } = s;
    // A maximum kept from earlier amsgrad steps is left alone while amsgrad is off.
    const step = { beta1: b1, beta2: b2, stepSize, biasCorrection2Sqrt: bc2Sqrt, eps, decay, l2, maximize };
    adamUpdate(param.data, grad, m, v, step, amsgrad ? vMax : null);
  }

  protected exportState(s: AdamState): ParamState {
    const out: ParamState = { step: s.step, expAvg: s.expAvg.slice(), expAvgSq: s.expAvgSq.slice() };
    exportBuffer(out, 'maxExpAvgSq', s.maxExpAvgSq);
    return out;
  }

  protected importState(plain: ParamState, param: Tensor): AdamState {
    return {
      step: importCount(plain, 'step'),
      expAvg: importBuffer(plain, 'expAvg', param),
      expAvgSq: importBuffer(plain, 'expAvgSq', param),
      maxExpAvgSq: importOptionalBuffer(plain, 'maxExpAvgSq', param),
    };
  }
}

/**
 * Adam, as torch.optim.Adam: g ← ±∇ + λθ; m ← β1·m + (1-β1)·g; v ← β2·v + (1-β2)·g²;
 * θ ← θ - γ·(m/(1-β1ᵗ)) / (√v̂/√(1-β2ᵗ) + ε), where v̂ is v or, with amsgrad, the running maximum
 * of v (as PyTorch's code and current docs; the 1.x docs took the maximum of the bias-corrected v).
 * State per parameter: `step`, `expAvg`, `expAvgSq`, and `maxExpAvgSq` with amsgrad.
 * @throws ArgumentError (from the constructor or `addParamGroup`) if lr, eps or weightDecay is
 * negative or not finite, or a beta is outside [0, 1).
 * @example const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamFamily {
  protected readonly decoupled = false;

  /**
   * An optimiser of `params` (tensors, or parameter groups with their own options); options not
   * given take PyTorch's defaults.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { ...DEFAULTS, ...definedOnly(options) }, SCHEMA);
  }
}

/**
 * AdamW, as torch.optim.AdamW: Adam with decoupled weight decay θ ← θ·(1 - γλ) applied before the
 * Adam step (default λ = 1e-2). State and errors as `Adam`.
 * @example const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamFamily {
  protected readonly decoupled = true;

  /**
   * An optimiser of `params` (tensors, or parameter groups with their own options); options not
   * given take PyTorch's defaults.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { ...DEFAULTS, weightDecay: 1e-2, ...definedOnly(options) }, SCHEMA);
  }
}

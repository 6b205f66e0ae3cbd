import type { FloatArray, FloatTensor, Tensor } from '@chainrule/autograd';
import { rules, type OptionSchema } from './options.js';
import {
  Optimizer, definedOnly, bufferLike, exportBuffer, importBuffer, importCount, importOptionalBuffer,
  type BaseOptions, type ParamGroup, type ParamState, type ParamsInput,
} from './optimizer.js';

/** Options of `RMSprop` (PyTorch's defaults). */
export interface RMSpropOptions extends BaseOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator, after the square root (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

interface RMSpropState {
  step: number;
  squareAvg: FloatArray;
  momentumBuffer: FloatArray | null;
  gradAvg: FloatArray | null;
}

const DEFAULTS: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };
const SCHEMA: OptionSchema = {
  lr: rules.nonNegative, alpha: rules.nonNegative, eps: rules.nonNegative, weightDecay: rules.nonNegative, momentum: rules.nonNegative,
  centered: rules.boolean, maximize: rules.boolean,
};

/**
 * RMSprop, as torch.optim.RMSprop: v ← αv + (1-α)g²; centered: ḡ ← αḡ + (1-α)g, ṽ = v - ḡ²;
 * with momentum b ← μb + g/(√ṽ + ε), θ ← θ - γb, else θ ← θ - γg/(√ṽ + ε). State per parameter:
 * `step`, `squareAvg`, `momentumBuffer` (with momentum), `gradAvg` (centered).
 * @throws ArgumentError (from the constructor or `addParamGroup`) for a negative or non-finite
 * option.
 * @example const opt = new RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  /**
   * An optimiser of `params` (tensors, or parameter groups with their own options); options not
   * given take PyTorch's defaults.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, { ...DEFAULTS, ...definedOnly(options) }, SCHEMA);
  }

  /** Every rule of RMSprop's options is in its schema. */
  protected validate(): void {}

  protected update(param: FloatTensor, grad: FloatArray, group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay: wd, momentum: mu, centered, maximize } = group;
    const s = this.stateOf(param, () => ({ step: 0, squareAvg: bufferLike(param), momentumBuffer: null, gradAvg: null }));
    if (mu > 0) s.momentumBuffer ??= bufferLike(param);
    if (centered) s.gradAvg ??= bufferLike(param);
    s.step += 1;
    const x = param.data;
    const { squareAvg: v, momentumBuffer: b, gradAvg: ga } = s;
    for (let i = 0; i < x.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (wd !== 0) g += wd * x[i]!;
      v[i] = alpha * v[i]! + (1 - alpha) * g * g;
      let denom: number;
      if (centered) {
        ga![i] = alpha * ga![i]! + (1 - alpha) * g;
        denom = Math.sqrt(v[i]! - ga![i]! * ga![i]!) + eps;
      } else {
        denom = Math.sqrt(v[i]!) + eps;
      }
      if (mu > 0) {
        b![i] = mu * b![i]! + g / denom;
        x[i] = x[i]! - lr * b![i]!;
      } else {
        x[i] = x[i]! - (lr * g) / denom;
      }
    }
  }

  protected exportState(s: RMSpropState): ParamState {
    const out: ParamState = { step: s.step, squareAvg: s.squareAvg.slice() };
    exportBuffer(out, 'momentumBuffer', s.momentumBuffer);
    exportBuffer(out, 'gradAvg', s.gradAvg);
    return out;
  }

  protected importState(plain: ParamState, param: Tensor): RMSpropState {
    return {
      step: importCount(plain, 'step'),
      squareAvg: importBuffer(plain, 'squareAvg', param),
      momentumBuffer: importOptionalBuffer(plain, 'momentumBuffer', param),
      gradAvg: importOptionalBuffer(plain, 'gradAvg', param),
    };
  }
}

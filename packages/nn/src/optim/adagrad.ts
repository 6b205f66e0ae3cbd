import type { FloatArray, FloatTensor, Tensor } from '@chainrule/autograd';
import { rules, type OptionSchema } from './options.js';
import {
  Optimizer, definedOnly, bufferLike, importBuffer, importCount,
  type BaseOptions, type ParamGroup, type ParamState, type ParamsInput,
} from './optimizer.js';

/** Options of `Adagrad` (PyTorch's defaults). */
export interface AdagradOptions extends BaseOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step t uses γ / (1 + (t - 1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

interface AdagradState {
  step: number;
  sum: FloatArray;
}

const DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };
const SCHEMA: OptionSchema = {
  lr: rules.nonNegative, lrDecay: rules.nonNegative, weightDecay: rules.nonNegative, initialAccumulatorValue: rules.nonNegative,
  eps: rules.nonNegative, maximize: rules.boolean,
};

/**
 * Adagrad, as torch.optim.Adagrad: γ̃ ← γ/(1 + (t-1)η); s ← s + g²; θ ← θ - γ̃·g/(√s + ε).
 * The sum starts at initialAccumulatorValue on a parameter's first step. State per parameter:
 * `step`, `sum`.
 * @throws ArgumentError (from the constructor or `addParamGroup`) for a negative or non-finite
 * option.
 * @example const opt = new Adagrad(model.parameters(), { lr: 0.1 });
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  /**
   * An optimiser of `params` (tensors, or parameter groups with their own options); options not
   * given take PyTorch's defaults.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, { ...DEFAULTS, ...definedOnly(options) }, SCHEMA);
  }

  /** Every rule of Adagrad's options is in its schema. */
  protected validate(): void {}

  protected update(param: FloatTensor, grad: FloatArray, group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay: wd, initialAccumulatorValue, eps, maximize } = group;
    const s = this.stateOf(param, () => ({ step: 0, sum: bufferLike(param).fill(initialAccumulatorValue) }));
    s.step += 1;
    const clr = lr / (1 + (s.step - 1) * lrDecay);
    const x = param.data;
    const sum = s.sum;
    for (let i = 0; i < x.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (wd !== 0) g += wd * x[i]!;
      sum[i] = sum[i]! + g * g;
      x[i] = x[i]! - (clr * g) / (Math.sqrt(sum[i]!) + eps);
    }
  }

  protected exportState(s: AdagradState): ParamState {
    return { step: s.step, sum: s.sum.slice() };
  }

  protected importState(plain: ParamState, param: Tensor): AdagradState {
    return { step: importCount(plain, 'step'), sum: importBuffer(plain, 'sum', param) };
  }
}

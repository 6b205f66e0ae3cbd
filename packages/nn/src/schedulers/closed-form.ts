import { LRScheduler, type Schedulable } from './scheduler.js';
import { checkOptions, rules } from '../optim/options.js';

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Decay factor (default 0.1). */
  gamma?: number;
}

/**
 * lr = base·γ^⌊epoch / stepSize⌋, as torch.optim.lr_scheduler.StepLR.
 * @throws ArgumentError if stepSize is not a positive integer or gamma is negative or not finite.
 * @example new StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: StepLROptions) {
    checkOptions('StepLR', options, { stepSize: rules.positiveInteger, gamma: rules.nonNegative }, { required: ['stepSize'] });
    const { stepSize, gamma = 0.1 } = options;
    super(optimizer, (base, epoch) => base * gamma ** Math.floor(epoch / stepSize));
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  /** Decay per epoch. */
  gamma: number;
}

/**
 * lr = base·γ^epoch, as torch.optim.lr_scheduler.ExponentialLR.
 * @throws ArgumentError if gamma is negative or not finite.
 * @example new ExponentialLR(opt, { gamma: 0.95 })
 */
export class ExponentialLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: ExponentialLROptions) {
    checkOptions('ExponentialLR', options, { gamma: rules.nonNegative }, { required: ['gamma'] });
    const { gamma } = options;
    super(optimizer, (base, epoch) => base * gamma ** epoch);
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine from base to etaMin. */
  tMax: number;
  /** Lowest learning rate (default 0). */
  etaMin?: number;
}

/**
 * lr = etaMin + (base - etaMin)·(1 + cos(π·epoch / tMax))/2: the closed form PyTorch documents for
 * CosineAnnealingLR. (PyTorch's step() uses an equivalent recursive form, which agrees up to
 * rounding unless something else changes lr between steps.) Past tMax the cosine continues, as
 * PyTorch's closed form.
 * @throws ArgumentError if tMax is not a positive integer or etaMin is negative or not finite.
 * @example new CosineAnnealingLR(opt, { tMax: 100 })
 */
export class CosineAnnealingLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: CosineAnnealingLROptions) {
    checkOptions('CosineAnnealingLR', options, { tMax: rules.positiveInteger, etaMin: rules.nonNegative }, { required: ['tMax'] });
    const { tMax, etaMin = 0 } = options;
    super(optimizer, (base, epoch) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2);
  }
}

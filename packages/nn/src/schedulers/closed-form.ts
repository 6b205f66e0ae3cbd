import { LRScheduler, checkOption, type Schedulable } from './scheduler.js';

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
    const { stepSize, gamma = 0.1 } = options;
    checkOption('StepLR', Number.isInteger(stepSize) && stepSize > 0, 'stepSize must be a positive integer', stepSize);
    checkOption('StepLR', Number.isFinite(gamma) && gamma >= 0, 'gamma must be >= 0', gamma);
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
    const { gamma } = options;
    checkOption('ExponentialLR', Number.isFinite(gamma) && gamma >= 0, 'gamma must be >= 0', gamma);
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
    const { tMax, etaMin = 0 } = options;
    checkOption('CosineAnnealingLR', Number.isInteger(tMax) && tMax > 0, 'tMax must be a positive integer', tMax);
    checkOption('CosineAnnealingLR', Number.isFinite(etaMin) && etaMin >= 0, 'etaMin must be >= 0', etaMin);
    super(optimizer, (base, epoch) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2);
  }
}

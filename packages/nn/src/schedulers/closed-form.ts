import { LRScheduler, groupsOf, onePerGroup, type Schedulable } from './scheduler.js';
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
    super(optimizer, (base, epoch) => base * gamma ** Math.floor(epoch / stepSize), { multipliesLr: true });
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
    super(optimizer, (base, epoch) => base * gamma ** epoch, { multipliesLr: true });
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

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /** Epochs at which lr is multiplied by gamma (non-negative integers; a repeated epoch decays once per occurrence, as PyTorch's Counter). */
  milestones: readonly number[];
  /** Decay factor (default 0.1). */
  gamma?: number;
}

/**
 * lr = base·γ^(number of milestones <= epoch), as torch.optim.lr_scheduler.MultiStepLR.
 * @throws ArgumentError if a milestone is not a non-negative integer or gamma is negative or not finite.
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })
 */
export class MultiStepLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: MultiStepLROptions) {
    checkOptions('MultiStepLR', options, { milestones: rules.arrayOf(rules.nonNegativeInteger), gamma: rules.nonNegative }, { required: ['milestones'] });
    const milestones = [...options.milestones];
    const gamma = options.gamma ?? 0.1;
    super(optimizer, (base, epoch) => base * gamma ** milestones.filter((m) => m <= epoch).length, { multipliesLr: true });
  }
}

/** A factor of the learning rate as a function of the epoch (LambdaLR's and MultiplicativeLR's lrLambda). */
export type LrLambda = (epoch: number) => number;

const lrLambdaRule = { test: (v: unknown) => typeof v === 'function', must: 'a function of the epoch' };

/** `lrLambda` as one function per group, from one function for every group or a list. */
function lambdasPerGroup(name: string, optimizer: Schedulable, options: { lrLambda: LrLambda | readonly LrLambda[] }): LrLambda[] {
  checkOptions(name, options, { lrLambda: rules.either(lrLambdaRule, rules.arrayOf(lrLambdaRule)) }, { required: ['lrLambda'] });
  return onePerGroup(name, 'lrLambda', options.lrLambda, groupsOf(name, optimizer).length, 'function');
}

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  /** The factor of the base learning rate at each epoch: lr = base·lrLambda(epoch); or one such function per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/**
 * lr = base·lrLambda(epoch), as torch.optim.lr_scheduler.LambdaLR: one function for every group,
 * or a list of one function per group (group i follows lrLambda[i]). Its state dict holds no
 * function, as PyTorch's leaves out lambdas.
 * @throws ArgumentError if lrLambda is not a function or a list of one function per group, or
 * (at a step) when base·lrLambda(epoch) is not a finite number >= 0.
 * @example new LambdaLR(opt, { lrLambda: [(epoch) => 0.95 ** epoch, (epoch) => 1 / (1 + epoch)] })
 */
export class LambdaLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: LambdaLROptions) {
    const lambdas = lambdasPerGroup('LambdaLR', optimizer, options);
    super(optimizer, (base, epoch, group) => base * lambdas[group]!(epoch));
  }
}

/** Options of `MultiplicativeLR`. */
export interface MultiplicativeLROptions {
  /** The factor by which each epoch multiplies the last epoch's lr (not called at epoch 0); or one such function per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/**
 * lr = base·lrLambda(1)·lrLambda(2)···lrLambda(epoch) (lr = base at epoch 0), as
 * torch.optim.lr_scheduler.MultiplicativeLR: each step multiplies the lr by lrLambda(epoch), with
 * one function for every group or a list of one per group. As the other schedulers here it is a
 * function of the base lr (PyTorch multiplies whatever lr the group holds, so it differs only if
 * something else changes lr). Stepping calls lrLambda once per epoch, keeping the running product;
 * `lrAt` an earlier epoch, or loading a state dict, calls it again from epoch 1. Its state dict
 * holds no function, as PyTorch's.
 * @throws ArgumentError if lrLambda is not a function or a list of one function per group, or
 * (at a step) when the product is not a finite number >= 0.
 * @example new MultiplicativeLR(opt, { lrLambda: () => 0.95 })
 */
export class MultiplicativeLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: MultiplicativeLROptions) {
    const lambdas = lambdasPerGroup('MultiplicativeLR', optimizer, options);
    // Each group's lr at the last epoch asked for, so a step costs one call instead of `epoch`.
    const memo = lambdas.map(() => ({ base: NaN, epoch: 0, lr: NaN }));
    super(optimizer, (base, epoch, group) => {
      const m = memo[group]!;
      if (!Object.is(m.base, base) || m.epoch > epoch) Object.assign(m, { base, epoch: 0, lr: base });
      while (m.epoch < epoch) {
        // Multiply the lr itself, in PyTorch's order, for the same rounding.
        m.lr *= lambdas[group]!(m.epoch + 1);
        m.epoch += 1;
      }
      return m.lr;
    }, { multipliesLr: true });
  }
}

/** Options of `CosineAnnealingWarmRestarts`. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart. */
  t0: number;
  /** Factor by which each period is longer than the one before (a positive integer, default 1). */
  tMult?: number;
  /** Lowest learning rate (default 0). */
  etaMin?: number;
}

/**
 * SGDR (Loshchilov and Hutter, 2017), as torch.optim.lr_scheduler.CosineAnnealingWarmRestarts:
 * lr = etaMin + (base - etaMin)·(1 + cos(π·tCur / tI))/2, where tCur counts epochs since the last
 * restart and the periods are t0, t0·tMult, t0·tMult², ...
 * @throws ArgumentError if t0 or tMult is not a positive integer, or etaMin is negative or not finite.
 * @example new CosineAnnealingWarmRestarts(opt, { t0: 10, tMult: 2 })
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: CosineAnnealingWarmRestartsOptions) {
    checkOptions('CosineAnnealingWarmRestarts', options, { t0: rules.positiveInteger, tMult: rules.positiveInteger, etaMin: rules.nonNegative }, { required: ['t0'] });
    const { t0, tMult = 1, etaMin = 0 } = options;
    super(optimizer, (base, epoch) => {
      // Walk the periods in integers (PyTorch's log-based closed form rounds at period ends).
      let tCur = epoch;
      let tI = t0;
      while (tCur >= tI) {
        tCur -= tI;
        tI *= tMult;
      }
      return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
    });
  }
}

/** Options of `LinearLR` (PyTorch's defaults). */
export interface LinearLROptions {
  /** Factor of the base lr at epoch 0, in [0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor of the base lr from epoch totalIters on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs (or steps) over which the factor moves from startFactor to endFactor (a positive integer, default 5). */
  totalIters?: number;
}

/**
 * LinearLR's factor of the base lr at `epoch`: startFactor at 0, endFactor from totalIters on,
 * linear between. The one formula of a linear ramp (LinearWarmup's too).
 */
export function linearFactor(startFactor: number, endFactor: number, totalIters: number, epoch: number): number {
  return startFactor + ((endFactor - startFactor) * Math.min(totalIters, epoch)) / totalIters;
}

/**
 * lr = base·(startFactor + (endFactor - startFactor)·min(epoch, totalIters)/totalIters), as
 * torch.optim.lr_scheduler.LinearLR: a linear warmup (startFactor < endFactor) or decay, held
 * at endFactor·base after totalIters. `LinearWarmup` is this ramp (endFactor 1) followed by
 * another scheduler. PyTorch's step() uses an equivalent recursive form (equal up to rounding
 * unless something else changes lr); unlike PyTorch 1.13, startFactor 0 works (1.13 divides by
 * zero at the first step; 2.x rejects it).
 * @throws ArgumentError if startFactor or endFactor is outside [0, 1] or totalIters is not a positive integer.
 * @example new LinearLR(opt, { startFactor: 0.1, totalIters: 10 })
 */
export class LinearLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: LinearLROptions = {}) {
    checkOptions('LinearLR', options, { startFactor: rules.unit, endFactor: rules.unit, totalIters: rules.positiveInteger });
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    super(optimizer, (base, epoch) => base * linearFactor(startFactor, endFactor, totalIters, epoch), { multipliesLr: true });
  }
}

/** Options of `ConstantLR` (PyTorch's defaults). */
export interface ConstantLROptions {
  /** Factor of the base lr before epoch totalIters, in [0, 1] (default 1/3). */
  factor?: number;
  /** The epoch from which the base lr is used (a positive integer, default 5). */
  totalIters?: number;
}

/**
 * lr = factor·base before epoch totalIters, base from then on, as
 * torch.optim.lr_scheduler.ConstantLR (PyTorch's step() divides by the factor at totalIters, so
 * factor 0 raises ZeroDivisionError there in 1.13; here it holds 0, then the base lr).
 * @throws ArgumentError if factor is outside [0, 1] or totalIters is not a positive integer.
 * @example new ConstantLR(opt, { factor: 0.5, totalIters: 4 })
 */
export class ConstantLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: ConstantLROptions = {}) {
    checkOptions('ConstantLR', options, { factor: rules.unit, totalIters: rules.positiveInteger });
    const { factor = 1 / 3, totalIters = 5 } = options;
    super(optimizer, (base, epoch) => (epoch < totalIters ? base * factor : base), { multipliesLr: true });
  }
}

/** Options of `PolynomialLR` (PyTorch's defaults). */
export interface PolynomialLROptions {
  /** Epochs (or steps) until lr reaches 0 (a positive integer, default 5). */
  totalIters?: number;
  /** The power of the polynomial (>= 0, default 1: linear). */
  power?: number;
}

/**
 * lr = base·(1 - min(epoch, totalIters)/totalIters)^power, as
 * torch.optim.lr_scheduler.PolynomialLR: 0 from totalIters on. PyTorch's step() uses an
 * equivalent recursive form (equal up to rounding unless something else changes lr).
 * @throws ArgumentError if totalIters is not a positive integer or power is negative or not finite
 * (a negative power would send lr to infinity at totalIters).
 * @example new PolynomialLR(opt, { totalIters: 100, power: 2 })
 */
export class PolynomialLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: PolynomialLROptions = {}) {
    checkOptions('PolynomialLR', options, { totalIters: rules.positiveInteger, power: rules.nonNegative });
    const { totalIters = 5, power = 1 } = options;
    super(optimizer, (base, epoch) => base * (1 - Math.min(totalIters, epoch) / totalIters) ** power, { multipliesLr: true });
  }
}

import { ArgumentError } from '@chainrule/autograd';
import { checkOptions, rules } from '../optim/options.js';
import { checkState, groupsOf, onePerGroup, perGroupLrs, type Schedulable, type Scheduler } from './scheduler.js';

/** Options of `ReduceLROnPlateau` (PyTorch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): a lower metric is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** Multiplies lr on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of lr, one for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** State of `ReduceLROnPlateau` as plain data. */
export interface PlateauStateDict {
  /** Number of `step` calls so far. */
  lastEpoch: number;
  /** Best metric seen (±Infinity before the first step). */
  best: number;
  /** Consecutive epochs without improvement. */
  numBadEpochs: number;
  /** Epochs of cooldown left. */
  cooldownCounter: number;
  /** The groups' learning rates after the last step. */
  lastLr: number[];
}

/**
 * Cuts the learning rate by `factor` when a metric stops improving for `patience` epochs, as
 * torch.optim.lr_scheduler.ReduceLROnPlateau. Each group's lr is floored at its `minLr`; a cut
 * smaller than `eps` is skipped.
 * @throws ArgumentError (constructor) for an option out of range or a `minLr` list whose length
 * is not the number of groups.
 * @example sched.step(validationLoss)
 */
export class ReduceLROnPlateau implements Scheduler {
  /** The optimiser (or anything with paramGroups) whose learning rates this cuts. */
  readonly optimizer: Schedulable;
  private readonly mode: 'min' | 'max';
  private readonly factor: number;
  private readonly patience: number;
  private readonly threshold: number;
  private readonly thresholdMode: 'rel' | 'abs';
  private readonly cooldown: number;
  private readonly minLrs: number[];
  private readonly eps: number;
  /** Number of `step` calls so far. */
  lastEpoch = 0;
  /** Best metric seen (Infinity in 'min' mode and -Infinity in 'max' mode before the first step). */
  best: number;
  /** Consecutive epochs without improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  private lastLr: number[];

  /**
   * Watches a metric for `optimizer`'s groups; learning rates are left as they are until a plateau.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: ReduceLROnPlateauOptions = {}) {
    const name = 'ReduceLROnPlateau';
    checkOptions(name, options, {
      mode: rules.oneOf('min', 'max'), factor: rules.fraction, patience: rules.nonNegativeInteger, threshold: rules.nonNegative,
      thresholdMode: rules.oneOf('rel', 'abs'), cooldown: rules.nonNegativeInteger, minLr: rules.either(rules.nonNegative, perGroupLrs), eps: rules.nonNegative,
    });
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = options;
    const minLrs = onePerGroup(name, 'minLr', minLr, groupsOf(name, optimizer).length);
    this.optimizer = optimizer;
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.minLrs = minLrs;
    this.eps = eps;
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  /**
   * Records this epoch's metric and reduces lr after more than `patience` epochs without improvement.
   * @throws ArgumentError if `metric` is missing or NaN (PyTorch would compare NaN and count a bad epoch).
   * @example sched.step(valLoss)
   */
  step(metric?: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new ArgumentError(`ReduceLROnPlateau: step needs the monitored metric as a number, got ${String(metric)}`);
    }
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The groups' learning rates after the last step. @example sched.getLastLr() */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Counters and best metric as plain data. @example const saved = sched.stateDict() */
  stateDict(): PlateauStateDict {
    return { lastEpoch: this.lastEpoch, best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastLr: [...this.lastLr] };
  }

  /**
   * Restores `stateDict` output. Every field is checked first (counters non-negative integers,
   * best not NaN, one learning rate >= 0 per group), and nothing changes on a problem.
   * @throws StateDictError listing every missing, unknown or out-of-range field.
   * @example sched.loadStateDict(saved)
   */
  loadStateDict(dict: PlateauStateDict): void {
    checkState('ReduceLROnPlateau.loadStateDict', dict, {
      lastEpoch: rules.nonNegativeInteger, best: rules.notNaN, numBadEpochs: rules.nonNegativeInteger,
      cooldownCounter: rules.nonNegativeInteger, lastLr: perGroupLrs,
    }, this.optimizer.paramGroups.length);
    this.lastEpoch = dict.lastEpoch;
    this.best = dict.best;
    this.numBadEpochs = dict.numBadEpochs;
    this.cooldownCounter = dict.cooldownCounter;
    this.lastLr = [...dict.lastLr];
  }
}

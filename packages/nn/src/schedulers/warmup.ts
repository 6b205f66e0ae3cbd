import { StateDictError } from '../errors.js';
import { checkOptions, rules, type OptionSchema } from '../optim/options.js';
import { linearFactor } from './closed-form.js';
import { LRScheduler, type LrFormula, type Schedulable, type SchedulerStateDict } from './scheduler.js';
import { sequenceLr } from './sequential.js';

/** Options of `LinearWarmup`. */
export interface LinearWarmupOptions {
  /** Epochs (or steps) of warmup. */
  warmupSteps: number;
  /** Fraction of the base lr at epoch 0 (default 1/3, PyTorch's LinearLR default). */
  startFactor?: number;
  /** Scheduler to hand over to after warmup; it sees epoch 0 when warmup ends. */
  after?: LRScheduler;
}

/**
 * Linear warmup: lr rises from startFactor·base to base over `warmupSteps`, then follows `after`
 * (restarted at its epoch 0). It is `SequentialLR` of `LinearLR` (startFactor, endFactor 1,
 * totalIters warmupSteps) and `after`, with milestone warmupSteps, in one constructor (and
 * warmupSteps may be 0); both compute their learning rates with the same functions.
 * Build `after` first, on the same optimiser, and step only the warmup (it computes `after`'s
 * learning rates from its formula, so `after`'s own counter stays where it was built).
 * @throws ArgumentError if warmupSteps is not a non-negative integer, startFactor is outside
 * [0, 1], or `after` schedules another optimiser.
 * @example const sched = new LinearWarmup(opt, { warmupSteps: 5, after: new CosineAnnealingLR(opt, { tMax: 95 }) });
 */
export class LinearWarmup extends LRScheduler {
  /** The scheduler followed after warmup, or null (the base lr is then kept). */
  readonly after: LRScheduler | null;
  /** Epochs (or steps) of warmup. */
  readonly warmupSteps: number;

  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: LinearWarmupOptions) {
    checkOptions('LinearWarmup', options, {
      warmupSteps: rules.nonNegativeInteger,
      startFactor: rules.unit,
      after: { test: (v) => v instanceof LRScheduler && v.optimizer === optimizer, must: 'a scheduler of the same optimiser' },
    }, { required: ['warmupSteps'] });
    const { warmupSteps, startFactor = 1 / 3, after } = options;
    const ramp: LrFormula = (base, epoch) => base * linearFactor(startFactor, 1, warmupSteps, epoch);
    const then: LrFormula = after === undefined ? (base) => base : (base, epoch, group) => after.lrFor(base, epoch, group);
    super(optimizer, (base, epoch, group) => sequenceLr([ramp, then], [warmupSteps], base, epoch, group));
    this.after = after ?? null;
    this.warmupSteps = warmupSteps;
  }

  /** As `LRScheduler.stateDict`, plus `after`: the following scheduler's state, or null. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), after: this.after === null ? null : this.after.stateDict() };
  }

  protected override stateSchema(): OptionSchema {
    return { ...super.stateSchema(), after: { test: (v) => v === null || (typeof v === 'object' && !Array.isArray(v)), must: "null or the state of the 'after' scheduler" } };
  }

  /**
   * Restores `stateDict` output, the following scheduler's too; on any problem nothing changes.
   * @throws StateDictError as `LRScheduler.loadStateDict`, or when the state and this warmup disagree on having an 'after' scheduler.
   */
  override loadStateDict(dict: SchedulerStateDict): void {
    const inner = dict?.after;
    if ((this.after === null) !== (inner === null || inner === undefined)) {
      throw new StateDictError(`LinearWarmup.loadStateDict: the state ${inner ? 'has' : 'has no'} 'after' scheduler state, but this warmup ${this.after ? 'has' : 'has no'} 'after' scheduler`);
    }
    const before = this.stateDict();
    super.loadStateDict(dict);
    try {
      if (this.after !== null) this.after.loadStateDict(inner as SchedulerStateDict);
    } catch (e) {
      super.loadStateDict(before);
      throw e;
    }
  }
}

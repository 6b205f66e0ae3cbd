import { ArgumentError } from '@chainrule/autograd';
import { StateDictError } from '../errors.js';
import type { BaseOptions, ParamGroup } from '../optim/optimizer.js';

/** What a scheduler drives: anything with parameter groups holding an `lr`. */
export interface Schedulable {
  /** The groups whose `lr` the scheduler sets. */
  readonly paramGroups: ParamGroup<BaseOptions>[];
}

/** What `fit` needs of a scheduler. ReduceLROnPlateau reads the metric; the others ignore it. */
export interface Scheduler {
  /** Advances one epoch; `metric` is the monitored value for ReduceLROnPlateau. */
  step(metric?: number): void;
  /** The groups' learning rates after the last step. */
  getLastLr(): number[];
}

/** A scheduler's state as plain data. */
export interface SchedulerStateDict {
  /** Number of `step` calls so far. */
  lastEpoch: number;
  /** Each group's learning rate before scheduling. */
  baseLrs: number[];
  /** The learning rates set by the last step. */
  lastLr: number[];
  /** Subclasses' own entries (LinearWarmup: `after`, the following scheduler's state or null). */
  [key: string]: number | number[] | SchedulerStateDict | null;
}

/** The learning rate of one group at `epoch`, from its base learning rate. */
export type LrFormula = (baseLr: number, epoch: number) => number;

/**
 * A scheduler whose learning rate is a closed-form function of the epoch (number of `step` calls)
 * and each group's base learning rate. Construction sets epoch 0, as PyTorch. Base learning rates
 * come from each group's `initialLr` (set by the first scheduler from `lr`), so schedulers
 * composed on one optimiser agree on them. Subclasses pass their formula to the constructor.
 * NOTE: the constructor calls step(), before subclass fields exist; keep state in the formula's closure.
 * Unlike PyTorch's, `step()` takes no epoch argument, and the formula is always closed-form.
 * Constructors throw an ArgumentError naming the scheduler and the option that is out of range.
 * @example class HalfEvery10 extends LRScheduler { constructor(opt: Schedulable) { super(opt, (base, e) => base * 0.5 ** Math.floor(e / 10)); } }
 */
export abstract class LRScheduler implements Scheduler {
  /** The optimiser (or anything with paramGroups) whose learning rates this sets. */
  readonly optimizer: Schedulable;
  /** Each group's learning rate before scheduling. */
  readonly baseLrs: number[];
  /** Number of `step` calls so far (0 after construction). */
  lastEpoch = -1;
  private lastLr: number[] = [];
  private readonly formula: LrFormula;

  /**
   * Records each group's base learning rate and sets epoch 0's learning rates.
   * @throws ArgumentError if `optimizer` has no `paramGroups` array.
   */
  protected constructor(optimizer: Schedulable, formula: LrFormula) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) {
      throw new ArgumentError(`${new.target.name}: expected an optimiser`);
    }
    this.optimizer = optimizer;
    this.formula = formula;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.step();
  }

  /** The learning rate at `epoch` for a group starting from `baseLr`. @example sched.lrFor(0.1, 10) */
  lrFor(baseLr: number, epoch: number): number {
    return this.formula(baseLr, epoch);
  }

  /** The learning rates at `epoch` (does not change the optimiser). @example sched.lrAt(10) */
  lrAt(epoch: number): number[] {
    return this.baseLrs.map((base) => this.formula(base, epoch));
  }

  /** Advances one epoch (or step) and sets the groups' learning rates. @example opt.step(); sched.step(); */
  step(): void {
    this.lastEpoch += 1;
    this.apply(this.lrAt(this.lastEpoch));
  }

  /** The learning rates set by the last `step`. @example sched.getLastLr()[0] */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Sets each group's lr to `lrs[i]` and records them for `getLastLr`. */
  protected apply(lrs: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i]!;
    });
    this.lastLr = [...lrs];
  }

  /** The epoch counter and learning rates, as plain data. @example const saved = sched.stateDict() */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /**
   * Restores `stateDict` output (the optimiser's lrs come from its own state dict).
   * @throws StateDictError if `dict` lacks an integer lastEpoch or has baseLrs/lastLr of the wrong length.
   * @example sched.loadStateDict(saved)
   */
  loadStateDict(dict: SchedulerStateDict): void {
    const n = this.baseLrs.length;
    const ok =
      Number.isInteger(dict?.lastEpoch) && Array.isArray(dict.baseLrs) && dict.baseLrs.length === n &&
      Array.isArray(dict.lastLr) && dict.lastLr.length === n;
    if (!ok) throw new StateDictError(`${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs, lastLr } for ${n} group(s)`);
    this.lastEpoch = dict.lastEpoch;
    this.baseLrs.splice(0, n, ...dict.baseLrs);
    this.lastLr = [...dict.lastLr];
  }
}

/** Throws `Name: option must ..., got value` unless ok. */
export function checkOption(name: string, ok: boolean, message: string, value: unknown): void {
  if (!ok) throw new ArgumentError(`${name}: ${message}, got ${String(value)}`);
}

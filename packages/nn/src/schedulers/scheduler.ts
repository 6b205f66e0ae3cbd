import { ArgumentError } from '@chainrule/autograd';
import { StateDictError } from '../errors.js';
import type { BaseOptions, ParamGroup } from '../optim/optimizer.js';
import { checkOptions, optionProblems, rules, type OptionRule, type OptionSchema } from '../optim/options.js';

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
  /** Subclasses' own entries (LinearWarmup: `after`, the following scheduler's state or null; SequentialLR and ChainedScheduler: `schedulers`, theirs). */
  [key: string]: number | number[] | SchedulerStateDict | SchedulerStateDict[] | null;
}

/**
 * The learning rate of one group at `epoch`, from its base learning rate; `group` is the group's
 * index, which only schedulers with one function per group (LambdaLR's list) read.
 */
export type LrFormula = (baseLr: number, epoch: number, group: number) => number;

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
  /**
   * True when each group's lr is its base lr times a factor that does not depend on the base, a
   * factor PyTorch's step() applies to whatever lr the group holds (StepLR, MultiStepLR,
   * ExponentialLR, LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR): ChainedScheduler
   * multiplies the factors of such schedulers, as PyTorch's chain of their steps does.
   */
  readonly multipliesLr: boolean;
  private lastLr: number[] = [];
  private readonly formula: LrFormula;

  /**
   * Records each group's base learning rate and sets epoch 0's learning rates. Pass
   * `multipliesLr: true` when `formula` is the base times a factor independent of the base.
   * @throws ArgumentError if `optimizer` has no `paramGroups` array.
   */
  protected constructor(optimizer: Schedulable, formula: LrFormula, options: { multipliesLr?: boolean } = {}) {
    groupsOf(new.target.name, optimizer);
    this.optimizer = optimizer;
    this.formula = formula;
    this.multipliesLr = options.multipliesLr ?? false;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.step();
  }

  /**
   * The learning rate at `epoch` (a non-negative integer) for group `group` (default 0) starting
   * from `baseLr`. Throws when the formula gives anything but a finite number >= 0, or when
   * `group` is not the index of one of the optimiser's groups. @example sched.lrFor(0.1, 10)
   */
  lrFor(baseLr: number, epoch: number, group = 0): number {
    checkOptions(this.constructor.name, { epoch, group }, { epoch: rules.nonNegativeInteger, group: groupIndex(this.baseLrs.length) });
    const lr: unknown = this.formula(baseLr, epoch, group);
    if (!rules.nonNegative.test(lr)) {
      throw new ArgumentError(`${this.constructor.name}: the learning rate at epoch ${epoch} from base ${baseLr} is ${String(lr)}; it must be a finite number >= 0`);
    }
    return lr as number;
  }

  /** The learning rates at `epoch` (does not change the optimiser). @example sched.lrAt(10) */
  lrAt(epoch: number): number[] {
    return this.baseLrs.map((base, group) => this.lrFor(base, epoch, group));
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

  /** The rules of the fields of `stateDict()`; subclasses with more state add theirs. */
  protected stateSchema(): OptionSchema {
    return { lastEpoch: rules.nonNegativeInteger, baseLrs: perGroupLrs, lastLr: perGroupLrs };
  }

  /** The epoch counter and learning rates, as plain data. @example const saved = sched.stateDict() */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /**
   * Restores `stateDict` output (the optimiser's lrs come from its own state dict). Every field
   * is checked first (an epoch >= 0, one learning rate >= 0 per group), and nothing changes on a problem.
   * @throws StateDictError listing every missing, unknown or out-of-range field, or per-group arrays of the wrong length.
   * @example sched.loadStateDict(saved)
   */
  loadStateDict(dict: SchedulerStateDict): void {
    checkState(`${this.constructor.name}.loadStateDict`, dict, this.stateSchema(), this.baseLrs.length);
    const n = this.baseLrs.length;
    this.lastEpoch = dict.lastEpoch;
    this.baseLrs.splice(0, n, ...dict.baseLrs);
    this.lastLr = [...dict.lastLr];
  }
}

/** The index of one of `groups` parameter groups. */
function groupIndex(groups: number): OptionRule {
  return { test: (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < groups, must: `the index of one of the ${groups} group(s)` };
}

/**
 * The parameter groups of `optimizer`, for constructors that read them before `super`.
 * @throws ArgumentError naming `owner` if `optimizer` has no `paramGroups` array.
 */
export function groupsOf(owner: string, optimizer: Schedulable): Schedulable['paramGroups'] {
  const groups = (optimizer as Partial<Schedulable> | null)?.paramGroups;
  if (!Array.isArray(groups)) throw new ArgumentError(`${owner}: expected an optimiser`);
  return groups;
}

/**
 * An option given once for every group or as one value per group, as a list of one per group.
 * @throws ArgumentError naming `owner` and `key` when a list's length is not the number of groups.
 */
export function onePerGroup<T>(owner: string, key: string, value: T | readonly T[], groups: number, what = 'value'): T[] {
  if (!Array.isArray(value)) return new Array<T>(groups).fill(value as T);
  if (value.length !== groups) throw new ArgumentError(`${owner}: ${key} must give one ${what} per group (${groups}), got ${value.length}`);
  return [...(value as readonly T[])];
}

/** Where a group keeps the momentum a scheduler cycles: SGD's or RMSprop's `momentum`, or Adam's `betas[0]`. */
export type MomentumKey = 'momentum' | 'betas';

/**
 * Each group's momentum key, for schedulers that cycle momentum (none when `cycle` is false).
 * @throws ArgumentError naming `owner` and the first group with neither `momentum` nor `betas`.
 */
export function momentumKeys(owner: string, groups: Schedulable['paramGroups'], cycle: boolean): (MomentumKey | null)[] {
  return groups.map((g, i) => {
    if (!cycle) return null;
    const o = g as unknown as Record<string, unknown>;
    if (Array.isArray(o.betas)) return 'betas';
    if (typeof o.momentum === 'number') return 'momentum';
    throw new ArgumentError(`${owner}: cycleMomentum needs groups with 'momentum' or 'betas', and group ${i} has neither (pass cycleMomentum: false)`);
  });
}

/** Sets a group's momentum (or `betas[0]`) to `m`. */
export function setMomentum(group: Schedulable['paramGroups'][number], key: MomentumKey, m: number): void {
  const o = group as unknown as Record<string, unknown>;
  if (key === 'betas') o.betas = [m, ...(o.betas as number[]).slice(1)];
  else o.momentum = m;
}

/** One learning rate >= 0 per group. */
export const perGroupLrs = rules.arrayOf(rules.nonNegative);

/**
 * Checks a scheduler's saved state against `schema` (every field required, no other), and that
 * its per-group arrays (`baseLrs`, `lastLr`) have one entry per group; throws a StateDictError
 * listing every problem.
 */
export function checkState(owner: string, dict: unknown, schema: OptionSchema, groups: number): void {
  const problems = optionProblems(owner, dict, schema, { required: Object.keys(schema) });
  if (problems.length === 0) {
    for (const key of ['baseLrs', 'lastLr']) {
      const v = (dict as Record<string, unknown>)[key];
      if (Array.isArray(v) && v.length !== groups) problems.push(`${owner}: ${key} holds ${v.length} learning rate(s) for ${groups} group(s)`);
    }
  }
  if (problems.length > 0) throw new StateDictError(problems.join('; '));
}

import { ArgumentError } from '@chainrule/autograd';
import { StateDictError } from '../errors.js';
import { checkOptions, rules, type OptionSchema } from '../optim/options.js';
import { CyclicLR } from './cyclic.js';
import { OneCycleLR } from './one-cycle.js';
import { LRScheduler, type LrFormula, type Schedulable, type SchedulerStateDict } from './scheduler.js';

/**
 * The lr of a sequence of schedules at `epoch`: the one whose segment holds the epoch (segment i
 * starts at milestones[i - 1], the first at 0), at the epoch counted from its segment's start, as
 * PyTorch's SequentialLR restarts each scheduler at its milestone. SequentialLR and LinearWarmup
 * share it.
 */
export function sequenceLr(parts: readonly LrFormula[], milestones: readonly number[], base: number, epoch: number, group: number): number {
  let i = 0;
  while (i < milestones.length && milestones[i]! <= epoch) i++;
  return parts[i]!(base, i === 0 ? epoch : epoch - milestones[i - 1]!, group);
}

/**
 * Checks that `schedulers` are closed-form schedulers of `optimizer` that set nothing but lr.
 * @throws ArgumentError naming `owner` and the first offending scheduler's index.
 */
function checkParts(owner: string, optimizer: Schedulable, schedulers: unknown): asserts schedulers is LRScheduler[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) throw new ArgumentError(`${owner}: schedulers must be a non-empty array of schedulers`);
  schedulers.forEach((s: unknown, i) => {
    if (!(s instanceof LRScheduler)) {
      throw new ArgumentError(`${owner}: schedulers[${i}] must be a closed-form scheduler (an LRScheduler; ReduceLROnPlateau cannot be sequenced), got ${String(s?.constructor?.name ?? s)}`);
    }
    if (s.optimizer !== optimizer) throw new ArgumentError(`${owner}: schedulers[${i}] (${s.constructor.name}) schedules another optimiser than schedulers[0]`);
    if ((s instanceof OneCycleLR || s instanceof CyclicLR) && s.cycleMomentum) {
      throw new ArgumentError(`${owner}: schedulers[${i}] (${s.constructor.name}) cycles momentum, which only its own step() sets; build it with cycleMomentum: false`);
    }
  });
}

/** The states of `schedulers`, for a composite's state dict. */
function childStates(schedulers: readonly LRScheduler[]): SchedulerStateDict[] {
  return schedulers.map((s) => s.stateDict());
}

/**
 * Loads `states` into `schedulers` after `loadOwn`, restoring everything on any problem.
 * @throws StateDictError when the counts differ or any state is refused.
 */
function loadWithChildren(owner: string, schedulers: readonly LRScheduler[], states: unknown, own: { save: () => SchedulerStateDict; load: (d: SchedulerStateDict) => void }, dict: SchedulerStateDict): void {
  if (!Array.isArray(states) || states.length !== schedulers.length) {
    throw new StateDictError(`${owner}.loadStateDict: schedulers must hold ${schedulers.length} scheduler state(s), got ${Array.isArray(states) ? states.length : String(states)}`);
  }
  const before = [own.save(), ...childStates(schedulers)];
  try {
    own.load(dict);
    schedulers.forEach((s, i) => s.loadStateDict(states[i] as SchedulerStateDict));
  } catch (e) {
    own.load(before[0]!);
    schedulers.forEach((s, i) => s.loadStateDict(before[i + 1]!));
    throw e;
  }
}

const statesRule = { test: (v: unknown) => Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x)), must: 'an array of scheduler states' };

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers to follow in turn, built on the same optimiser. */
  schedulers: readonly LRScheduler[];
  /** The epochs at which each scheduler after the first takes over (increasing positive integers, one fewer than the schedulers). */
  milestones: readonly number[];
}

/**
 * Follows `schedulers[0]` until `milestones[0]`, then `schedulers[1]` from its epoch 0, and so on,
 * as torch.optim.lr_scheduler.SequentialLR. Build the schedulers first, on the same optimiser, and
 * step only the SequentialLR: it computes each one's learning rates from its formula, so their
 * own counters stay where they were built. MultiplicativeLR restarts from the base lr at its
 * milestone (PyTorch's keeps multiplying the lr the previous scheduler left).
 * @throws ArgumentError if a scheduler is not an LRScheduler of `optimizer`, cycles momentum, or
 * the milestones are not increasing positive integers one fewer than the schedulers.
 * @example new SequentialLR(opt, { schedulers: [new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })], milestones: [2] })
 */
export class SequentialLR extends LRScheduler {
  /** The schedulers followed in turn. */
  readonly schedulers: readonly LRScheduler[];
  /** The epochs at which each scheduler after the first takes over. */
  readonly milestones: readonly number[];

  /**
   * Schedules `optimizer`'s groups and sets epoch 0's learning rates (the first scheduler's).
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: SequentialLROptions) {
    const name = 'SequentialLR';
    checkOptions(name, options, { schedulers: { test: Array.isArray, must: 'an array of schedulers' }, milestones: rules.arrayOf(rules.positiveInteger) }, { required: ['schedulers', 'milestones'] });
    const schedulers = [...options.schedulers];
    const milestones = [...options.milestones];
    checkParts(name, optimizer, schedulers);
    if (milestones.length !== schedulers.length - 1) {
      throw new ArgumentError(`${name}: milestones must hold one fewer epoch than schedulers (${schedulers.length - 1}), got ${milestones.length}`);
    }
    if (milestones.some((m, i) => i > 0 && m <= milestones[i - 1]!)) throw new ArgumentError(`${name}: milestones must be increasing, got [${milestones.join(', ')}]`);
    const parts: LrFormula[] = schedulers.map((s) => (base, epoch, group) => s.lrFor(base, epoch, group));
    super(optimizer, (base, epoch, group) => sequenceLr(parts, milestones, base, epoch, group));
    this.schedulers = schedulers;
    this.milestones = milestones;
  }

  /** As `LRScheduler.stateDict`, plus `schedulers`: each scheduler's state. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: childStates(this.schedulers) };
  }

  protected override stateSchema(): OptionSchema {
    return { ...super.stateSchema(), schedulers: statesRule };
  }

  /**
   * Restores `stateDict` output, the schedulers' too; on any problem nothing changes.
   * @throws StateDictError as `LRScheduler.loadStateDict`, or when the number of scheduler states differs.
   */
  override loadStateDict(dict: SchedulerStateDict): void {
    loadWithChildren('SequentialLR', this.schedulers, dict?.schedulers, { save: () => this.stateDict(), load: (d) => super.loadStateDict(d) }, dict);
  }
}

/**
 * Applies every scheduler's factor at once, as torch.optim.lr_scheduler.ChainedScheduler steps
 * each in turn: lr = base·factor₀(epoch)·factor₁(epoch)···. Its schedulers must each multiply the
 * lr by a factor (`multipliesLr`: StepLR, MultiStepLR, ExponentialLR, LinearLR, ConstantLR,
 * PolynomialLR, MultiplicativeLR, or a ChainedScheduler of them), for which PyTorch's chain of
 * steps gives this product; the others (LambdaLR, the cosine schedules, OneCycleLR, SequentialLR)
 * set or shift the lr in PyTorch's chain, in an order-dependent way, and are refused. Step only
 * the ChainedScheduler: the schedulers' own counters stay where they were built.
 * @throws ArgumentError if `schedulers` is empty, holds a scheduler of another optimiser, or one
 * that does not multiply the lr.
 * @example new ChainedScheduler([new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })])
 */
export class ChainedScheduler extends LRScheduler {
  /** The schedulers whose factors multiply. */
  readonly schedulers: readonly LRScheduler[];

  /**
   * Schedules the schedulers' optimiser and sets epoch 0's learning rates.
   * @throws ArgumentError as the class says.
   */
  constructor(schedulers: readonly LRScheduler[]) {
    const name = 'ChainedScheduler';
    const first: unknown = Array.isArray(schedulers) ? schedulers[0] : undefined;
    const optimizer = first instanceof LRScheduler ? first.optimizer : (undefined as unknown as Schedulable);
    checkParts(name, optimizer, schedulers);
    const parts = [...schedulers];
    parts.forEach((s, i) => {
      if (!s.multipliesLr) {
        throw new ArgumentError(`${name}: schedulers[${i}] (${s.constructor.name}) does not multiply the lr by a factor, so PyTorch's chain would depend on the order; use SequentialLR or one closed-form scheduler`);
      }
    });
    super(optimizer, (base, epoch, group) => parts.reduce((lr, s) => lr * s.lrFor(1, epoch, group), base), { multipliesLr: true });
    this.schedulers = parts;
  }

  /** As `LRScheduler.stateDict`, plus `schedulers`: each scheduler's state. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: childStates(this.schedulers) };
  }

  protected override stateSchema(): OptionSchema {
    return { ...super.stateSchema(), schedulers: statesRule };
  }

  /**
   * Restores `stateDict` output, the schedulers' too; on any problem nothing changes.
   * @throws StateDictError as `LRScheduler.loadStateDict`, or when the number of scheduler states differs.
   */
  override loadStateDict(dict: SchedulerStateDict): void {
    loadWithChildren('ChainedScheduler', this.schedulers, dict?.schedulers, { save: () => this.stateDict(), load: (d) => super.loadStateDict(d) }, dict);
  }
}

import { ArgumentError } from '@chainrule/autograd';
import { checkOptions, rules } from '../optim/options.js';
import { LRScheduler, groupsOf, momentumKeys, onePerGroup, setMomentum, type Schedulable } from './scheduler.js';

/** Options of `OneCycleLR` (PyTorch's defaults). */
export interface OneCycleLROptions {
  /** Peak learning rate: one for every group, or one per group. */
  maxLr: number | readonly number[];
  /** Steps in the cycle (`step()` may be called this many times less one after construction). */
  totalSteps: number;
  /** Fraction of the cycle spent increasing lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' annealing between the phases' ends. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD's or RMSprop's `momentum`, Adam's `betas[0]`) inversely to lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the peak lr: one for every group or one per group (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** The starting lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is the starting lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Return to the starting lr before annealing to the final one: fast.ai's three phases (default false). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  /** Learning rate at the phase's start and end, as a factor of the starting lr. */
  from: (start: number) => number;
  to: (start: number) => number;
  momentumFrom: 'base' | 'max';
  momentumTo: 'base' | 'max';
}

/**
 * The 1cycle policy (Smith and Topin, 2017), as torch.optim.lr_scheduler.OneCycleLR: lr rises from
 * maxLr/divFactor to maxLr over the first pctStart of the steps, then falls to
 * maxLr/(divFactor·finalDivFactor) (with `threePhase`, back to the start first), while momentum
 * moves the opposite way between maxMomentum and baseMomentum. As PyTorch, the scheduler sets
 * each group's `initialLr` to maxLr/divFactor, whatever its lr was, and its momentum (or
 * `betas[0]`) to maxMomentum. Call `step()` after each batch; stepping past `totalSteps` throws.
 * Unlike PyTorch, the step after the last batch (step totalSteps) holds the final lr and momentum
 * instead of extrapolating the last phase (which linear annealing takes below zero).
 * @throws ArgumentError for an option out of range, per-group lists of the wrong length, or
 * `cycleMomentum` on an optimiser whose groups have neither `momentum` nor `betas`.
 * @example new OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs * batchesPerEpoch })
 */
export class OneCycleLR extends LRScheduler {
  /**
   * Schedules `optimizer`'s groups and sets step 0's learning rates (and momenta).
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: OneCycleLROptions) {
    const name = 'OneCycleLR';
    const perGroup = (rule: typeof rules.nonNegative) => rules.either(rule, rules.arrayOf(rule));
    checkOptions(name, options, {
      maxLr: perGroup(rules.nonNegative), totalSteps: rules.positiveInteger, pctStart: rules.unit, annealStrategy: rules.oneOf('cos', 'linear'),
      cycleMomentum: rules.boolean, baseMomentum: perGroup(rules.nonNegative), maxMomentum: perGroup(rules.nonNegative),
      divFactor: rules.positive, finalDivFactor: rules.positive, threePhase: rules.boolean,
    }, { required: ['maxLr', 'totalSteps'] });
    const {
      totalSteps, pctStart = 0.3, annealStrategy = 'cos', cycleMomentum = true, divFactor = 25, finalDivFactor = 1e4, threePhase = false,
    } = options;
    const groups = groupsOf(name, optimizer);
    const list = (key: string, v: number | readonly number[]): number[] => onePerGroup(name, key, v, groups.length);
    const maxLrs = list('maxLr', options.maxLr);
    const baseMomenta = list('baseMomentum', options.baseMomentum ?? 0.85);
    const maxMomenta = list('maxMomentum', options.maxMomentum ?? 0.95);
    const momentumKey = momentumKeys(name, groups, cycleMomentum);
    const peak = (start: number) => start * divFactor;
    const phases: Phase[] = threePhase
      ? [
          { endStep: pctStart * totalSteps - 1, from: (s) => s, to: peak, momentumFrom: 'max', momentumTo: 'base' },
          { endStep: 2 * pctStart * totalSteps - 2, from: peak, to: (s) => s, momentumFrom: 'base', momentumTo: 'max' },
          { endStep: totalSteps - 1, from: (s) => s, to: (s) => s / finalDivFactor, momentumFrom: 'max', momentumTo: 'max' },
        ]
      : [
          { endStep: pctStart * totalSteps - 1, from: (s) => s, to: peak, momentumFrom: 'max', momentumTo: 'base' },
          { endStep: totalSteps - 1, from: peak, to: (s) => s / finalDivFactor, momentumFrom: 'base', momentumTo: 'max' },
        ];
    const anneal = annealStrategy === 'cos'
      ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (a: number, b: number, pct: number) => (b - a) * pct + a;
    /** The phase holding `step` and how far through it the step is. */
    const locate = (step: number): { phase: Phase; pct: number } => {
      if (step > totalSteps) {
        throw new ArgumentError(`${name}: stepped ${step} times, past totalSteps = ${totalSteps}`);
      }
      let start = 0;
      for (let i = 0; i < phases.length; i++) {
        const phase = phases[i]!;
        // Step totalSteps (the step() after the last batch) holds the final lr, where PyTorch
        // extrapolates the last phase past its end (below zero with linear annealing).
        if (step <= phase.endStep || i === phases.length - 1) return { phase, pct: Math.min(1, (step - start) / (phase.endStep - start)) };
        start = phase.endStep;
      }
      throw new Error('unreachable');
    };
    // PyTorch overwrites initial_lr with maxLr/divFactor, so this is each group's base lr.
    groups.forEach((g, i) => {
      g.initialLr = maxLrs[i]! / divFactor;
    });
    super(optimizer, (base, step) => {
      const { phase, pct } = locate(step);
      return anneal(phase.from(base), phase.to(base), pct);
    });
    this.setMomenta = (step: number) => {
      const { phase, pct } = locate(step);
      groups.forEach((g, i) => {
        const key = momentumKey[i];
        if (key === null || key === undefined) return;
        const ends = { base: baseMomenta[i]!, max: maxMomenta[i]! };
        setMomentum(g, key, anneal(ends[phase.momentumFrom], ends[phase.momentumTo], pct));
      });
    };
    this.totalSteps = totalSteps;
    this.cycleMomentum = cycleMomentum;
    this.setMomenta(this.lastEpoch);
  }

  /** Steps in the cycle. */
  readonly totalSteps: number;
  /** Whether `step()` also sets the groups' momentum (SequentialLR and ChainedScheduler refuse such a scheduler). */
  readonly cycleMomentum: boolean;
  private readonly setMomenta: (step: number) => void;

  /**
   * Advances one step: sets the groups' learning rates and, with cycleMomentum, their momenta.
   * @throws ArgumentError past totalSteps, changing nothing.
   * @example opt.step(); sched.step();
   */
  override step(): void {
    if (this.totalSteps !== undefined && this.lastEpoch + 1 > this.totalSteps) {
      throw new ArgumentError(`OneCycleLR: stepped ${this.lastEpoch + 1} times, past totalSteps = ${this.totalSteps}`);
    }
    super.step();
    // Undefined only during the base constructor's first step; the constructor sets step 0's momenta itself.
    this.setMomenta?.(this.lastEpoch);
  }
}

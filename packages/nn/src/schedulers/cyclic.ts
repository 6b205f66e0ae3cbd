import { ArgumentError } from '@chainrule/autograd';
import { checkOptions, rules } from '../optim/options.js';
import { LRScheduler, groupsOf, momentumKeys, onePerGroup, setMomentum, type Schedulable } from './scheduler.js';

/** Options of `CyclicLR` (PyTorch's names and defaults). */
export interface CyclicLROptions {
  /** Lowest lr of the cycle, one for every group or one per group; also the groups' base lr. */
  baseLr: number | readonly number[];
  /** Highest lr of the first cycle (before scaling), one for every group or one per group. */
  maxLr: number | readonly number[];
  /** Steps from baseLr up to maxLr (> 0, default 2000). */
  stepSizeUp?: number;
  /** Steps from maxLr back down (> 0, default stepSizeUp). */
  stepSizeDown?: number;
  /** 'triangular' (default): the same height every cycle; 'triangular2': halved each cycle; 'exp_range': times gamma^step. */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** Decay per step of mode 'exp_range' (default 1); only with that mode. */
  gamma?: number;
  /** A scale of the cycle's height in place of `mode`: a function of the cycle number (from 1) or of the step (see scaleMode). */
  scaleFn?: (x: number) => number;
  /** What scaleFn takes: 'cycle' (default) or 'iterations' (the step); only with scaleFn. */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (SGD's or RMSprop's `momentum`, Adam's `betas[0]`) inversely to lr (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak, one for every group or one per group (default 0.8). */
  baseMomentum?: number | readonly number[];
  /** Momentum at baseLr, one for every group or one per group (default 0.9). */
  maxMomentum?: number | readonly number[];
}

/**
 * The cyclical learning rate policy (Smith, 2017), as torch.optim.lr_scheduler.CyclicLR: lr
 * climbs linearly from baseLr to maxLr over stepSizeUp steps and back over stepSizeDown, the
 * cycle's height scaled by `mode` (or `scaleFn`), while momentum moves the opposite way between
 * maxMomentum and baseMomentum. Call `step()` after each batch. As PyTorch, construction sets
 * each group's lr to baseLr; it also sets the group's `initialLr` (its base lr here) to baseLr,
 * as OneCycleLR does, where PyTorch keeps an `initial_lr` set before. Unlike PyTorch 1.13, which refuses
 * cycleMomentum for an optimiser without `momentum`, Adam's `betas[0]` is cycled (PyTorch 2's
 * behaviour, and OneCycleLR's); an option the chosen mode does not read (`gamma` without
 * 'exp_range', `mode` with `scaleFn`, `scaleMode` without it) is an error, not ignored.
 * @throws ArgumentError for an option out of range or not read, per-group lists of the wrong
 * length, or `cycleMomentum` on an optimiser whose groups have neither `momentum` nor `betas`.
 * @example new CyclicLR(opt, { baseLr: 0.001, maxLr: 0.1, stepSizeUp: 500, mode: 'triangular2' })
 */
export class CyclicLR extends LRScheduler {
  /** Whether `step()` also sets the groups' momentum (SequentialLR refuses such a scheduler). */
  readonly cycleMomentum: boolean;
  private readonly setMomenta: (step: number) => void;

  /**
   * Schedules `optimizer`'s groups and sets step 0's learning rates (and momenta).
   * @throws ArgumentError as the class says, naming the option.
   */
  constructor(optimizer: Schedulable, options: CyclicLROptions) {
    const name = 'CyclicLR';
    const perGroupRule = rules.either(rules.nonNegative, rules.arrayOf(rules.nonNegative));
    checkOptions(name, options, {
      baseLr: perGroupRule, maxLr: perGroupRule, stepSizeUp: rules.positive, stepSizeDown: rules.positive,
      mode: rules.oneOf('triangular', 'triangular2', 'exp_range'), gamma: rules.nonNegative,
      scaleFn: { test: (v) => typeof v === 'function', must: 'a function of the cycle or step' }, scaleMode: rules.oneOf('cycle', 'iterations'),
      cycleMomentum: rules.boolean, baseMomentum: perGroupRule, maxMomentum: perGroupRule,
    }, { required: ['baseLr', 'maxLr'] });
    const { stepSizeUp = 2000, gamma = 1, scaleFn, cycleMomentum = true } = options;
    const stepSizeDown = options.stepSizeDown ?? stepSizeUp;
    if (scaleFn !== undefined && options.mode !== undefined) throw new ArgumentError(`${name}: give mode or scaleFn, not both (scaleFn replaces the mode's scale)`);
    if (scaleFn === undefined && options.scaleMode !== undefined) throw new ArgumentError(`${name}: scaleMode applies only with scaleFn`);
    const mode = options.mode ?? 'triangular';
    if (options.gamma !== undefined && (scaleFn !== undefined || mode !== 'exp_range')) throw new ArgumentError(`${name}: gamma applies only to mode 'exp_range'`);
    const groups = groupsOf(name, optimizer);
    const list = (key: string, v: number | readonly number[]): number[] => onePerGroup(name, key, v, groups.length);
    const baseLrs = list('baseLr', options.baseLr);
    const maxLrs = list('maxLr', options.maxLr);
    const baseMomenta = list('baseMomentum', options.baseMomentum ?? 0.8);
    const maxMomenta = list('maxMomentum', options.maxMomentum ?? 0.9);
    const momentumKey = momentumKeys(name, groups, cycleMomentum);
    const scale: (x: number) => number = scaleFn ?? (mode === 'triangular' ? () => 1 : mode === 'triangular2' ? (c) => 1 / 2 ** (c - 1) : (step) => gamma ** step);
    const scaleMode = scaleFn === undefined ? (mode === 'exp_range' ? 'iterations' : 'cycle') : (options.scaleMode ?? 'cycle');
    const total = stepSizeUp + stepSizeDown;
    const stepRatio = stepSizeUp / total;
    /** How far up the cycle's triangle `step` is (0 at baseLr, 1 at the peak), times the cycle's scale. */
    const height = (step: number): number => {
      // PyTorch's arithmetic, in its order, for the same rounding.
      const cycle = Math.floor(1 + step / total);
      const x = 1 + step / total - cycle;
      const up = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1);
      return up * scale(scaleMode === 'cycle' ? cycle : step);
    };
    groups.forEach((g, i) => {
      g.lr = baseLrs[i]!;
      g.initialLr = baseLrs[i]!;
    });
    super(optimizer, (base, step, group) => base + (maxLrs[group]! - base) * height(step));
    this.cycleMomentum = cycleMomentum;
    this.setMomenta = (step: number) => {
      const h = height(step);
      groups.forEach((g, i) => {
        const key = momentumKey[i];
        if (key !== null && key !== undefined) setMomentum(g, key, maxMomenta[i]! - (maxMomenta[i]! - baseMomenta[i]!) * h);
      });
    };
    this.setMomenta(this.lastEpoch);
  }

  /**
   * Advances one step: sets the groups' learning rates and, with cycleMomentum, their momenta.
   * @example opt.step(); sched.step();
   */
  override step(): void {
    super.step();
    // Undefined only during the base constructor's first step; the constructor sets step 0's momenta itself.
    this.setMomenta?.(this.lastEpoch);
  }
}

// The schedulers against PyTorch: scripts/torch-schedulers-reference.py recorded each group's
// learning rate over the epochs (or after each ReduceLROnPlateau step) of an SGD with two groups.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { zeros } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import {
  Adam, ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LambdaLR, LinearLR, LinearWarmup, MultiStepLR, MultiplicativeLR, OneCycleLR, PolynomialLR, ReduceLROnPlateau, SGD, SequentialLR,
  StepLR, type CyclicLROptions, type LRScheduler, type LrLambda, type Scheduler,
} from '@chainrule/nn';

type Options = Record<string, unknown>;

interface Case {
  kind: 'epochs' | 'plateau';
  scheduler: string;
  options: Options;
  optimiser?: 'SGD' | 'SGD+momentum' | 'Adam';
  metrics?: number[];
  lrs: number[][];
  momenta?: number[][];
}

const reference = JSON.parse(readFileSync(new URL('./fixtures/torch-schedulers.json', import.meta.url), 'utf8')) as { cases: Case[] };

const num = (o: Options, k: string): number => o[k] as number;

/** A builder returns null when the case is outside what its scheduler covers. */
/** The script's lr_lambda and scale_fn expressions (Python, of `epoch` or `x`), written in TypeScript. */
const LAMBDAS: Record<string, LrLambda> = {
  '0.9 ** (epoch - 3) if epoch > 3 else 1': (epoch) => (epoch > 3 ? 0.9 ** (epoch - 3) : 1),
  '0.5 ** (epoch // 3)': (epoch) => 0.5 ** Math.floor(epoch / 3),
  '1 / (1 + epoch)': (epoch) => 1 / (1 + epoch),
  '0.9': () => 0.9,
  '0.95': () => 0.95,
  '1 if epoch < 5 else 1 - 0.03 * epoch': (epoch) => (epoch < 5 ? 1 : 1 - 0.03 * epoch),
  '1 / (1 + x)': (x) => 1 / (1 + x),
  '0.9 ** x': (x) => 0.9 ** x,
};

function lambda(src: string): LrLambda {
  const fn = LAMBDAS[src];
  if (fn === undefined) throw new Error(`no TypeScript for ${src}`);
  return fn;
}

function lrLambda(o: Options): LrLambda | LrLambda[] {
  const src = o.lr_lambda as string | string[];
  return Array.isArray(src) ? src.map(lambda) : lambda(src);
}

type Build = (opt: SGD | Adam, o: Options) => Scheduler | null;

/** chainrule's scheduler for each of the script's, from PyTorch's options (an array: each is checked). */
const BUILD: Record<string, Build | Build[]> = {
  StepLR: (opt, o) => new StepLR(opt, { stepSize: num(o, 'step_size'), gamma: num(o, 'gamma') }),
  MultiStepLR: (opt, o) => new MultiStepLR(opt, { milestones: o.milestones as number[], gamma: num(o, 'gamma') }),
  ExponentialLR: (opt, o) => new ExponentialLR(opt, { gamma: num(o, 'gamma') }),
  CosineAnnealingLR: (opt, o) => new CosineAnnealingLR(opt, { tMax: num(o, 'T_max'), etaMin: num(o, 'eta_min') }),
  CosineAnnealingWarmRestarts: (opt, o) => new CosineAnnealingWarmRestarts(opt, { t0: num(o, 'T_0'), tMult: o.T_mult as number | undefined, etaMin: o.eta_min as number | undefined }),
  ConstantLR: (opt, o) => new ConstantLR(opt, { factor: o.factor as number | undefined, totalIters: o.total_iters as number | undefined }),
  PolynomialLR: (opt, o) => new PolynomialLR(opt, { totalIters: o.total_iters as number | undefined, power: o.power as number | undefined }),
  LambdaLR: (opt, o) => new LambdaLR(opt, { lrLambda: lrLambda(o) }),
  MultiplicativeLR: (opt, o) => new MultiplicativeLR(opt, { lrLambda: lrLambda(o) }),
  LinearLR: [
    (opt, o) => new LinearLR(opt, { startFactor: o.start_factor as number | undefined, endFactor: o.end_factor as number | undefined, totalIters: o.total_iters as number | undefined }),
    // LinearWarmup is LinearLR's ramp to the base lr (endFactor 1).
    (opt, o) => (o.end_factor ?? 1) === 1
      ? new LinearWarmup(opt, { warmupSteps: (o.total_iters as number | undefined) ?? 5, startFactor: o.start_factor as number | undefined })
      : null,
  ],
  'LinearLR+CosineAnnealingLR': [
    (opt, o) => new LinearWarmup(opt, {
      warmupSteps: num(o, 'total_iters'), startFactor: num(o, 'start_factor'), after: new CosineAnnealingLR(opt, { tMax: num(o, 'T_max') }),
    }),
    (opt, o) => new SequentialLR(opt, {
      schedulers: [new LinearLR(opt, { startFactor: num(o, 'start_factor'), totalIters: num(o, 'total_iters') }), new CosineAnnealingLR(opt, { tMax: num(o, 'T_max') })],
      milestones: [num(o, 'total_iters')],
    }),
  ],
  CyclicLR: (opt, o) => new CyclicLR(opt, {
    baseLr: o.base_lr as number | number[], maxLr: o.max_lr as number | number[], stepSizeUp: o.step_size_up as number | undefined,
    stepSizeDown: o.step_size_down as number | undefined, mode: o.mode as CyclicLROptions['mode'], gamma: o.gamma as number | undefined,
    scaleFn: o.scale_fn === undefined ? undefined : lambda(o.scale_fn as string), scaleMode: o.scale_mode as CyclicLROptions['scaleMode'],
    cycleMomentum: o.cycle_momentum as boolean | undefined, baseMomentum: o.base_momentum as number | number[] | undefined,
    maxMomentum: o.max_momentum as number | number[] | undefined,
  }),
  SequentialLR: (opt, o) => new SequentialLR(opt, { schedulers: children(opt, o), milestones: o.milestones as number[] }),
  ChainedScheduler: (opt, o) => new ChainedScheduler(children(opt, o)),
  OneCycleLR: (opt, o) => new OneCycleLR(opt, {
    maxLr: o.max_lr as number | number[], totalSteps: num(o, 'total_steps'), pctStart: o.pct_start as number | undefined,
    annealStrategy: o.anneal_strategy as 'cos' | 'linear' | undefined, divFactor: o.div_factor as number | undefined,
    finalDivFactor: o.final_div_factor as number | undefined, threePhase: o.three_phase as boolean | undefined,
    baseMomentum: o.base_momentum as number | number[] | undefined, maxMomentum: o.max_momentum as number | number[] | undefined,
    cycleMomentum: o.cycle_momentum as boolean | undefined,
  }),
};

/** The schedulers of a SequentialLR or ChainedScheduler case ([name, options] pairs), built by each name's first builder. */
function children(opt: SGD | Adam, o: Options): LRScheduler[] {
  return (o.schedulers as [string, Options][]).map(([name, options]) => [BUILD[name]!].flat()[0]!(opt, options) as LRScheduler);
}

function optimiser(kind: Case['optimiser'] = 'SGD'): SGD | Adam {
  const groups = [{ params: [zeros([1], { requiresGrad: true })] }, { params: [zeros([1], { requiresGrad: true })], lr: 0.05 }];
  if (kind === 'Adam') return new Adam(groups, { lr: 0.1 });
  return new SGD(groups, { lr: 0.1, momentum: kind === 'SGD+momentum' ? 0.9 : 0 });
}

const momentum = (g: SGD['paramGroups'][number] | Adam['paramGroups'][number]): number => ('betas' in g ? g.betas[0] : g.momentum);

describe('schedulers against PyTorch', () => {
  for (const c of reference.cases) {
    test(`${c.scheduler} ${JSON.stringify(c.options)}`, () => {
      if (c.kind === 'plateau') {
        const opt = optimiser(c.optimiser);
        const lrs: number[][] = [];
        const o = c.options;
        const sched = new ReduceLROnPlateau(opt, {
          mode: o.mode as 'min' | 'max' | undefined, factor: o.factor as number | undefined, patience: o.patience as number | undefined,
          threshold: o.threshold as number | undefined, thresholdMode: o.threshold_mode as 'rel' | 'abs' | undefined,
          cooldown: o.cooldown as number | undefined, minLr: o.min_lr as number | number[] | undefined,
        });
        for (const m of c.metrics!) {
          sched.step(m);
          lrs.push(opt.paramGroups.map((g) => g.lr));
        }
        assertClose(lrs.flat(), c.lrs.flat(), 1e-12, 1e-15);
        return;
      }
      const builds = [BUILD[c.scheduler]!].flat();
      let checked = 0;
      for (const build of builds) {
        const opt = optimiser(c.optimiser);
        const sched = build(opt, c.options);
        if (sched === null) continue;
        const lrs: number[][] = [];
        const momenta: number[][] = [];
        for (let i = 0; i < c.lrs.length; i++) {
          lrs.push(opt.paramGroups.map((g) => g.lr));
          momenta.push(opt.paramGroups.map(momentum));
          sched.step();
        }
        assertClose(lrs.flat(), c.lrs.flat(), 1e-12, 1e-15);
        if (c.momenta !== undefined) assertClose(momenta.flat(), c.momenta.flat(), 1e-12, 1e-15);
        checked += 1;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

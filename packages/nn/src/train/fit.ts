import { ArgumentError, Tensor, noGrad } from '@chainrule/autograd';
import type { Module } from '../module.js';
import { locateError } from '../locate.js';
import type { LossFunction } from '../losses/reduction.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { MetricFunction } from './metrics.js';
import { defaultOutput, isCI, type ProgressOutput } from './env.js';
import { Progress, type ProgressFigures } from './progress.js';
import { checkOptions, rules, type OptionRule } from '../optim/options.js';

/**
 * One mini-batch as `fit` takes it: inputs and targets as Tensors, first axis the samples.
 * (@chainrule/datasets' `Batch` is the DataLoader's: typed arrays and shapes, which
 * `tensor(x, { shape })` turns into these.)
 * @example const batch: TensorBatch = { x: tensor(b.x, { shape: b.shape }), y: tensor(b.y, { shape: b.yShape }) };
 */
export interface TensorBatch {
  /** Inputs, fed to `model.forward`. */
  x: Tensor;
  /** Targets, passed to the loss and metrics. */
  y: Tensor;
}

/** Batches for one pass: an array or other re-iterable, or a function giving a fresh iterable per epoch. */
export type BatchSource = Iterable<TensorBatch> | (() => Iterable<TensorBatch>);

/** What `fit` needs of an optimiser. */
export interface OptimizerLike {
  /** Updates the parameters from their gradients. */
  step(): unknown;
  /** Clears the gradients before each batch's backward. */
  zeroGrad(): void;
  /** Groups whose first `lr` is logged per epoch. */
  readonly paramGroups: readonly {
    /** The group's learning rate. */
    lr: number;
  }[];
}

/** A finished epoch. */
export interface EpochLog {
  /** 0-based. */
  epoch: number;
  /** Mean training loss, weighted by batch size. */
  loss: number;
  /** Each metric's mean over the epoch's training batches, weighted by batch size. */
  metrics: Record<string, number>;
  /** Mean validation loss, or null without `validation`. */
  valLoss: number | null;
  /** Validation metrics, or null without `validation`. */
  valMetrics: Record<string, number> | null;
  /** Learning rate of the first group during the epoch. */
  lr: number;
  /** Wall-clock time of the epoch, validation included. */
  seconds: number;
  /** Training samples seen (the sum of the batches' first axes). */
  samples: number;
}

/** Hooks into the loop. */
export interface Callbacks {
  /** Before an epoch's first batch (0-based epoch). */
  onEpochStart?(epoch: number): void;
  /** After each optimiser step: the epoch, the 1-based step within it, the batch's loss and size. */
  onBatchEnd?(info: { epoch: number; step: number; loss: number; size: number }): void;
  /** Call `control.stop()` to end training after this epoch (early stopping). */
  onEpochEnd?(log: EpochLog, control: { stop(): void }): void;
}

/** Options of `fit`. */
export interface FitOptions {
  /** The loss to minimise, e.g. `crossEntropyLoss`; called as `loss(model.forward(x), y)`. */
  loss: LossFunction;
  /** The optimiser of the model's parameters. */
  optimizer: OptimizerLike;
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Stepped after each epoch (or batch, see schedulerInterval) with the monitored loss: validation loss if any, else training loss. */
  scheduler?: Scheduler;
  /** 'epoch' (default) or 'step' (after every batch, for warmup schedules counted in steps). */
  schedulerInterval?: 'epoch' | 'step';
  /** Metrics by name, e.g. `{ accuracy }`. */
  metrics?: Record<string, MetricFunction>;
  /** Evaluated after each epoch. */
  validation?: BatchSource;
  /** Hooks called during training. */
  callbacks?: Callbacks;
  /** Print nothing (default false). */
  quiet?: boolean;
  /** Where progress goes (default process.stdout, or console.log in a browser). */
  output?: ProgressOutput;
  /**
   * What a NaN or infinite training loss does: 'throw' (default) stops with an error naming the
   * epoch and batch, before that batch's update, so the model keeps the last finite weights;
   * 'skip' leaves the batch out (no update, not counted in the epoch's loss); 'continue'
   * trains on it as on any batch.
   */
  onNonFiniteLoss?: 'throw' | 'skip' | 'continue';
}

const isFunction: OptionRule = { test: (v) => typeof v === 'function', must: 'a function' };
const isObject: OptionRule = { test: (v) => typeof v === 'object' && v !== null, must: 'an object' };
const hasStep: OptionRule = {
  test: (v) => typeof v === 'object' && v !== null && typeof (v as { step?: unknown }).step === 'function',
  must: 'an object with a step() method',
};

const FIT_OPTIONS = {
  loss: isFunction, optimizer: hasStep, epochs: rules.nonNegativeInteger, scheduler: hasStep,
  schedulerInterval: rules.oneOf('epoch', 'step'), metrics: isObject, validation: { test: () => true, must: 'batches' },
  callbacks: isObject, quiet: rules.boolean, output: isObject, onNonFiniteLoss: rules.oneOf('throw', 'skip', 'continue'),
};

/** Per-epoch figures of a `fit` run. */
export interface History {
  /** Every epoch's log, in order. */
  epochs: EpochLog[];
  /** Training loss per epoch. */
  loss: number[];
  /** Each training metric per epoch. */
  metrics: Record<string, number[]>;
  /** Validation loss per epoch (empty without `validation`). */
  valLoss: number[];
  /** Each validation metric per epoch (empty without `validation`). */
  valMetrics: Record<string, number[]>;
  /** Learning rate of the first group per epoch. */
  lr: number[];
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** A loss to average (none by default). */
  loss?: LossFunction;
  /** Metrics by name, e.g. `{ accuracy }`. */
  metrics?: Record<string, MetricFunction>;
}

/** What `evaluate` returns: batch-size-weighted means. */
export interface EvaluateResult {
  /** Mean loss, or null without a loss or without samples. */
  loss: number | null;
  /** Each metric's mean (NaN without samples). */
  metrics: Record<string, number>;
  /** Samples seen. */
  samples: number;
}

function batchesOf(op: string, source: BatchSource, epochs: number): () => Iterable<TensorBatch> {
  if (typeof source === 'function') return source;
  if (source === null || typeof source !== 'object' || typeof (source as Iterable<TensorBatch>)[Symbol.iterator] !== 'function') {
    throw new ArgumentError(`${op}: data must be an iterable of { x, y } batches or a function returning one`);
  }
  // NOTE: a generator is its own iterator and is used up after one pass.
  if (epochs > 1 && (source as Iterable<TensorBatch>)[Symbol.iterator]() === (source as unknown)) {
    throw new ArgumentError(`${op}: data is a one-shot iterator (e.g. a generator) but ${epochs} epochs were asked; pass a function returning the batches of each epoch`);
  }
  return () => source;
}

function checkBatch(op: string, batch: unknown, index: number): TensorBatch {
  const b = batch as Partial<TensorBatch> | null;
  if (b === null || typeof b !== 'object' || !(b.x instanceof Tensor) || !(b.y instanceof Tensor)) {
    throw new ArgumentError(`${op}: batch ${index} must be { x: Tensor, y: Tensor }`);
  }
  return b as TensorBatch;
}

function batchSize(x: Tensor): number {
  return x.ndim === 0 ? 1 : x.shape[0]!;
}

/** Batch-size-weighted running means of the loss and metrics. */
class Means {
  samples = 0;
  private lossSum = 0;
  private readonly sums: Record<string, number> = {};

  constructor(private readonly metrics: Record<string, MetricFunction>) {
    for (const k of Object.keys(metrics)) this.sums[k] = 0;
  }

  add(op: string, size: number, loss: number | null, prediction: Tensor, target: Tensor): void {
    this.samples += size;
    if (loss !== null) this.lossSum += loss * size;
    for (const [k, f] of Object.entries(this.metrics)) {
      const value: unknown = f(prediction, target);
      if (typeof value !== 'number') throw new ArgumentError(`${op}: metric '${k}' returned ${describe(value)}; a metric returns a number`);
      this.sums[k]! += value * size;
    }
  }

  loss(): number {
    return this.lossSum / this.samples;
  }

  values(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.sums)) out[k] = v / this.samples;
    return out;
  }
}

/**
 * Loss (if given) and metrics of `model` over `data`, in evaluation mode and without recording
 * gradients; the model's mode is restored afterwards (also when it throws). PyTorch has no
 * counterpart; it is the loop one writes under `model.eval()` and `torch.no_grad()`.
 * @throws ArgumentError if `data` is not an iterable of `{ x, y }` batches (or a function giving
 * one) or a batch is not `{ x: Tensor, y: Tensor }`; errors of the model, loss and metrics pass through.
 * @example evaluate(model, testBatches, { metrics: { accuracy } })
 */
export function evaluate(model: Module, data: BatchSource, options: EvaluateOptions = {}): EvaluateResult {
  const { loss, metrics = {} } = options;
  const batches = batchesOf('evaluate', data, 1)();
  const wasTraining = model.training;
  model.eval();
  try {
    const means = new Means(metrics);
    noGrad(() => {
      let i = 0;
      for (const raw of batches) {
        const { x, y } = checkBatch('evaluate', raw, i);
        const prediction = forward('evaluate', model, x, i);
        means.add('evaluate', batchSize(x), loss === undefined ? null : lossValue('evaluate', loss, prediction, y, i).item(), prediction, y);
        i++;
      }
      if (i === 0) throw new ArgumentError('evaluate: the data gave no batches; there is nothing to evaluate');
    });
    return { loss: loss === undefined || means.samples === 0 ? null : means.loss(), metrics: means.values(), samples: means.samples };
  } finally {
    model.train(wasTraining);
  }
}

/**
 * Trains `model` on `data` for `epochs`: per batch, zeroGrad, forward, loss, backward, step.
 * Prints a live progress line per epoch on a terminal, one line per epoch under CI or when
 * output is not a terminal, nothing when quiet. Returns the per-epoch history. A scheduler is
 * stepped with the validation loss if there is one, else the training loss. PyTorch has no
 * counterpart (it is Keras's `fit`); the loop is the one a PyTorch user writes by hand.
 * @throws ArgumentError for a missing loss or optimiser, a negative or fractional `epochs`, an
 * unknown `schedulerInterval`, data that is not batches, or a one-shot iterator (a generator)
 * with more than one epoch; errors of the model, loss and optimiser pass through, the
 * parameters then holding the updates of the batches before.
 * @example const history = fit(model, batches, { loss: crossEntropyLoss, optimizer: new Adam(model.parameters()), epochs: 10, metrics: { accuracy } })
 */
export function fit(model: Module, data: BatchSource, options: FitOptions): History {
  checkOptions('fit', options, FIT_OPTIONS, { required: ['loss', 'optimizer'] });
  const {
    loss, optimizer, epochs = 1, scheduler, schedulerInterval = 'epoch', metrics = {}, validation, callbacks = {}, quiet = false,
    onNonFiniteLoss = 'throw',
  } = options;
  const batches = batchesOf('fit', data, epochs);
  const output = options.output ?? defaultOutput();
  const progress = quiet ? null : new Progress(output, output.isTTY === true && !isCI(), epochs);
  const history: History = { epochs: [], loss: [], metrics: {}, valLoss: [], valMetrics: {}, lr: [] };
  for (const k of Object.keys(metrics)) history.metrics[k] = [];
  let stepsPerEpoch: number | null = Array.isArray(data) ? data.length : null;
  let stop = false;
  for (let epoch = 0; epoch < epochs && !stop; epoch++) {
    callbacks.onEpochStart?.(epoch);
    model.train();
    const lr = optimizer.paramGroups[0]?.lr ?? NaN;
    const means = new Means(metrics);
    const start = performance.now();
    let step = 0;
    const figures = (): ProgressFigures => ({
      step, total: stepsPerEpoch, loss: means.loss(), metrics: means.values(), samples: means.samples, seconds: (performance.now() - start) / 1000,
    });
    let batch = 0;
    for (const raw of batches()) {
      const { x, y } = checkBatch('fit', raw, batch);
      optimizer.zeroGrad();
      const prediction = forward('fit', model, x, batch);
      const l = lossValue('fit', loss, prediction, y, batch);
      const value = l.item();
      batch++;
      if (!Number.isFinite(value) && onNonFiniteLoss !== 'continue') {
        if (onNonFiniteLoss === 'skip') continue;
        throw new ArgumentError(
          `fit: the loss is ${value} at epoch ${epoch}, batch ${batch - 1}; stopped before that batch's update, so the model keeps the weights of the batch before. ` +
            "Pass onNonFiniteLoss: 'skip' to leave such batches out, or 'continue' to train on them",
        );
      }
      l.backward();
      optimizer.step();
      const size = batchSize(x);
      noGrad(() => means.add('fit', size, value, prediction, y));
      step++;
      if (scheduler !== undefined && schedulerInterval === 'step') scheduler.step(value);
      callbacks.onBatchEnd?.({ epoch, step, loss: value, size });
      progress?.update(epoch, figures(), performance.now());
    }
    if (batch === 0) {
      throw new ArgumentError(`fit: the data gave no batches in epoch ${epoch}; there is nothing to train on (is the dataset empty, or a one-shot iterable used up?)`);
    }
    if (step === 0) throw new ArgumentError(`fit: every batch of epoch ${epoch} had a non-finite loss and was skipped`);
    stepsPerEpoch ??= step;
    const val = validation === undefined ? null : evaluate(model, validation, { loss, metrics });
    const log: EpochLog = {
      epoch,
      loss: means.loss(),
      metrics: means.values(),
      valLoss: val?.loss ?? null,
      valMetrics: val === null ? null : val.metrics,
      lr,
      seconds: (performance.now() - start) / 1000,
      samples: means.samples,
    };
    if (scheduler !== undefined && schedulerInterval === 'epoch') scheduler.step(log.valLoss ?? log.loss);
    record(history, log);
    progress?.finish(epoch, figures(), val === null ? null : { loss: val.loss, metrics: val.metrics });
    callbacks.onEpochEnd?.(log, { stop: () => (stop = true) });
  }
  return history;
}

/** The model's output for a batch, checked to be a Tensor. */
function forward(op: string, model: Module, x: Tensor, batch: number): Tensor {
  let out: unknown;
  try {
    out = model.forward(x);
  } catch (e) {
    // A model that is a custom Module still gets its layers' paths in the message.
    throw locateError(model, e);
  }
  if (!(out instanceof Tensor)) throw new ArgumentError(`${op}: ${model.constructor.name}.forward returned ${describe(out)} for batch ${batch}; it must return a Tensor`);
  return out;
}

/** The loss of a batch, checked to be a one-element Tensor. */
function lossValue(op: string, loss: LossFunction, prediction: Tensor, y: Tensor, batch: number): Tensor {
  const l: unknown = loss(prediction, y);
  if (!(l instanceof Tensor) || l.size !== 1) {
    const got = l instanceof Tensor ? `a tensor of shape [${l.shape.join(',')}]` : describe(l);
    throw new ArgumentError(`${op}: the loss function returned ${got} for batch ${batch}; it must return a one-element Tensor`);
  }
  return l;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : `${typeof value} ${String(value)}`;
}

function record(history: History, log: EpochLog): void {
  history.epochs.push(log);
  history.loss.push(log.loss);
  history.lr.push(log.lr);
  for (const [k, v] of Object.entries(log.metrics)) history.metrics[k]!.push(v);
  if (log.valLoss !== null) history.valLoss.push(log.valLoss);
  if (log.valMetrics !== null) for (const [k, v] of Object.entries(log.valMetrics)) (history.valMetrics[k] ??= []).push(v);
}

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Generator, tensor } from '@chainrule/autograd';
import {
  Adam, MLP, ReduceLROnPlateau, SGD, StepLR, accuracy, bceLoss, confusionMatrix, crossEntropyLoss, evaluate, fit, mseLoss,
  type TensorBatch, type ProgressOutput,
} from '@chainrule/nn';

const XOR_X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const XOR_Y = tensor([[0], [1], [1], [0]]);

/** Three Gaussian blobs in 2-D, 120 points each, shuffled, as [x, label] pairs. */
function blobs(seed: number): { x: number[][]; y: number[] } {
  const g = new Generator(seed);
  const centres = [[0, 3], [3, -2], [-3, -2]];
  const points: [number[], number][] = [];
  centres.forEach(([cx, cy], label) => {
    for (let i = 0; i < 120; i++) points.push([[cx! + g.normal(), cy! + g.normal()], label]);
  });
  for (let i = points.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [points[i], points[j]] = [points[j]!, points[i]!];
  }
  return { x: points.map((p) => p[0]), y: points.map((p) => p[1]) };
}

function toBatches(x: number[][], y: number[], size: number): TensorBatch[] {
  const out: TensorBatch[] = [];
  for (let i = 0; i < x.length; i += size) out.push({ x: tensor(x.slice(i, i + size)), y: tensor(y.slice(i, i + size), { dtype: 'int32' }) });
  return out;
}

function sink(isTTY: boolean): ProgressOutput & { text: string } {
  const out = { text: '', isTTY, write(s: string) { out.text += s; } };
  return out;
}

describe('training to a solution', () => {
  test('MLP([2, 8, 1]) learns XOR to 100% accuracy with a fixed seed', () => {
    const model = new MLP([2, 8, 1], { outputActivation: 'sigmoid', seed: 0 });
    const history = fit(model, [{ x: XOR_X, y: XOR_Y }], {
      loss: bceLoss, optimizer: new Adam(model.parameters(), { lr: 0.05 }), epochs: 300, metrics: { accuracy }, quiet: true,
    });
    expect(history.metrics['accuracy']!.at(-1)).toBe(1);
    expect(evaluate(model, [{ x: XOR_X, y: XOR_Y }], { metrics: { accuracy } }).metrics['accuracy']).toBe(1);
    expect(history.loss.at(-1)!).toBeLessThan(0.1);
  });

  test('an MLP separates three Gaussian blobs above 95%, and the same seed gives the same final loss', () => {
    const train = blobs(7);
    const test_ = blobs(8);
    const run = () => {
      const model = new MLP([2, 16, 3], { seed: 1 });
      const opt = new Adam(model.parameters(), { lr: 0.02 });
      const history = fit(model, toBatches(train.x, train.y, 32), {
        loss: crossEntropyLoss, optimizer: opt, epochs: 15, metrics: { accuracy }, quiet: true,
        validation: toBatches(test_.x, test_.y, 120),
      });
      return { model, history };
    };
    const a = run();
    const b = run();
    expect(a.history.valMetrics['accuracy']!.at(-1)!).toBeGreaterThan(0.95);
    expect(a.history.metrics['accuracy']!.at(-1)!).toBeGreaterThan(0.95);
    expect(b.history.loss.at(-1)).toBe(a.history.loss.at(-1));
    expect(b.history.valLoss).toEqual(a.history.valLoss);
    const cm = confusionMatrix(a.model.forward(tensor(test_.x)), tensor(test_.y));
    expect(cm.flat().reduce((s, v) => s + v, 0)).toBe(360);
    expect(cm[0]![0]! + cm[1]![1]! + cm[2]![2]!).toBeGreaterThan(0.95 * 360);
  });
});

describe('fit', () => {
  let savedCI: string | undefined;
  beforeEach(() => {
    savedCI = process.env['CI'];
    delete process.env['CI'];
  });
  afterEach(() => {
    if (savedCI === undefined) delete process.env['CI'];
    else process.env['CI'] = savedCI;
  });

  const data = () => toBatches([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], 2).map((b) => ({ x: b.x, y: b.y.reshape(-1, 1).toDtype('float32') }));
  const setup = () => {
    const model = new MLP([2, 4, 1], { seed: 2, outputActivation: 'sigmoid' });
    return { model, optimizer: new SGD(model.parameters(), { lr: 0.5 }) };
  };

  test('not a terminal: one finished line per epoch, no carriage returns', () => {
    const { model, optimizer } = setup();
    const out = sink(false);
    fit(model, data(), { loss: mseLoss, optimizer, epochs: 3, metrics: { accuracy }, output: out });
    const lines = out.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(out.text).not.toContain('\r');
    expect(lines[0]).toMatch(/^Epoch 1\/3 2\/2 loss \d\.\d{4} accuracy \d\.\d{4} \d+\.\ds \d+ samples\/s$/);
  });

  test('a terminal: a live line redrawn with \\r, ended by a newline per epoch', () => {
    const { model, optimizer } = setup();
    const out = sink(true);
    fit(model, data(), { loss: mseLoss, optimizer, epochs: 2, output: out, validation: data() });
    expect(out.text).toContain('\r');
    expect(out.text).toMatch(/\rEpoch 1\/2 1\/2 loss \S+ \d+ samples\/s ETA \S+/);
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(out.text).toMatch(/val_loss \d\.\d{4}/);
  });

  test('CI prints plain lines even on a terminal; quiet prints nothing', () => {
    process.env['CI'] = 'true';
    const { model, optimizer } = setup();
    const out = sink(true);
    fit(model, data(), { loss: mseLoss, optimizer, epochs: 2, output: out });
    expect(out.text).not.toContain('\r');
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(2);
    const quiet = sink(true);
    fit(model, data(), { loss: mseLoss, optimizer, epochs: 2, output: quiet, quiet: true });
    expect(quiet.text).toBe('');
  });

  test('history, sample-weighted means, callbacks and early stopping', () => {
    const { model, optimizer } = setup();
    const seen: number[] = [];
    const history = fit(model, data(), {
      loss: mseLoss, optimizer, epochs: 10, quiet: true, metrics: { accuracy }, validation: data(),
      callbacks: {
        onBatchEnd: ({ size }) => seen.push(size),
        onEpochEnd: (log, control) => {
          if (log.epoch === 2) control.stop();
        },
      },
    });
    expect(history.loss).toHaveLength(3);
    expect(history.valLoss).toHaveLength(3);
    expect(history.metrics['accuracy']).toHaveLength(3);
    expect(seen).toEqual([2, 2, 2, 2, 2, 2]);
    expect(history.epochs[0]!.samples).toBe(4);
    // An unequal split: the epoch loss is the sample-weighted mean of batch losses.
    const { model: m2 } = setup();
    const batches = [{ x: tensor([[0, 0], [0, 1], [1, 0]]), y: tensor([[0], [1], [1]]) }, { x: tensor([[1, 1]]), y: tensor([[0]]) }];
    const before = batches.map((b) => mseLoss(m2.forward(b.x), b.y).item());
    const h = fit(m2, batches, { loss: mseLoss, optimizer: new SGD(m2.parameters(), { lr: 0 }), quiet: true });
    expect(h.loss[0]).toBeCloseTo((3 * before[0]! + before[1]!) / 4, 6);
  });

  test('schedulers step per epoch (plateau gets the validation loss) or per step', () => {
    const { model, optimizer } = setup();
    const h = fit(model, data(), { loss: mseLoss, optimizer, epochs: 3, quiet: true, scheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }) });
    expect(h.lr).toEqual([0.5, 0.25, 0.125]);
    const s = setup();
    fit(s.model, data(), { loss: mseLoss, optimizer: s.optimizer, epochs: 2, quiet: true, scheduler: new StepLR(s.optimizer, { stepSize: 1, gamma: 0.5 }), schedulerInterval: 'step' });
    expect(s.optimizer.paramGroups[0]!.lr).toBe(0.5 / 16);
    const p = setup();
    const plateau = new ReduceLROnPlateau(p.optimizer, { patience: 0, factor: 0.5, mode: 'max' });
    fit(p.model, data(), { loss: mseLoss, optimizer: p.optimizer, epochs: 2, quiet: true, scheduler: plateau, validation: data() });
    expect(plateau.getLastLr()[0]).toBe(0.25); // a falling loss in 'max' mode is no improvement
  });

  test('data as a function per epoch; a generator with several epochs is an error; bad batches are named', () => {
    const { model, optimizer } = setup();
    let calls = 0;
    fit(model, () => {
      calls++;
      return data();
    }, { loss: mseLoss, optimizer, epochs: 3, quiet: true });
    expect(calls).toBe(3);
    function* gen(): IterableIterator<TensorBatch> {
      yield* data();
    }
    expect(() => fit(model, gen(), { loss: mseLoss, optimizer, epochs: 2, quiet: true })).toThrow(/one-shot iterator/);
    expect(() => fit(model, [{ x: [1, 2] } as unknown as TensorBatch], { loss: mseLoss, optimizer, quiet: true })).toThrow('fit: batch 0 must be { x: Tensor, y: Tensor }');
  });

  test('evaluate runs in eval mode without gradients and restores the mode', () => {
    const { model } = setup();
    model.train();
    const r = evaluate(model, data(), { loss: mseLoss, metrics: { accuracy } });
    expect(model.training).toBe(true);
    expect(r.samples).toBe(4);
    expect(r.loss).toBeGreaterThan(0);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe('metrics', () => {
  test('accuracy: argmax for multi-class, threshold for one output, one-hot targets', () => {
    const logits = tensor([[2, 1, 0], [0, 3, 1], [0, 0, 1], [5, 0, 0]]);
    expect(accuracy(logits, tensor([0, 1, 2, 1]))).toBe(0.75);
    expect(accuracy(logits, tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]))).toBe(0.75);
    expect(accuracy(tensor([0.9, 0.2, 0.6, 0.4]), tensor([1, 0, 0, 0]))).toBe(0.75);
    expect(accuracy(tensor([[0.9], [0.2]]), tensor([[1], [1]]))).toBe(0.5);
    expect(accuracy(tensor([[3], [-1]]), tensor([[1], [0]]), { threshold: 0 })).toBe(1);
    expect(() => accuracy(logits, tensor([0, 1, 3, 1]))).toThrow(/target class 3 at position 2 is out of range \[0, 3\)/);
    expect(() => accuracy(logits, tensor([0, 1]))).toThrow(/target \[2\] does not fit prediction \[4,3\]/);
  });

  test('confusionMatrix: rows are targets, columns predictions', () => {
    const logits = tensor([[2, 1, 0], [0, 3, 1], [0, 0, 1], [5, 0, 0]]);
    expect(confusionMatrix(logits, tensor([0, 1, 2, 1]))).toEqual([[1, 0, 0], [1, 1, 0], [0, 0, 1]]);
    expect(confusionMatrix(tensor([0.9, 0.2, 0.6]), tensor([1, 0, 0]))).toEqual([[1, 1], [0, 1]]);
    expect(confusionMatrix(logits, tensor([0, 1, 2, 1]), { numClasses: 4 })[3]).toEqual([0, 0, 0, 0]);
  });
});

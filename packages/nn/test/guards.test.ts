import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, GraphError, Tensor, tensor } from '@chainrule/autograd';
import {
  Adagrad, Adam, AdamW, CosineAnnealingLR, ExponentialLR, LinearWarmup, MLP, RMSprop, ReduceLROnPlateau, SGD, StateDictError,
  StepLR, clipGradNorm, fit, evaluate, init, mseLoss, type TensorBatch,
} from '@chainrule/nn';

const param = (values = [1, 2]): Tensor => tensor(values, { dtype: 'float64', requiresGrad: true });

describe('in-place updates between a forward and its backward', () => {
  test('an optimiser step makes the pending backward throw instead of giving w·w the gradient [1, 3]', () => {
    for (const make of [(p: Tensor) => new SGD([p], { lr: 1 }), (p: Tensor) => new Adam([p]), (p: Tensor) => new RMSprop([p]), (p: Tensor) => new Adagrad([p])]) {
      const w = param();
      const opt = make(w);
      w.grad = tensor([1, 1], { dtype: 'float64' });
      const y = w.mul(w).sum();
      opt.step();
      expect(() => y.backward()).toThrow(GraphError);
      expect(() => y.backward()).toThrow(/backward of 'mul': input 1 \(shape \[2\], float64\) was modified in place/);
    }
  });

  test('loadStateDict, init and gradient clipping count as in-place writes; a fresh forward is fine', () => {
    // The second layer's weight is read by the gradient of its input (the first layer's output).
    const model = new MLP([2, 3, 1], { seed: 0 });
    const x = tensor([[1, 2]]);
    const y = model.forward(x).sum();
    model.loadStateDict(model.stateDict());
    expect(() => y.backward()).toThrow(/^backward of 'linear': input 1 \(shape \[1,3\], float32\) was modified in place/);
    const y2 = model.forward(x).sum();
    const last = model.parameters().at(-2)!;
    init.uniform(last, -1, 1, { seed: 1 });
    expect(() => y2.backward()).toThrow(/'linear': input 1/);
    // Only what a wanted gradient reads counts: the first layer's weight is read by no gradient here.
    const y3 = model.forward(x).sum();
    init.uniform(model.parameters()[0]!, -1, 1, { seed: 2 });
    y3.backward();
    const before = last.grad!.version;
    clipGradNorm(model.parameters(), 1e-6);
    expect(last.grad!.version).toBeGreaterThan(before);
  });
});

describe('optimiser options', () => {
  const optimisers = {
    SGD: { make: (p: Tensor, o: object) => new SGD([p], o), keys: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'] },
    Adam: { make: (p: Tensor, o: object) => new Adam([p], o), keys: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] },
    AdamW: { make: (p: Tensor, o: object) => new AdamW([p], o), keys: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] },
    RMSprop: { make: (p: Tensor, o: object) => new RMSprop([p], o), keys: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'] },
    Adagrad: { make: (p: Tensor, o: object) => new Adagrad([p], o), keys: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'] },
  };

  test('a misspelt option is named with the closest known one', () => {
    expect(() => new SGD([param()], { lr: 0.1, momentun: 0.9 } as never)).toThrow(
      "SGD: unknown option 'momentun' (did you mean 'momentum'?); the options are lr, momentum, dampening, weightDecay, nesterov, maximize",
    );
    expect(() => new SGD([{ params: [param()], weight_decay: 0.1 } as never])).toThrow(/unknown option 'weight_decay' in group 0 \(did you mean 'weightDecay'\?\)/);
  });

  test('every optimiser refuses a random misspelling of any of its options (property)', () => {
    const names = Object.keys(optimisers) as (keyof typeof optimisers)[];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.nat(), fc.nat(), fc.constantFrom('drop', 'double', 'swap', 'case', 'suffix'), (name, ki, at, how) => {
        const { make, keys } = optimisers[name];
        const key = keys[ki % keys.length]!;
        const i = at % key.length;
        const typo =
          how === 'drop' ? key.slice(0, i) + key.slice(i + 1)
          : how === 'double' ? key.slice(0, i) + key[i] + key.slice(i)
          : how === 'swap' && i + 1 < key.length ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)
          : how === 'case' ? key.toUpperCase()
          : `${key}_`;
        fc.pre(!keys.includes(typo));
        expect(() => make(param(), { [typo]: 0.5 })).toThrow(new RegExp(`^${name}: unknown option '${typo}'`));
      }),
      { numRuns: 300 },
    );
  });

  test('values out of range are refused at construction, and at step when a group is edited by hand, before anything is written', () => {
    expect(() => new SGD([param()], { lr: NaN })).toThrow('SGD: lr must be >= 0, got NaN');
    expect(() => new Adam([param()], { lr: Infinity })).toThrow('Adam: lr must be finite and >= 0, got Infinity');
    expect(() => new RMSprop([param()], { centered: 'yes' } as never)).toThrow('RMSprop: centered must be a boolean, got "yes"');
    const a = param();
    const b = param([3, 4]);
    const opt = new SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 });
    a.grad = tensor([1, 1], { dtype: 'float64' });
    b.grad = tensor([1, 1], { dtype: 'float64' });
    opt.paramGroups[1]!.lr = NaN;
    expect(() => opt.step()).toThrow('SGD: lr must be >= 0, got NaN in group 1');
    expect(Array.from(a.data)).toEqual([1, 2]);
    expect(Array.from(b.data)).toEqual([3, 4]);
    (opt.paramGroups[0] as unknown as Record<string, unknown>).momentun = 0.9;
    opt.paramGroups[1]!.lr = 0.1;
    expect(() => opt.step()).toThrow(/unknown option 'momentun' in group 0/);
  });

  test('a .grad of the wrong shape or dtype cannot be assigned (as in PyTorch), so no optimiser steps with one', () => {
    for (const { make } of Object.values(optimisers)) {
      const p = param();
      const opt = make(p, {});
      expect(() => {
        p.grad = tensor([1, 1, 1], { dtype: 'float64' });
      }).toThrow(/^Tensor\.grad: the gradient's shape \[3\] differs from the tensor's \[2\]/);
      expect(() => {
        p.grad = tensor([1, 1], { dtype: 'float32' });
      }).toThrow(/^Tensor\.grad: the gradient's dtype float32/);
      opt.step();
      expect(Array.from(p.data)).toEqual([1, 2]);
    }
  });
});

describe('scheduler options and state', () => {
  const sgd = (): SGD => new SGD([param()], { lr: 0.1 });

  test('misspelt options and values out of range are named', () => {
    expect(() => new StepLR(sgd(), { stepSize: 2, gama: 0.5 } as never)).toThrow("StepLR: unknown option 'gama' (did you mean 'gamma'?)");
    expect(() => new StepLR(sgd(), {} as never)).toThrow("StepLR: option 'stepSize' is required");
    expect(() => new ReduceLROnPlateau(sgd(), { minLr: NaN })).toThrow(/^ReduceLROnPlateau: minLr must be >= 0, or an array/);
    expect(() => new ReduceLROnPlateau(sgd(), { patiense: 3 } as never)).toThrow(/did you mean 'patience'/);
    expect(() => new ExponentialLR(sgd(), { gamma: -1 })).toThrow('ExponentialLR: gamma must be >= 0, got -1');
    expect(() => new LinearWarmup(sgd(), { warmupSteps: 2, after: new StepLR(sgd(), { stepSize: 1 }) })).toThrow(/after must be a scheduler of the same optimiser/);
  });

  test('loaded state is range-checked: lastEpoch -5 no longer gives 16x the learning rate', () => {
    const opt = sgd();
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const good = sched.stateDict();
    expect(() => sched.loadStateDict({ ...good, lastEpoch: -5 })).toThrow(StateDictError);
    expect(() => sched.loadStateDict({ ...good, lastEpoch: -5 })).toThrow('StepLR.loadStateDict: lastEpoch must be a non-negative integer, got -5');
    expect(() => sched.loadStateDict({ ...good, baseLrs: [NaN] })).toThrow(/baseLrs must be an array whose items are each >= 0, got \[NaN\]/);
    expect(() => sched.loadStateDict({ ...good, lastLr: [0.1, 0.1] })).toThrow(/lastLr holds 2 learning rate\(s\) for 1 group\(s\)/);
    expect(() => sched.lrAt(-5)).toThrow(/epoch must be a non-negative integer, got -5/);
    expect(sched.stateDict()).toEqual(good);
    const plateau = new ReduceLROnPlateau(sgd());
    const saved = plateau.stateDict();
    expect(() => plateau.loadStateDict({ ...saved, best: NaN })).toThrow(/best must be a number \(not NaN\), got NaN/);
    expect(() => plateau.loadStateDict({ ...saved, cooldownCounter: -1, numBadEpochs: 0.5 })).toThrow(/numBadEpochs.*; .*cooldownCounter/);
    expect(plateau.stateDict()).toEqual(saved);
  });

  test('a warmup whose inner state is refused changes nothing', () => {
    const opt = sgd();
    const warm = new LinearWarmup(opt, { warmupSteps: 2, after: new CosineAnnealingLR(opt, { tMax: 10 }) });
    warm.step();
    const before = warm.stateDict();
    const bad = { ...warm.stateDict(), lastEpoch: 0, after: { lastEpoch: -1, baseLrs: [0.1], lastLr: [0.1] } };
    expect(() => warm.loadStateDict(bad)).toThrow(StateDictError);
    expect(warm.stateDict()).toEqual(before);
  });

  test('a formula giving NaN is named instead of setting lr to NaN', () => {
    class Broken extends StepLR {}
    const opt = sgd();
    const s = new Broken(opt, { stepSize: 1, gamma: 0.5 });
    opt.paramGroups[0]!.initialLr = NaN;
    expect(() => new StepLR(opt, { stepSize: 1 })).toThrow(/StepLR: the learning rate at epoch 0 from base NaN is NaN/);
    expect(s.getLastLr()).toEqual([0.1]);
  });
});

describe('fit', () => {
  const data = (y: number[][]): TensorBatch[] => [
    { x: tensor([[0, 0], [1, 1]]), y: tensor([[0], [1]]) },
    { x: tensor([[1, 0], [0, 1]]), y: tensor(y) },
    { x: tensor([[0.5, 0.5]]), y: tensor([[0.5]]) },
  ];

  test('stops at a non-finite loss, naming epoch and batch, before that batch updates the weights', () => {
    const model = new MLP([2, 3, 1], { seed: 0 });
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const epochs: number[] = [];
    let weightsBefore: number[] = [];
    expect(() => fit(model, () => {
      weightsBefore = model.parameters().flatMap((p) => Array.from(p.data));
      return epochs.length === 2 ? data([[1], [NaN]]) : data([[1], [0]]);
    }, { loss: mseLoss, optimizer, epochs: 3, quiet: true, callbacks: { onEpochStart: (e) => epochs.push(e) } })).toThrow(
      /^fit: the loss is NaN at epoch 1, batch 1; stopped before that batch's update/,
    );
    // Batch 0 of epoch 1 was applied, batch 1 was not: the weights are finite.
    expect(model.parameters().every((p) => Array.from(p.data).every(Number.isFinite))).toBe(true);
    expect(weightsBefore.length).toBeGreaterThan(0);
  });

  test("onNonFiniteLoss 'skip' leaves the batch out; 'continue' trains on as before", () => {
    const model = new MLP([2, 3, 1], { seed: 0 });
    const history = fit(model, data([[1], [Infinity]]), { loss: mseLoss, optimizer: new SGD(model.parameters(), { lr: 0.1 }), quiet: true, onNonFiniteLoss: 'skip' });
    expect(history.epochs[0]!.samples).toBe(3);
    expect(Number.isFinite(history.loss[0])).toBe(true);
    const model2 = new MLP([2, 3, 1], { seed: 0 });
    const h2 = fit(model2, data([[1], [NaN]]), { loss: mseLoss, optimizer: new SGD(model2.parameters(), { lr: 0.1 }), quiet: true, onNonFiniteLoss: 'continue' });
    expect(h2.loss[0]).toBeNaN();
  });

  test('refuses an empty dataset, bad options, and a forward or loss that returns no tensor', () => {
    const model = new MLP([2, 1], { seed: 0 });
    const optimizer = new SGD(model.parameters());
    expect(() => fit(model, [], { loss: mseLoss, optimizer, quiet: true })).toThrow(/^fit: the data gave no batches in epoch 0/);
    expect(() => evaluate(model, [])).toThrow(/^evaluate: the data gave no batches/);
    expect(() => fit(model, data([[1], [0]]), { loss: mseLoss, optimizer, epoch: 3 } as never)).toThrow(/^fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/);
    expect(() => fit(model, data([[1], [0]]), { loss: () => null, optimizer, quiet: true } as never)).toThrow(/^fit: the loss function returned null for batch 0/);
    expect(() => fit(model, data([[1], [0]]), { loss: (p: Tensor) => p, optimizer, quiet: true })).toThrow(/returned a tensor of shape \[2,1\] for batch 0/);
    expect(() => fit(model, data([[1], [0]]), { loss: mseLoss, optimizer, quiet: true, metrics: { bad: () => 'x' as never } })).toThrow(/^fit: metric 'bad' returned string x/);
  });
});

test('the validator refuses what a checkpoint could smuggle in as option names', () => {
  for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
    const options = JSON.parse(`{"lr": 0.1, ${JSON.stringify(key)}: 1}`) as object;
    expect(() => new SGD([param()], options), key).toThrow(ArgumentError);
  }
});

describe('optimiser loadStateDict refuses what it would otherwise drop', () => {
  const trained = (): { opt: Adam; p: Tensor } => {
    const p = param();
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5, -1], { dtype: 'float64' });
    opt.step();
    return { opt, p };
  };

  test('an own __proto__ key among a group\'s options is an unknown option, and no prototype changes', () => {
    const { opt } = trained();
    const hostile = structuredClone(opt.stateDict());
    // As JSON.parse gives it: an own property named __proto__ holding an object.
    Object.defineProperty(hostile.paramGroups[0], '__proto__', { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
    expect(Object.hasOwn(hostile.paramGroups[0]!, '__proto__')).toBe(true);
    const before = JSON.stringify(opt.stateDict());
    expect(() => opt.loadStateDict(hostile)).toThrow(/__proto__/);
    expect(JSON.stringify(opt.stateDict())).toBe(before);
    expect(Object.getPrototypeOf(opt.paramGroups[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('a state entry the optimiser does not keep is named, and the optimiser is unchanged', () => {
    const { opt } = trained();
    const dict = opt.stateDict();
    const state0 = dict.state[0] as Record<string, unknown>;
    const before = JSON.stringify(dict);
    for (const name of ['momentumBuffer', 'expAvgSQ', '__proto__', 'constructor']) {
      const hostile = structuredClone(dict);
      Object.defineProperty(hostile.state[0], name, { value: state0['expAvg'], enumerable: true, configurable: true, writable: true });
      expect(() => opt.loadStateDict(hostile), name).toThrow(StateDictError);
      expect(() => opt.loadStateDict(hostile), name).toThrow(new RegExp(`unexpected state "${name}"`));
      expect(JSON.stringify(opt.stateDict())).toBe(before);
    }
    opt.loadStateDict(structuredClone(dict));
    expect(JSON.stringify(opt.stateDict())).toBe(before);
  });
});

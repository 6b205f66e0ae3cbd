import { describe, expect, test } from 'vitest';
import { Generator, Tensor, randn, tensor } from '@chainrule/autograd';
import {
  Adagrad, Adam, AdamW, BatchNorm1d, CosineAnnealingLR, LinearWarmup, MLP, RMSprop, ReduceLROnPlateau, SGD, Sequential, StepLR,
  crossEntropyLoss, parseCheckpoint, serializeCheckpoint, serializeSafetensors, type LRScheduler, type Module,
} from '@chainrule/nn';

type AnyOptimizer = SGD | Adam | AdamW | RMSprop | Adagrad;

const N = 10;
const K = 4;

/** Fixed batches: 16 samples of 4 features, 3 classes. */
function batches(): { x: Tensor; y: number[] }[] {
  const g = new Generator(123);
  return Array.from({ length: N }, () => ({
    x: randn([16, 4], { generator: g }),
    y: Array.from({ length: 16 }, () => g.int(3)),
  }));
}

function buildModel(seed: number): Module {
  return new Sequential(new MLP([4, 8, 3], { seed, activation: 'tanh' }), new BatchNorm1d(3));
}

const optimizers: [string, (m: Module) => AnyOptimizer][] = [
  ['SGD nesterov', (m) => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['Adam amsgrad', (m) => new Adam(m.parameters(), { lr: 0.01, amsgrad: true, weightDecay: 1e-3 })],
  ['AdamW', (m) => new AdamW(m.parameters(), { lr: 0.01 })],
  ['RMSprop centered momentum', (m) => new RMSprop(m.parameters(), { lr: 0.01, centered: true, momentum: 0.5 })],
  ['Adagrad', (m) => new Adagrad(m.parameters(), { lr: 0.1, lrDecay: 0.01 })],
];

function schedule(opt: AnyOptimizer): LRScheduler {
  return new LinearWarmup(opt, { warmupSteps: 3, after: new CosineAnnealingLR(opt, { tMax: 7 }) });
}

function train(model: Module, opt: AnyOptimizer, sched: LRScheduler, data: ReturnType<typeof batches>, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    opt.zeroGrad();
    crossEntropyLoss(model.forward(data[i]!.x), data[i]!.y).backward();
    opt.step();
    sched.step();
  }
}

function bits(model: Module): Uint8Array[] {
  return Object.values(model.stateDict()).map((t) => new Uint8Array(t.data.slice().buffer));
}

describe('resuming from a checkpoint continues bit for bit', () => {
  for (const [name, makeOptimizer] of optimizers) {
    test(name, () => {
      const data = batches();
      const straight = buildModel(1);
      const opt = makeOptimizer(straight);
      train(straight, opt, schedule(opt), data, 0, N);

      const first = buildModel(1);
      const opt1 = makeOptimizer(first);
      const sched1 = schedule(opt1);
      train(first, opt1, sched1, data, 0, K);
      const bytes = serializeCheckpoint({ model: first.stateDict(), optimizer: opt1.stateDict(), scheduler: sched1.stateDict(), extra: { step: String(K) } });

      // A new process: different initial weights, fresh optimiser and scheduler, then the checkpoint.
      const ckpt = parseCheckpoint(bytes);
      expect(ckpt.extra).toEqual({ step: String(K) });
      const resumed = buildModel(99);
      const opt2 = makeOptimizer(resumed);
      const sched2 = schedule(opt2);
      resumed.loadStateDict(ckpt.model);
      opt2.loadStateDict(ckpt.optimizer!);
      sched2.loadStateDict(ckpt.scheduler as ReturnType<LRScheduler['stateDict']>);
      train(resumed, opt2, sched2, data, K, N);

      expect(bits(resumed)).toEqual(bits(straight));
      expect(opt2.paramGroups[0]!.lr).toBe(opt.paramGroups[0]!.lr);
    });
  }

  test('a plain StepLR and an optimiser state dict kept in memory (structuredClone) resume too', () => {
    const data = batches();
    const a = buildModel(3);
    const oa = new SGD(a.parameters(), { lr: 0.05, momentum: 0.9 });
    const sa = new StepLR(oa, { stepSize: 3, gamma: 0.5 });
    const run = (m: Module, o: SGD, s: StepLR, from: number, to: number) => train(m, o, s, data, from, to);
    run(a, oa, sa, 0, N);
    const b = buildModel(3);
    const ob = new SGD(b.parameters(), { lr: 0.05, momentum: 0.9 });
    const sb = new StepLR(ob, { stepSize: 3, gamma: 0.5 });
    run(b, ob, sb, 0, K);
    const saved = structuredClone({ model: b.stateDict(), opt: ob.stateDict(), sched: sb.stateDict() });
    const c = buildModel(7);
    const oc = new SGD(c.parameters(), { lr: 0.05, momentum: 0.9 });
    const sc = new StepLR(oc, { stepSize: 3, gamma: 0.5 });
    c.loadStateDict(saved.model);
    oc.loadStateDict(saved.opt);
    sc.loadStateDict(saved.sched);
    run(c, oc, sc, K, N);
    expect(bits(c)).toEqual(bits(a));
  });
});

describe('checkpoint files', () => {
  test("scheduler state with Infinity survives, on disk via the node entry", async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { saveCheckpoint, loadCheckpoint } = await import('@chainrule/nn/node');
    const model = buildModel(0);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(opt);
    const dir = mkdtempSync(join(tmpdir(), 'chainrule-ckpt-'));
    try {
      const path = join(dir, 'ckpt.safetensors');
      saveCheckpoint(path, { model: model.stateDict(), optimizer: opt.stateDict(), scheduler: plateau.stateDict() });
      const back = loadCheckpoint(path);
      expect((back.scheduler as { best: number }).best).toBe(Infinity);
      expect(back.optimizer!.paramGroups[0]).toMatchObject({ lr: 0.1, params: [0, 1, 2, 3, 4, 5] });
      expect(Object.keys(back.model).sort()).toEqual(Object.keys(model.stateDict()).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a checkpoint with broken metadata or stray tensors is refused', () => {
    const bytes = serializeSafetensors({ 'model.w': tensor([1]) }, { 'chainrule.optimizer': '{oops' });
    expect(() => parseCheckpoint(bytes)).toThrow("parseCheckpoint: metadata 'chainrule.optimizer' is not valid JSON");
    expect(() => parseCheckpoint(serializeSafetensors({ w: tensor([1]) }))).toThrow("parseCheckpoint: unexpected tensor 'w' (expected model.* or optimizer.*)");
  });
});

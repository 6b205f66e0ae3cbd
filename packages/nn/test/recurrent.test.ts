// RNN, LSTM, GRU and their cells: against a plain per-sequence reference loop written here in
// numbers (float64), gradcheck and gradgradcheck over random small configurations, lengths, and
// errors. PyTorch's own numbers are in recurrent-torch.test.ts.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { concat, formatGradcheckReport, gradcheck, gradgradcheck, tensor, transpose, type Tensor } from '@chainrule/autograd';
import { assertClose, seededTensor } from '@chainrule/autograd/testing';
import {
  GRU, GRUCell, LSTM, LSTMCell, Module, RNN, RNNCell, StateDictError, functionalCall, type RecurrentOptions,
} from '@chainrule/nn';

type Kind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';
type Recurrent = RNN | LSTM | GRU;

interface Config {
  kind: Kind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  bias: boolean;
  steps: number;
  batch: number;
  withState: boolean;
  lengths: number[] | null;
  seed: number;
  /** An LSTM's projSize (0 or absent: none). */
  projSize?: number;
}

const KINDS: readonly Kind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];

/** Random configurations of one kind, or of any. */
const configArb = (max: { size: number; steps: number; batch: number; layers: number }, kinds: readonly Kind[] = KINDS): fc.Arbitrary<Config> =>
  fc
    .record({
      kind: fc.constantFrom(...kinds),
      inputSize: fc.integer({ min: 1, max: max.size }),
      hiddenSize: fc.integer({ min: 1, max: max.size }),
      numLayers: fc.integer({ min: 1, max: max.layers }),
      bidirectional: fc.boolean(),
      batchFirst: fc.boolean(),
      bias: fc.boolean(),
      steps: fc.integer({ min: 1, max: max.steps }),
      batch: fc.integer({ min: 1, max: max.batch }),
      withState: fc.boolean(),
      useLengths: fc.boolean(),
      lengthSeeds: fc.array(fc.nat(), { minLength: max.batch, maxLength: max.batch }),
      projSeed: fc.nat(),
      seed: fc.noShrink(fc.integer({ min: 0, max: 1e6 })),
    })
    .map(({ useLengths, lengthSeeds, projSeed, ...c }) => ({
      ...c,
      lengths: useLengths ? lengthSeeds.slice(0, c.batch).map((s) => 1 + (s % c.steps)) : null,
      // An LSTM's projSize in [0, hiddenSize): 0 (none) about half the time.
      projSize: c.kind === 'lstm' && projSeed % 2 === 1 ? (projSeed >> 1) % c.hiddenSize : 0,
    }));

function build(c: Config, extra: RecurrentOptions = {}): Recurrent {
  const options = { numLayers: c.numLayers, bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias, dtype: 'float64' as const, seed: c.seed, ...extra };
  if (c.kind === 'lstm') return new LSTM(c.inputSize, c.hiddenSize, { ...options, projSize: c.projSize ?? 0 });
  if (c.kind === 'gru') return new GRU(c.inputSize, c.hiddenSize, options);
  return new RNN(c.inputSize, c.hiddenSize, { ...options, nonlinearity: c.kind === 'rnn_tanh' ? 'tanh' : 'relu' });
}

/** Width of the outputs and of h: an LSTM's projSize, else hiddenSize. */
const hOut = (c: Config): number => (c.projSize ?? 0) > 0 ? c.projSize! : c.hiddenSize;

/** The input and initial states of a configuration: [x, h0?, c0?]. */
function operands(c: Config): Tensor[] {
  const d = c.bidirectional ? 2 : 1;
  const x = seededTensor(c.batchFirst ? [c.batch, c.steps, c.inputSize] : [c.steps, c.batch, c.inputSize], c.seed + 1, { min: -1.5, max: 1.5 });
  if (!c.withState) return [x];
  const states = [seededTensor([c.numLayers * d, c.batch, hOut(c)], c.seed + 2, { min: -1, max: 1 })];
  if (c.kind === 'lstm') states.push(seededTensor([c.numLayers * d, c.batch, c.hiddenSize], c.seed + 3, { min: -1, max: 1 }));
  return [x, ...states];
}

/** Runs the model; returns [output, h_n] or [output, h_n, c_n]. */
function run(model: Recurrent, c: Config, [x, h0, c0]: readonly Tensor[]): Tensor[] {
  if (model instanceof LSTM) {
    const [out, [h, cell]] = model.forward(x!, h0 === undefined ? null : [h0, c0!], c.lengths);
    return [out, h, cell];
  }
  return model.forward(x!, h0, c.lengths);
}

// --- the reference: one sequence at a time, in plain numbers ---------------------------------

type Vec = number[];
interface RefWeights { wih: Vec[]; whh: Vec[]; bih: Vec | null; bhh: Vec | null; whr: Vec[] | null }

const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const matVec = (m: Vec[], v: Vec, b: Vec | null): Vec => m.map((row, i) => row.reduce((s, w, j) => s + w * v[j]!, b === null ? 0 : b[i]!));

/** One step of a cell, written out from the textbook (PyTorch's) equations. */
function refStep(kind: Kind, w: RefWeights, x: Vec, h: Vec, c: Vec): [Vec, Vec] {
  const H = c.length;
  const gi = matVec(w.wih, x, w.bih);
  const gh = matVec(w.whh, h, w.bhh);
  const part = (g: Vec, k: number): Vec => g.slice(k * H, (k + 1) * H);
  if (kind === 'rnn_tanh' || kind === 'rnn_relu') {
    return [gi.map((v, j) => (kind === 'rnn_tanh' ? Math.tanh(v + gh[j]!) : Math.max(0, v + gh[j]!))), c];
  }
  if (kind === 'lstm') {
    const g = gi.map((v, j) => v + gh[j]!);
    const [i, f, gg, o] = [part(g, 0).map(sig), part(g, 1).map(sig), part(g, 2).map(Math.tanh), part(g, 3).map(sig)];
    const c2 = c.map((cj, j) => f[j]! * cj + i[j]! * gg[j]!);
    const h2 = c2.map((cj, j) => o[j]! * Math.tanh(cj));
    // projSize: h is projected by W_hr [P, H].
    return [w.whr === null ? h2 : matVec(w.whr, h2, null), c2];
  }
  const r = part(gi, 0).map((v, j) => sig(v + part(gh, 0)[j]!));
  const z = part(gi, 1).map((v, j) => sig(v + part(gh, 1)[j]!));
  const n = part(gi, 2).map((v, j) => Math.tanh(v + r[j]! * part(gh, 2)[j]!));
  return [n.map((nj, j) => (1 - z[j]!) * nj + z[j]! * h[j]!), c];
}

function rows(t: Tensor): Vec[] {
  const [m, n] = t.shape as [number, number];
  return Array.from({ length: m }, (_, i) => Array.from(t.data.subarray(i * n, (i + 1) * n)));
}

/**
 * The module's output and final states computed sequence by sequence: sequence b runs over its
 * own first lengths[b] steps (the reverse direction from its last one), its outputs elsewhere 0.
 */
function reference(model: Recurrent, c: Config, ops: readonly Tensor[]): { output: number[][][]; h: number[][][]; cell: number[][][] } {
  const sd = model.stateDict();
  const d = c.bidirectional ? 2 : 1;
  const x = c.batchFirst ? transpose(ops[0]!, 0, 1) : ops[0]!;
  const at = (t: Tensor, i: number, j: number): Vec => {
    const [, b, n] = t.shape as [number, number, number];
    return Array.from(t.data.subarray((i * b + j) * n, (i * b + j + 1) * n));
  };
  let layerIn: number[][][] = Array.from({ length: c.steps }, (_, t) => Array.from({ length: c.batch }, (_, b) => at(x, t, b)));
  const h: number[][][] = [];
  const cell: number[][][] = [];
  for (let layer = 0; layer < c.numLayers; layer++) {
    const out: number[][][] = Array.from({ length: c.steps }, () => Array.from({ length: c.batch }, () => new Array<number>(d * hOut(c)).fill(0)));
    for (let dir = 0; dir < d; dir++) {
      const s = `_l${layer}${dir === 1 ? '_reverse' : ''}`;
      const w: RefWeights = {
        wih: rows(sd[`weight_ih${s}`]!), whh: rows(sd[`weight_hh${s}`]!),
        bih: c.bias ? Array.from(sd[`bias_ih${s}`]!.data) : null, bhh: c.bias ? Array.from(sd[`bias_hh${s}`]!.data) : null,
        whr: (c.projSize ?? 0) > 0 ? rows(sd[`weight_hr${s}`]!) : null,
      };
      const k = layer * d + dir;
      h.push([]);
      cell.push([]);
      for (let b = 0; b < c.batch; b++) {
        let hb = ops[1] === undefined ? new Array<number>(hOut(c)).fill(0) : at(ops[1], k, b);
        let cb = ops[2] === undefined ? new Array<number>(c.hiddenSize).fill(0) : at(ops[2], k, b);
        const len = c.lengths === null ? c.steps : c.lengths[b]!;
        for (let i = 0; i < len; i++) {
          const t = dir === 0 ? i : len - 1 - i;
          [hb, cb] = refStep(c.kind, w, layerIn[t]![b]!, hb, cb);
          hb.forEach((v, j) => (out[t]![b]![dir * hOut(c) + j] = v));
        }
        h[k]!.push(hb);
        cell[k]!.push(cb);
      }
    }
    layerIn = out;
  }
  const output = c.batchFirst ? Array.from({ length: c.batch }, (_, b) => layerIn.map((step) => step[b]!)) : layerIn;
  return { output, h, cell };
}

const describeConfig = (c: Config): string => JSON.stringify(c);

describe('RNN, LSTM, GRU against a per-sequence reference loop', () => {
  test('outputs and final states, over random configurations, lengths and initial states (float64)', () => {
    fc.assert(
      fc.property(configArb({ size: 3, steps: 4, batch: 3, layers: 3 }), (c) => {
        const model = build(c);
        const ops = operands(c);
        const got = run(model, c, ops);
        const want = reference(model, c, ops);
        const unbatchedShape = (v: number[][][]): number[] => [v.length, v[0]!.length, v[0]![0]!.length];
        assertClose(got[0]!, { data: want.output.flat(2), shape: unbatchedShape(want.output) }, 1e-12, 1e-14);
        assertClose(got[1]!, { data: want.h.flat(2), shape: unbatchedShape(want.h) }, 1e-12, 1e-14);
        if (c.kind === 'lstm') assertClose(got[2]!, { data: want.cell.flat(2), shape: unbatchedShape(want.cell) }, 1e-12, 1e-14);
      }),
      { numRuns: 60 },
    );
  });

  test('an unbatched [seq, in] input gives the batch-of-one result without the batch axis', () => {
    for (const kind of ['rnn_tanh', 'lstm', 'gru'] as const) {
      const c: Config = { kind, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, batchFirst: false, bias: true, steps: 3, batch: 1, withState: true, lengths: null, seed: 7 };
      const model = build(c);
      const ops = operands(c);
      const batched = run(model, c, ops);
      const unbatched = run(model, c, ops.map((t) => t.squeeze(1)));
      expect(unbatched.map((t) => t.shape)).toEqual(batched.map((t) => t.squeeze(1).shape));
      unbatched.forEach((t, i) => assertClose(t, batched[i]!.squeeze(1), 0, 0));
    }
  });

  test('lengths in any order, all shorter than the input, give each sequence the result it has alone', () => {
    const c: Config = { kind: 'lstm', inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true, batchFirst: true, bias: true, steps: 5, batch: 3, withState: false, lengths: [2, 4, 1], seed: 3 };
    const model = build(c) as LSTM;
    const [x] = operands(c);
    const [out, [h]] = model.forward(x!, null, tensor(c.lengths!, { dtype: 'int32' }));
    c.lengths!.forEach((len, b) => {
      const alone = x!.narrow(0, b, 1).narrow(1, 0, len);
      const [o1, [h1]] = model.forward(alone);
      assertClose(out.narrow(0, b, 1).narrow(1, 0, len), o1, 1e-13, 1e-15);
      assertClose(h.narrow(1, b, 1), h1, 1e-13, 1e-15);
      // Past its length, a sequence's outputs are exactly 0.
      expect(Array.from(out.narrow(0, b, 1).narrow(1, len, c.steps - len).data).every((v) => v === 0)).toBe(true);
    });
  });
});

describe('cells', () => {
  test('a cell is one step of the one-layer module with the same weights', () => {
    const x = seededTensor([1, 3, 2], 5, { requiresGrad: false });
    const h0 = seededTensor([1, 3, 4], 6, { requiresGrad: false });
    const c0 = seededTensor([1, 3, 4], 7, { requiresGrad: false });
    const x0 = x.squeeze(0);
    /** The one-layer module's state dict from a cell's: the same tensors under `_l0` names. */
    const asLayer = (cell: Module<never, unknown>): Record<string, Tensor> => Object.fromEntries(Object.entries(cell.stateDict()).map(([k, t]) => [`${k}_l0`, t]));

    const rnnCell = new RNNCell(2, 4, { dtype: 'float64', nonlinearity: 'relu', seed: 1 });
    const rnn = new RNN(2, 4, { dtype: 'float64', nonlinearity: 'relu' });
    rnn.loadStateDict(asLayer(rnnCell));
    assertClose(rnnCell.forward(x0, h0.squeeze(0)), rnn.forward(x, h0)[1].squeeze(0), 1e-14);

    const gruCell = new GRUCell(2, 4, { dtype: 'float64', seed: 1 });
    const gru = new GRU(2, 4, { dtype: 'float64' });
    gru.loadStateDict(asLayer(gruCell));
    assertClose(gruCell.forward(x0, h0.squeeze(0)), gru.forward(x, h0)[1].squeeze(0), 1e-14);
    // No state given: zeros.
    assertClose(gruCell.forward(x0), gruCell.forward(x0, tensor(new Float64Array(12), { shape: [3, 4] })), 0, 0);

    const lstmCell = new LSTMCell(2, 4, { dtype: 'float64', seed: 1 });
    const lstm = new LSTM(2, 4, { dtype: 'float64' });
    lstm.loadStateDict(asLayer(lstmCell));
    const [h, c] = lstmCell.forward(x0, [h0.squeeze(0), c0.squeeze(0)]);
    const [out, [hN, cN]] = lstm.forward(x, [h0, c0]);
    assertClose(h, hN.squeeze(0), 1e-14);
    assertClose(c, cN.squeeze(0), 1e-14);
    assertClose(out.squeeze(0), h, 0, 0);
  });

  test('parameter names, shapes and the U(±1/√H) initialisation of PyTorch', () => {
    const cell = new LSTMCell(3, 5, { seed: 0 });
    expect(Object.entries(cell.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['weight_ih', [20, 3]], ['weight_hh', [20, 5]], ['bias_ih', [20]], ['bias_hh', [20]],
    ]);
    expect(Object.keys(new GRUCell(3, 5, { bias: false }).stateDict())).toEqual(['weight_ih', 'weight_hh']);
    const values = new LSTM(3, 25, { numLayers: 2, seed: 1 }).parameters().flatMap((p) => Array.from(p.data));
    const bound = 1 / 5;
    expect(values.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9 * bound);
  });

  test('unbatched input and state', () => {
    const cell = new GRUCell(2, 3, { dtype: 'float64', seed: 2 });
    const x = seededTensor([2], 1, { requiresGrad: false });
    const h = seededTensor([3], 2, { requiresGrad: false });
    const one = cell.forward(x, h);
    expect(one.shape).toEqual([3]);
    assertClose(one, cell.forward(x.unsqueeze(0), h.unsqueeze(0)).squeeze(0), 0, 0);
  });
});

/** gradcheck or gradgradcheck of the model as a function of its input, initial states and every parameter. */
function checkModelGradients(check: typeof gradcheck | typeof gradgradcheck, c: Config): void {
  const model = build(c);
  const names = model.namedParameters().map(([n]) => n);
  const ops = operands(c);
  const params = model.parameters().map((p, i) => seededTensor(p.shape, c.seed + 10 + i, { min: -0.8, max: 0.8 }));
  const f = (...t: Tensor[]): Tensor => {
    const given = t.slice(0, ops.length);
    const replaced = Object.fromEntries(names.map((n, i) => [n, t[ops.length + i]!]));
    const outs = model instanceof LSTM
      ? (([o, [h, cell]]) => [o, h, cell])(functionalCall(model, replaced, given[0]!, given[1] === undefined ? null : [given[1], given[2]!], c.lengths))
      : functionalCall(model as RNN, replaced, given[0]!, given[1], c.lengths);
    return outs.map((o) => o.reshape([-1])).reduce((a, b) => concat([a, b], 0));
  };
  const report = check === gradcheck ? gradcheck(f, [...ops, ...params]) : gradgradcheck(f, [...ops, ...params]);
  if (!report.ok) throw new Error(`${describeConfig(c)}: ${formatGradcheckReport(report)}`);
}

describe('gradients (float64, random small configurations)', () => {
  const tiny = { size: 2, steps: 3, batch: 2, layers: 2 };
  // Each kind separately, so none is left out by chance.
  test.each(KINDS)('%s: gradcheck with respect to the input, initial states and every parameter', (kind) => {
    fc.assert(fc.property(configArb(tiny, [kind]), (c) => checkModelGradients(gradcheck, c)), { numRuns: 5 });
  });

  test.each(KINDS)('%s: gradgradcheck', (kind) => {
    fc.assert(fc.property(configArb({ ...tiny, layers: 1, steps: 2 }, [kind]), (c) => checkModelGradients(gradgradcheck, c)), { numRuns: 2 });
  });

  test('lstm with projSize: gradcheck and gradgradcheck through two bidirectional layers, W_hr included', () => {
    const c: Config = {
      kind: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, batchFirst: false, bias: true, steps: 2, batch: 2, withState: true, lengths: [2, 1], seed: 21, projSize: 2,
    };
    expect(build(c).namedParameters().map(([n]) => n)).toContain('weight_hr_l1_reverse');
    checkModelGradients(gradcheck, c);
    checkModelGradients(gradgradcheck, { ...c, numLayers: 1, bidirectional: false, projSize: 1 });
  });

  test('gradgradcheck through lengths (masked and skipped steps) in both directions', () => {
    for (const kind of ['lstm', 'gru'] as const) {
      checkModelGradients(gradgradcheck, {
        kind, inputSize: 2, hiddenSize: 2, numLayers: 1, bidirectional: true, batchFirst: true, bias: true, steps: 3, batch: 2, withState: true, lengths: [1, 2], seed: 11,
      });
    }
  });

  test.each(KINDS)('%s cell: gradcheck and gradgradcheck with respect to input, state and weights', (cellKind) => {
    const cellArb = fc.record({
      kind: fc.constant(cellKind),
      batch: fc.integer({ min: 1, max: 3 }), inputSize: fc.integer({ min: 1, max: 3 }), hiddenSize: fc.integer({ min: 1, max: 3 }),
      bias: fc.boolean(), seed: fc.noShrink(fc.integer({ min: 0, max: 1e6 })),
    });
    fc.assert(
      fc.property(cellArb, ({ kind, batch, inputSize, hiddenSize, bias, seed }) => {
        const options = { dtype: 'float64' as const, bias, seed };
        const cell = kind === 'lstm' ? new LSTMCell(inputSize, hiddenSize, options)
          : kind === 'gru' ? new GRUCell(inputSize, hiddenSize, options)
          : new RNNCell(inputSize, hiddenSize, { ...options, nonlinearity: kind === 'rnn_tanh' ? 'tanh' : 'relu' });
        const names = cell.namedParameters().map(([n]) => n);
        const states = kind === 'lstm' ? 2 : 1;
        const inputs = [
          seededTensor([batch, inputSize], seed + 1),
          ...Array.from({ length: states }, (_, i) => seededTensor([batch, hiddenSize], seed + 2 + i, { min: -1, max: 1 })),
          ...cell.parameters().map((p, i) => seededTensor(p.shape, seed + 5 + i, { min: -1, max: 1 })),
        ];
        const f = (...t: Tensor[]): Tensor => {
          const replaced = Object.fromEntries(names.map((n, i) => [n, t[1 + states + i]!]));
          if (cell instanceof LSTMCell) return functionalCall(cell, replaced, t[0]!, [t[1]!, t[2]!]).reduce((a, b) => concat([a, b], 1));
          return functionalCall(cell as GRUCell, replaced, t[0]!, t[1]!);
        };
        for (const report of [gradcheck(f, inputs), gradgradcheck(f, inputs)]) {
          if (!report.ok) throw new Error(`${kind} ${batch}x${inputSize}->${hiddenSize}: ${formatGradcheckReport(report)}`);
        }
      }),
      { numRuns: 3 },
    );
  });
});

describe('dropout between layers', () => {
  test('drops in training only, never after the last layer, from the module generator', () => {
    const c: Config = { kind: 'gru', inputSize: 3, hiddenSize: 8, numLayers: 2, bidirectional: false, batchFirst: false, bias: true, steps: 3, batch: 2, withState: false, lengths: null, seed: 4 };
    const [x] = operands(c);
    const plain = build(c);
    const dropped = build(c, { dropout: 0.5 });
    const [evalOut] = dropped.eval().forward(x!);
    assertClose(evalOut, plain.forward(x!)[0], 0, 0);
    const [trainOut] = dropped.train().forward(x!);
    expect(Array.from(trainOut.data)).not.toEqual(Array.from(evalOut.data));
    // One layer: nothing between layers to drop.
    const single = build({ ...c, numLayers: 1 }, { dropout: 0.9 });
    assertClose(single.train().forward(x!)[0], build({ ...c, numLayers: 1 }).forward(x!)[0], 0, 0);
  });
});

describe('errors', () => {
  const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
  const x = tensor(new Float32Array(5 * 2 * 3), { shape: [5, 2, 3] });
  const h = tensor(new Float32Array(4 * 2 * 4), { shape: [4, 2, 4] });

  test('input of the wrong rank, size or dtype', () => {
    expect(() => lstm.forward(tensor(new Float32Array(3), { shape: [3] }))).toThrow('LSTM: input must be [seq, batch, 3] or, unbatched, [seq, 3] (weight_ih_l0 is [16,3]); got [3]');
    expect(() => lstm.forward(tensor(new Float32Array(20), { shape: [5, 2, 2] }))).toThrow('LSTM: input must be [seq, batch, 3] or, unbatched, [seq, 3] (weight_ih_l0 is [16,3]); got [5,2,2]');
    expect(() => new GRU(3, 4, { batchFirst: true }).forward(tensor(new Float32Array(8), { shape: [2, 2, 2] }))).toThrow(/GRU: input must be \[batch, seq, 3\]/);
    expect(() => lstm.forward(x.toDtype('float64'))).toThrow(/LSTM: input is float64 but the module is float32/);
    expect(() => lstm.forward(tensor(new Float32Array(0), { shape: [0, 2, 3] }))).toThrow('LSTM: input [0,2,3] has no time steps');
    expect(() => new RNNCell(3, 4).forward(x)).toThrow('RNNCell: input must be [batch, 3] or [3], got [5,2,3]');
  });

  test('initial states of the wrong shape', () => {
    expect(() => lstm.forward(x, [h.narrow(0, 0, 2), h])).toThrow('LSTM: h0 (numLayers·directions, batch, hiddenSize) must have shape [4,2,4], got [2,2,4]');
    expect(() => lstm.forward(x, [h, h.narrow(1, 0, 1)])).toThrow('LSTM: c0 (numLayers·directions, batch, hiddenSize) must have shape [4,2,4], got [4,1,4]');
    expect(() => new GRU(3, 4).forward(x.narrow(1, 0, 1).squeeze(1), h.narrow(0, 0, 1))).toThrow('GRU: h0 (numLayers·directions, hiddenSize) must have shape [1,4], got [1,2,4]');
    expect(() => new GRUCell(3, 4).forward(x.narrow(0, 0, 1).squeeze(0), h.narrow(0, 0, 1).squeeze(0).narrow(0, 0, 1))).toThrow('GRUCell: hx (for input [2,3]) must have shape [2,4], got [1,4]');
  });

  test('an LSTM with projSize: h0 is projSize wide, c0 hiddenSize wide', () => {
    const projected = new LSTM(3, 4, { numLayers: 2, bidirectional: true, projSize: 2 });
    const hp = h.narrow(2, 0, 2);
    expect(() => projected.forward(x, [h, h])).toThrow('LSTM: h0 (numLayers·directions, batch, projSize) must have shape [4,2,2], got [4,2,4]');
    expect(() => projected.forward(x, [hp, hp])).toThrow('LSTM: c0 (numLayers·directions, batch, hiddenSize) must have shape [4,2,4], got [4,2,2]');
    const [out, [hN, cN]] = projected.forward(x, [hp, h]);
    expect([out.shape, hN.shape, cN.shape]).toEqual([[5, 2, 4], [4, 2, 2], [4, 2, 4]]);
    const [unbatched, [h1, c1]] = projected.forward(x.narrow(1, 0, 1).squeeze(1));
    expect([unbatched.shape, h1.shape, c1.shape]).toEqual([[5, 4], [4, 2], [4, 4]]);
    // PyTorch's repr puts proj_size right after the sizes.
    expect(String(projected)).toBe('LSTM(3, 4, projSize=2, numLayers=2, bidirectional=true)');
  });

  test('an LSTM state that is not [h, c]', () => {
    expect(() => lstm.forward(x, h as unknown as [Tensor, Tensor])).toThrow('LSTM: hx must be [h0, c0]');
    expect(() => lstm.forward(x, [h] as unknown as [Tensor, Tensor])).toThrow('LSTM: hx must be [h0, c0]');
    const cell = new LSTMCell(3, 4);
    const x0 = x.narrow(0, 0, 1).squeeze(0);
    const h0 = h.narrow(0, 0, 1).squeeze(0);
    expect(() => cell.forward(x0, h0 as unknown as [Tensor, Tensor])).toThrow('LSTMCell: hx must be [h, c] (or omitted for zeros)');
    expect(() => cell.forward(x0, [h0, undefined] as unknown as [Tensor, Tensor])).toThrow('LSTMCell: c must be a Tensor, got undefined');
  });

  test('lengths out of range, of the wrong count or type, or with unbatched input', () => {
    expect(() => lstm.forward(x, null, [5, 0])).toThrow('LSTM: lengths[1] is 0; each length must be an integer in [1, 5] (the input\'s time steps)');
    expect(() => lstm.forward(x, null, [6, 1])).toThrow('LSTM: lengths[0] is 6');
    expect(() => lstm.forward(x, null, [2.5, 1])).toThrow('LSTM: lengths[0] is 2.5');
    expect(() => lstm.forward(x, null, [5, 5, 5])).toThrow('LSTM: lengths has 3 entries but the batch has 2 sequences');
    expect(() => lstm.forward(x, null, tensor([5, 4]))).toThrow('LSTM: lengths must be an int32 tensor or a number[], got a float32 tensor');
    expect(() => lstm.forward(x.narrow(1, 0, 1).squeeze(1), null, [5])).toThrow('LSTM: lengths need batched input; got unbatched input [5,3]');
  });

  test('bad constructor arguments', () => {
    expect(() => new LSTM(3, 4, { numLayers: 0 })).toThrow('LSTM: numLayers must be an integer >= 1, got 0');
    expect(() => new GRU(3, -1)).toThrow('GRU: hiddenSize must be an integer >= 0, got -1');
    expect(() => new RNN(3, 4, { dropout: 1.5 })).toThrow('RNN: dropout must be a probability in [0, 1], got 1.5');
    expect(() => new RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow('RNN: nonlinearity must be \'tanh\' or \'relu\', got "sigmoid"');
    expect(() => new LSTM(3, 4, { projSize: 4 })).toThrow('LSTM: projSize must be smaller than hiddenSize (4), got 4');
    expect(() => new LSTM(3, 4, { projSize: -1 })).toThrow('LSTM: projSize must be an integer >= 0, got -1');
    expect(() => new LSTM(3, 4, { projSize: 1.5 })).toThrow('LSTM: projSize must be an integer >= 0, got 1.5');
    // PyTorch's proj_size is LSTM's only: never silently ignored elsewhere.
    expect(() => new GRU(3, 4, { projSize: 2 } as RecurrentOptions)).toThrow('GRU: projSize is only supported by LSTM, got projSize=2');
    expect(() => new RNN(3, 4, { projSize: 0 } as RecurrentOptions)).toThrow('RNN: projSize is only supported by LSTM, got projSize=0');
  });

  test('a state dict from a different architecture names the module path, parameter and both shapes, and changes nothing', () => {
    class Encoder extends Module<[Tensor], Tensor> {
      readonly rnn: LSTM;
      constructor(hidden: number, layers: number) {
        super();
        this.rnn = this.registerModule('rnn', new LSTM(3, hidden, { numLayers: layers, seed: 0 }));
      }
      forward(input: Tensor): Tensor {
        return this.rnn.forward(input)[0];
      }
    }
    const model = new Encoder(4, 1);
    const before = model.parameters().map((p) => Array.from(p.data));
    expect(() => model.loadStateDict(new Encoder(5, 1).stateDict())).toThrow(
      /'rnn\.weight_ih_l0': shape \[20,3\] in the dict, \[16,3\] in the module \(parameter 'weight_ih_l0' of rnn \(LSTM\)\)/,
    );
    expect(() => model.loadStateDict(new Encoder(4, 2).stateDict())).toThrow(StateDictError);
    expect(() => model.loadStateDict(new Encoder(4, 2).stateDict())).toThrow(/unexpected key 'rnn\.weight_ih_l1'/);
    expect(() => model.loadStateDict(new GRU(3, 4).stateDict())).toThrow(/missing key 'rnn\.weight_ih_l0'/);
    expect(model.parameters().map((p) => Array.from(p.data))).toEqual(before);
  });
});

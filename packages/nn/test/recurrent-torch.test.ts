// RNN, LSTM, GRU and their cells against PyTorch: weights PyTorch initialised (its state dict as
// .safetensors) load under the same keys and shapes and give PyTorch's outputs, final states and
// gradients, in float32 (to its rounding) and float64, LSTMs with projSize included. Made by
// scripts/torch-rnn-reference.py.
// The chainrule_* cases go the other way: files chainrule saved (scripts/chainrule-rnn-weights.ts)
// that PyTorch loaded strictly, with PyTorch's results on them.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, type DType, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, type LSTMOptions, type RNNOptions } from '@chainrule/nn';
import { load } from '@chainrule/nn/node';

interface Flat { shape: number[]; data: number[] }
interface Results { [name: string]: Flat | Record<string, Flat>; grads: Record<string, Flat> }
interface Case {
  name: string;
  module: 'RNN' | 'LSTM' | 'GRU' | 'RNNCell' | 'LSTMCell' | 'GRUCell';
  options: RNNOptions & LSTMOptions;
  inputSize: number;
  hiddenSize: number;
  weights: string;
  keys: [string, number[]][];
  inputs: Record<string, Flat>;
  cotangents: Record<string, Flat>;
  lengths: number[] | null;
  float32: Results;
  float64: Results;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-rnn.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** The float32 numbers of the fixture (written in their shortest float32 form) as `dtype`. */
function fromFlat(f: Flat, dtype: DType, requiresGrad = false): Tensor {
  return tensor(Float32Array.from(f.data), { shape: f.shape, dtype, requiresGrad });
}

type AnyRecurrent = RNN | LSTM | GRU | RNNCell | LSTMCell | GRUCell;

function build(c: Case, dtype: DType): AnyRecurrent {
  const { options, inputSize: i, hiddenSize: h } = c;
  switch (c.module) {
    case 'RNN': return new RNN(i, h, { ...options, dtype });
    case 'LSTM': return new LSTM(i, h, { ...options, dtype });
    case 'GRU': return new GRU(i, h, { ...options, dtype });
    case 'RNNCell': return new RNNCell(i, h, { ...options, dtype });
    case 'LSTMCell': return new LSTMCell(i, h, { ...options, dtype });
    case 'GRUCell': return new GRUCell(i, h, { ...options, dtype });
  }
}

/** Runs the module on the case's inputs; returns the outputs in the fixture's order and names. */
function run(model: AnyRecurrent, c: Case, inputs: Record<string, Tensor>): Tensor[] {
  const { input, h0, c0 } = inputs as { input: Tensor; h0?: Tensor; c0?: Tensor };
  if (model instanceof LSTM) {
    const [output, [h, cell]] = model.forward(input, h0 === undefined ? null : [h0, c0!], c.lengths);
    return [output, h, cell];
  }
  if (model instanceof RNN || model instanceof GRU) return model.forward(input, h0, c.lengths);
  if (model instanceof LSTMCell) return model.forward(input, h0 === undefined ? null : [h0, c0!]);
  return [model.forward(input, h0)];
}

const tolerances = { float32: [2e-5, 2e-6], float64: [1e-10, 1e-12] } as const;

describe('recurrent modules against PyTorch', () => {
  for (const c of fixture.cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      test(`${c.name} (${dtype})`, () => {
        const model = build(c, dtype);
        // Same keys, in the same order, with the same shapes as PyTorch's state_dict.
        expect(Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape])).toEqual(c.keys);
        const file = fileURLToPath(new URL(`./fixtures/${c.weights}`, import.meta.url));
        const weights = load(file);
        model.loadStateDict(dtype === 'float32' ? weights : Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.toDtype('float64')])));
        const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, f]) => [k, fromFlat(f, dtype, true)]));
        const outputs = run(model, c, inputs);
        const names = Object.keys(c.cotangents);
        expect(outputs).toHaveLength(names.length);
        const expected = c[dtype];
        const [rtol, atol] = tolerances[dtype];
        let loss: Tensor | null = null;
        outputs.forEach((o, i) => {
          const name = names[i]!;
          assertClose(o, expected[name] as Flat, rtol, atol);
          const term = o.mul(fromFlat(c.cotangents[name]!, dtype)).sum();
          loss = loss === null ? term : loss.add(term);
        });
        loss!.backward();
        const params = Object.fromEntries(model.namedParameters());
        for (const [key, want] of Object.entries(expected.grads)) {
          const leaf = inputs[key] ?? params[key];
          expect(leaf, key).toBeDefined();
          expect(leaf!.grad, key).not.toBeNull();
          assertClose(leaf!.grad!, want, rtol, atol);
        }
      });
    }
  }
});

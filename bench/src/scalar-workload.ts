// The scalar Value workload, shared by the bench's chainrule contender and bench/micro/scalar.ts.
import { scalarData } from './data.js';

/** A scalar Value implementation: what the scalar workload needs of one. */
export interface ValueClass {
  new (data: number): ScalarValue;
}
/** One scalar of such an implementation. */
export interface ScalarValue {
  data: number;
  grad: number;
  add(o: ScalarValue | number): ScalarValue;
  sub(o: ScalarValue | number): ScalarValue;
  mul(o: ScalarValue | number): ScalarValue;
  tanh(): ScalarValue;
  backward(): void;
}

/**
 * The scalar workload: a micrograd-style MLP built neuron by neuron from Values (tanh hidden
 * layers, linear output), MSE over the samples, backward, and a plain SGD step; returns the loss.
 * Generic over the Value class so implementations can be compared on the very same step.
 */
export function scalarStep(V: ValueClass, samples = 100, sizes = [2, 16, 16, 1], lr = 0.01): () => number {
  const d = scalarData(samples, sizes);
  const layers = d.layers.map((l) => ({
    w: Array.from({ length: l.fanOut }, (_, o) => Array.from(l.w.subarray(o * l.fanIn, (o + 1) * l.fanIn), (v) => new V(v))),
    b: Array.from(l.b, (v) => new V(v)),
  }));
  const params = layers.flatMap((l) => [...l.w.flat(), ...l.b]);
  const nIn = sizes[0]!;
  const forward = (input: readonly (number | ScalarValue)[]): ScalarValue[] => {
    let act = input;
    layers.forEach((layer, li) => {
      const last = li === layers.length - 1;
      act = layer.w.map((row, o) => {
        // micrograd's neuron: sum(w·x, start=b), then tanh except on the output layer.
        let s = layer.b[o]!;
        for (let j = 0; j < row.length; j++) s = s.add(row[j]!.mul(act[j]!));
        return last ? s : s.tanh();
      });
    });
    return act as ScalarValue[];
  };
  return () => {
    let loss = new V(0);
    for (let s = 0; s < samples; s++) {
      const out = forward(Array.from(d.x.subarray(s * nIn, (s + 1) * nIn)))[0]!;
      const diff = out.sub(d.y[s]!);
      loss = loss.add(diff.mul(diff));
    }
    loss = loss.mul(1 / samples);
    loss.backward();
    for (const p of params) {
      p.data -= lr * p.grad;
      p.grad = 0;
    }
    return loss.data;
  };
}

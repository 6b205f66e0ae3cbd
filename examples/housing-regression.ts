/**
 * Regression on California housing with the smallest network that is still a network: two
 * inputs (median income, average rooms), three sigmoid hidden units and a sigmoid output,
 * trained with SGD on mean squared error, inputs and targets min-max scaled to [0, 1] as the
 * classic from-scratch tutorial does. Its test MSE is printed next to ordinary least squares
 * solved in closed form (normal equations) on the same split.
 *
 * Part 2 builds the same 2-3-1 network from scalar `Value`s, neuron by neuron, and shows that
 * the scalar graph and the Tensor graph give the same gradients on the first training step.
 *
 *   pnpm example:housing
 */
import { Value, noGrad, type Tensor } from '@chainrule/autograd';
import { californiaHousing } from '@chainrule/datasets/node';
import { minMaxScale, trainTestSplit, type Dataset } from '@chainrule/datasets';
import { Linear, MLP, SGD, evaluate, fit, mseLoss } from '@chainrule/nn';
import { batches, toTensors, type TensorBatch } from './lib/data.js';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** What the run found. */
export interface HousingResult {
  /** Test MSE of the network before and after training, in scaled units (targets in [0, 1]). */
  initialTestMse: number;
  testMse: number;
  /** Test MSE of least squares on the same two features, scaled units. */
  baselineTestMse: number;
  /** The same figures in the data's own units, ($100,000)². */
  testMseDollars: number;
  baselineTestMseDollars: number;
  /** Mean training loss of each epoch. */
  trainLoss: number[];
  /** Largest |Tensor gradient - Value gradient| over all parameters on the first step. */
  maxGradDifference: number;
  seconds: number;
}

const FEATURES = ['MedInc', 'AveRooms'] as const;
const BATCH_SIZE = 32;

/** The 2-3-1 sigmoid network, in float64 so that Part 2 can compare to rounding level. */
function network(seed: number): MLP {
  return new MLP([2, 3, 1], { activation: 'sigmoid', outputActivation: 'sigmoid', dtype: 'float64', seed });
}

/** Trains the 2-3-1 network, fits the baseline and compares with Values; `quick` trains 8 epochs instead of 30. @example main().testMse */
export function main(options: ExampleOptions = {}): HousingResult {
  const { quick = false, seed = 0, log = silent } = options;
  const start = performance.now();

  // Data: two features, 80/20 split, then min-max scaling fitted on the training part only.
  const housing = californiaHousing({ features: [...FEATURES] });
  const split = trainTestSplit(housing, { testFraction: 0.2, seed });
  const xs = minMaxScale(split.train, split.test);
  const ys = minMaxScale({ x: split.train.y, shape: split.train.yShape }, { x: split.test.y, shape: split.test.yShape });
  const train: Dataset = { ...xs.train, y: ys.train.x, yShape: split.train.yShape };
  const test: Dataset = { ...xs.test, y: ys.test.x, yShape: split.test.yShape };
  const dollars = (ys.max[0]! - ys.min[0]!) ** 2; // a scaled MSE times this is in ($100,000)²
  log(`California housing: ${train.shape[0]} train / ${test.shape[0]} test rows, features ${FEATURES.join(', ')}`);

  // Part 1: train the network.
  const model = network(seed);
  const testSet = [toTensors(test, 'float64')];
  const initialTestMse = evaluate(model, testSet, { loss: mseLoss }).loss!;
  const epochs = quick ? 8 : 30;
  const history = fit(model, batches(train, { batchSize: BATCH_SIZE, seed, dtype: 'float64' }), {
    loss: mseLoss,
    optimizer: new SGD(model.parameters(), { lr: 0.5 }),
    epochs,
    quiet: log === silent,
  });
  const testMse = evaluate(model, testSet, { loss: mseLoss }).loss!;
  const baselineTestMse = leastSquaresTestMse(train, test);
  log('\n                      test MSE (scaled)   test MSE (($100k)²)');
  log(`untrained 2-3-1 net    ${fmt(initialTestMse)}            ${fmt(initialTestMse * dollars)}`);
  log(`trained 2-3-1 net      ${fmt(testMse)}            ${fmt(testMse * dollars)}`);
  log(`least squares          ${fmt(baselineTestMse)}            ${fmt(baselineTestMse * dollars)}`);

  // Part 2: the first step again, on a scalar graph.
  // The same seed gives the same initial weights and the same first batch as fit's first step.
  const [firstBatch] = batches(train, { batchSize: BATCH_SIZE, seed, dtype: 'float64' })();
  const maxGradDifference = compareWithValues(network(seed), firstBatch!, log);

  return {
    initialTestMse,
    testMse,
    baselineTestMse,
    testMseDollars: testMse * dollars,
    baselineTestMseDollars: baselineTestMse * dollars,
    trainLoss: history.loss,
    maxGradDifference,
    seconds: secondsSince(start),
  };
}

function fmt(v: number): string {
  return v.toFixed(6).padStart(10);
}

/**
 * Test MSE of y ≈ c + w·x fitted on train by the normal equations (AᵀA)β = Aᵀy, with A = [1, x],
 * solved by Gaussian elimination with partial pivoting: plain numbers, no autograd.
 */
function leastSquaresTestMse(train: Dataset, test: Dataset): number {
  const d = train.shape[1]! + 1;
  const ata = Array.from({ length: d }, () => new Array<number>(d + 1).fill(0)); // [AᵀA | Aᵀy]
  for (let i = 0; i < train.shape[0]!; i++) {
    const row = [1, ...train.x.subarray(i * (d - 1), (i + 1) * (d - 1))];
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) ata[r]![c]! += row[r]! * row[c]!;
      ata[r]![d]! += row[r]! * train.y[i]!;
    }
  }
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) if (Math.abs(ata[r]![col]!) > Math.abs(ata[pivot]![col]!)) pivot = r;
    [ata[col], ata[pivot]] = [ata[pivot]!, ata[col]!];
    for (let r = 0; r < d; r++) {
      if (r === col) continue;
      const f = ata[r]![col]! / ata[col]![col]!;
      for (let c = col; c <= d; c++) ata[r]![c]! -= f * ata[col]![c]!;
    }
  }
  const beta = ata.map((row, r) => row[d]! / row[r]!);
  let sse = 0;
  for (let i = 0; i < test.shape[0]!; i++) {
    let p = beta[0]!;
    for (let j = 1; j < d; j++) p += beta[j]! * test.x[i * (d - 1) + j - 1]!;
    sse += (p - test.y[i]!) ** 2;
  }
  return sse / test.shape[0]!;
}

/** A Linear layer's weight [out, in] and bias [out] as rows of scalar Values with the same numbers. */
function valuesOf(layer: Linear): { w: Value[][]; b: Value[] } {
  const [out, inp] = layer.weight.shape as [number, number];
  const w = Array.from({ length: out }, (_, j) => Array.from({ length: inp }, (_, k) => new Value(layer.weight.data[j * inp + k]!)));
  const b = Array.from({ length: out }, (_, j) => new Value(layer.bias!.data[j]!));
  return { w, b };
}

/** One sigmoid neuron: σ(Σ w_k·x_k + b). */
function neuron(w: Value[], b: Value, x: Value[]): Value {
  return w.reduce((acc, wk, k) => acc.add(wk.mul(x[k]!)), b).sigmoid();
}

/**
 * Gradients of the batch MSE with respect to every parameter, once from the Tensor model and
 * once from a scalar graph of Values, printed side by side. Returns the largest difference.
 */
function compareWithValues(model: MLP, batch: TensorBatch, log: (line: string) => void): number {
  const hidden = model.layers.at(0) as Linear;
  const output = model.layers.at(2) as Linear;

  // Tensor graph: what fit's first step computes.
  model.zeroGrad();
  mseLoss(model.forward(batch.x), batch.y).backward();

  // Scalar graph: every multiply-add of every neuron is its own node.
  const h = valuesOf(hidden);
  const o = valuesOf(output);
  const m = batch.x.shape[0]!;
  let sum = new Value(0);
  for (let i = 0; i < m; i++) {
    const x = [new Value(batch.x.data[2 * i]!), new Value(batch.x.data[2 * i + 1]!)];
    const a = h.w.map((w, j) => neuron(w, h.b[j]!, x));
    const prediction = neuron(o.w[0]!, o.b[0]!, a);
    sum = sum.add(prediction.sub(batch.y.data[i]!).pow(2));
  }
  const loss = sum.div(m);
  loss.backward();

  const pairs: [string, Tensor, Value[]][] = [
    ['layers.0.weight', hidden.weight, h.w.flat()],
    ['layers.0.bias', hidden.bias!, h.b],
    ['layers.2.weight', output.weight, o.w.flat()],
    ['layers.2.bias', output.bias!, o.b],
  ];
  log(`\nFirst step on a batch of ${m}: loss ${noGrad(() => mseLoss(model.forward(batch.x), batch.y)).item().toFixed(12)} (Tensor), ${loss.data.toFixed(12)} (Value)`);
  log('parameter            Tensor gradient          Value gradient           |difference|');
  let worst = 0;
  for (const [name, t, vs] of pairs) {
    vs.forEach((v, k) => {
      const g = t.grad!.data[k]!;
      const diff = Math.abs(g - v.grad);
      worst = Math.max(worst, diff);
      const index = t.ndim === 2 ? `${Math.floor(k / t.shape[1]!)},${k % t.shape[1]!}` : `${k}`;
      log(`${`${name}[${index}]`.padEnd(20)} ${g.toExponential(15).padStart(23)}  ${v.grad.toExponential(15).padStart(23)}  ${diff.toExponential(2)}`);
    });
  }
  log(`max |difference| = ${worst.toExponential(3)}`);
  return worst;
}

if (isMain(import.meta.url)) {
  const r = main({ log: console.log });
  console.log(`\ndone in ${r.seconds} s`);
}

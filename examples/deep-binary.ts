/**
 * An L-layer binary classifier in the style of the classic "deep neural network, step by step"
 * exercise: layer sizes [784, 5, 5, 1], ReLU hidden layers, a sigmoid output and binary
 * cross-entropy, trained by full-batch gradient descent with learning rate 0.2 halved every
 * 1,000 iterations (StepLR stepped once per iteration). The task: tell 3s from 5s.
 *
 *   pnpm example:deep-binary
 */
import { noGrad, tensor, type Tensor } from '@chainrule/autograd';
import { mnistDigits, type ClassificationDataset } from '@chainrule/datasets/node';
import { MLP, SGD, StepLR, accuracy, bceLoss } from '@chainrule/nn';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';

/** What the run found. */
export interface DeepBinaryResult {
  iterations: number;
  /** Loss every 100 iterations (and the last). */
  losses: number[];
  initialLoss: number;
  finalLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  trainSize: number;
  testSize: number;
  seconds: number;
}

const POSITIVE = 5; // label 1
const NEGATIVE = 3; // label 0

/** The 3s and 5s of a digit set as x [n, 784] and y [n, 1] (1 for a five). */
function threesAndFives(ds: ClassificationDataset): { x: Tensor; y: Tensor } {
  const rows: number[] = [];
  ds.y.forEach((label, i) => {
    if (label === POSITIVE || label === NEGATIVE) rows.push(i);
  });
  const x = new Float32Array(rows.length * 784);
  const y = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(ds.x.subarray(r * 784, (r + 1) * 784), i * 784);
    y[i] = ds.y[r] === POSITIVE ? 1 : 0;
  });
  return { x: tensor(x, { shape: [rows.length, 784] }), y: tensor(y, { shape: [rows.length, 1] }) };
}

/** Trains the [784, 5, 5, 1] network on 3s and 5s; `quick` uses fewer digits and 300 iterations. @example main().testAccuracy */
export function main(options: ExampleOptions = {}): DeepBinaryResult {
  const { quick = false, seed = 0, log = silent } = options;
  const start = performance.now();
  const digits = mnistDigits(quick ? { train: 3000, test: 1000, seed } : { train: 8000, test: 2000, seed });
  const train = threesAndFives(digits.train);
  const test = threesAndFives(digits.test);
  log(`3 versus 5: ${train.x.shape[0]} training and ${test.x.shape[0]} test digits`);

  const model = new MLP([784, 5, 5, 1], { activation: 'relu', outputActivation: 'sigmoid', seed });
  const optimizer = new SGD(model.parameters(), { lr: 0.2 });
  const scheduler = new StepLR(optimizer, { stepSize: 1000, gamma: 0.5 });
  const iterations = quick ? 300 : 3000;
  const losses: number[] = [];
  for (let i = 0; i < iterations; i++) {
    optimizer.zeroGrad();
    const loss = bceLoss(model.forward(train.x), train.y); // the whole training set each step
    loss.backward();
    const lr = optimizer.paramGroups[0]!.lr;
    optimizer.step();
    scheduler.step(); // counts iterations: lr 0.2, then 0.1 from iteration 1000, ...
    if (i % 100 === 0 || i === iterations - 1) {
      losses.push(loss.item());
      if (i % 500 === 0 || i === iterations - 1) log(`iteration ${String(i).padStart(4)}: loss ${loss.item().toFixed(4)}, lr ${lr}`);
    }
  }

  const trainAccuracy = noGrad(() => accuracy(model.forward(train.x), train.y));
  const testAccuracy = noGrad(() => accuracy(model.forward(test.x), test.y));
  const seconds = secondsSince(start);
  log(`train accuracy ${(100 * trainAccuracy).toFixed(2)}%, test accuracy ${(100 * testAccuracy).toFixed(2)}% (${seconds} s)`);
  return {
    iterations,
    losses,
    initialLoss: losses[0]!,
    finalLoss: losses.at(-1)!,
    trainAccuracy,
    testAccuracy,
    trainSize: train.x.shape[0]!,
    testSize: test.x.shape[0]!,
    seconds,
  };
}

if (isMain(import.meta.url)) main({ log: console.log });

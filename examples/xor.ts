/**
 * XOR, the classic "why we need hidden layers" network: the 4-row truth table with a constant
 * third input column standing in for a bias, a 3-4-1 sigmoid network with no bias terms of its
 * own, sum-of-squared-errors loss and 1,500 steps of full-batch gradient descent.
 *
 *   pnpm example:xor
 */
import { noGrad, tensor } from '@chainrule/autograd';
import { xor } from '@chainrule/datasets';
import { MLP, SGD, sseLoss } from '@chainrule/nn';
import { isMain, silent, type ExampleOptions } from './lib/main.js';

/** What the run found. */
export interface XorResult {
  /** SSE before the first step and after the last. */
  initialLoss: number;
  finalLoss: number;
  /** Network outputs for the four rows, and the targets. */
  predictions: number[];
  targets: number[];
  iterations: number;
}

/** Trains the XOR network; `quick` runs 500 steps instead of 1,500. @example main({ log: console.log }).predictions */
export function main(options: ExampleOptions = {}): XorResult {
  const { quick = false, seed = 0, log = silent } = options;
  const iterations = quick ? 500 : 1500;
  const data = xor(); // x [4, 3]: the two inputs and a constant 1; y [4]: 0 1 1 0
  const x = tensor(data.x, { shape: data.shape });
  const y = tensor(Float32Array.from(data.y), { shape: [4, 1] });

  // No biases: the constant input column plays their part in the first layer.
  const model = new MLP([3, 4, 1], { activation: 'sigmoid', outputActivation: 'sigmoid', bias: false, seed });
  const optimizer = new SGD(model.parameters(), { lr: 2 });
  log(`${model.toString()}\n`);

  let initialLoss = NaN;
  let finalLoss = NaN;
  for (let i = 0; i < iterations; i++) {
    optimizer.zeroGrad();
    const loss = sseLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    if (i === 0) initialLoss = loss.item();
    finalLoss = loss.item();
    if (i % 250 === 0 || i === iterations - 1) log(`iteration ${String(i).padStart(4)}: SSE ${loss.item().toFixed(5)}`);
  }

  const out = noGrad(() => model.forward(x));
  const predictions = Array.from(out.data);
  const targets = Array.from(data.y);
  log('\n input    target  prediction');
  for (let r = 0; r < 4; r++) {
    log(` [${data.x[3 * r]}, ${data.x[3 * r + 1]}]   ${targets[r]}       ${predictions[r]!.toFixed(4)}`);
  }
  return { initialLoss, finalLoss, predictions, targets, iterations };
}

if (isMain(import.meta.url)) main({ log: console.log });

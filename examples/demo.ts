/**
 * The demo: a 784-128-10 network learns the 10,000 handwritten digits embedded with chainrule,
 * trained by nn's `fit` with its live progress line; then test accuracy, a confusion matrix, and
 * the loss and accuracy curves drawn to demo-output/curves.svg. About 20 seconds on two cores.
 *
 *   pnpm demo
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { noGrad } from '@chainrule/autograd';
import { mnistDigits } from '@chainrule/datasets/node';
import { CosineAnnealingLR, MLP, SGD, accuracy, confusionMatrix, crossEntropyLoss, fit, type History } from '@chainrule/nn';
import { batches, toTensors } from './lib/data.js';
import { isMain, secondsSince, silent, type ExampleOptions } from './lib/main.js';
import { lineChart } from './lib/svg-chart.js';

/** Options of the demo. */
export interface DemoOptions extends ExampleOptions {
  /** Directory of curves.svg (default demo-output in the working directory). */
  outDir?: string;
}

/** What the demo found. */
export interface DemoResult {
  testAccuracy: number;
  /** Rows: true digit; columns: predicted digit. */
  confusion: number[][];
  history: History;
  svgPath: string;
  seconds: number;
}

/** The confusion matrix as a table with digit headers. */
function formatConfusion(m: number[][]): string {
  const cell = (v: number | string): string => String(v).padStart(5);
  const lines = [`true\\pred${m.map((_, j) => cell(j)).join('')}`];
  m.forEach((row, i) => lines.push(`${cell(i).padEnd(9)}${row.map(cell).join('')}`));
  return lines.join('\n');
}

/** Trains, evaluates and draws the curves; `quick` uses 1,500/500 digits and 3 epochs. @example main({ outDir: 'out' }).testAccuracy */
export function main(options: DemoOptions = {}): DemoResult {
  const { quick = false, seed = 0, log = silent, outDir = 'demo-output' } = options;
  const start = performance.now();
  const data = mnistDigits(quick ? { train: 1500, test: 500, seed } : { train: 8000, test: 2000, seed });
  log(`chainrule demo: a 784-128-10 network learns handwritten digits (${data.train.shape[0]} train, ${data.test.shape[0]} test)\n`);

  const model = new MLP([784, 128, 10], { activation: 'relu', seed });
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const epochs = quick ? 3 : 10;
  const test = toTensors(data.test);
  const history = fit(model, batches(data.train, { batchSize: 64, seed }), {
    loss: crossEntropyLoss,
    optimizer,
    scheduler: new CosineAnnealingLR(optimizer, { tMax: epochs }),
    epochs,
    metrics: { accuracy },
    validation: [test],
    quiet: log === silent,
  });

  model.eval();
  const logits = noGrad(() => model.forward(test.x));
  const testAccuracy = accuracy(logits, test.y);
  const confusion = confusionMatrix(logits, test.y);
  log(`\nTest accuracy: ${(100 * testAccuracy).toFixed(2)}% on ${data.test.shape[0]} digits the network never saw`);
  log(`\nConfusion matrix (rows: true digit, columns: predicted):\n${formatConfusion(confusion)}`);

  const svg = lineChart([
    {
      title: 'Loss',
      xLabel: 'epoch',
      yLabel: 'cross-entropy',
      series: [
        { name: 'train', values: history.loss, color: '#1f77b4' },
        { name: 'test', values: history.valLoss, color: '#ff7f0e', dashed: true },
      ],
    },
    {
      title: 'Accuracy',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: [
        { name: 'train', values: history.metrics.accuracy!, color: '#1f77b4' },
        { name: 'test', values: history.valMetrics.accuracy!, color: '#ff7f0e', dashed: true },
      ],
    },
  ]);
  mkdirSync(outDir, { recursive: true });
  const svgPath = resolve(join(outDir, 'curves.svg'));
  writeFileSync(svgPath, svg);
  const seconds = secondsSince(start);
  log(`\nLoss and accuracy curves: ${relative(process.cwd(), svgPath)}`);
  log(`Done in ${seconds} s.`);
  return { testAccuracy, confusion, history, svgPath, seconds };
}

if (isMain(import.meta.url)) main({ log: console.log });

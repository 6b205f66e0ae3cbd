/**
 * From chainrule to ONNX Runtime: trains a 784-64-10 MLP on the embedded digits, exports it with a
 * softmax on top as an ONNX file (`saveOnnx`, dynamic batch axis), loads that file in
 * onnxruntime-node and runs both on the test digits, printing the two outputs side by side.
 * The same file serves from onnxruntime-web in a browser or from ONNX Runtime's Python, C#, Java
 * or C++ bindings.
 *
 *   pnpm example:onnx            # writes demo-output/mnist-mlp.onnx
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { noGrad } from '@chainrule/autograd';
import { mnistDigits } from '@chainrule/datasets/node';
import { MLP, SGD, Sequential, Softmax, crossEntropyLoss, fit } from '@chainrule/nn';
import { saveOnnx } from '@chainrule/nn/node';
import { batches, toTensors } from './lib/data.js';
import { isMain, silent, type ExampleOptions } from './lib/main.js';

/** What the run found. */
export interface ExportOnnxResult {
  /** Where the model was written, and its size in bytes. */
  path: string;
  bytes: number;
  testSize: number;
  /** Accuracy of chainrule's and ONNX Runtime's predictions on the test digits. */
  chainruleAccuracy: number;
  onnxAccuracy: number;
  /** Largest difference between the two probability outputs, over every test digit and class. */
  maxAbsDifference: number;
  /** Test digits on which the two predict different classes. */
  disagreements: number;
}

/** Options of this example. */
export interface ExportOnnxExampleOptions extends ExampleOptions {
  /** Where to write the model (default demo-output/mnist-mlp.onnx; the quick run uses a temporary directory). */
  path?: string;
}

function argmax(row: ArrayLike<number>, start: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (row[start + k]! > row[start + best]!) best = k;
  return best;
}

/** Trains, exports and serves; `quick` trains on 2,000 digits for 2 epochs instead of 8,000 for 5. @example (await main()).maxAbsDifference */
export async function main(options: ExportOnnxExampleOptions = {}): Promise<ExportOnnxResult> {
  const { quick = false, seed = 0, log = silent } = options;
  const scratch = options.path === undefined && quick ? mkdtempSync(join(tmpdir(), 'chainrule-onnx-')) : null;
  const path = options.path ?? (scratch === null ? 'demo-output/mnist-mlp.onnx' : join(scratch, 'mnist-mlp.onnx'));
  try {
    // 1. Train in chainrule: logits out, softmax cross-entropy as the loss.
    const data = mnistDigits(quick ? { train: 2000, test: 500, seed } : { train: 8000, test: 2000, seed });
    const model = new MLP([784, 64, 10], { activation: 'relu', seed });
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    fit(model, batches(data.train, { batchSize: 64, seed }), { loss: crossEntropyLoss, optimizer, epochs: quick ? 2 : 5, quiet: true });

    // 2. Export: the served model outputs probabilities, so a softmax goes on top of the logits.
    const served = new Sequential(model, new Softmax(-1));
    mkdirSync(dirname(path), { recursive: true });
    const bytes = saveOnnx(path, served, { inputShape: [null, 784] });
    log(`wrote ${path} (${bytes.length.toLocaleString('en')} bytes): input 'input' [batch, 784] float32, output 'output' [batch, 10]`);

    // 3. Serve: ONNX Runtime loads the file and runs the whole test set as one batch.
    const test = toTensors(data.test);
    const n = test.x.shape[0]!;
    const session = await ort.InferenceSession.create(path);
    const feeds = { input: new ort.Tensor('float32', test.x.data, [n, 784]) };
    const onnx = (await session.run(feeds)).output!.data as Float32Array;
    await session.release();
    const ours = noGrad(() => served.eval().forward(test.x)).data;

    let maxAbsDifference = 0;
    for (let i = 0; i < ours.length; i++) maxAbsDifference = Math.max(maxAbsDifference, Math.abs(ours[i]! - onnx[i]!));
    let chainruleCorrect = 0;
    let onnxCorrect = 0;
    let disagreements = 0;
    for (let r = 0; r < n; r++) {
      const a = argmax(ours, r * 10, 10);
      const b = argmax(onnx, r * 10, 10);
      const label = test.y.data[r]!;
      if (a === label) chainruleCorrect++;
      if (b === label) onnxCorrect++;
      if (a !== b) disagreements++;
    }

    log('\ndigit  label  chainrule p(label)  ONNX Runtime p(label)  predicted (chainrule / ORT)');
    for (let r = 0; r < 5; r++) {
      const label = test.y.data[r]!;
      const p = (out: ArrayLike<number>): string => out[r * 10 + label]!.toFixed(7).padStart(18);
      log(`${String(r).padStart(5)}  ${String(label).padStart(5)}  ${p(ours)}  ${p(onnx)}     ${argmax(ours, r * 10, 10)} / ${argmax(onnx, r * 10, 10)}`);
    }
    const result: ExportOnnxResult = {
      path,
      bytes: bytes.length,
      testSize: n,
      chainruleAccuracy: chainruleCorrect / n,
      onnxAccuracy: onnxCorrect / n,
      maxAbsDifference,
      disagreements,
    };
    log(`\n${n} test digits: accuracy ${(100 * result.chainruleAccuracy).toFixed(2)}% in chainrule, ${(100 * result.onnxAccuracy).toFixed(2)}% in ONNX Runtime`);
    log(`largest difference between the two outputs: ${maxAbsDifference.toExponential(2)}; predictions that differ: ${disagreements}`);
    return result;
  } finally {
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await main({ log: console.log });

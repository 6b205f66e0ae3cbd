// The browser-safe entries as a TypeScript consumer uses them (the main ones, /onnx, and /viz with
// its peer @viz-js/viz). scripts/consumer-test.mjs type-checks this file under strict settings
// with no @types/node (once with moduleResolution "bundler", once with "nodenext"), then bundles
// it for the browser, fails on anything of Node, and runs the bundle.
import { gradcheck, randn, tensor, type GradcheckReport, type Tensor } from '@chainrule/autograd';
import { DataLoader, moons, type ClassificationDataset } from '@chainrule/datasets';
import { Adam, MLP, crossEntropyLoss, parseSafetensors, serializeSafetensors } from '@chainrule/nn';
import { exportOnnx } from '@chainrule/nn/onnx';
import { toSvg } from '@chainrule/autograd/viz';

export function trainMoons(epochs: number): { loss: number; onnxBytes: number; report: GradcheckReport } {
  const data: ClassificationDataset<Float32Array> = moons({ n: 64, noise: 0.1, seed: 0 });
  const model = new MLP([2, 8, 2], { activation: 'tanh', seed: 0 });
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const loader = new DataLoader(data, { batchSize: 16, shuffle: true, seed: 0 });
  let last = Number.NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const batch of loader) {
      optimizer.zeroGrad();
      const logits: Tensor = model.forward(tensor(batch.x, { shape: batch.shape }));
      const loss = crossEntropyLoss(logits, tensor(batch.y));
      loss.backward();
      optimizer.step();
      last = loss.item();
    }
  }
  const weights = parseSafetensors(serializeSafetensors(model.stateDict()));
  model.loadStateDict(weights);
  const a = randn([2, 3], { dtype: 'float64', seed: 1, requiresGrad: true });
  const report = gradcheck((x) => x.sigmoid().sum(), [a]);
  return { loss: last, onnxBytes: exportOnnx(model, { inputShape: [null, 2] }).length, report };
}

const result = trainMoons(20);
if (!result.report.ok || !(result.loss < 0.5) || result.onnxBytes === 0) throw new Error(`browser consumer: ${JSON.stringify(result)}`);
const svg = await toSvg(randn([2, 2], { seed: 0, requiresGrad: true }).tanh().sum());
if (!svg.startsWith('<svg')) throw new Error(`browser consumer: toSvg gave ${svg.slice(0, 40)}`);
console.log(`browser bundle ok: loss ${result.loss.toFixed(3)}, an SVG graph of ${svg.length} characters`);

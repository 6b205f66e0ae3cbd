// A plain Node script in a project that installed the packed packages with npm: no TypeScript,
// no loader, no build of its own. Run by scripts/consumer-test.mjs; any failed assertion exits 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradcheck, kernelThreads, noGrad, randn, setKernelThreads, tensor, wasmGemmFlavour } from '@chainrule/autograd';
import { DataLoader } from '@chainrule/datasets';
import { mnistDigits } from '@chainrule/datasets/node';
import { Adam, MLP, accuracy, crossEntropyLoss } from '@chainrule/nn';
import { load, save } from '@chainrule/nn/node';

// Real digits from the installed datasets package (it finds the 'mnist' package from dist/).
const { train, test } = mnistDigits({ train: 1000, test: 300, seed: 0 });
assert.deepEqual(train.shape, [1000, 784]);
assert.deepEqual(test.shape, [300, 784]);

// A small MLP trained for a few epochs: the loss must fall and the test accuracy rise well past chance.
const model = new MLP([784, 32, 10], { activation: 'relu', seed: 0 });
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
const loader = new DataLoader(train, { batchSize: 50, shuffle: true, seed: 0 });
const losses = [];
for (let epoch = 0; epoch < 3; epoch++) {
  for (const batch of loader) {
    optimizer.zeroGrad();
    const loss = crossEntropyLoss(model.forward(tensor(batch.x, { shape: batch.shape })), tensor(batch.y));
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
  }
}
const testX = tensor(test.x, { shape: test.shape });
const testAccuracy = noGrad(() => accuracy(model.forward(testX), tensor(test.y)));
assert.ok(losses.at(-1) < losses[0] / 2, `loss fell from ${losses[0]} to only ${losses.at(-1)}`);
assert.ok(testAccuracy > 0.7, `test accuracy ${testAccuracy} after 3 epochs`);

// gradcheck through the built ops.
const a = randn([3, 4], { dtype: 'float64', seed: 1, requiresGrad: true });
const b = randn([4, 2], { dtype: 'float64', seed: 2, requiresGrad: true });
const report = gradcheck((x, w) => x.matmul(w).tanh().sum(), [a, b]);
assert.equal(report.ok, true, `gradcheck failed: ${JSON.stringify(report)}`);

// safetensors round trip through a file: a differently initialised model reloads to the same outputs.
const dir = mkdtempSync(join(tmpdir(), 'chainrule-consumer-app-'));
try {
  const file = join(dir, 'model.safetensors');
  save(file, model.stateDict());
  const reloaded = new MLP([784, 32, 10], { activation: 'relu', seed: 1 });
  reloaded.loadStateDict(load(file));
  const [before, after] = noGrad(() => [model.forward(testX), reloaded.forward(testX)]);
  assert.deepEqual(Array.from(after.data), Array.from(before.data));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// The embedded WebAssembly and the gemm helper thread work from dist/: the module loads, the
// helper starts (on 2+ cores), and a product it shares equals the one-thread product.
assert.notEqual(wasmGemmFlavour(), null, 'the embedded WebAssembly kernels did not load');
const p = randn([256, 256], { seed: 3 });
const q = randn([256, 256], { seed: 4 });
setKernelThreads(2);
let two = p.matmul(q); // the first large product starts the helper
if (availableParallelism() >= 2) {
  const deadline = Date.now() + 30_000;
  while (kernelThreads() !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(kernelThreads(), 2, 'the gemm helper thread did not start from dist/');
  two = p.matmul(q);
}
const threads = kernelThreads();
setKernelThreads(1);
const one = p.matmul(q);
assert.deepEqual(Array.from(two.data), Array.from(one.data));

console.log(
  JSON.stringify({
    firstLoss: +losses[0].toFixed(3),
    lastLoss: +losses.at(-1).toFixed(3),
    testAccuracy,
    gradcheckMaxAbsError: report.maxAbsError,
    wasm: wasmGemmFlavour(),
    threads,
  }),
);

/**
 * Writes a chainrule-initialised LeNet-style CNN (the model of torch-layers-reference.py, in
 * evaluation mode after one training forward, so its running statistics are not the defaults)
 * as test/fixtures/chainrule-lenet.safetensors, with an input and chainrule's output in
 * chainrule-lenet.json. `torch-layers-reference.py --check` loads that file into PyTorch's model
 * and compares; test/torch-layers.test.ts checks that chainrule still writes these bytes.
 *
 *   node scripts/run.mjs packages/nn/scripts/chainrule-lenet.ts
 */
import { writeFileSync, renameSync } from 'node:fs';
import { noGrad, type Tensor } from '@chainrule/autograd';
import { chainruleLenet } from '../test/chainrule-lenet.js';
import { serializeSafetensors } from '../src/index.js';

const { model, input } = chainruleLenet();
const output: Tensor = noGrad(() => model.forward(input));
const dir = new URL('../test/fixtures/', import.meta.url);
const write = (name: string, data: string | Uint8Array): void => {
  const path = new URL(name, dir);
  writeFileSync(new URL(`${name}.tmp`, dir), data);
  renameSync(new URL(`${name}.tmp`, dir), path);
};
write('chainrule-lenet.safetensors', serializeSafetensors(model.stateDict()));
const flat = (t: Tensor) => ({ shape: t.shape, data: Array.from(t.data) });
write('chainrule-lenet.json', `${JSON.stringify({ input: flat(input), output: flat(output) })}\n`);
console.log('wrote chainrule-lenet.safetensors and chainrule-lenet.json');

// The Node-only entries and the entries with optional peers (fast-check, @viz-js/viz) as a
// TypeScript consumer uses them, type-checked by scripts/consumer-test.mjs under strict settings
// with @types/node (bundler and nodenext).
import { readFileSync } from 'node:fs';
import { tensor } from '@chainrule/autograd';
import { checkGradProperty, shapeArb, tensorArb, unaryArb } from '@chainrule/autograd/testing';
import { toSvg } from '@chainrule/autograd/viz';
import { californiaHousing, mnistDigits, readCsv, type MnistDigits } from '@chainrule/datasets/node';
import { Linear } from '@chainrule/nn';
import { load, save, saveCheckpoint } from '@chainrule/nn/node';
import fc from 'fast-check';

export function roundTrip(path: string): number {
  const layer = new Linear(3, 2, { seed: 0 });
  save(path, layer.stateDict());
  layer.loadStateDict(load(path));
  saveCheckpoint(`${path}.ckpt`, { model: layer.stateDict() });
  return readFileSync(path).length;
}

export function digits(): MnistDigits {
  return mnistDigits({ train: 10, test: 10, seed: 0 });
}

export const housingRows = (): number => californiaHousing().shape[0] ?? 0;
export const csv = readCsv;

export const draw = (): Promise<string> => toSvg(tensor([1, 2], { requiresGrad: true }).sum());

export function properties(): void {
  checkGradProperty((x) => x.tanh().sum(), unaryArb(shapeArb({ maxRank: 2 }), { dtype: 'float64' }), { numRuns: 5 });
  fc.assert(fc.property(shapeArb().chain((s) => tensorArb(s)), (t) => t.shape.length <= 3));
  void tensor([1]);
}

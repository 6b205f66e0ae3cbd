import { beforeAll, describe, expect, it } from 'vitest';
import { main, type ExportOnnxResult } from '../export-onnx.js';

describe('examples/export-onnx', () => {
  let r: ExportOnnxResult;
  beforeAll(async () => {
    r = await main({ quick: true, seed: 0 });
  });

  it('ONNX Runtime gives the probabilities chainrule gives, to 1e-5', () => {
    expect(r.maxAbsDifference).toBeLessThan(1e-5);
    expect(r.disagreements).toBe(0);
    expect(r.onnxAccuracy).toBe(r.chainruleAccuracy);
  });

  it('the exported model is trained: above 85% on 500 test digits after 2 epochs', () => {
    expect(r.testSize).toBe(500);
    expect(r.onnxAccuracy).toBeGreaterThan(0.85);
  });
});

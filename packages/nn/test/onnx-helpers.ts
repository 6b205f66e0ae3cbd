// What the ONNX tests share: running an exported graph in ONNX Runtime (onnxruntime-node, CPU)
// and chainrule's evaluation-mode output to compare it with.
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { noGrad, type Tensor } from '@chainrule/autograd';
import { assertClose } from '@chainrule/autograd/testing';
import type { AnyModule, Module } from '@chainrule/nn';
import { exportOnnx, type ExportOnnxOptions } from '@chainrule/nn/onnx';

/** Runs `bytes` in ONNX Runtime on `x` and returns the output with its shape. */
export async function runOnnx(bytes: Uint8Array | string, x: Tensor, names = { input: 'input', output: 'output' }): Promise<{ data: ArrayLike<number>; dims: readonly number[] }> {
  const session = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes) : await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [names.input]: new ort.Tensor(x.dtype, x.data, [...x.shape]) };
    const out = (await session.run(feeds))[names.output]!;
    return { data: out.data as Float32Array | Float64Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** chainrule's output for `x` in evaluation mode, the mode an exported graph computes. */
export function reference(model: AnyModule, x: Tensor): Tensor {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => (model as Module).forward(x));
  } finally {
    model.train(wasTraining);
  }
}

/** Exports `model` and checks ONNX Runtime gives chainrule's output on each input, to `tol` (absolute) plus `rtol` (relative). */
export async function expectAgrees(model: AnyModule, options: ExportOnnxOptions, inputs: readonly Tensor[], tol: number, rtol = 0): Promise<Uint8Array> {
  const bytes = exportOnnx(model as Module, options);
  for (const x of inputs) {
    const expected = reference(model, x);
    const got = await runOnnx(bytes, x);
    expect(got.dims).toEqual(expected.shape);
    expect(got.data).toBeInstanceOf(expected.dtype === 'float32' ? Float32Array : Float64Array);
    assertClose(got.data, expected.data, rtol, tol);
  }
  return bytes;
}

export function decode(bytes: Uint8Array): ModelProto {
  return fromBinary(ModelProtoSchema, bytes);
}

export function opTypes(bytes: Uint8Array): string[] {
  return decode(bytes).graph!.node.map((n) => n.opType);
}

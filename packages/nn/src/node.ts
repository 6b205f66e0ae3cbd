/**
 * Node file I/O for @chainrule/nn: safetensors, checkpoints and ONNX files on disk. The byte
 * codecs it wraps are in the main and '/onnx' entries, which stay free of Node built-ins.
 * @module @chainrule/nn/node
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Tensor } from '@chainrule/autograd';
import { parseSafetensors, serializeSafetensors, type SafetensorsMetadata } from './serialize/safetensors.js';
import { parseCheckpoint, serializeCheckpoint, type Checkpoint } from './serialize/checkpoint.js';
import type { Module } from './module.js';
import { exportOnnx, type ExportOnnxOptions } from './onnx/export.js';

/** Writes `bytes` to a temporary file beside `path`, then renames it: a crash never leaves half a file. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Saves tensors (e.g. `model.stateDict()`) as a safetensors file at `path`, and returns the bytes;
 * with no path (null or undefined), only returns them. The file is written to a temporary file
 * and renamed, so a failure never leaves half a file (PyTorch's counterpart is safetensors'
 * `save_file`; `torch.save` pickles instead).
 * @throws SafetensorsError as `serializeSafetensors`; Node's file-system errors (ENOENT, EACCES...)
 * pass through, with nothing written.
 * @example save('model.safetensors', model.stateDict())
 */
export function save(path: string | null | undefined, dict: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): Uint8Array {
  const bytes = serializeSafetensors(dict, metadata);
  if (path !== null && path !== undefined) writeAtomically(path, bytes);
  return bytes;
}

/**
 * Reads a safetensors file into tensors by name (float32, float64, and I64 read as float64).
 * @throws SafetensorsError if the file is malformed, with the problem (see `parseSafetensorsFile`);
 * Node's file-system errors (ENOENT...) pass through.
 * @example model.loadStateDict(load('model.safetensors'))
 */
export function load(path: string): Record<string, Tensor> {
  return parseSafetensors(readFileSync(path));
}

/**
 * Saves a training checkpoint (model, optimiser, scheduler) as one safetensors file, atomically
 * (see `serializeCheckpoint`).
 * @throws SafetensorsError as `serializeCheckpoint`; Node's file-system errors pass through.
 * @example saveCheckpoint('ckpt.safetensors', { model: net.stateDict(), optimizer: opt.stateDict() })
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeAtomically(path, serializeCheckpoint(checkpoint));
}

/**
 * Reads a checkpoint written by `saveCheckpoint`.
 * @throws SafetensorsError as `parseCheckpoint`; Node's file-system errors pass through.
 * @example const { model, optimizer } = loadCheckpoint('ckpt.safetensors')
 */
export function loadCheckpoint(path: string): Checkpoint {
  return parseCheckpoint(readFileSync(path));
}

/**
 * Exports `model` as an ONNX file at `path` (see `exportOnnx` in '@chainrule/nn/onnx') and returns
 * its bytes; written atomically, and not at all when the export fails.
 * @throws OnnxExportError, ShapeError, DTypeError, ArgumentError as `exportOnnx`; Node's
 * file-system errors pass through.
 * @example saveOnnx('model.onnx', model, { inputShape: [null, 784] })
 */
export function saveOnnx(path: string, model: Module, options: ExportOnnxOptions): Uint8Array {
  const bytes = exportOnnx(model, options);
  writeAtomically(path, bytes);
  return bytes;
}

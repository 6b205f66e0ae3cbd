/**
 * Node file I/O for @chainrule/nn: safetensors, checkpoints and ONNX files on disk. The byte
 * codecs it wraps are in the main and '/onnx' entries, which stay free of Node built-ins.
 * @module @chainrule/nn/node
 */
import type { Tensor } from '@chainrule/autograd';
import { parseSafetensors, serializeSafetensors, type SafetensorsMetadata } from './serialize/safetensors.js';
import { parseCheckpoint, serializeCheckpoint, type Checkpoint } from './serialize/checkpoint.js';
import type { AnyModule } from './module.js';
import { exportOnnx, type ExportOnnxOptions } from './onnx/export.js';
import { SafetensorsError } from './errors.js';
import { readFileNamed, writeFileAtomic } from './node/files.js';

export { FileError } from './node/files.js';

/** Parses a file's bytes; a format error names the file too. */
function parseFile<T>(caller: string, path: string, parse: (bytes: Uint8Array) => T): T {
  const bytes = readFileNamed(caller, path);
  try {
    return parse(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${caller}: ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Saves tensors (e.g. `model.stateDict()`) as a safetensors file at `path`, and returns the bytes;
 * with no path (null or undefined), only returns them. The write is atomic and durable (a new
 * file with an unguessable name, created exclusively, fsynced, renamed over `path`): a crash or
 * power loss leaves the old file or the new one, and a symlink planted beside `path` is never
 * followed. PyTorch's counterpart is safetensors' `save_file` (`torch.save` pickles instead).
 * @throws SafetensorsError as `serializeSafetensors`, before anything is written.
 * @throws FileError if the file cannot be written (its `code` is Node's, e.g. 'EACCES'); `path` is
 * then left as it was.
 * @throws TypeError if `path` is an empty string.
 * @example save('model.safetensors', model.stateDict())
 */
export function save(path: string | null | undefined, dict: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): Uint8Array {
  const bytes = serializeSafetensors(dict, metadata);
  if (path !== null && path !== undefined) writeFileAtomic('save', path, bytes);
  return bytes;
}

/**
 * Reads a safetensors file into tensors by name (float32, float64, and I64 read as float64).
 * @throws SafetensorsError if the file is malformed, naming the file and the problem (see `parseSafetensorsFile`).
 * @throws FileError if the file cannot be read (`code` 'ENOENT', 'EACCES'...).
 * @example model.loadStateDict(load('model.safetensors'))
 */
export function load(path: string): Record<string, Tensor> {
  return parseFile('load', path, parseSafetensors);
}

/**
 * Saves a training checkpoint (model, optimiser, scheduler) as one safetensors file, atomically
 * (see `serializeCheckpoint`); written as `save` writes.
 * @throws SafetensorsError as `serializeCheckpoint`, before anything is written.
 * @throws FileError if the file cannot be written; `path` is then left as it was.
 * @example saveCheckpoint('ckpt.safetensors', { model: net.stateDict(), optimizer: opt.stateDict() })
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeFileAtomic('saveCheckpoint', path, serializeCheckpoint(checkpoint));
}

/**
 * Reads a checkpoint written by `saveCheckpoint`.
 * @throws SafetensorsError as `parseCheckpoint`, naming the file.
 * @throws FileError if the file cannot be read.
 * @example const { model, optimizer } = loadCheckpoint('ckpt.safetensors')
 */
export function loadCheckpoint(path: string): Checkpoint {
  return parseFile('loadCheckpoint', path, parseCheckpoint);
}

/**
 * Exports `model` as an ONNX file at `path` (see `exportOnnx` in '@chainrule/nn/onnx') and returns
 * its bytes; written as `save` writes, and not at all when the export fails.
 * @throws OnnxExportError, ShapeError, DTypeError, ArgumentError as `exportOnnx`, before anything is written.
 * @throws FileError if the file cannot be written; `path` is then left as it was.
 * @example saveOnnx('model.onnx', model, { inputShape: [null, 784] })
 */
export function saveOnnx(path: string, model: AnyModule, options: ExportOnnxOptions): Uint8Array {
  const bytes = exportOnnx(model, options);
  writeFileAtomic('saveOnnx', path, bytes);
  return bytes;
}

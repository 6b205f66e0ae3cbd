import { Tensor } from '@chainrule/autograd';
import { SafetensorsError } from '../errors.js';
import type { OptimizerStateDict, ParamState, GroupStateDict } from '../optim/optimizer.js';
import { parseSafetensorsFile, serializeSafetensors, type SafetensorsMetadata } from './safetensors.js';

/** A training checkpoint: model state, and optionally optimiser and scheduler state. */
export interface Checkpoint {
  /** The model's `stateDict()`. */
  model: Record<string, Tensor>;
  /** An optimiser's `stateDict()`. */
  optimizer?: OptimizerStateDict;
  /** A scheduler's `stateDict()` (plain numbers, arrays and nested objects). */
  scheduler?: object;
  /** Free-form strings kept in the file's metadata. */
  extra?: Record<string, string>;
}

const OPTIMIZER_KEY = 'chainrule.optimizer';
const SCHEDULER_KEY = 'chainrule.scheduler';
const EXTRA_PREFIX = 'extra.';

// JSON has no Infinity or NaN (ReduceLROnPlateau's best starts at Infinity): tag them as strings.
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v));
}

function fromJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text, revive);
  } catch (e) {
    throw new SafetensorsError(`parseCheckpoint: metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

function revive(_k: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'nonFinite' in v) {
    return Number((v as { nonFinite: string }).nonFinite);
  }
  return v;
}

/**
 * Encodes a checkpoint as one safetensors file: model tensors under `model.`, optimiser buffers
 * under `optimizer.<param index>.<name>`, step counts, group options and scheduler state as JSON
 * in the metadata. Resuming from it continues training bit for bit. (PyTorch pickles a dict with
 * `torch.save`; this file is plain safetensors, readable by any safetensors reader.)
 * @throws SafetensorsError as `serializeSafetensors` (a model entry that is not a Tensor, a
 * non-string `extra` value).
 * @example const bytes = serializeCheckpoint({ model: net.stateDict(), optimizer: opt.stateDict() })
 */
export function serializeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(checkpoint.model)) tensors[`model.${k}`] = t;
  const metadata: SafetensorsMetadata = {};
  if (checkpoint.optimizer !== undefined) {
    const numbers: Record<string, Record<string, number>> = {};
    for (const [index, state] of Object.entries(checkpoint.optimizer.state)) {
      for (const [key, v] of Object.entries(state)) {
        if (typeof v === 'number') (numbers[index] ??= {})[key] = v;
        else tensors[`optimizer.${index}.${key}`] = new Tensor(v, [v.length]);
      }
    }
    metadata[OPTIMIZER_KEY] = toJson({ numbers, paramGroups: checkpoint.optimizer.paramGroups });
  }
  if (checkpoint.scheduler !== undefined) metadata[SCHEDULER_KEY] = toJson(checkpoint.scheduler);
  for (const [k, v] of Object.entries(checkpoint.extra ?? {})) metadata[`${EXTRA_PREFIX}${k}`] = v;
  return serializeSafetensors(tensors, metadata);
}

/**
 * Decodes `serializeCheckpoint` bytes. Infinity and NaN in the scheduler's state survive the trip.
 * @throws SafetensorsError if the bytes are not valid safetensors (see `parseSafetensorsFile`), a
 * tensor is neither `model.*` nor `optimizer.<index>.<name>`, or the checkpoint's JSON metadata is
 * malformed or missing.
 * @example const ckpt = parseCheckpoint(bytes); net.loadStateDict(ckpt.model); opt.loadStateDict(ckpt.optimizer!)
 */
export function parseCheckpoint(bytes: Uint8Array): Checkpoint {
  const { tensors, metadata } = parseSafetensorsFile(bytes);
  const model: Record<string, Tensor> = {};
  const buffers: Record<string, ParamState> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('model.')) {
      model[name.slice('model.'.length)] = t;
    } else if (name.startsWith('optimizer.')) {
      const [, index, key] = name.split('.');
      if (index === undefined || key === undefined) throw new SafetensorsError(`parseCheckpoint: unexpected tensor '${name}'`);
      (buffers[index] ??= {})[key] = t.data;
    } else {
      throw new SafetensorsError(`parseCheckpoint: unexpected tensor '${name}' (expected model.* or optimizer.*)`);
    }
  }
  const out: Checkpoint = { model };
  const optimizerJson = metadata[OPTIMIZER_KEY];
  if (optimizerJson !== undefined) {
    const parsed = fromJson(OPTIMIZER_KEY, optimizerJson) as { numbers?: Record<string, Record<string, number>>; paramGroups?: GroupStateDict[] };
    if (typeof parsed?.numbers !== 'object' || parsed.numbers === null || !Array.isArray(parsed.paramGroups)) {
      throw new SafetensorsError(`parseCheckpoint: metadata '${OPTIMIZER_KEY}' must hold { numbers, paramGroups }`);
    }
    const state: Record<number, ParamState> = {};
    const numbers = parsed.numbers;
    for (const index of new Set([...Object.keys(numbers), ...Object.keys(buffers)])) {
      state[Number(index)] = { ...numbers[index], ...buffers[index] };
    }
    out.optimizer = { state, paramGroups: parsed.paramGroups };
  } else if (Object.keys(buffers).length > 0) {
    throw new SafetensorsError(`parseCheckpoint: optimizer tensors without '${OPTIMIZER_KEY}' metadata`);
  }
  const schedulerJson = metadata[SCHEDULER_KEY];
  if (schedulerJson !== undefined) out.scheduler = fromJson(SCHEDULER_KEY, schedulerJson) as object;
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith(EXTRA_PREFIX)) extra[k.slice(EXTRA_PREFIX.length)] = v;
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out;
}

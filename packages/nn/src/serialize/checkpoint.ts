import { Tensor, isFloat, type FloatArray } from '@chainrule/autograd';
import { SafetensorsError } from '../errors.js';
import type { OptimizerStateDict, OptionValue, ParamState, GroupStateDict } from '../optim/optimizer.js';
import { emptyRecord, isPrototypeName, ownValue, quoteName } from './keys.js';
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

// The names a checkpoint may use below `optimizer.`: a parameter index written as JSON writes
// integers, and a state or option name written as optimisers name them (an identifier). A name of
// Object.prototype's ('__proto__', 'constructor', ...) is never one an optimiser uses.
const INDEX = /^(?:0|[1-9][0-9]*)$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isIndex(s: string): boolean {
  return INDEX.test(s) && Number.isSafeInteger(Number(s));
}

function isStateName(s: string): boolean {
  return IDENTIFIER.test(s) && !isPrototypeName(s);
}

function fail(caller: string, message: string): never {
  throw new SafetensorsError(`${caller}: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// JSON has no Infinity or NaN (ReduceLROnPlateau's best starts at Infinity): tag them as strings.
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v));
}

function fromJson(key: string, text: string): unknown {
  // JSON.parse makes '__proto__' an own key, but the object would reach code that copies it with
  // plain assignment (which swaps the prototype): such keys are refused before anything sees them.
  const revive = (k: string, v: unknown): unknown => {
    if (isPrototypeName(k)) fail('parseCheckpoint', `metadata '${key}' holds the key ${quoteName(k)}, which no chainrule state uses`);
    const tag = isPlainObject(v) && Object.keys(v).length === 1 ? ownValue(v, 'nonFinite') : undefined;
    if (typeof tag === 'string') {
      const n = Number(tag);
      if (Number.isFinite(n)) fail('parseCheckpoint', `metadata '${key}' tags ${quoteName(tag)} as non-finite`);
      return n;
    }
    return v;
  };
  try {
    return JSON.parse(text, revive);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    return fail('parseCheckpoint', `metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Encodes a checkpoint as one safetensors file: model tensors under `model.`, optimiser buffers
 * under `optimizer.<param index>.<name>`, step counts, group options and scheduler state as JSON
 * in the metadata. Resuming from it continues training bit for bit. Optimiser state and option
 * names must be identifiers (as every optimiser's are), never one of Object.prototype's. (PyTorch
 * pickles a dict with `torch.save`; this file is plain safetensors, readable by any safetensors reader.)
 * @throws SafetensorsError for a checkpoint that is not `{ model, ... }`, a bad state or option
 * name or index, or as `serializeSafetensors` (a model entry that is not a Tensor...).
 * @example const bytes = serializeCheckpoint({ model: net.stateDict(), optimizer: opt.stateDict() })
 */
export function serializeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const caller = 'serializeCheckpoint';
  if (!isPlainObject(checkpoint) || !isPlainObject(checkpoint.model)) fail(caller, 'expected { model, optimizer?, scheduler?, extra? }');
  const tensors = emptyRecord<Tensor>();
  for (const [k, t] of Object.entries(checkpoint.model)) {
    if (k === '') fail(caller, 'a model tensor has an empty name');
    tensors[`model.${k}`] = t;
  }
  const metadata: SafetensorsMetadata = emptyRecord();
  if (checkpoint.optimizer !== undefined) {
    const numbers = emptyRecord<Record<string, number>>();
    for (const [index, state] of Object.entries(checkpoint.optimizer.state)) {
      if (!isIndex(index)) fail(caller, `optimizer state is keyed by parameter index, got ${quoteName(index)}`);
      for (const [key, v] of Object.entries(state)) {
        if (!isStateName(key)) fail(caller, `optimizer state name ${quoteName(key)} of parameter ${index} must be an identifier other than Object.prototype's members`);
        if (typeof v === 'number') (numbers[index] ??= emptyRecord())[key] = v;
        else tensors[`optimizer.${index}.${key}`] = new Tensor(v, [v.length]);
      }
    }
    const paramGroups = checkpoint.optimizer.paramGroups;
    paramGroups.forEach((group, gi) => {
      for (const key of Object.keys(group)) if (!isStateName(key)) fail(caller, `option name ${quoteName(key)} of parameter group ${gi} must be an identifier other than Object.prototype's members`);
    });
    metadata[OPTIMIZER_KEY] = toJson({ numbers, paramGroups });
  }
  if (checkpoint.scheduler !== undefined) metadata[SCHEDULER_KEY] = toJson(checkpoint.scheduler);
  for (const [k, v] of Object.entries(checkpoint.extra ?? {})) metadata[`${EXTRA_PREFIX}${k}`] = v;
  return serializeSafetensors(tensors, metadata);
}

/** Checks the optimiser metadata's shape and names, and rebuilds it from the names it accepts. */
function readOptimizerJson(parsed: unknown): { numbers: Map<number, Record<string, number>>; paramGroups: GroupStateDict[] } {
  const caller = 'parseCheckpoint';
  const where = `metadata '${OPTIMIZER_KEY}'`;
  const numbersJson = isPlainObject(parsed) ? ownValue(parsed, 'numbers') : undefined;
  const groupsJson = isPlainObject(parsed) ? ownValue(parsed, 'paramGroups') : undefined;
  if (!isPlainObject(numbersJson) || !Array.isArray(groupsJson)) fail(caller, `${where} must hold { numbers, paramGroups }`);
  const numbers = new Map<number, Record<string, number>>();
  for (const [index, state] of Object.entries(numbersJson)) {
    if (!isIndex(index)) fail(caller, `${where}: state is keyed by parameter index, got ${quoteName(index)}`);
    if (!isPlainObject(state)) fail(caller, `${where}: the state of parameter ${index} must be an object`);
    const record = emptyRecord<number>();
    for (const [key, v] of Object.entries(state)) {
      if (!isStateName(key)) fail(caller, `${where}: parameter ${index} has a state named ${quoteName(key)}, which no optimiser uses`);
      if (typeof v !== 'number') fail(caller, `${where}: parameter ${index}'s '${key}' must be a number, got ${typeof v}`);
      record[key] = v;
    }
    numbers.set(Number(index), record);
  }
  const paramGroups = groupsJson.map((group: unknown, gi): GroupStateDict => {
    if (!isPlainObject(group)) fail(caller, `${where}: parameter group ${gi} must be an object`);
    const params = ownValue(group, 'params');
    if (!Array.isArray(params) || !params.every((i) => Number.isSafeInteger(i) && (i as number) >= 0)) {
      fail(caller, `${where}: parameter group ${gi} must list its parameters as indices in 'params'`);
    }
    const out: Record<string, OptionValue> = {};
    for (const [key, v] of Object.entries(group)) {
      if (key === 'params') continue;
      if (!isStateName(key)) fail(caller, `${where}: parameter group ${gi} has an option named ${quoteName(key)}, which no optimiser uses`);
      const ok = typeof v === 'number' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
      if (!ok) fail(caller, `${where}: option '${key}' of parameter group ${gi} must be a number, a boolean or an array of numbers`);
      out[key] = v as OptionValue;
    }
    return { ...out, params: [...(params as number[])] };
  });
  return { numbers, paramGroups };
}

/**
 * Decodes `serializeCheckpoint` bytes. Every name is checked before it becomes a key, and every
 * dictionary returned has no prototype, so a hostile file can do no more than be refused with a
 * SafetensorsError naming what is wrong. Infinity and NaN in the scheduler's state survive the trip.
 * @throws SafetensorsError if the bytes are not valid safetensors (see `parseSafetensorsFile`), a
 * tensor is neither `model.*` nor `optimizer.<index>.<name>`, or the checkpoint's JSON metadata is
 * malformed, names something no optimiser uses, or is missing.
 * @example const ckpt = parseCheckpoint(bytes); net.loadStateDict(ckpt.model); opt.loadStateDict(ckpt.optimizer!)
 */
export function parseCheckpoint(bytes: Uint8Array): Checkpoint {
  const caller = 'parseCheckpoint';
  const { tensors, metadata } = parseSafetensorsFile(bytes);
  const model = emptyRecord<Tensor>();
  const buffers = new Map<number, Record<string, FloatArray>>();
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('model.')) {
      const key = name.slice('model.'.length);
      if (key === '') fail(caller, "a tensor named 'model.' has no parameter name");
      model[key] = t;
    } else if (name.startsWith('optimizer.')) {
      const parts = name.split('.');
      const [, index, key] = parts;
      if (parts.length !== 3 || index === undefined || key === undefined || !isIndex(index) || !isStateName(key)) {
        fail(caller, `unexpected tensor ${quoteName(name)} (optimizer tensors are named optimizer.<parameter index>.<state name>)`);
      }
      if (t.shape.length !== 1) fail(caller, `optimizer tensor ${quoteName(name)} must be 1-d, got shape [${t.shape.join(',')}]`);
      if (!isFloat(t)) fail(caller, `optimizer tensor ${quoteName(name)} must be float32 or float64, got ${t.dtype}`);
      let record = buffers.get(Number(index));
      if (record === undefined) buffers.set(Number(index), (record = emptyRecord()));
      record[key] = t.data as FloatArray;
    } else {
      fail(caller, `unexpected tensor ${quoteName(name)} (expected model.* or optimizer.*)`);
    }
  }
  const out: Checkpoint = { model };
  const optimizerJson = metadata[OPTIMIZER_KEY];
  if (optimizerJson !== undefined) {
    const { numbers, paramGroups } = readOptimizerJson(fromJson(OPTIMIZER_KEY, optimizerJson));
    const state: Record<number, ParamState> = emptyRecord();
    for (const index of [...new Set([...numbers.keys(), ...buffers.keys()])].sort((a, b) => a - b)) {
      const counts = numbers.get(index) ?? emptyRecord<number>();
      const arrays = buffers.get(index) ?? emptyRecord<FloatArray>();
      const both = Object.keys(counts).filter((k) => Object.hasOwn(arrays, k));
      if (both.length > 0) fail(caller, `parameter ${index}'s '${both[0]}' is stored both as a number and as a tensor`);
      const merged: ParamState = emptyRecord();
      Object.assign(merged, counts, arrays);
      state[index] = merged;
    }
    out.optimizer = { state, paramGroups };
  } else if (buffers.size > 0) {
    fail(caller, `optimizer tensors without '${OPTIMIZER_KEY}' metadata`);
  }
  const schedulerJson = metadata[SCHEDULER_KEY];
  if (schedulerJson !== undefined) {
    const scheduler = fromJson(SCHEDULER_KEY, schedulerJson);
    if (!isPlainObject(scheduler)) fail(caller, `metadata '${SCHEDULER_KEY}' must hold an object`);
    out.scheduler = scheduler;
  }
  const extra = emptyRecord<string>();
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith(EXTRA_PREFIX)) extra[k.slice(EXTRA_PREFIX.length)] = v;
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out;
}

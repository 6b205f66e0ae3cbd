/**
 * The safetensors format, as bytes (no file system, so it runs in browsers):
 *   8 bytes   N, the header length, little-endian u64
 *   N bytes   JSON header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? },
 *             padded with spaces to a multiple of 8
 *   the rest  every tensor's raw little-endian bytes, back to back, offsets relative to here
 * Written as the reference (Rust) writer does: tensors sorted by dtype, widest first, then by
 * name; compact JSON with __metadata__ first.
 */
import { Tensor, isFloat } from '@chainrule/autograd';
import { SafetensorsError } from '../errors.js';
import { formatShape } from '../format.js';
import { emptyRecord, isWellFormed, ownValue, quoteName } from './keys.js';
import { BYTES, isReadCode, RANK, READS_AS, readElements, WRITES_AS, writeElements, type ReadCode, type WriteCode } from './element-codes.js';

/** Free-form string metadata stored under `__metadata__`. */
export type SafetensorsMetadata = Record<string, string>;

/** What `parseSafetensorsFile` returns: the tensors and the metadata. */
export interface SafetensorsContents {
  /** The tensors by name. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` strings ({} when the file has none). */
  metadata: SafetensorsMetadata;
}

/** Options of `serializeSafetensors`. */
export interface SafetensorsWriteOptions {
  /**
   * Write every float32 and float64 tensor as half precision: 'F16' (IEEE) or 'BF16' (bfloat16),
   * each value rounded to float32 and then to the nearest half, ties to even, as PyTorch's
   * `.half()` and `.bfloat16()`. A finite value past the half's range is an error, not Infinity.
   * Reading gives float32 back. Default: float32 as F32, float64 as F64.
   */
  halfPrecision?: 'F16' | 'BF16';
}
/** Header size limit of the reference reader (100 MB). */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = '__metadata__';

const utf8 = new TextEncoder();

/** UTF-8 bytes compare as the Rust writer's String ordering does. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Encodes tensors (e.g. a state dict) and optional string metadata as safetensors bytes, laid out
 * as the reference writer does (so the file is byte-identical to safetensors' own for the same
 * tensors): float32 as F32, float64 as F64, int32 as I32, bool as BOOL, little-endian; float
 * tensors as F16 or BF16 when `options.halfPrecision` asks.
 * @throws SafetensorsError if an entry is not a Tensor, a tensor is named `__metadata__`, a
 * metadata value is not a string, or a value overflows the half precision asked for.
 * @example const bytes = serializeSafetensors(model.stateDict(), { epoch: '3' })
 * @example const half = serializeSafetensors(model.stateDict(), undefined, { halfPrecision: 'BF16' })
 */
export function serializeSafetensors(dict: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata, options: SafetensorsWriteOptions = {}): Uint8Array {
  const half = options.halfPrecision;
  if (half !== undefined && half !== 'F16' && half !== 'BF16') {
    throw new SafetensorsError(`serializeSafetensors: halfPrecision must be 'F16' or 'BF16', got ${JSON.stringify(half)}`);
  }
  const codeOf = (t: Tensor): WriteCode => (half !== undefined && isFloat(t) ? half : WRITES_AS[t.dtype]);
  if (typeof dict !== 'object' || dict === null) throw new SafetensorsError('serializeSafetensors: expected an object of tensors by name');
  const entries = Object.entries(dict);
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new SafetensorsError(`serializeSafetensors: ${quoteName(name)} is not a Tensor`);
    if (name === METADATA_KEY) throw new SafetensorsError(`serializeSafetensors: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    // A lone surrogate has no UTF-8 form: the file would hold another name than the one given.
    if (!isWellFormed(name)) throw new SafetensorsError(`serializeSafetensors: tensor name ${quoteName(name)} is not well-formed Unicode (a lone surrogate)`);
  }
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null) throw new SafetensorsError('serializeSafetensors: metadata must be an object of strings');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`serializeSafetensors: metadata values must be strings, ${quoteName(k)} is ${typeof v}`);
      if (!isWellFormed(k) || !isWellFormed(v)) throw new SafetensorsError(`serializeSafetensors: metadata ${quoteName(k)} is not well-formed Unicode (a lone surrogate)`);
    }
  }
  // Later codes of the reference's Dtype enum first (F64 before F32 before I32...), then by name: its writer's order.
  entries.sort(([na, a], [nb, b]) => RANK[codeOf(b)] - RANK[codeOf(a)] || compareUtf8(na, nb));
  // NOTE: the JSON is assembled by hand because a JS object would move integer-like names
  // ("10", "9") to the front in numeric order, breaking the sorted layout.
  const fields: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const code = codeOf(t);
    const size = t.size * BYTES[code];
    const info = { dtype: code, shape: [...t.shape], data_offsets: [offset, offset + size] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += size;
  }
  let json = utf8.encode(`{${fields.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [name, t] of entries) {
    const code = codeOf(t);
    writeElements(code, view, at, t.data, (i, v) => {
      throw new SafetensorsError(`serializeSafetensors: ${quoteName(name)} holds ${v} at element ${i}, past the range of ${code}`);
    });
    at += t.size * BYTES[code];
  }
  return out;
}

interface Entry {
  name: string;
  code: ReadCode;
  shape: number[];
  begin: number;
  end: number;
}

function fail(message: string): never {
  throw new SafetensorsError(`parseSafetensors: ${message}`);
}

/** A header value as JSON, cut short for messages. */
function brief(v: unknown): string {
  const text = String(JSON.stringify(v));
  return text.length <= 80 ? text : `${text.slice(0, 80)}…`;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * The first key that appears twice in one object of `json` (valid JSON, already parsed), with
 * the key of the object holding it (null for the top level). JSON.parse silently keeps the last
 * of two equal keys, so a file naming a tensor twice would load one of them unnoticed.
 */
function duplicateKey(json: string): { key: string; within: string | null } | null {
  const QUOTE = 0x22;
  const BACKSLASH = 0x5c;
  // One entry per open bracket: the keys seen so far in an object, or null for an array.
  const open: ({ keys: Set<string>; name: string | null } | null)[] = [];
  let expectKey = false;
  let lastKey: string | null = null;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      while (json.charCodeAt(j) !== QUOTE) j += json.charCodeAt(j) === BACKSLASH ? 2 : 1;
      const top = open.at(-1);
      if (expectKey && top) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, within: top.name };
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push({ keys: new Set(), name: open.length === 0 ? null : lastKey });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = open.at(-1) != null;
    }
  }
  return null;
}

/** Reads and checks the header: every entry and the layout of the data section. */
function readHeader(bytes: Uint8Array): { entries: Entry[]; metadata: SafetensorsMetadata; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array');
  if (bytes.length < 8) fail(`truncated file: ${bytes.length} byte(s), fewer than the 8 of the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} exceeds the limit of ${MAX_HEADER} bytes`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`truncated file: the header claims ${n} bytes but only ${bytes.length - 8} follow the length`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header must be a JSON object');
  const twice = duplicateKey(text);
  if (twice !== null) {
    fail(`${twice.within === null ? 'the header' : quoteName(twice.within)} lists ${quoteName(twice.key)} twice (a file names each tensor, field and metadata key once)`);
  }
  const metadata: SafetensorsMetadata = emptyRecord();
  const entries: Entry[] = [];
  const problems: string[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`'${METADATA_KEY}' must be an object of strings`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`'${METADATA_KEY}' value ${quoteName(k)} must be a string, got ${typeof v}`);
        if (!isWellFormed(k) || !isWellFormed(v)) fail(`'${METADATA_KEY}' entry ${quoteName(k)} is not well-formed Unicode (a lone surrogate escape)`);
        metadata[k] = v;
      }
      continue;
    }
    const what = quoteName(name);
    if (!isWellFormed(name)) {
      problems.push(`tensor name ${what} is not well-formed Unicode (a lone surrogate escape)`);
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      problems.push(`${what} is not an object`);
      continue;
    }
    const dtype = ownValue(info, 'dtype');
    const shape = ownValue(info, 'shape');
    const offsets = ownValue(info, 'data_offsets');
    if (!isReadCode(dtype)) {
      problems.push(`${what} has dtype ${brief(dtype)}; chainrule reads F64, F32, F16 and BF16 (as float32), I32, I64 and U8 (as int32) and BOOL`);
      continue;
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      problems.push(`${what} has an invalid shape ${brief(shape)}`);
      continue;
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0]! > offsets[1]!) {
      problems.push(`${what} has invalid data_offsets ${brief(offsets)}`);
      continue;
    }
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const expected = count * BYTES[dtype];
    const [begin, end] = offsets as [number, number];
    // Past 2^53 the product is rounded and could match a span by accident.
    if (!Number.isSafeInteger(expected)) {
      problems.push(`${what} (${dtype} ${formatShape(shape)}) would need ${expected} bytes, more than any file can hold`);
      continue;
    }
    if (end - begin !== expected) {
      problems.push(`${what} (${dtype} ${formatShape(shape)}) needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
      continue;
    }
    entries.push({ name, code: dtype, shape, begin, end });
  }
  if (problems.length > 0) fail(problems.join('; '));
  // The tensors must tile the data section exactly: sorted by offset, no gap, no overlap, no excess.
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.end > dataLength) fail(`${quoteName(e.name)} data_offsets [${e.begin}, ${e.end}] run past the end of the data (${dataLength} bytes): truncated file?`);
    if (e.begin < cursor) fail(`${quoteName(e.name)} data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`gap in the data: bytes [${cursor}, ${e.begin}) belong to no tensor (before ${quoteName(e.name)})`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(`the data section holds ${dataLength} bytes but the tensors cover ${cursor}`);
  return { entries, metadata, dataStart };
}

/**
 * Decodes safetensors bytes into tensors and metadata: F64 and F32 as themselves, F16 and BF16
 * into float32 (exactly), I32 as int32, I64 (PyTorch's integer tensors, e.g. BatchNorm's
 * num_batches_tracked) and U8 into int32, BOOL as bool. Any problem
 * (truncation, a header whose offsets overlap, leave gaps or run out of bounds, another dtype, an
 * I64 value outside int32, a BOOL byte other than 0 and 1, a name listed twice, a name or metadata string that is not well-formed
 * Unicode) throws a SafetensorsError before any tensor is built. Tensors and metadata come back in
 * dictionaries without a prototype, so every name, '__proto__' and 'constructor' included, is an
 * ordinary key and nothing in the file can reach Object.prototype. Tensors own copies of their
 * data: `bytes` may be reused afterwards.
 * @throws SafetensorsError as above, naming the tensor and the problem.
 * @example const { tensors, metadata } = parseSafetensorsFile(bytes)
 */
export function parseSafetensorsFile(bytes: Uint8Array): SafetensorsContents {
  const { entries, metadata, dataStart } = readHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Tensor> = emptyRecord();
  for (const e of entries) {
    const count = (e.end - e.begin) / BYTES[e.code];
    // DataView reads little-endian whatever the host, and needs no alignment.
    const data = readElements(e.code, view, dataStart + e.begin, count, (i, v) =>
      fail(`${quoteName(e.name)} (${e.code}) holds ${v} at element ${i}, which ${READS_AS[e.code]} cannot hold${e.code === 'BOOL' ? ' (a BOOL byte is 0 or 1)' : ''}`),
    );
    tensors[e.name] = new Tensor(data, e.shape);
  }
  return { tensors, metadata };
}

/**
 * Decodes safetensors bytes into tensors by name, in a dictionary without a prototype (the
 * metadata is dropped; see `parseSafetensorsFile`).
 * @throws SafetensorsError as `parseSafetensorsFile`.
 * @example model.loadStateDict(parseSafetensors(bytes))
 */
export function parseSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  return parseSafetensorsFile(bytes).tensors;
}

import { ArgumentError } from './errors.js';

/**
 * The one check of an options object, for every op, transform and creation function: a key the
 * callee does not know is an error rather than a default silently kept, so PyTorch code ported
 * with `keepdim`, `attn_mask` or `padding_idx` fails where it would otherwise give a different
 * result. Names only (each op checks its values itself); the happy path is a loop over the keys
 * against a short constant list.
 */

// PyTorch's spelling of an option, where it is not simply our camelCase of it, and ours.
const RENAMED: Readonly<Record<string, readonly string[]>> = {
  keepdim: ['keepdims'],
  dim: ['axis'],
  attnMask: ['mask'],
  dropoutP: ['dropout'],
  unbiased: ['correction'],
  reduce: ['reduction'],
  outputSize: ['size'],
};

/**
 * Throws an ArgumentError naming `op` and the first key of `options` not in `known`, with the
 * key to use where it is a PyTorch spelling or a near miss of one of them. `undefined` passes
 * (an op's options default to none); anything else that is not a plain object is an error.
 * @throws ArgumentError for an unknown key, or options that are not an object.
 * @example checkOptions('embedding', options, EMBEDDING_OPTIONS)
 * @internal
 */
export function checkOptions(op: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const example = known.length > 0 ? ` such as { ${known[0]}: ... }` : '';
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options;
    throw new ArgumentError(`${op}: options must be an object${example}, got ${got}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ArgumentError(unknownOptionMessage(op, key, known));
  }
}

function unknownOptionMessage(op: string, key: string, known: readonly string[]): string {
  const list = known.length === 0 ? `${op} takes no options` : `the options are ${known.join(', ')}`;
  const use = suggestion(key, known);
  return `${op}: unknown option '${key}' (${list})${use === undefined ? '' : `; use '${use}'`}`;
}

/** The known key `key` was most likely meant as: PyTorch's snake_case, a PyTorch name, or a typo. */
function suggestion(key: string, known: readonly string[]): string | undefined {
  const camel = key.replace(/_+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
  if (camel !== key && known.includes(camel)) return camel;
  const renamed = RENAMED[camel]?.find((k) => known.includes(k));
  if (renamed !== undefined) return renamed;
  const lower = camel.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    const limit = Math.min(2, Math.floor(k.length / 3));
    if (d <= limit && d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance: only ever run on the error path, over short names. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

// Names that come from files or callers become object keys in state dicts, checkpoints and
// metadata. On an ordinary object some of them are not keys at all: assigning '__proto__' swaps
// the prototype, and reading 'constructor' or 'toString' finds Object.prototype's members. Every
// such dictionary is therefore made without a prototype, where any string is just a key.

/**
 * An empty dictionary with no prototype: '__proto__', 'constructor' and every other string are
 * ordinary keys of it, and nothing is inherited.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Whether `key` names a member of Object.prototype ('__proto__', 'constructor', 'toString', 'valueOf', ...). */
export function isPrototypeName(key: string): boolean {
  return Object.hasOwn(Object.prototype, key);
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` is well-formed UTF-16, so that it survives a round trip through UTF-8 unchanged. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * A name for messages: in single quotes, control characters escaped as JSON escapes them, and cut
 * short when very long so that one hostile name cannot flood a log.
 */
export function quoteName(name: string, max = 120): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return escaped.length <= max ? `'${escaped}'` : `'${escaped.slice(0, max)}…' (${name.length} characters)`;
}

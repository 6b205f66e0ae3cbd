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

/** `object[key]` when it is the object's own property, else undefined: nothing is read from a prototype. */
export function ownValue(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

// The members of Object.prototype as the language defines them: listed, not read from
// Object.prototype, which may already carry something else.
const PROTOTYPE_NAMES = new Set([
  '__proto__', 'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf',
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
]);

/** Whether `key` names a member of Object.prototype ('__proto__', 'constructor', 'toString', 'valueOf', ...). */
export function isPrototypeName(key: string): boolean {
  return PROTOTYPE_NAMES.has(key);
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

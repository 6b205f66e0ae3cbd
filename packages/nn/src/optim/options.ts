import { ArgumentError } from '@chainrule/autograd';

/**
 * The one validator of option objects and saved state in optimisers, schedulers and `fit`:
 * a schema names every option and the rule its value follows, so a misspelt name (`momentun`)
 * or a value out of range (a NaN learning rate, `lastEpoch: -5`) is an error naming the owner,
 * the option and the value, wherever the object came from (a constructor, a parameter group
 * edited by hand, a state dict).
 */

/** What an option's value must be: a test, and the words that finish "x must be ...". */
export interface OptionRule {
  /** True when `value` is allowed. */
  readonly test: (value: unknown) => boolean;
  /** What an allowed value is, as the end of the error message: `lr must be >= 0`. */
  readonly must: string;
}

/** The common rules, by name; each factory returns a rule built from its arguments. */
export interface OptionRules {
  /** A finite number ≥ 0 (learning rates, weight decay). */
  readonly nonNegative: OptionRule;
  /** A finite number > 0 (epsilons, periods). */
  readonly positive: OptionRule;
  /** Any finite number. */
  readonly finite: OptionRule;
  /** `true` or `false`. */
  readonly boolean: OptionRule;
  /** A safe integer ≥ 0 (epoch counters). */
  readonly nonNegativeInteger: OptionRule;
  /** A safe integer > 0 (step sizes, patience). */
  readonly positiveInteger: OptionRule;
  /** A finite number in [0, 1): decay rates, momentum-like factors. */
  readonly fraction: OptionRule;
  /** A finite number in [0, 1]. */
  readonly unit: OptionRule;
  /** A number that is not NaN (±Infinity allowed: a best-so-far metric starts there). */
  readonly notNaN: OptionRule;
  /** One of `values`, compared with `includes` (so NaN matches NaN). */
  readonly oneOf: (...values: readonly unknown[]) => OptionRule;
  /** An array of exactly `length` items, each passing `item`. */
  readonly tuple: (length: number, item: OptionRule) => OptionRule;
  /** An array of any length whose items each pass `item`. */
  readonly arrayOf: (item: OptionRule) => OptionRule;
  /** A value passing `a` or `b`. */
  readonly either: (a: OptionRule, b: OptionRule) => OptionRule;
}

/** Rules by option name. */
export type OptionSchema = Readonly<Record<string, OptionRule>>;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The common rules. @example const schema = { lr: rules.nonNegative, nesterov: rules.boolean } */
export const rules: OptionRules = {
  nonNegative: { test: (v) => isNumber(v) && v >= 0, must: '>= 0' },
  positive: { test: (v) => isNumber(v) && v > 0, must: '> 0' },
  finite: { test: isNumber, must: 'a finite number' },
  boolean: { test: (v) => typeof v === 'boolean', must: 'a boolean' },
  nonNegativeInteger: { test: (v) => Number.isSafeInteger(v) && (v as number) >= 0, must: 'a non-negative integer' },
  positiveInteger: { test: (v) => Number.isSafeInteger(v) && (v as number) > 0, must: 'a positive integer' },
  fraction: { test: (v) => isNumber(v) && v >= 0 && v < 1, must: 'in [0, 1)' },
  unit: { test: (v) => isNumber(v) && v >= 0 && v <= 1, must: 'in [0, 1]' },
  notNaN: { test: (v) => typeof v === 'number' && !Number.isNaN(v), must: 'a number (not NaN)' },
  oneOf: (...values: readonly unknown[]): OptionRule => ({
    test: (v) => values.includes(v),
    must: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
  }),
  tuple: (length: number, item: OptionRule): OptionRule => ({
    test: (v) => Array.isArray(v) && v.length === length && v.every((x) => item.test(x)),
    must: `an array of ${length} items, each ${item.must}`,
  }),
  arrayOf: (item: OptionRule): OptionRule => ({
    test: (v) => Array.isArray(v) && v.every((x) => item.test(x)),
    must: `an array whose items are each ${item.must}`,
  }),
  either: (a: OptionRule, b: OptionRule): OptionRule => ({ test: (v) => a.test(v) || b.test(v), must: `${a.must}, or ${b.must}` }),
};

/** How `checkOptions` reads an object. */
export interface CheckOptionsSettings {
  /** Names that must be present (with a value other than undefined). */
  required?: readonly string[];
  /** Names allowed besides the schema's, whose values are checked elsewhere (a group's `params`). */
  ignore?: readonly string[];
  /** Where the object sits, for messages: `group 1`, `stateDict`. */
  where?: string;
}

/**
 * Checks an options object against `schema`: it must be a plain object, every own key a known
 * option (a misspelt one is named with the closest known name), every value other than
 * undefined follow its rule, and every `required` name be present. Throws an ArgumentError
 * starting with `owner` for the first problem (`optionProblems` lists them all).
 * @example checkOptions('SGD', { lr: 0.1, momentun: 0.9 }, { lr: rules.nonNegative, momentum: rules.nonNegative })
 * // ArgumentError: SGD: unknown option 'momentun' (did you mean 'momentum'?); the options are lr, momentum
 */
export function checkOptions(owner: string, options: unknown, schema: OptionSchema, settings: CheckOptionsSettings = {}): void {
  const problems = optionProblems(owner, options, schema, settings);
  if (problems.length > 0) throw new ArgumentError(problems[0]!);
}

/** Every problem `checkOptions` would find, each a message starting with `owner`. */
export function optionProblems(owner: string, options: unknown, schema: OptionSchema, settings: CheckOptionsSettings = {}): string[] {
  const { required = [], ignore = [], where } = settings;
  const at = where === undefined ? '' : ` in ${where}`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return [`${owner}: options${at} must be an object, got ${describe(options)}`];
  }
  const problems: string[] = [];
  const known = Object.keys(schema);
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(schema, key) || ignore.includes(key)) continue;
    const near = closest(key, known);
    problems.push(`${owner}: unknown option '${key}'${at}${near === null ? '' : ` (did you mean '${near}'?)`}; the options are ${known.join(', ')}`);
  }
  for (const key of known) {
    const value = (options as Record<string, unknown>)[key];
    const rule = schema[key]!;
    if (value === undefined) {
      if (required.includes(key)) problems.push(`${owner}: option '${key}'${at} is required (${rule.must})`);
    } else if (!rule.test(value)) {
      // '>= 0' alone would leave 'got Infinity' puzzling.
      const must = value === Infinity || value === -Infinity ? `finite and ${rule.must}` : rule.must;
      problems.push(`${owner}: ${key} must be ${must}, got ${describe(value)}${at}`);
    }
  }
  return problems;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => describe(v)).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return value.constructor?.name ?? 'an object';
}

/** The known name nearest to `key` by edit distance, if near enough to be a slip. */
function closest(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

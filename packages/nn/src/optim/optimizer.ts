import { ArgumentError, DTypeError, Tensor, enableGrad, incrementVersion, isFloat, type FloatArray, type FloatTensor } from '@chainrule/autograd';
import { StateDictError } from '../errors.js';
import { clearGrad, type ZeroGradOptions } from '../zero-grad.js';
import { checkOptions, optionProblems, rules, type OptionRule, type OptionSchema } from './options.js';

/** A group option's value: a number, a flag, or a tuple such as Adam's betas. */
export type OptionValue = number | boolean | readonly number[];

/** Options every optimiser has. */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/** A parameter group: its tensors and its options (schedulers change `lr` here). */
export type ParamGroup<O extends BaseOptions> = O & {
  /** The group's tensors, in the order given. */
  readonly params: readonly Tensor[];
  /** The lr before any scheduler changed it; set by the first scheduler, as PyTorch's initial_lr. */
  initialLr?: number;
};

/** A group as given to a constructor: its tensors and the options that differ from the defaults. */
export type ParamGroupSpec<O extends BaseOptions> = Partial<O> & {
  /** The group's tensors: leaves, each in one group only. */
  params: Iterable<Tensor>;
};

/** What optimisers accept: parameters (`model.parameters()`) or parameter groups. */
export type ParamsInput<O extends BaseOptions> = Iterable<Tensor> | Iterable<ParamGroupSpec<O>>;

/** One parameter's state, as plain data: step counts and typed-array buffers. */
export type ParamState = Record<string, number | Float32Array | Float64Array>;

/** A group in a state dict: its options and the indices of its parameters. */
export type GroupStateDict = Record<string, OptionValue> & {
  /** Indices of the group's parameters, counted across all groups. */
  params: number[];
};

/**
 * An optimiser's state as plain data (structured-clonable): per-parameter state keyed by the
 * parameter's index across all groups, and the groups' options.
 */
export interface OptimizerStateDict {
  /** Per-parameter state by the parameter's index across all groups; parameters not yet stepped have none. */
  state: Record<number, ParamState>;
  /** Each group's options and the indices of its parameters, in group order. */
  paramGroups: GroupStateDict[];
}

/**
 * The base of the optimisers: holds parameter groups and per-parameter state, and updates
 * `param.data` in place from `param.grad` (parameters without a gradient are skipped).
 * Subclasses give the update rule, option checks and the plain form of their state. As in PyTorch,
 * options live per group (`paramGroups[i].lr`), which is what schedulers change. Constructors
 * throw an ArgumentError (naming the optimiser and the option) for an empty parameter list, a mix
 * of tensors and groups, a non-leaf or repeated parameter, or an option out of range.
 * @example
 * class SignSGD extends Optimizer<{ lr: number }, object> {
 *   constructor(params: Iterable<Tensor>, lr = 0.01) { super('SignSGD', params, { lr }); }
 *   protected validate(o: { lr: number }) { if (!(o.lr >= 0)) throw new ArgumentError(`SignSGD: lr must be >= 0, got ${o.lr}`); }
 *   protected update(p: FloatTensor, g: FloatArray, group: ParamGroup<{ lr: number }>) { for (let i = 0; i < g.length; i++) p.data[i] -= group.lr * Math.sign(g[i]); }
 *   protected exportState() { return {}; }
 *   protected importState() { return {}; }
 * }
 */
export abstract class Optimizer<O extends BaseOptions, S extends object> {
  /** The parameter groups with their options; change `lr` here (or let a scheduler do it). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on a parameter's first update. */
  protected readonly state = new Map<Tensor, S>();
  /** The options a group takes when it does not give its own. */
  protected readonly defaults: O;
  /** The class's name for messages ('SGD', 'Adam', ...). */
  protected readonly name: string;
  /** The rule of each option; every group is checked against it (see `checkGroup`). */
  protected readonly schema: OptionSchema;
  /** `schema` plus a group's own `initialLr`, and the option names every group must hold: built once, read at every step. */
  private readonly groupRules: { readonly schema: OptionSchema; readonly required: readonly string[] };

  /**
   * @param name - the class's name, for messages.
   * @param params - tensors (one group) or parameter groups.
   * @param defaults - every option's value for groups that do not set it.
   * @param schema - each option's rule (see `rules`); without one, each option of `defaults` must
   *   keep the type of its default (a finite number, a boolean, an array of as many finite
   *   numbers), and lr be >= 0.
   * @throws ArgumentError for an empty list, a mix of tensors and groups, an unknown option, or as `addParamGroup`.
   */
  protected constructor(name: string, params: ParamsInput<O>, defaults: O, schema?: OptionSchema) {
    this.name = name;
    this.schema = schema ?? schemaFromDefaults(defaults);
    this.groupRules = { schema: { ...this.schema, initialLr: rules.nonNegative }, required: Object.keys(this.schema) };
    // Checked before merging, so a misspelt option is named even though the defaults fill the real one.
    checkOptions(name, defaults, this.schema);
    this.defaults = defaults;
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new ArgumentError(`${name}: expected the parameters (model.parameters()) or parameter groups, got ${params === null ? 'null' : typeof params}`);
    }
    const list = [...(params as Iterable<Tensor | ParamGroupSpec<O>>)];
    if (list.length === 0) throw new ArgumentError(`${name}: got an empty parameter list`);
    if (list.every((p) => p instanceof Tensor)) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupSpec<O>);
    } else {
      for (const group of list) {
        if (group instanceof Tensor || typeof group !== 'object' || group === null || !('params' in group)) {
          throw new ArgumentError(`${name}: pass either tensors or parameter groups ({ params, ...options }), not a mix`);
        }
        this.addParamGroup(group);
      }
    }
  }

  /**
   * Checks what the schema cannot: rules between options (SGD's nesterov needs momentum), and
   * whatever a subclass without a schema wants. Throws `Name: option must ..., got ...`.
   */
  protected abstract validate(options: O): void;

  /**
   * Checks a group's options: every name known to the schema, every value by its rule, then
   * `validate`. Runs on construction, on each `step` (groups are plain objects anyone may edit,
   * as schedulers do) and in `loadStateDict`.
   */
  protected checkGroup(group: ParamGroup<O>, gi: number): void {
    const problems = this.groupProblems(group, `group ${gi}`);
    if (problems.length > 0) throw new ArgumentError(problems[0]!);
  }

  /** Every problem of a group's options (`checkGroup` throws the first). */
  private groupProblems(group: ParamGroup<O>, where?: string): string[] {
    const problems = optionProblems(this.name, group, this.groupRules.schema, { required: this.groupRules.required, ignore: PARAMS, where });
    if (problems.length > 0) return problems;
    try {
      this.validate(group);
    } catch (e) {
      return [(e as Error).message];
    }
    return [];
  }
  /** Updates one parameter in place from its gradient. */
  protected abstract update(param: FloatTensor, grad: FloatArray, group: ParamGroup<O>): void;
  /** The state as plain data (copies, so later steps do not change it). */
  protected abstract exportState(state: S): ParamState;
  /** State from plain data, checked against the parameter; throws a message naming the problem. */
  protected abstract importState(plain: ParamState, param: Tensor): S;

  /**
   * Adds a group with its own options (others from the defaults; an option given as undefined
   * keeps its default), as PyTorch's `add_param_group`.
   * @throws ArgumentError if a parameter is not a Tensor, not a leaf, or already in a group, or an
   * option is out of range; the optimiser is then unchanged.
   * @example opt.addParamGroup({ params: head.parameters(), lr: 0.01 })
   */
  addParamGroup(spec: ParamGroupSpec<O>): void {
    const { params, ...overrides } = spec;
    const tensors = [...params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new ArgumentError(`${this.name}: parameter ${i} of group ${this.paramGroups.length} is not a Tensor`);
      if (!t.isLeaf) throw new ArgumentError(`${this.name}: cannot optimise a non-leaf tensor (parameter ${i} of group ${this.paramGroups.length})`);
      if (seen.has(t)) throw new ArgumentError(`${this.name}: a parameter appears in more than one group (or twice in one)`);
      seen.add(t);
    });
    // An option given as undefined keeps its default.
    const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    const group = { ...this.defaults, ...given, params: tensors } as ParamGroup<O>;
    this.checkGroup(group, this.paramGroups.length);
    this.paramGroups.push(group);
  }

  /**
   * One update of every parameter that has a gradient, in place (parameters whose grad is null are
   * skipped, as PyTorch). With a closure, calls it first (with gradients recorded) and returns its
   * loss; the closure returns a number here, where PyTorch's returns a tensor.
   * @example loss.backward(); opt.step();
   */
  step(closure?: () => number): number | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    // Everything is checked before anything is written, so a bad group or gradient leaves every parameter as it was.
    this.paramGroups.forEach((group, gi) => {
      this.checkGroup(group, gi);
      group.params.forEach((p, i) => this.checkGrad(p, gi, i));
    });
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        // checkGrad made sure of both; the guard narrows the types for the update.
        if (g === null || !isFloat(p) || !isFloat(g)) continue;
        this.update(p, g.data, group);
        // Whatever the update wrote, a backward through a graph that saw the old values must refuse.
        incrementVersion(p);
      }
    }
    return loss;
  }

  /**
   * Clears the gradients of every optimised parameter: sets them to null (the default, as
   * PyTorch), or with `{ setToNone: false }` fills them with zeros in place (see `clearGrad`).
   * @example opt.zeroGrad()
   */
  zeroGrad(options: ZeroGradOptions = {}): void {
    for (const group of this.paramGroups) for (const p of group.params) clearGrad(p, options);
  }

  /** A gradient an update can read: a Tensor of the parameter's shape and dtype, or null. */
  private checkGrad(p: Tensor, gi: number, i: number): void {
    const g: unknown = p.grad;
    if (g === null) return;
    const where = `parameter ${i} of group ${gi} (shape [${p.shape.join(',')}], ${p.dtype})`;
    if (!isFloat(p)) throw new DTypeError(`${this.name}: ${where} is not float32 or float64, so it cannot be optimised`);
    if (!(g instanceof Tensor)) throw new ArgumentError(`${this.name}: the .grad of ${where} is not a Tensor`);
    if (g.dtype !== p.dtype || g.shape.length !== p.shape.length || g.shape.some((d, k) => d !== p.shape[k])) {
      throw new ArgumentError(`${this.name}: the .grad of ${where} has shape [${g.shape.join(',')}] and dtype ${g.dtype}; it must match the parameter`);
    }
  }

  /** Existing state of `param`, or `create()` stored as its state. */
  protected stateOf(param: Tensor, create: () => S): S {
    let s = this.state.get(param);
    if (s === undefined) {
      s = create();
      this.state.set(param, s);
    }
    return s;
  }

  /**
   * State and group options as plain data (copies: later steps do not change it), in PyTorch's
   * layout with camelCase keys: `{ state: { 0: { step, expAvg, ... } }, paramGroups: [{ lr, ...,
   * params: [0, 1] }] }`. `serializeCheckpoint` writes it to safetensors.
   * @example const saved = structuredClone(opt.stateDict())
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: GroupStateDict[] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const indices: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s !== undefined) state[index] = this.exportState(s);
        indices.push(index++);
      }
      const { params: _params, ...options } = group;
      const plain: Record<string, OptionValue> = {};
      for (const [k, v] of Object.entries(options)) plain[k] = Array.isArray(v) ? [...(v as number[])] : (v as OptionValue);
      paramGroups.push({ ...plain, params: indices });
    }
    return { state, paramGroups };
  }

  /**
   * Restores state and group options saved by `stateDict` (for the same parameters, in the same
   * groups). Everything is checked before anything changes; a StateDictError lists every problem.
   * Buffers must match the parameter's dtype (PyTorch would cast; a cast would break bit-exact resumes).
   * @throws StateDictError listing every problem (group count or sizes, missing or unexpected
   * options, an option out of range, a state buffer of the wrong size or dtype); the optimiser is
   * then unchanged.
   * @example opt.loadStateDict(saved)
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const problems: string[] = [];
    const groups = Array.isArray(dict?.paramGroups) ? dict.paramGroups : null;
    if (groups === null || typeof dict.state !== 'object' || dict.state === null) {
      throw new StateDictError(`${this.name}.loadStateDict: expected { state, paramGroups }`);
    }
    if (groups.length !== this.paramGroups.length) {
      throw new StateDictError(`${this.name}.loadStateDict: the dict has ${groups.length} parameter group(s), the optimiser ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    const newOptions: ParamGroup<O>[] = [];
    groups.forEach((saved, gi) => {
      const current = this.paramGroups[gi]!;
      if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
        problems.push(`group ${gi} is not an object of options`);
        return;
      }
      if (!Array.isArray(saved.params) || saved.params.length !== current.params.length) {
        problems.push(`group ${gi} has ${Array.isArray(saved.params) ? saved.params.length : 'no'} parameter(s), the optimiser's ${current.params.length}`);
        return;
      }
      const { params: _params, ...options } = saved;
      const merged = { ...current, ...copyOptions(options), params: current.params } as ParamGroup<O>;
      if (!Object.hasOwn(saved, 'initialLr')) delete merged.initialLr;
      for (const problem of this.groupProblems({ ...copyOptions(options), params: current.params } as ParamGroup<O>)) problems.push(`group ${gi}: ${problem}`);
      newOptions.push(merged);
    });
    const newState = new Map<Tensor, S>();
    for (const [key, plain] of Object.entries(dict.state)) {
      const i = Number(key);
      const p = params[i];
      if (!Number.isInteger(i) || p === undefined) {
        problems.push(`state for parameter ${key}, but the optimiser has ${params.length} parameter(s)`);
        continue;
      }
      try {
        const imported = this.importState(plain, p);
        // A name the optimiser does not keep is refused, not dropped: it is a file from another
        // optimiser or a misspelling, and silently ignoring it would resume from the wrong state.
        const kept = new Set(Object.keys(this.exportState(imported)));
        const unknown = Object.keys(plain).filter((name) => !kept.has(name));
        if (unknown.length > 0) throw new Error(`unexpected state ${unknown.map((n) => JSON.stringify(n)).join(', ')} (${this.name} keeps ${[...kept].join(', ') || 'none'})`);
        newState.set(p, imported);
      } catch (e) {
        problems.push(`parameter ${i}: ${(e as Error).message}`);
      }
    }
    if (problems.length > 0) {
      throw new StateDictError(`${this.name}.loadStateDict: cannot load (${problems.length} problem(s)): ${problems.join('; ')}`);
    }
    this.paramGroups.splice(0, this.paramGroups.length, ...newOptions);
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}

const PARAMS: readonly string[] = ['params'];

function copyOptions(options: Record<string, OptionValue>): Record<string, OptionValue> {
  // No prototype: an own `__proto__` key in the input stays an ordinary key (and is then refused
  // as an unknown option) instead of replacing the copy's prototype.
  const out = Object.create(null) as Record<string, OptionValue>;
  for (const [k, v] of Object.entries(options)) out[k] = Array.isArray(v) ? [...(v as number[])] : v;
  return out;
}

/** Each default's type as a rule; lr >= 0. */
function schemaFromDefaults(defaults: object): OptionSchema {
  const schema: Record<string, OptionRule> = {};
  for (const [k, v] of Object.entries(defaults)) {
    if (k === 'lr') schema[k] = rules.nonNegative;
    else if (typeof v === 'boolean') schema[k] = rules.boolean;
    else if (Array.isArray(v)) schema[k] = rules.tuple(v.length, rules.finite);
    else schema[k] = rules.finite;
  }
  return schema;
}

/** Throws `Name: message, got value` unless `ok`. */
export function check(name: string, ok: boolean, message: string, value: unknown): void {
  if (!ok) throw new ArgumentError(`${name}: ${message}, got ${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}`);
}

/** A finite number >= 0 check, the most common option rule. */
export function checkNonNegative(name: string, option: string, value: number): void {
  check(name, typeof value === 'number' && value >= 0 && Number.isFinite(value), `${option} must be >= 0`, value);
}

/** A typed-array state buffer of `key`, checked against the parameter's size and dtype, copied. */
export function importBuffer(plain: ParamState, key: string, param: Tensor): FloatArray {
  const v = plain[key];
  const want = param.dtype === 'float32' ? Float32Array : Float64Array;
  if (!(v instanceof want)) {
    const got = v === undefined ? 'nothing' : v instanceof Float32Array ? 'a Float32Array' : v instanceof Float64Array ? 'a Float64Array' : typeof v;
    throw new Error(`'${key}' must be a ${want.name} (the parameter is ${param.dtype}), got ${got}`);
  }
  if (v.length !== param.size) throw new Error(`'${key}' holds ${v.length} element(s), the parameter ${param.size}`);
  return v.slice();
}

/** An optional buffer: null when absent. */
export function importOptionalBuffer(plain: ParamState, key: string, param: Tensor): FloatArray | null {
  return plain[key] === undefined ? null : importBuffer(plain, key, param);
}

/** A step count of `key`: a non-negative integer. */
export function importCount(plain: ParamState, key: string): number {
  const v = plain[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`'${key}' must be a non-negative integer, got ${String(v)}`);
  return v;
}

/** Zeroed storage of the parameter's dtype and size. */
export function bufferLike(param: Tensor): FloatArray {
  return param.dtype === 'float32' ? new Float32Array(param.size) : new Float64Array(param.size);
}

/** Adds a copy of `buffer` under `key` when it exists. */
export function exportBuffer(out: ParamState, key: string, buffer: FloatArray | null): void {
  if (buffer !== null) out[key] = buffer.slice();
}

/** Drops keys whose value is undefined, so they keep their defaults. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

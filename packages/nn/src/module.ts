import { ArgumentError, incrementVersion, noGrad, type Tensor, type TensorData } from '@chainrule/autograd';
import { StateDictError } from './errors.js';
import { formatShape, sameShape } from './format.js';
import { emptyRecord, isWellFormed, quoteName } from './serialize/keys.js';
import { clearGrad, type ZeroGradOptions } from './zero-grad.js';

/** What `loadStateDict` loaded, and what it skipped when `strict` is false. */
export interface LoadStateDictResult {
  /** Keys copied into the module. */
  loaded: string[];
  /** Keys of the module absent from the dict (always empty when strict). */
  missing: string[];
  /** Keys of the dict the module does not have (always empty when strict). */
  unexpected: string[];
}

/**
 * Which parameters `parameters(select)` and `namedParameters(select)` return: a module path
 * ('head', 'layers.0': every parameter beneath it), a parameter's full name ('head.bias'), or a
 * predicate on each parameter's dotted name and tensor.
 */
export type ParameterSelector = string | ((name: string, parameter: Tensor) => boolean);

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the dict's keys to match the module's exactly (default true). */
  strict?: boolean;
}

/**
 * Any module, whatever its forward takes and returns: what containers, state dicts and walks over
 * a model hold.
 */
// `unknown[]` parameters accept every forward signature because methods compare bivariantly.
export type AnyModule = Module<unknown[], unknown>;

/**
 * The base of every layer and model: holds named parameters, buffers (state that is saved but
 * not trained, such as running statistics) and child modules, registered explicitly so names
 * and order are deterministic. Subclasses implement `forward`, reading their tensors with
 * `this.param(name)` / `this.buffer(name)` (so `functionalCall` can substitute them).
 *
 * @example
 * class Scale extends Module {
 *   constructor() { super(); this.registerParameter('scale', ones([3])); }
 *   forward(x: Tensor) { return x.mul(this.param('scale')); }
 * }
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** True in training mode (Dropout drops, BatchNorm uses batch statistics); see `train`/`eval`. */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly submodules = new Map<string, AnyModule>();

  /**
   * The layer's computation. Call it directly: `model.forward(x)` (PyTorch's `model(x)`; there are
   * no forward hooks). Its arguments and result are the class's type parameters, one tensor in and
   * one out unless declared otherwise (`class Attention extends Module<[Tensor, Tensor?], Tensor>`).
   * Layers throw a ShapeError or DTypeError naming the layer when an input does not fit, before
   * changing any state; containers put the layer's path in front (see `locateError`).
   */
  abstract forward(...args: In): Out;

  /**
   * Registers `tensor` as a trainable parameter under `name` (marking it requiresGrad) and returns it,
   * as torch's `register_parameter`. Names are unique across the module's parameters, buffers and
   * children.
   * @throws ArgumentError if `name` is empty, contains '.', is already registered, or `tensor` is
   * not a leaf (a tensor computed by an op cannot be trained in place).
   * @example this.registerParameter('weight', zeros([3, 2]));
   */
  registerParameter(name: string, tensor: Tensor): Tensor {
    this.checkName(name);
    if (!tensor.isLeaf) {
      throw new ArgumentError(`registerParameter: '${name}' must be a leaf tensor (created directly, not computed by an op)`);
    }
    tensor.requiresGrad = true;
    this.params.set(name, tensor);
    return tensor;
  }

  /**
   * Registers `tensor` as a buffer: part of the state dict, never trained (torch's `register_buffer`;
   * every buffer is persistent here).
   * @throws ArgumentError if `name` is empty, contains '.' or is already registered.
   * @example this.registerBuffer('running_mean', zeros([4]));
   */
  registerBuffer(name: string, tensor: Tensor): Tensor {
    this.checkName(name);
    this.buffers.set(name, tensor);
    return tensor;
  }

  /**
   * Registers a child module under `name` and returns it; its parameters appear as `name.*`.
   * (PyTorch registers a child on attribute assignment; here registration is explicit, so names
   * and order never depend on property enumeration.)
   * @throws ArgumentError if `name` is empty, contains '.', is already registered, or `module` is this module.
   * @example readonly fc = this.registerModule('fc', new Linear(2, 3));
   */
  registerModule<M extends AnyModule>(name: string, module: M): M {
    this.checkName(name);
    if (module === (this as AnyModule)) throw new ArgumentError(`registerModule: a module cannot contain itself ('${name}')`);
    this.submodules.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    // A lone surrogate has no UTF-8 form: the name could not be saved as itself.
    if (typeof name !== 'string' || name === '' || name.includes('.') || !isWellFormed(name)) {
      throw new ArgumentError(`${this.constructor.name}: name ${JSON.stringify(name)} must be a non-empty, well-formed string without '.'`);
    }
    if (this.params.has(name) || this.buffers.has(name) || this.submodules.has(name)) {
      throw new ArgumentError(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /**
   * The parameter registered as `name` (or its stand-in during `functionalCall`). Layers read
   * their tensors through this, never through a stored reference, so functionalCall can swap them.
   * @throws ArgumentError if no parameter `name` is registered on this module.
   * @example forward(x: Tensor) { return x.mul(this.param('scale')); }
   */
  protected param(name: string): Tensor {
    const t = this.params.get(name);
    if (t === undefined) throw new ArgumentError(`${this.constructor.name}: no parameter '${name}'`);
    return t;
  }

  /**
   * The buffer registered as `name` (or its stand-in during `functionalCall`).
   * @throws ArgumentError if no buffer `name` is registered on this module.
   * @example this.buffer('running_mean')
   */
  protected buffer(name: string): Tensor {
    const t = this.buffers.get(name);
    if (t === undefined) throw new ArgumentError(`${this.constructor.name}: no buffer '${name}'`);
    return t;
  }

  /**
   * @internal The engine of `functionalCall` (a static method so it may touch the registries).
   */
  static callWith<I extends unknown[], O>(module: Module<I, O>, tensors: Readonly<Record<string, Tensor>>, args: I): O {
    const owners = new Map(module.namedModules());
    const swaps: { map: Map<string, Tensor>; name: string; original: Tensor }[] = [];
    const problems: string[] = [];
    const plan: { map: Map<string, Tensor>; name: string; tensor: Tensor }[] = [];
    for (const [key, tensor] of Object.entries(tensors)) {
      const dot = key.lastIndexOf('.');
      const owner = owners.get(dot < 0 ? '' : key.slice(0, dot));
      const name = key.slice(dot + 1);
      const map = owner === undefined ? undefined : owner.params.has(name) ? owner.params : owner.buffers.has(name) ? owner.buffers : undefined;
      if (map === undefined) {
        problems.push(`no parameter or buffer '${key}'`);
        continue;
      }
      const original = map.get(name)!;
      if (!sameShape(original.shape, tensor.shape)) {
        problems.push(`'${key}' has shape ${formatShape(original.shape)} but its replacement ${formatShape(tensor.shape)}`);
        continue;
      }
      plan.push({ map, name, tensor });
    }
    if (problems.length > 0) throw new StateDictError(`functionalCall: ${problems.join('; ')}`);
    try {
      for (const { map, name, tensor } of plan) {
        swaps.push({ map, name, original: map.get(name)! });
        map.set(name, tensor);
      }
      return module.forward(...args);
    } finally {
      for (const { map, name, original } of swaps.reverse()) map.set(name, original);
    }
  }

  /** Direct children, in registration order. @example model.children().length */
  children(): AnyModule[] {
    return [...this.submodules.values()];
  }

  /** Direct children with their names. @example for (const [name, m] of model.namedChildren()) ... */
  namedChildren(): [string, AnyModule][] {
    return [...this.submodules.entries()];
  }

  /**
   * This module and every descendant, depth first in registration order, each with its dotted name
   * ('' for this one, or `prefix`). A module registered twice is listed once, under its first name.
   * @example model.namedModules().map(([name, m]) => `${name}: ${m.constructor.name}`)
   */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const visit = (m: AnyModule, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, sub] of m.submodules) visit(sub, name === '' ? child : `${name}.${child}`);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every descendant. @example model.modules().filter((m) => m instanceof Linear) */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted name (`layers.0.weight`), own parameters first, then each
   * child's. A tensor shared by two modules is listed once, under its first name.
   * With `select`, only the parameters it picks, as `parameters(select)`.
   * @throws ArgumentError if `select` is a string that names no module or parameter.
   * @example model.namedParameters().map(([name]) => name)
   */
  namedParameters(select?: ParameterSelector): [string, Tensor][] {
    const all = this.collect((m) => m.params);
    if (select === undefined) return all;
    if (typeof select === 'function') return all.filter(([name, t]) => select(name, t));
    if (typeof select !== 'string') {
      throw new ArgumentError(`${this.constructor.name}.namedParameters: select must be a module path, a parameter name or a function (name, parameter) => boolean, got ${typeof select}`);
    }
    // A path names a whole subtree: 'head' takes head.weight and head.0.bias, never 'header.weight'.
    const picked = all.filter(([name]) => name === select || name.startsWith(`${select}.`));
    if (picked.length === 0 && !this.namedModules().some(([path]) => path === select)) {
      throw new ArgumentError(`${this.constructor.name}.namedParameters: no module or parameter named ${quoteName(select)}`);
    }
    return picked;
  }

  /**
   * Every parameter, as `namedParameters` orders them; with `select`, only those it picks (a
   * module path such as 'head' or 'layers.0', a parameter's full name, or a predicate on name and
   * tensor), which makes optimiser parameter groups by name.
   * @throws ArgumentError if `select` is a string that names no module or parameter.
   * @example
   * new SGD([
   *   { params: model.parameters('head'), lr: 0.1 },
   *   { params: model.parameters((name) => !name.startsWith('head.')) },
   * ], { lr: 0.01 })
   */
  parameters(select?: ParameterSelector): Tensor[] {
    return this.namedParameters(select).map(([, t]) => t);
  }

  /** Every buffer with its dotted name. @example model.namedBuffers() */
  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.buffers);
  }

  /** Number of trainable elements. @example new Linear(3, 2).numParameters() === 8 */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  private collect(pick: (m: AnyModule) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix === '' ? name : `${prefix}.${name}`, t]);
      }
    }
    return out;
  }

  /**
   * Calls `fn` on every descendant and then on this module (children before their parent, as
   * PyTorch's `apply`), and returns this module: the usual way to re-initialise a model's layers.
   * A module registered under two names is visited once.
   * @example model.apply((m) => { if (m instanceof Linear) init.xavierUniform(m.weight, { seed: 0 }); })
   */
  apply(fn: (module: AnyModule) => void): this {
    const seen = new Set<AnyModule>();
    const visit = (m: AnyModule): void => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const child of m.submodules.values()) visit(child);
      fn(m);
    };
    visit(this);
    return this;
  }

  /**
   * Sets `requiresGrad` on every parameter here and in every descendant and returns this module,
   * as PyTorch's `requires_grad_`: `requiresGrad_(false)` freezes them (backward leaves their
   * `grad` null, so optimisers skip them), `requiresGrad_()` thaws them. Buffers are untouched.
   * @example backbone.requiresGrad_(false); const opt = new Adam(head.parameters());
   */
  requiresGrad_(requiresGrad = true): this {
    if (typeof requiresGrad !== 'boolean') throw new ArgumentError(`${this.constructor.name}.requiresGrad_: expected a boolean, got ${String(requiresGrad)}`);
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Sets training mode (true) or evaluation mode (false) here and in every descendant. @example model.train() */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. @example model.eval() */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient: sets it to null (as PyTorch's default), or with
   * `{ setToNone: false }` fills it with zeros in place. @example model.zeroGrad()
   */
  zeroGrad(options: ZeroGradOptions = {}): void {
    for (const p of this.parameters()) clearGrad(p, options);
  }

  /**
   * Parameters and buffers by dotted name, as graph-free tensors sharing the module's storage
   * (clone them to keep a snapshot that later training does not change). The dictionary has no
   * prototype, so every name (`constructor`, `__proto__`, `toString` included) is an ordinary key.
   * @example save('model.safetensors', model.stateDict())
   */
  stateDict(): Record<string, Tensor> {
    const out = emptyRecord<Tensor>();
    for (const [key, { tensor }] of this.stateEntries()) out[key] = tensor.detach();
    return out;
  }

  /** Every parameter and buffer by dotted name, with the module path and name it is registered under (first name of a shared tensor). */
  private stateEntries(): Map<string, { tensor: Tensor; path: string; module: AnyModule; name: string; kind: 'parameter' | 'buffer' }> {
    const out = new Map<string, { tensor: Tensor; path: string; module: AnyModule; name: string; kind: 'parameter' | 'buffer' }>();
    for (const [path, m] of this.namedModules()) {
      const key = (name: string): string => (path === '' ? name : `${path}.${name}`);
      for (const [name, tensor] of m.params) if (!out.has(key(name))) out.set(key(name), { tensor, path, module: m, name, kind: 'parameter' });
      for (const [name, tensor] of m.buffers) if (!out.has(key(name))) out.set(key(name), { tensor, path, module: m, name, kind: 'buffer' });
    }
    return out;
  }

  /**
   * Copies `dict` into the module's parameters and buffers, in place (optimisers holding them stay
   * valid). Every entry is checked before anything is copied, whatever the dict holds (Tensors or
   * look-alikes): a missing or unexpected key (when strict), an entry that is not tensor-like, a
   * wrong shape or dtype, data of the wrong type or length (always) throw a StateDictError that
   * names each offending key with its module path and both shapes; the module is then unchanged.
   * (PyTorch casts a dtype mismatch; here it is an error, so a float64 checkpoint never rounds silently.)
   * With `strict: false`, missing and unexpected keys are skipped and reported in the result.
   * @throws StateDictError listing every offending key; the module is then left unchanged.
   * @example model.loadStateDict(load('model.safetensors'))
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    if (typeof dict !== 'object' || dict === null) {
      throw new StateDictError(`loadStateDict: ${this.constructor.name} expected an object of tensors by name, got ${dict === null ? 'null' : typeof dict}`);
    }
    if (typeof options !== 'object' || options === null) throw new ArgumentError(`loadStateDict: options must be an object, got ${String(options)}`);
    // Own properties only: an option inherited from a tampered Object.prototype is not an option.
    const strict = Object.hasOwn(options, 'strict') && options.strict !== undefined ? options.strict : true;
    if (typeof strict !== 'boolean') throw new ArgumentError(`loadStateDict: strict must be a boolean, got ${String(strict)}`);
    const own = this.stateEntries();
    // Own enumerable string keys only: nothing inherited or hidden in a prototype is read.
    const given = new Set(Object.keys(dict));
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given].filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict) {
      for (const k of missing) problems.push(`missing key ${quoteName(k)}`);
      for (const k of unexpected) problems.push(`unexpected key ${quoteName(k)}`);
    }
    // The data each entry will be copied from, read once here: a getter cannot change it later.
    const plan: { tensor: Tensor; target: TensorData; source: TensorData }[] = [];
    const loaded: string[] = [];
    for (const [k, entry] of own) {
      if (!given.has(k)) continue;
      const owner = `${entry.kind} ${quoteName(entry.name)} of ${entry.path === '' ? 'the model' : entry.path} (${entry.module.constructor.name})`;
      const problem = checkSource(dict[k], entry.tensor, (source) => plan.push({ tensor: entry.tensor, target: entry.tensor.data, source }));
      if (problem === null) loaded.push(k);
      else problems.push(`${quoteName(k)}: ${problem} (${owner})`);
    }
    if (problems.length > 0) {
      throw new StateDictError(`loadStateDict: ${this.constructor.name} cannot load the state dict (${problems.length} problem(s)): ${problems.join('; ')}`);
    }
    // A source sharing storage with a target (a dict made from this very model, entries swapped)
    // would see earlier copies: such sources are copied out first.
    const targets = new Set(plan.map(({ target }) => target.buffer));
    const copies = plan.map(({ tensor, target, source }) => ({ tensor, target, source: targets.has(source.buffer) ? source.slice() : source }));
    noGrad(() => {
      for (const { tensor, target, source } of copies) {
        target.set(source);
        incrementVersion(tensor);
      }
    });
    return { loaded, missing: strict ? [] : missing, unexpected: strict ? [] : unexpected };
  }

  /**
   * A description, as PyTorch's `repr`: e.g. `Linear(inFeatures=2, outFeatures=3, bias=true)`, children indented
   * beneath their parent; layers override `describe`.
   * @example console.log(String(model))
   */
  toString(): string {
    const inner = this.describe();
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.constructor.name}(${inner})`;
    const body = kids.map(([n, m]) => `  (${n}): ${m.toString().replaceAll('\n', '\n  ')}`).join('\n');
    return `${this.constructor.name}(${inner}\n${body}\n)`;
  }

  /** The constructor arguments shown by `toString` ('' by default); layers override it. */
  protected describe(): string {
    return '';
  }
}

/**
 * Checks one state-dict entry against the tensor it would overwrite, reading each of its fields
 * once; calls `accept` with the data to copy when it fits, and returns the problem otherwise.
 */
function checkSource(source: unknown, target: Tensor, accept: (data: TensorData) => void): string | null {
  const want = `${target.dtype} ${formatShape(target.shape)}`;
  if (typeof source !== 'object' || source === null) return `expected a tensor (${want}), got ${source === null ? 'null' : typeof source}`;
  let shape: unknown;
  let dtype: unknown;
  let data: unknown;
  try {
    ({ shape, dtype, data } = source as { shape: unknown; dtype: unknown; data: unknown });
  } catch (e) {
    return `reading it threw ${(e as Error)?.message ?? String(e)}`;
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return `expected a tensor (${want}), its shape is not a list of sizes`;
  }
  const dims = shape as number[];
  if (!sameShape(dims, target.shape)) return `shape ${formatShape(dims)} in the dict, ${formatShape(target.shape)} in the module`;
  if (dtype !== target.dtype) return `dtype ${String(dtype)} in the dict, ${target.dtype} in the module`;
  const Kind = STORAGE[target.dtype];
  if (!(data instanceof Kind)) return `its data must be a ${Kind.name} (dtype ${target.dtype}), got ${describeData(data)}`;
  if (data.length !== target.size) {
    return `its data holds ${data.length} element(s) but its shape ${formatShape(dims)} (as the module's) needs ${target.size}`;
  }
  accept(data);
  return null;
}

const STORAGE = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;

function describeData(data: unknown): string {
  if (data === null || typeof data !== 'object') return String(data === null ? 'null' : typeof data);
  return (data as object).constructor?.name ?? 'an object';
}

/**
 * Runs `module.forward(...args)` with some parameters or buffers (by dotted name) replaced by the given
 * tensors, then puts the originals back, as torch.func.functional_call. Gradients flow to the
 * replacements, which makes a module a plain function of its weights (for gradcheck, hessians
 * with respect to parameters, per-example gradients). Modules must read their tensors through
 * `param(name)`/`buffer(name)`, as every built-in layer does. Keys not given keep the module's own
 * tensors. The originals are restored even when `forward` throws.
 * @throws StateDictError, before anything is swapped, if a key names no parameter or buffer or a
 * replacement's shape differs from the original's (every such key is listed).
 * @example const f = (w: Tensor, b: Tensor) => functionalCall(linear, { weight: w, bias: b }, x).sum();
 */
export function functionalCall<In extends unknown[], Out>(module: Module<In, Out>, tensors: Readonly<Record<string, Tensor>>, ...args: In): Out {
  return Module.callWith(module, tensors, args);
}

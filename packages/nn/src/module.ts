import { ArgumentError, incrementVersion, noGrad, type Tensor } from '@chainrule/autograd';
import { StateDictError } from './errors.js';
import { formatShape, sameShape } from './format.js';
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

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the dict's keys to match the module's exactly (default true). */
  strict?: boolean;
}

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
export abstract class Module {
  /** True in training mode (Dropout drops, BatchNorm uses batch statistics); see `train`/`eval`. */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly submodules = new Map<string, Module>();

  /** The layer's computation. Call it directly: `model.forward(x)`. */
  abstract forward(x: Tensor): Tensor;

  /**
   * Registers `tensor` as a trainable parameter under `name` (marking it requiresGrad) and returns it.
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
   * Registers `tensor` as a buffer: part of the state dict, never trained.
   * @example this.registerBuffer('running_mean', zeros([4]));
   */
  registerBuffer(name: string, tensor: Tensor): Tensor {
    this.checkName(name);
    this.buffers.set(name, tensor);
    return tensor;
  }

  /** Registers a child module under `name` and returns it. @example readonly fc = this.registerModule('fc', new Linear(2, 3)); */
  registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    if (module === (this as Module)) throw new ArgumentError(`registerModule: a module cannot contain itself ('${name}')`);
    this.submodules.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ArgumentError(`${this.constructor.name}: name ${JSON.stringify(name)} must be a non-empty string without '.'`);
    }
    if (this.params.has(name) || this.buffers.has(name) || this.submodules.has(name)) {
      throw new ArgumentError(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /**
   * The parameter registered as `name` (or its stand-in during `functionalCall`). Layers read
   * their tensors through this, never through a stored reference, so functionalCall can swap them.
   * @example forward(x: Tensor) { return x.mul(this.param('scale')); }
   */
  protected param(name: string): Tensor {
    const t = this.params.get(name);
    if (t === undefined) throw new ArgumentError(`${this.constructor.name}: no parameter '${name}'`);
    return t;
  }

  /** The buffer registered as `name` (or its stand-in during `functionalCall`). @example this.buffer('running_mean') */
  protected buffer(name: string): Tensor {
    const t = this.buffers.get(name);
    if (t === undefined) throw new ArgumentError(`${this.constructor.name}: no buffer '${name}'`);
    return t;
  }

  /**
   * @internal The engine of `functionalCall` (a static method so it may touch the registries).
   */
  static callWith(module: Module, tensors: Readonly<Record<string, Tensor>>, x: Tensor): Tensor {
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
      return module.forward(x);
    } finally {
      for (const { map, name, original } of swaps.reverse()) map.set(name, original);
    }
  }

  /** Direct children, in registration order. @example model.children().length */
  children(): Module[] {
    return [...this.submodules.values()];
  }

  /** Direct children with their names. @example for (const [name, m] of model.namedChildren()) ... */
  namedChildren(): [string, Module][] {
    return [...this.submodules.entries()];
  }

  /** This module and every descendant, depth first, each with its dotted name ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, sub] of m.submodules) visit(sub, name === '' ? child : `${name}.${child}`);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every descendant. @example model.modules().filter((m) => m instanceof Linear) */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted name (`layers.0.weight`), own parameters first, then each
   * child's. A tensor shared by two modules is listed once, under its first name.
   * @example model.namedParameters().map(([name]) => name)
   */
  namedParameters(): [string, Tensor][] {
    return this.collect((m) => m.params);
  }

  /** Every parameter, as `namedParameters` orders them. @example new SGD(model.parameters(), { lr: 0.1 }) */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name. @example model.namedBuffers() */
  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.buffers);
  }

  /** Number of trainable elements. @example new Linear(3, 2).numParameters() === 8 */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  private collect(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
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
   * (clone them to keep a snapshot that later training does not change).
   * @example save('model.safetensors', model.stateDict())
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
      for (const [name, t] of m.params) out[key(name)] ??= t.detach();
      for (const [name, t] of m.buffers) out[key(name)] ??= t.detach();
    }
    return out;
  }

  /**
   * Copies `dict` into the module's parameters and buffers, in place (optimisers holding them stay
   * valid). Every problem is found before anything is copied: a missing or unexpected key (when
   * strict), a wrong shape or dtype (always) throws a StateDictError listing each offending key.
   * (PyTorch casts a dtype mismatch; here it is an error, so a float64 checkpoint never rounds silently.)
   * @example model.loadStateDict(load('model.safetensors'))
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const { strict = true } = options;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !Object.hasOwn(dict, k));
    const unexpected = Object.keys(dict).filter((k) => !Object.hasOwn(own, k));
    const problems: string[] = [];
    if (strict) {
      for (const k of missing) problems.push(`missing key '${k}'`);
      for (const k of unexpected) problems.push(`unexpected key '${k}'`);
    }
    const loaded: string[] = [];
    for (const [k, target] of Object.entries(own)) {
      if (!Object.hasOwn(dict, k)) continue;
      const source = dict[k]!;
      if (typeof source !== 'object' || source === null || !('data' in source) || !('shape' in source)) {
        problems.push(`'${k}' is not a Tensor`);
      } else if (!sameShape(source.shape, target.shape)) {
        problems.push(`'${k}': shape ${formatShape(source.shape)} in the dict, ${formatShape(target.shape)} in the module`);
      } else if (source.dtype !== target.dtype) {
        problems.push(`'${k}': dtype ${source.dtype} in the dict, ${target.dtype} in the module`);
      } else {
        loaded.push(k);
      }
    }
    if (problems.length > 0) {
      throw new StateDictError(`loadStateDict: ${this.constructor.name} cannot load the state dict (${problems.length} problem(s)): ${problems.join('; ')}`);
    }
    noGrad(() => {
      for (const k of loaded) {
        own[k]!.data.set(dict[k]!.data);
        incrementVersion(own[k]!);
      }
    });
    return { loaded, missing: strict ? [] : missing, unexpected: strict ? [] : unexpected };
  }

  /** A description, e.g. `Linear(in=2, out=3, bias=true)`; layers override `describe`. */
  toString(): string {
    const inner = this.describe();
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.constructor.name}(${inner})`;
    const body = kids.map(([n, m]) => `  (${n}): ${m.toString().replaceAll('\n', '\n  ')}`).join('\n');
    return `${this.constructor.name}(${inner}\n${body}\n)`;
  }

  /** The constructor arguments shown by `toString`. */
  protected describe(): string {
    return '';
  }
}

/**
 * Runs `module.forward(x)` with some parameters or buffers (by dotted name) replaced by the given
 * tensors, then puts the originals back, as torch.func.functional_call. Gradients flow to the
 * replacements, which makes a module a plain function of its weights (for gradcheck, hessians
 * with respect to parameters, per-example gradients). Modules must read their tensors through
 * `param(name)`/`buffer(name)`, as every built-in layer does.
 * @example const f = (w: Tensor, b: Tensor) => functionalCall(linear, { weight: w, bias: b }, x).sum();
 */
export function functionalCall(module: Module, tensors: Readonly<Record<string, Tensor>>, x: Tensor): Tensor {
  return Module.callWith(module, tensors, x);
}

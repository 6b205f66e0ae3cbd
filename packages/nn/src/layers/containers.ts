import { ArgumentError } from '@chainrule/autograd';
import { Module, type AnyModule } from '../module.js';

/**
 * A list of modules registered as children '0', '1', ..., so their parameters read `0.weight`,
 * `1.bias` as in PyTorch's `nn.ModuleList`. It holds modules for a parent's `forward` to call in
 * whatever way it likes (in a loop, with extra arguments); it has no `forward` of its own.
 * @example
 * class Tower extends Module<unknown[], never> {
 *   readonly blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: 3 }, () => new Linear(8, 8))));
 *   forward(x: Tensor) { for (const b of this.blocks) x = b.forward(x).relu(); return x; }
 * }
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<unknown[], never> {
  private readonly items: M[] = [];

  /** @throws ArgumentError if an item is not a Module. */
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  /**
   * Adds a module at the end, named by its index.
   * @throws ArgumentError if `module` is not a Module.
   * @example blocks.append(new Linear(8, 8))
   */
  append(module: M): this {
    if (!(module instanceof Module)) throw new ArgumentError(`ModuleList: item ${this.items.length} is not a Module`);
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  /**
   * Appends every module of `modules`, in order.
   * @throws ArgumentError if an item is not a Module (the items before it stay appended).
   * @example blocks.extend([new Linear(8, 8), new Linear(8, 8)])
   */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /**
   * The module at `index` (negative counts from the end), as PyTorch's `list[index]`.
   * @throws ArgumentError if `index` is out of range.
   * @example blocks.at(-1)
   */
  at(index: number): M {
    const m = Number.isInteger(index) ? this.items.at(index) : undefined;
    if (m === undefined) throw new ArgumentError(`ModuleList: index ${index} is out of range for ${this.items.length} module(s)`);
    return m;
  }

  /** The modules in order. @example for (const block of blocks) x = block.forward(x) */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /**
   * Always throws: a ModuleList only holds modules (PyTorch's has no forward either).
   * @throws TypeError naming the list; iterate over it in the parent's forward instead.
   */
  forward(..._args: unknown[]): never {
    throw new TypeError(`ModuleList has no forward: call its ${this.items.length} module(s) from the parent's forward (for (const m of list) ...), or use Sequential`);
  }
}

/**
 * Modules by name, registered as children under their keys, so their parameters read
 * `encoder.weight` as in PyTorch's `nn.ModuleDict`; insertion order is kept. Like `ModuleList`,
 * it holds modules for a parent's `forward` and has no `forward` of its own.
 * @example
 * const heads = new ModuleDict({ cls: new Linear(16, 10), box: new Linear(16, 4) });
 * heads.get('cls').forward(features)
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<unknown[], never> {
  private readonly items = new Map<string, M>();

  /** @throws ArgumentError as `set`. */
  constructor(modules: Readonly<Record<string, M>> | Iterable<readonly [string, M]> = []) {
    super();
    const entries = Symbol.iterator in modules ? (modules as Iterable<readonly [string, M]>) : Object.entries(modules as Readonly<Record<string, M>>);
    for (const [key, m] of entries) this.set(key, m);
  }

  /**
   * Adds `module` under `key`. Keys follow the rules of `registerModule` (non-empty, no '.'), and
   * a key is set once: a module's parameters cannot be swapped under an optimiser holding them.
   * @throws ArgumentError if `module` is not a Module or `key` is invalid or taken.
   * @example heads.set('aux', new Linear(16, 2))
   */
  set(key: string, module: M): this {
    if (!(module instanceof Module)) throw new ArgumentError(`ModuleDict: item ${JSON.stringify(key)} is not a Module`);
    this.registerModule(key, module);
    this.items.set(key, module);
    return this;
  }

  /**
   * The module under `key`.
   * @throws ArgumentError if there is none (naming the keys there are).
   * @example heads.get('cls')
   */
  get(key: string): M {
    const m = this.items.get(key);
    if (m === undefined) {
      throw new ArgumentError(`ModuleDict: no module ${JSON.stringify(key)}; keys are ${JSON.stringify([...this.items.keys()])}`);
    }
    return m;
  }

  /** Whether a module is stored under `key`. @example heads.has('cls') */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /** Number of modules. */
  get size(): number {
    return this.items.size;
  }

  /** The keys in insertion order. @example [...heads.keys()] */
  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  /** The modules in insertion order. @example for (const head of heads.values()) ... */
  values(): IterableIterator<M> {
    return this.items.values();
  }

  /** [key, module] pairs in insertion order. @example for (const [name, head] of heads) ... */
  entries(): IterableIterator<[string, M]> {
    return this.items.entries();
  }

  /** [key, module] pairs in insertion order, as `entries`. */
  [Symbol.iterator](): IterableIterator<[string, M]> {
    return this.items.entries();
  }

  /**
   * Always throws: a ModuleDict only holds modules (PyTorch's has no forward either).
   * @throws TypeError naming the dict; call its modules from the parent's forward instead.
   */
  forward(..._args: unknown[]): never {
    throw new TypeError(`ModuleDict has no forward: call its modules (${JSON.stringify([...this.items.keys()])}) from the parent's forward`);
  }
}

/**
 * Structures of tensors (JAX's pytrees, jax-js's JsTrees): arrays and plain objects nested to any
 * depth, with Tensors as leaves. The transforms take and return them, so a model's parameters can
 * be one dictionary: `grad(loss)({ w1, b1, w2, b2 }, x)` returns `{ w1, b1, w2, b2 }` gradients.
 *
 * The rules, fixed here once for every transform:
 * - Nodes are arrays (by index) and plain objects (`{}` literals or `Object.create(null)`), by
 *   their own enumerable string keys in sorted order, as JAX sorts a dict's keys: `{ w, b }` and
 *   `{ b, w }` have one structure, and rebuilt objects list their keys sorted.
 * - `null` and `undefined` are nodes with no leaves (JAX's `None`): an optional bias may be
 *   `null`, and the gradient structure holds `null` in its place.
 * - Leaves are Tensors, unless `isLeaf` says otherwise. Anything else (a number, string, boolean,
 *   function, typed array, Map, class instance) is an error naming where it sits: numbers are not
 *   silently static or silently differentiated. Pass them as arguments a transform does not
 *   differentiate, which are never flattened.
 * - A structure that contains itself is an error; the same tensor or sub-structure reached twice
 *   is two occurrences, each its own leaf.
 */
import { ArgumentError } from './errors.js';
import { Tensor, describe } from './tensor.js';
import { checkOptions } from './options.js';

// The option names each function takes: an unknown one is an error (checkOptions).
const TREE_OPTIONS = ['isLeaf'];
const TREE_PREFIX_OPTIONS = ['isLeaf', 'isPrefixLeaf', 'name'];

/** A nested structure of arrays and plain objects with leaves of type L (Tensors by default). */
export type Tree<L = Tensor> = L | null | undefined | readonly Tree<L>[] | { readonly [key: string]: Tree<L> };

/**
 * The structure T with every Tensor leaf replaced by R: what a transform returns for an argument
 * of type T (`WithLeaves<{ w: Tensor; b: Tensor | null }, Tensor>` is that same shape).
 */
export type WithLeaves<T, R> = T extends Tensor
  ? R
  : T extends null | undefined
    ? T
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: WithLeaves<T[K], R> }
      : T extends object
        ? { -readonly [K in keyof T]: WithLeaves<T[K], R> }
        : never;

/** What `treeFlatten` returns. */
export interface Flattened<L = Tensor> {
  /** The leaves, arrays by index and objects by sorted key. */
  leaves: L[];
  /** The structure without its leaves. */
  def: TreeDef;
}

/** Options of the tree functions. */
export interface TreeOptions {
  /**
   * Which values are leaves (default: Tensors). Tested before a value is taken as a node, so
   * `(v) => v === null || typeof v === 'number'` makes numbers and nulls leaves, as vmap's axes.
   */
  isLeaf?: (value: unknown) => boolean;
}

/** What a node of a structure is. */
export type TreeKind = 'leaf' | 'null' | 'undefined' | 'array' | 'object';

/**
 * The shape of a structure without its leaves (JAX's PyTreeDef): rebuilds a structure from leaves
 * in flatten order, and compares and prints as its text, e.g. `{b: *, w: [*, null]}`.
 */
export class TreeDef {
  /** How many leaves the structure holds. */
  readonly numLeaves: number;
  private readonly text: string;

  private constructor(
    /** A leaf, an empty node (null, undefined), an array or a plain object. */
    readonly kind: TreeKind,
    /** An object's keys, sorted (empty for other kinds). */
    readonly keys: readonly string[],
    /** The sub-structures: an array's elements, an object's values in key order; none for a leaf or null. */
    readonly children: readonly TreeDef[],
  ) {
    this.numLeaves = kind === 'leaf' ? 1 : children.reduce((n, c) => n + c.numLeaves, 0);
    this.text = render(kind, keys, children);
  }

  /** @internal */
  static make(kind: TreeKind, keys: readonly string[] = [], children: readonly TreeDef[] = []): TreeDef {
    return new TreeDef(kind, keys, children);
  }

  /**
   * The structure with `leaves` in place, in flatten order.
   * @throws ArgumentError if the number of leaves differs from `numLeaves`.
   * @example def.unflatten(leaves.map((t) => t.mul(2)))
   */
  unflatten<L>(leaves: readonly L[]): Tree<L> {
    if (leaves.length !== this.numLeaves) {
      throw new ArgumentError(`treeUnflatten: the structure ${this.text} holds ${this.numLeaves} leaves, got ${leaves.length}`);
    }
    let at = 0;
    const build = (def: TreeDef): Tree<L> => {
      switch (def.kind) {
        case 'leaf':
          return leaves[at++]!;
        case 'null':
          return null;
        case 'undefined':
          return undefined;
        case 'array':
          return def.children.map(build);
        case 'object':
          // NOTE: fromEntries defines own properties, so a key '__proto__' stays a key.
          return Object.fromEntries(def.keys.map((k, i) => [k, build(def.children[i]!)]));
      }
    };
    return build(this);
  }

  /** Same structure (same kinds, lengths and keys, and leaves in the same places). */
  equals(other: TreeDef): boolean {
    return other instanceof TreeDef && other.text === this.text;
  }

  /** `*` for a leaf, `[...]`, `{key: ...}`, `null`, `undefined`: unique per structure, usable as a cache key. */
  toString(): string {
    return this.text;
  }
}

function render(kind: TreeKind, keys: readonly string[], children: readonly TreeDef[]): string {
  switch (kind) {
    case 'leaf':
      return '*';
    case 'null':
    case 'undefined':
      return kind;
    case 'array':
      return `[${children.map(String).join(', ')}]`;
    case 'object':
      return `{${keys.map((k, i) => `${keyText(k)}: ${String(children[i])}`).join(', ')}}`;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyText(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

/** A path inside a structure in JavaScript accessor syntax: `.layers[0].w`, `["my key"]`. */
function pathText(path: readonly (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : IDENTIFIER.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isPlainArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
}

/** The default leaf test. @internal */
export const isTensor = (value: unknown): boolean => value instanceof Tensor;

function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return `a ${typeof value} (${String(value)})`;
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      const name = describe(value);
      return Array.isArray(value) ? `an array of class ${value.constructor.name}` : `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
    }
  }
}

/**
 * Flattens with a caller's wording: `where(path)` names the place for error messages, e.g.
 * "grad: argument 0 at .config.lr"; `checkLeaf` may refuse a leaf, given that wording. The one
 * walk every public tree function and transform uses.
 * @internal
 */
export function flattenTree<L>(
  tree: unknown,
  isLeaf: (value: unknown) => boolean,
  where: (path: string) => string,
  checkLeaf?: (leaf: L, where: string) => void,
): Flattened<L> {
  const leaves: L[] = [];
  const path: (string | number)[] = [];
  const open = new Set<object>();
  const walk = (value: unknown): TreeDef => {
    if (isLeaf(value)) {
      checkLeaf?.(value as L, where(pathText(path)));
      leaves.push(value as L);
      return LEAF;
    }
    if (value === null) return NULL;
    if (value === undefined) return UNDEFINED;
    const array = isPlainArray(value);
    if (!array && !isPlainObject(value)) {
      throw new ArgumentError(
        `${where(pathText(path))} is ${describeValue(value)}; a structure holds ${isLeaf === isTensor ? 'Tensors' : 'leaves'} in arrays and plain objects (null and undefined stand for nothing)`,
      );
    }
    if (open.has(value)) throw new ArgumentError(`${where(pathText(path))} contains itself (a cycle); a structure must be a tree`);
    open.add(value);
    let def: TreeDef;
    if (array) {
      const children: TreeDef[] = [];
      // A hole in a sparse array reads as undefined, a node with no leaves.
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        children.push(walk(value[i]));
        path.pop();
      }
      def = TreeDef.make('array', [], children);
    } else {
      const keys = Object.keys(value).sort();
      const children = keys.map((k) => {
        path.push(k);
        const child = walk(value[k]);
        path.pop();
        return child;
      });
      def = TreeDef.make('object', keys, children);
    }
    open.delete(value);
    return def;
  };
  const def = walk(tree);
  return { leaves, def };
}

const LEAF = TreeDef.make('leaf');
const NULL = TreeDef.make('null');
const UNDEFINED = TreeDef.make('undefined');

function at(op: string): (path: string) => string {
  return (path) => `${op}: the value${path === '' ? '' : ` at ${path}`}`;
}

/**
 * A structure's leaves in order (arrays by index, objects by sorted key) and its `TreeDef`,
 * as JAX's `tree_util.tree_flatten`. `def.unflatten(leaves)` rebuilds it.
 * @throws ArgumentError naming the path of a value that is neither a leaf nor a node (see the
 * rules above), or of a structure that contains itself.
 * @example const { leaves, def } = treeFlatten({ w, b: [b1, b2] }) // leaves [b1, b2, w], def {b: [*, *], w: *}
 */
export function treeFlatten<L = Tensor>(tree: unknown, options: TreeOptions = {}): Flattened<L> {
  checkOptions('treeFlatten', options, TREE_OPTIONS);
  return flattenTree<L>(tree, options.isLeaf ?? isTensor, at('treeFlatten'));
}

/**
 * The leaves of a structure, in flatten order. @throws ArgumentError as `treeFlatten`.
 * @example treeLeaves({ w, b }) // [b, w]
 */
export function treeLeaves<L = Tensor>(tree: unknown, options: TreeOptions = {}): L[] {
  checkOptions('treeLeaves', options, TREE_OPTIONS);
  return flattenTree<L>(tree, options.isLeaf ?? isTensor, at('treeLeaves')).leaves;
}

/**
 * The structure of a tree without its leaves. @throws ArgumentError as `treeFlatten`.
 * @example treeStructure({ w, b }).toString() // '{b: *, w: *}'
 */
export function treeStructure(tree: unknown, options: TreeOptions = {}): TreeDef {
  checkOptions('treeStructure', options, TREE_OPTIONS);
  return flattenTree(tree, options.isLeaf ?? isTensor, at('treeStructure')).def;
}

/**
 * Rebuilds a structure from leaves in flatten order (JAX's `tree_unflatten`).
 * @throws ArgumentError if the number of leaves differs from the structure's.
 * @example treeUnflatten(def, leaves)
 */
export function treeUnflatten<L>(def: TreeDef, leaves: readonly L[]): Tree<L> {
  return def.unflatten(leaves);
}

/**
 * Applies `fn` to each Tensor leaf (with the leaves at the same place in `rest`, which must have
 * the same structure) and returns the results in that structure (JAX's `tree.map`).
 * @throws ArgumentError if a tree is not a structure of Tensors or `rest` differs in structure.
 * @example treeMap((p, g) => p.sub(g.mul(0.1)), params, grads)
 */
export function treeMap<T, R>(fn: (leaf: Tensor, ...rest: Tensor[]) => R, tree: T, ...rest: readonly T[]): WithLeaves<T, R> {
  const { leaves, def } = flattenTree<Tensor>(tree, isTensor, at('treeMap'));
  const others = rest.map((r, i) => {
    const flat = flattenTree<Tensor>(r, isTensor, at(`treeMap: tree ${i + 1}`));
    if (!flat.def.equals(def)) {
      throw new ArgumentError(`treeMap: tree ${i + 1} has structure ${String(flat.def)}, the first ${String(def)}`);
    }
    return flat.leaves;
  });
  return def.unflatten(leaves.map((leaf, j) => fn(leaf, ...others.map((o) => o[j]!)))) as WithLeaves<T, R>;
}

/**
 * JAX's tree-prefix rule, for options such as `inAxes` that address a structure: `prefix` has the
 * structure of `tree` down to some depth, and each of its leaves applies to every leaf of the
 * sub-structure of `tree` in its place. Returns one prefix value per leaf of `tree`, in flatten
 * order. Prefix leaves are the values `isPrefixLeaf` accepts (default: anything but an array or a
 * plain object, so null and numbers are leaves as in JAX's `in_axes`); the leaves of `tree` are
 * `options.isLeaf`'s (default Tensors).
 * @throws ArgumentError naming `name` and the path where prefix and tree part ways.
 * @example treeBroadcastPrefix([null, 0], [{ w, b }, x]) // [null, null, 0]
 */
export function treeBroadcastPrefix<P>(
  prefix: unknown,
  tree: unknown,
  options: TreeOptions & { isPrefixLeaf?: (value: unknown) => boolean; name?: string } = {},
): P[] {
  checkOptions('treeBroadcastPrefix', options, TREE_PREFIX_OPTIONS);
  const name = options.name ?? 'treeBroadcastPrefix';
  const isPrefixLeaf = options.isPrefixLeaf ?? ((v: unknown) => !isPlainArray(v) && !isPlainObject(v));
  const full = flattenTree(tree, options.isLeaf ?? isTensor, at(name)).def;
  const out: P[] = [];
  const path: (string | number)[] = [];
  const mismatch = (detail: string): ArgumentError =>
    new ArgumentError(`${name}: not a prefix of the structure it addresses${path.length > 0 ? ` at ${pathText(path)}` : ''}: ${detail}`);
  const walk = (p: unknown, def: TreeDef): void => {
    if (isPrefixLeaf(p)) {
      for (let i = 0; i < def.numLeaves; i++) out.push(p as P);
      return;
    }
    if (isPlainArray(p)) {
      if (def.kind !== 'array' || def.children.length !== p.length) {
        throw mismatch(`an array of ${p.length} where the structure has ${String(def)}`);
      }
      p.forEach((q, i) => {
        path.push(i);
        walk(q, def.children[i]!);
        path.pop();
      });
      return;
    }
    if (isPlainObject(p)) {
      const keys = Object.keys(p).sort();
      if (def.kind !== 'object' || keys.join('\u0000') !== def.keys.join('\u0000')) {
        throw mismatch(`an object with keys [${keys.join(', ')}] where the structure has ${String(def)}`);
      }
      keys.forEach((k, i) => {
        path.push(k);
        walk(p[k], def.children[i]!);
        path.pop();
      });
      return;
    }
    throw mismatch(`${describeValue(p)} is neither a prefix leaf nor an array or plain object`);
  };
  walk(prefix, full);
  return out;
}

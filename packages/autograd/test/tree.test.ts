import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError, Tensor, TreeDef, tensor, treeBroadcastPrefix, treeFlatten, treeLeaves, treeMap, treeStructure, treeUnflatten,
} from '@chainrule/autograd';

const t = (v: number): Tensor => tensor([v], { dtype: 'float64' });

// Random structures: arrays, plain objects, null, undefined and Tensor leaves, nested.
const structureArb = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -9, max: 9 }).map(t),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), tie('node'), { maxKeys: 4 }),
  ),
})).node;

/** Tensors of a structure in the order a reader of the rules expects: arrays by index, objects by sorted key. */
function expectedLeaves(tree: unknown): Tensor[] {
  if (tree instanceof Tensor) return [tree];
  if (tree === null || tree === undefined) return [];
  if (Array.isArray(tree)) return tree.flatMap(expectedLeaves);
  const o = tree as Record<string, unknown>;
  return Object.keys(o).sort().flatMap((k) => expectedLeaves(o[k]));
}

describe('treeFlatten and treeUnflatten', () => {
  test('leaves come by index and sorted key; null is an empty node that round-trips', () => {
    const [w, b1, b2] = [t(1), t(2), t(3)];
    const { leaves, def } = treeFlatten({ w, c: null, b: [b1, b2] });
    expect(leaves).toEqual([b1, b2, w]);
    expect(leaves[0]).toBe(b1);
    expect(String(def)).toBe('{b: [*, *], c: null, w: *}');
    expect(def.numLeaves).toBe(3);
    const rebuilt = treeUnflatten(def, ['B1', 'B2', 'W']);
    expect(rebuilt).toEqual({ b: ['B1', 'B2'], c: null, w: 'W' });
  });

  test('key order does not change the structure; quoted keys print as JSON', () => {
    const [a, b] = [t(1), t(2)];
    expect(treeStructure({ a, b }).equals(treeStructure({ b, a }))).toBe(true);
    expect(treeStructure({ a, b }).equals(treeStructure([a, b]))).toBe(false);
    expect(String(treeStructure({ 'my key': a, 0: [undefined] }))).toBe('{"0": [undefined], "my key": *}');
  });

  test('property: unflatten(flatten(s)) rebuilds s with the same leaves, in the documented order', () => {
    fc.assert(
      fc.property(structureArb, (s) => {
        const { leaves, def } = treeFlatten(s);
        const expected = expectedLeaves(s);
        expect(leaves.length).toBe(expected.length);
        leaves.forEach((leaf, i) => expect(leaf).toBe(expected[i]));
        expect(def.numLeaves).toBe(leaves.length);
        expect(def.unflatten(leaves)).toEqual(s);
        expect(treeStructure(def.unflatten(leaves)).equals(def)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test('a number, a class instance, a typed array or a cycle is an error naming where it sits', () => {
    class Box {
      constructor(readonly x: Tensor) {}
    }
    expect(() => treeFlatten({ layers: [{ w: t(1), lr: 0.1 }] })).toThrow(/^treeFlatten: the value at \.layers\[0\]\.lr is a number \(0\.1\); a structure holds Tensors in arrays and plain objects/);
    expect(() => treeLeaves([new Box(t(1))])).toThrow(/^treeLeaves: the value at \[0\] is a Box/);
    expect(() => treeLeaves({ m: new Map() })).toThrow(/at \.m is a Map/);
    expect(() => treeLeaves({ 'a b': new Float32Array(2) })).toThrow(/at \["a b"\] is a Float32Array/);
    expect(() => treeLeaves('text')).toThrow(/^treeLeaves: the value is a string \("text"\)/);
    const cyclic: Record<string, unknown> = { w: t(1) };
    cyclic['self'] = [cyclic];
    expect(() => treeFlatten(cyclic)).toThrow(/at \.self\[0\] contains itself \(a cycle\)/);
    expect(() => treeFlatten(cyclic)).toThrow(ArgumentError);
  });

  test("a key named '__proto__' is an ordinary key", () => {
    const tree = JSON.parse('{"__proto__": [null]}') as unknown;
    const { def } = treeFlatten(tree);
    const rebuilt = def.unflatten([]) as Record<string, unknown>;
    expect(Object.keys(rebuilt)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(rebuilt)).toBe(Object.prototype);
  });

  test('a sub-structure reached twice is two occurrences, not a cycle', () => {
    const shared = [t(1)];
    expect(treeLeaves({ a: shared, b: shared })).toEqual([shared[0], shared[0]]);
  });

  test('unflatten with the wrong number of leaves is an error naming the structure', () => {
    const def = treeStructure([t(1), { a: t(2) }]);
    expect(() => def.unflatten([1])).toThrow(/^treeUnflatten: the structure \[\*, \{a: \*\}\] holds 2 leaves, got 1/);
  });

  test('isLeaf chooses the leaves: numbers and nulls for an axes tree', () => {
    const isAxis = (v: unknown): boolean => v === null || typeof v === 'number';
    const { leaves, def } = treeFlatten<number | null>([0, { w: null, b: 1 }], { isLeaf: isAxis });
    expect(leaves).toEqual([0, 1, null]);
    expect(String(def)).toBe('[*, {b: *, w: *}]');
    expect(def).toBeInstanceOf(TreeDef);
  });
});

describe('treeMap', () => {
  test('maps leaves with the matching leaves of other trees, keeping the structure and nulls', () => {
    const p = { w: t(1), b: [t(2), null] };
    const g = { b: [t(10), null], w: t(20) };
    const out = treeMap((a, b) => a.add(b!), p, g);
    expect(out.w.item()).toBe(21);
    expect(out.b[0]!.item()).toBe(12);
    expect(out.b[1]).toBeNull();
  });

  test('trees of another structure are an error naming both', () => {
    expect(() => treeMap((a) => a, { w: t(1) }, { v: t(1) })).toThrow(/^treeMap: tree 1 has structure \{v: \*\}, the first \{w: \*\}/);
  });
});

describe('treeBroadcastPrefix (JAX tree-prefix semantics, as inAxes use)', () => {
  const [w, b, x, y] = [t(1), t(2), t(3), t(4)];

  test('a prefix leaf applies to every leaf below it', () => {
    expect(treeBroadcastPrefix([null, 0, 0], [{ w, b }, x, y])).toEqual([null, null, 0, 0]);
    expect(treeBroadcastPrefix(1, [{ w, b }, x])).toEqual([1, 1, 1]);
    expect(treeBroadcastPrefix([{ w: 0, b: null }, 1], [{ b, w }, [x, y]])).toEqual([null, 0, 1, 1]);
  });

  test('a prefix leaf over an empty node covers no leaves', () => {
    expect(treeBroadcastPrefix([0, 1], [null, x])).toEqual([1]);
  });

  test('a prefix that does not match the structure is an error naming the path', () => {
    expect(() => treeBroadcastPrefix([0, 0], [x, y, w], { name: 'vmap: inAxes' })).toThrow(
      /^vmap: inAxes: not a prefix of the structure it addresses: an array of 2 where the structure has \[\*, \*, \*\]/,
    );
    expect(() => treeBroadcastPrefix([{ w: 0 }, 0], [{ w, b }, x])).toThrow(/at \[0\]: an object with keys \[w\] where the structure has \{b: \*, w: \*\}/);
    expect(() => treeBroadcastPrefix([0, [1]], [x, null])).toThrow(/at \[1\]: an array of 1 where the structure has null/);
  });
});

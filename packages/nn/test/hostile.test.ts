// Hostile names and tensor-like impostors against every loader of @chainrule/nn: safetensors
// files and their metadata, checkpoints, state dicts and module registration. Each case must end
// in a clear error or a correct load, and Object.prototype (and Object) must stay as they were.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, ones, tensor } from '@chainrule/autograd';
import {
  Adam, Linear, MLP, Module, SafetensorsError, StateDictError,
  parseCheckpoint, parseSafetensors, parseSafetensorsFile, serializeCheckpoint, serializeSafetensors,
} from '@chainrule/nn';
import { load, loadCheckpoint, save, saveCheckpoint } from '@chainrule/nn/node';

/** Names that mean something to an ordinary object, or to a dotted-path reader, or to a log. */
const HOSTILE = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf',
  'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupGetter__', 'then', 'length',
  '', '.', '..', 'a..b', '.a', 'a.', ' ', '\u0000', '\n', '"', '\\', "'", '0', '-1', '1e3', 'NaN',
  '🦀', 'é', 'e\u0301', '\u202e', 'x'.repeat(10_000), '__metadata__',
];
/** Names built from the hostile ones with dots, as dotted state-dict paths and checkpoint names are. */
const dotted = fc.array(fc.constantFrom(...HOSTILE.filter((n) => n.length < 100), 'model', 'optimizer', 'extra', '0', 'retainGraph', 'x'), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
const anyName = fc.oneof(fc.constantFrom(...HOSTILE), dotted, fc.string({ unit: 'binary', maxLength: 40 }));

// Object.prototype and Object as they were before any test: compared after every one.
const snapshot = (o: object): string[] => Reflect.ownKeys(o).map(String).sort();
const before = { proto: snapshot(Object.prototype), object: snapshot(Object) };
function expectUnpolluted(): void {
  expect(snapshot(Object.prototype)).toEqual(before.proto);
  expect(snapshot(Object)).toEqual(before.object);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(({} as Record<string, unknown>)['retainGraph']).toBeUndefined();
}
afterEach(expectUnpolluted);

/** A safetensors file from raw header text and data bytes (JSON escapes such as lone surrogates kept as written). */
function rawFile(header: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  const json = new TextEncoder().encode(header);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length).fill(0x20, 8, 8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.set(data, 8 + padded);
  return out;
}
const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const entry = (name: string, begin: number): string => `${JSON.stringify(name)}:{"dtype":"F32","shape":[1],"data_offsets":[${begin},${begin + 4}]}`;

/** Either a clear error of `kind` whose message starts with the function's name, or `check` on the result. */
function errorOr<T>(run: () => T, kind: new (...args: never[]) => Error, prefix: RegExp, check: (result: T) => void): void {
  let result: T;
  try {
    result = run();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect((e as Error).message).toMatch(prefix);
    return;
  }
  check(result);
}

describe('safetensors: any tensor or metadata name is an ordinary key or a clear error', () => {
  test('a tensor of any name round-trips exactly (names are keys of a dictionary without a prototype)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyName.filter((n) => n !== '__metadata__'), { minLength: 1, maxLength: 5 }), (names) => {
        const dict: Record<string, Tensor> = Object.create(null);
        names.forEach((n, i) => (dict[n] = tensor([i, -i])));
        const back = parseSafetensors(serializeSafetensors(dict));
        expect(Object.getPrototypeOf(back)).toBe(null);
        expect(Object.keys(back).sort()).toEqual([...names].sort());
        names.forEach((n, i) => expect(Array.from(back[n]!.data)).toEqual([i, -i]));
        expectUnpolluted();
      }),
    );
  });

  test('metadata of any keys and values round-trips exactly', () => {
    fc.assert(
      fc.property(fc.dictionary(anyName, fc.string({ unit: 'binary' }), { noNullPrototype: false }), (meta) => {
        const { metadata } = parseSafetensorsFile(serializeSafetensors({ w: tensor([1]) }, meta));
        expect(Object.getPrototypeOf(metadata)).toBe(null);
        expect({ ...metadata }).toEqual({ ...meta });
        expectUnpolluted();
      }),
    );
  });

  test('a hand-made header with hostile names: each is a plain key; none reaches a prototype', () => {
    for (const name of HOSTILE.filter((n) => n !== '__metadata__')) {
      const bytes = rawFile(`{"__metadata__":{${JSON.stringify(name)}:"v"},${entry(name, 0)}}`, f32([7]));
      const { tensors, metadata } = parseSafetensorsFile(bytes);
      expect(Object.keys(tensors)).toEqual([name]);
      expect(tensors[name]!.data[0]).toBe(7);
      expect(Object.keys(metadata)).toEqual([name]);
      expect(metadata[name]).toBe('v');
    }
  });

  test('a name listed twice is refused, at the top level, in __metadata__ and inside an entry', () => {
    fc.assert(
      fc.property(anyName.filter((n) => n !== '__metadata__'), (name) => {
        const twice = rawFile(`{${entry(name, 0)},${entry(name, 4)}}`, f32([1, 2]));
        expect(() => parseSafetensors(twice)).toThrow(SafetensorsError);
        expect(() => parseSafetensors(twice)).toThrow(/^parseSafetensors: the header lists '.*' (\(\d+ characters\) )?twice/s);
        // The same name spelt with escapes is the same name.
        const escaped = `"${Array.from(name, (c) => (/[a-z_]/.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1))).join('')}"`;
        expect(() => parseSafetensors(rawFile(`{${entry(name, 0)},${escaped}:{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32([1, 2])))).toThrow(/twice/);
        const meta = rawFile(`{"__metadata__":{${JSON.stringify(name)}:"a",${JSON.stringify(name)}:"b"}}`);
        expect(() => parseSafetensors(meta)).toThrow(/^parseSafetensors: '__metadata__' lists '.*' (\(\d+ characters\) )?twice/s);
      }),
    );
    expect(() => parseSafetensors(rawFile(`{"__metadata__":{},"__metadata__":{}}`))).toThrow("the header lists '__metadata__' twice");
    expect(() => parseSafetensors(rawFile(`{"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}`, f32([1])))).toThrow("'w' lists 'dtype' twice");
    // Keys of different objects may repeat, and strings that look like keys inside values are not keys.
    const fine = rawFile(`{"__metadata__":{"a":"\\"a\\":","b":"{,"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32([1]));
    expect(parseSafetensorsFile(fine).metadata).toEqual({ a: '"a":', b: '{,' });
  });

  test('names that are not well-formed Unicode: lone surrogate escapes and bytes that are not UTF-8', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0xd800, max: 0xdfff }), fc.constantFrom('', 'a', '__proto__'), (unit, rest) => {
        const escape = `\\u${unit.toString(16)}`;
        expect(() => parseSafetensors(rawFile(`{"${rest}${escape}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32([1])))).toThrow(/not well-formed Unicode/);
        expect(() => parseSafetensors(rawFile(`{"__metadata__":{"${escape}":"v"}}`))).toThrow(/not well-formed Unicode/);
        expect(() => serializeSafetensors({ [`${rest}${String.fromCharCode(unit)}`]: tensor([1]) })).toThrow(/not well-formed Unicode/);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 8 }).filter((b) => b.some((x) => x >= 0x80)), (junk) => {
        const head = new TextEncoder().encode('{"');
        const tail = new TextEncoder().encode('":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
        const header = new Uint8Array([...head, ...junk, ...tail]);
        let valid = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(header);
        } catch {
          valid = false;
        }
        const raw = new Uint8Array(8 + Math.ceil(header.length / 8) * 8 + 4).fill(0x20, 8);
        new DataView(raw.buffer).setBigUint64(0, BigInt(Math.ceil(header.length / 8) * 8), true);
        raw.set(header, 8);
        raw.set(f32([1]), raw.length - 4);
        if (!valid) expect(() => parseSafetensors(raw)).toThrow('parseSafetensors: the header is not valid UTF-8');
        else errorOr(() => parseSafetensors(raw), SafetensorsError, /^parseSafetensors: /, (t) => expect(Object.keys(t)).toHaveLength(1));
      }),
    );
  });
});

describe('checkpoints: names below optimizer.* and metadata JSON cannot reach a prototype', () => {
  test('the attacks: optimizer.__proto__.retainGraph, optimizer.constructor.X, model.__proto__', () => {
    const ckpt = (tensors: Record<string, Tensor>, optimizer = '{"numbers":{},"paramGroups":[]}'): Uint8Array => {
      const dict: Record<string, Tensor> = Object.create(null);
      Object.assign(dict, tensors);
      return serializeSafetensors(dict, { 'chainrule.optimizer': optimizer });
    };
    const named = (name: string): Record<string, Tensor> => Object.defineProperty({}, name, { value: tensor([1]), enumerable: true });
    expect(() => parseCheckpoint(ckpt(named('optimizer.__proto__.retainGraph')))).toThrow("parseCheckpoint: unexpected tensor 'optimizer.__proto__.retainGraph'");
    expect(() => parseCheckpoint(ckpt(named('optimizer.constructor.X')))).toThrow("parseCheckpoint: unexpected tensor 'optimizer.constructor.X'");
    expect(() => parseCheckpoint(ckpt(named('optimizer.0.__proto__')))).toThrow(SafetensorsError);
    expect(() => parseCheckpoint(ckpt(named('optimizer.0.constructor')))).toThrow(SafetensorsError);
    expect(() => parseCheckpoint(ckpt(named('optimizer.01.expAvg')))).toThrow(SafetensorsError);
    // model.__proto__ is a parameter named __proto__: an ordinary key of a dictionary without a prototype.
    const { model } = parseCheckpoint(ckpt(named('model.__proto__')));
    expect(Object.getPrototypeOf(model)).toBe(null);
    expect(Object.keys(model)).toEqual(['__proto__']);
    expect(model['__proto__']!.data[0]).toBe(1);
  });

  test('hostile keys in the optimiser and scheduler JSON are refused', () => {
    const bad = [
      '{"numbers":{"__proto__":{"retainGraph":1}},"paramGroups":[]}',
      '{"numbers":{"0":{"__proto__":1}},"paramGroups":[]}',
      '{"numbers":{"0":{"constructor":1}},"paramGroups":[]}',
      '{"numbers":{"x":{"step":1}},"paramGroups":[]}',
      '{"numbers":{},"paramGroups":[{"params":[0],"__proto__":{"lr":1}}]}',
      '{"numbers":{},"paramGroups":[{"params":[0],"toString":1}]}',
      '{"numbers":{},"paramGroups":[{"params":[0],"lr":"1"}]}',
      '{"numbers":{},"paramGroups":[{"params":["0"]}]}',
      '{"numbers":{},"paramGroups":{}}',
      '{"__proto__":{"numbers":{},"paramGroups":[]}}',
      '[]',
    ];
    for (const json of bad) {
      expect(() => parseCheckpoint(serializeSafetensors({}, { 'chainrule.optimizer': json })), json).toThrow(/^parseCheckpoint: metadata 'chainrule.optimizer'/);
    }
    for (const json of ['{"__proto__":{"retainGraph":true}}', '{"a":{"constructor":{"prototype":{"x":1}}}}', '[1]', '3']) {
      expect(() => parseCheckpoint(serializeSafetensors({}, { 'chainrule.scheduler': json })), json).toThrow(/^parseCheckpoint: metadata 'chainrule.scheduler'/);
    }
  });

  test('any tensor name: a clear error or a checkpoint whose keys are exactly the names given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(dotted.filter((n) => n !== '__metadata__'), { minLength: 1, maxLength: 4 }), (names) => {
        const dict: Record<string, Tensor> = Object.create(null);
        for (const n of names) dict[n] = tensor([1, 2]);
        const bytes = serializeSafetensors(dict, { 'chainrule.optimizer': '{"numbers":{},"paramGroups":[]}' });
        errorOr(() => parseCheckpoint(bytes), SafetensorsError, /^parseCheckpoint: /, (c) => {
          expect(Object.getPrototypeOf(c.model)).toBe(null);
          const modelNames = names.filter((n) => n.startsWith('model.')).map((n) => n.slice(6));
          expect(Object.keys(c.model).sort()).toEqual(modelNames.sort());
          for (const [i, s] of Object.entries(c.optimizer!.state)) {
            expect(/^(0|[1-9][0-9]*)$/.test(i)).toBe(true);
            for (const k of Object.keys(s)) expect(Object.hasOwn(Object.prototype, k)).toBe(false);
          }
        });
        expectUnpolluted();
      }),
    );
  });

  test('serializeCheckpoint refuses optimiser names it could not read back', () => {
    expect(() => serializeCheckpoint({ model: {}, optimizer: { state: { 0: Object.defineProperty({}, '__proto__', { value: 1, enumerable: true }) }, paramGroups: [] } })).toThrow(
      "serializeCheckpoint: optimizer state name '__proto__' of parameter 0",
    );
    expect(() => serializeCheckpoint({ model: {}, optimizer: { state: {}, paramGroups: [{ params: [], 'a.b': 1 }] } })).toThrow("option name 'a.b' of parameter group 0");
  });
});

/** A module whose parameters, buffer and child are named like Object.prototype's members. */
class Reserved extends Module {
  constructor(seed: number) {
    super();
    const r = (n: number): Tensor => tensor(Array.from({ length: n }, (_, i) => seed * 10 + i));
    this.registerParameter('constructor', r(2));
    this.registerParameter('toString', r(3));
    this.registerParameter('__proto__', r(1));
    this.registerBuffer('hasOwnProperty', r(2));
    this.registerBuffer('valueOf', r(1));
    this.registerModule('prototype', new Linear(2, 2, { seed }));
    this.registerModule('__proto__x', new Linear(1, 1, { seed }));
    const inner = new MLP([2, 2], { seed });
    this.registerModule('hasOwnProperty_', inner);
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}
const KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype.weight', 'prototype.bias'];

describe('parameters and submodules named like Object.prototype members work as any name', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'chainrule-hostile-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('stateDict lists them, and a file round-trip (save/load, checkpoint) restores every one', () => {
    const a = new Reserved(1);
    const sd = a.stateDict();
    for (const k of KEYS) expect(Object.keys(sd)).toContain(k);
    expect(Object.keys(sd)).toHaveLength(a.namedParameters().length + a.namedBuffers().length);
    expect(sd['__proto__']!.data[0]).toBe(10);
    const b = new Reserved(2);
    const path = join(dir, 'm.safetensors');
    save(path, sd);
    expect(b.loadStateDict(load(path)).loaded.sort()).toEqual(Object.keys(sd).sort());
    for (const k of Object.keys(sd)) expect(Array.from(b.stateDict()[k]!.data)).toEqual(Array.from(sd[k]!.data));
    const c = new Reserved(3);
    saveCheckpoint(path, { model: sd });
    c.loadStateDict(loadCheckpoint(path).model);
    for (const k of Object.keys(sd)) expect(Array.from(c.stateDict()[k]!.data)).toEqual(Array.from(sd[k]!.data));
  });

  test('an optimiser over them saves and resumes through a checkpoint', () => {
    const m = new Reserved(1);
    const opt = new Adam(m.parameters(), { lr: 0.1 });
    for (const p of m.parameters()) p.grad = ones([...p.shape]);
    opt.step();
    const back = parseCheckpoint(serializeCheckpoint({ model: m.stateDict(), optimizer: opt.stateDict() }));
    const opt2 = new Adam(new Reserved(1).parameters(), { lr: 0.1 });
    opt2.loadStateDict(back.optimizer!);
    expect(opt2.stateDict().state[0]!['step']).toBe(1);
  });

  test('a missing reserved key is reported by name; a plain dict with an own __proto__ key loads', () => {
    const m = new Reserved(1);
    const sd = { ...m.stateDict() };
    delete sd['toString'];
    expect(() => m.loadStateDict(sd)).toThrow("missing key 'toString'");
    const lin = new Linear(1, 1);
    const dict = Object.defineProperty({ weight: tensor([[5]]), bias: tensor([6]) }, '__proto__', { value: tensor([1]), enumerable: true });
    expect(() => lin.loadStateDict(dict)).toThrow("unexpected key '__proto__'");
    expect(lin.loadStateDict(dict, { strict: false }).unexpected).toEqual(['__proto__']);
    expect(lin.weight.data[0]).toBe(5);
  });
});

describe('loadStateDict validates any input before writing anything', () => {
  type Corruption = (entry: Record<string, unknown>) => unknown;
  const corruptions: [string, Corruption][] = [
    ['data longer than the shape', (e) => ({ ...e, data: Float32Array.from([...(e['data'] as Float32Array), 1, 2, 3]) })],
    ['data shorter than the shape', (e) => ({ ...e, data: (e['data'] as Float32Array).slice(1) })],
    ['float64 data for float32', (e) => ({ ...e, data: Float64Array.from(e['data'] as Float32Array) })],
    ['Int32Array data', (e) => ({ ...e, data: Int32Array.from(e['data'] as Float32Array) })],
    ['a plain array as data', (e) => ({ ...e, data: Array.from(e['data'] as Float32Array) })],
    ['no data', (e) => ({ shape: e['shape'], dtype: e['dtype'] })],
    ['dtype float64', (e) => ({ ...e, dtype: 'float64' })],
    ['dtype missing', (e) => ({ shape: e['shape'], data: e['data'] })],
    ['a wrong shape', (e) => ({ ...e, shape: [...(e['shape'] as number[]), 1] })],
    ['a fractional size', (e) => ({ ...e, shape: (e['shape'] as number[]).map((d) => d + 0.5) })],
    ['a negative size', (e) => ({ ...e, shape: (e['shape'] as number[]).map((d) => -d) })],
    ['a shape that is a string', (e) => ({ ...e, shape: String(e['shape']) })],
    ['null', () => null],
    ['a number', () => 3],
    ['a getter that throws', (e) => Object.defineProperty({ ...e }, 'data', { get: () => { throw new Error('boom'); }, enumerable: true })],
  ];

  test('random corruptions of random entries: a StateDictError naming the key and the module path, the model unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 }),
        fc.nat(),
        fc.subarray(corruptions.map((_, i) => i), { minLength: 1 }),
        fc.boolean(),
        (sizes, pick, which, realTensors) => {
          const model = new MLP(sizes, { seed: 3 });
          const original = model.stateDict();
          const snapshotBits = Object.fromEntries(Object.entries(original).map(([k, t]) => [k, Array.from(t.data)]));
          const keys = Object.keys(original);
          const donor = new MLP(sizes, { seed: 4 }).stateDict();
          const dict: Record<string, unknown> = {};
          for (const k of keys) {
            const t = donor[k]!;
            dict[k] = realTensors ? t : { shape: [...t.shape], dtype: t.dtype, data: t.data.slice() };
          }
          const bad: string[] = [];
          which.forEach((c, j) => {
            const k = keys[(pick + j) % keys.length]!;
            const t = donor[k]!;
            dict[k] = corruptions[c]![1]({ shape: [...t.shape], dtype: t.dtype, data: t.data.slice() });
            bad.push(k);
          });
          let error: unknown;
          try {
            model.loadStateDict(dict as Record<string, Tensor>);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(StateDictError);
          const message = (error as Error).message;
          for (const k of bad) {
            expect(message).toContain(`'${k}'`);
            const path = k.slice(0, k.lastIndexOf('.'));
            expect(message).toContain(`of ${path} (Linear)`);
          }
          for (const k of keys) expect(Array.from(model.stateDict()[k]!.data)).toEqual(snapshotBits[k]);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('shape mismatches name both shapes; data length mismatches name both counts', () => {
    const lin = new Linear(3, 2);
    expect(() => lin.loadStateDict({ weight: tensor([[1, 2]]), bias: tensor([1, 2]) })).toThrow(
      "'weight': shape [1,2] in the dict, [2,3] in the module (parameter 'weight' of the model (Linear))",
    );
    const lookalike = { shape: [2, 3], dtype: 'float32', data: new Float32Array(9) } as unknown as Tensor;
    expect(() => lin.loadStateDict({ weight: lookalike, bias: tensor([1, 2]) })).toThrow(
      "'weight': its data holds 9 element(s) but its shape [2,3] (as the module's) needs 6",
    );
  });

  test('tensor-like objects that are right load like tensors; entries sharing storage with the model load as a swap', () => {
    const lin = new Linear(2, 2, { bias: false });
    lin.loadStateDict({ weight: { shape: [2, 2], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4]) } as unknown as Tensor });
    expect(Array.from(lin.weight.data)).toEqual([1, 2, 3, 4]);
    const two = new (class extends Module {
      a = this.registerParameter('a', tensor([1, 2]));
      b = this.registerParameter('b', tensor([3, 4]));
      forward(x: Tensor): Tensor {
        return x;
      }
    })();
    const sd = two.stateDict();
    two.loadStateDict({ a: sd['b']!, b: sd['a']! });
    expect(Array.from(two.a.data)).toEqual([3, 4]);
    expect(Array.from(two.b.data)).toEqual([1, 2]);
  });

  test('a dict or options that are not objects are clear errors', () => {
    const lin = new Linear(1, 1);
    expect(() => lin.loadStateDict(null as unknown as Record<string, Tensor>)).toThrow(StateDictError);
    expect(() => lin.loadStateDict(lin.stateDict(), { strict: 'no' as unknown as boolean })).toThrow('loadStateDict: strict must be a boolean');
  });
});

describe('safetensors header layout: accepted exactly when it is valid', () => {
  const DTYPES = ['F32', 'F64', 'I64', 'F16', 'BF16', 'I32', 'U8', 'BOOL', 'I16', 'f32', '', '__proto__'];
  const WIDTH: Record<string, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1, F16: 2, BF16: 2 };
  const dim = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(-1, 1.5, 2 ** 40, 2 ** 53, Number.MAX_SAFE_INTEGER));
  const info = fc.record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(dim, { maxLength: 3 }),
    // Offsets near the right ones (so valid files are common), or anywhere.
    shift: fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 })),
    stretch: fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 })),
  });

  test('a random header and data length: parse succeeds if and only if the entries tile the data exactly', () => {
    fc.assert(
      fc.property(fc.array(info, { maxLength: 4 }), fc.integer({ min: -8, max: 8 }), (infos, extra) => {
        // Lay the entries out back to back in order, then disturb each by its shift and stretch.
        let cursor = 0;
        const entries = infos.map((e, i) => {
          const size = e.shape.reduce((a, b) => a * b, 1) * (WIDTH[e.dtype] ?? 4);
          const begin = cursor + e.shift;
          const end = begin + (Number.isSafeInteger(size) ? size : 0) + e.stretch;
          cursor = Math.max(cursor, end);
          return { name: `t${i}`, dtype: e.dtype, shape: e.shape, begin, end };
        });
        // Capped: a huge entry then runs past the end of the data, which the reader must see.
        const dataLength = Math.min(4096, Math.max(0, cursor + extra));
        const header = `{${entries.map((e) => `"${e.name}":{"dtype":${JSON.stringify(e.dtype)},"shape":${JSON.stringify(e.shape)},"data_offsets":[${e.begin},${e.end}]}`).join(',')}}`;
        const bytes = rawFile(header, new Uint8Array(dataLength));
        // The rules, stated independently of the reader.
        const count = (s: number[]): number => s.reduce((a, b) => a * b, 1);
        const validEach = entries.every(
          (e) =>
            e.dtype in WIDTH &&
            e.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
            e.begin >= 0 && e.end >= e.begin &&
            Number.isSafeInteger(count(e.shape) * WIDTH[e.dtype]!) &&
            e.end - e.begin === count(e.shape) * WIDTH[e.dtype]!,
        );
        const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
        let at = 0;
        let tiles = true;
        for (const e of sorted) {
          if (e.begin !== at) tiles = false;
          at = e.end;
        }
        const valid = validEach && tiles && at === dataLength;
        if (valid) {
          const out = parseSafetensors(bytes);
          for (const e of entries) expect(out[e.name]!.shape).toEqual(e.shape);
        } else {
          expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
          expect(() => parseSafetensors(bytes)).toThrow(/^parseSafetensors: /);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a shape whose byte size passes 2^53 is refused by name, even when its element count is 0 elsewhere', () => {
    const huge = rawFile('{"a":{"dtype":"F64","shape":[2251799813685248,4],"data_offsets":[0,0]}}');
    expect(() => parseSafetensors(huge)).toThrow("'a' (F64 [2251799813685248,4]) would need");
    const empty = rawFile('{"a":{"dtype":"F64","shape":[0,9007199254740991],"data_offsets":[0,0]}}');
    expect(parseSafetensors(empty)['a']!.shape).toEqual([0, 9007199254740991]);
  });
});

describe('in a process whose Object.prototype someone else polluted, readers read only what is there', () => {
  /** Runs `f` with `values` set on Object.prototype, then removes them. */
  function polluted(values: Record<string, unknown>, f: () => void): void {
    for (const [k, v] of Object.entries(values)) Object.defineProperty(Object.prototype, k, { value: v, configurable: true, writable: true });
    try {
      f();
    } finally {
      for (const k of Object.keys(values)) delete (Object.prototype as Record<string, unknown>)[k];
    }
  }

  test('safetensors entries, checkpoint metadata and loadStateDict options', () => {
    const lin = new Linear(1, 1);
    const weight = tensor([[1]]);
    polluted({ dtype: 'F32', shape: [1], data_offsets: [0, 4], numbers: {}, paramGroups: [], params: [], strict: false }, () => {
      expect(() => parseSafetensors(rawFile('{"w":{}}', f32([1])))).toThrow("'w' has dtype undefined");
      expect(() => parseCheckpoint(serializeSafetensors({}, { 'chainrule.optimizer': '{}' }))).toThrow('must hold { numbers, paramGroups }');
      expect(() => parseCheckpoint(serializeSafetensors({}, { 'chainrule.optimizer': '{"numbers":{},"paramGroups":[{}]}' }))).toThrow("parameter group 0 must list its parameters");
      expect(() => lin.loadStateDict({ weight }, {})).toThrow("missing key 'bias'");
    });
  });
});

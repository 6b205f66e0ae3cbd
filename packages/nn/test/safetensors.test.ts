import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, tensor } from '@chainrule/autograd';
import {
  BatchNorm1d, LayerNorm, Linear, MLP, Module, SafetensorsError, Sequential, Tanh,
  parseSafetensors, parseSafetensorsFile, serializeSafetensors,
} from '@chainrule/nn';
import { load, save } from '@chainrule/nn/node';

const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));

/** A file from a header object (or raw header text) and data bytes, laid out as the spec says. */
function file(header: object | string, data: number[] = []): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(ascii(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): number[] {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(b.buffer).setFloat32(4 * i, v, true));
  return Array.from(b);
}

function f64Bytes(values: number[]): number[] {
  const b = new Uint8Array(values.length * 8);
  values.forEach((v, i) => new DataView(b.buffer).setFloat64(8 * i, v, true));
  return Array.from(b);
}

function i64Bytes(values: bigint[]): number[] {
  const b = new Uint8Array(values.length * 8);
  values.forEach((v, i) => new DataView(b.buffer).setBigInt64(8 * i, v, true));
  return Array.from(b);
}

describe('serializeSafetensors writes the byte layout of the spec', () => {
  test('the reference implementation test vectors, byte for byte', () => {
    // safetensors' own tests (tensor.rs): one F32 tensor 'attn.0' [1,2,3] = 0..5, and empty files.
    const attn = tensor([[[0, 1, 2], [3, 4, 5]]]);
    expect(Array.from(serializeSafetensors({ 'attn.0': attn }))).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
      116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
      58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
      101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(serializeSafetensors({}, { framework: 'pt' }))).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
      95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
      116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
    const aligned = serializeSafetensors({ attn0: tensor([[[[0, 1, 2], [3, 4, 5]]]]) });
    expect(Array.from(aligned.slice(0, 8))).toEqual([72, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(aligned.slice(72 + 1, 80))).toEqual([32, 32, 32, 32, 32, 32, 32]);
  });

  test('header length, JSON, sorting (F64 first, then by name), padding and offsets checked by hand', () => {
    const bytes = serializeSafetensors({
      'layer.b': tensor([1, 2]),
      'layer.a': tensor([[0.5, -1]]),
      scale: tensor(3.5, { dtype: 'float64' }),
    }, { note: 'hi' });
    const json =
      '{"__metadata__":{"note":"hi"},' +
      '"scale":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
      '"layer.a":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]},' +
      '"layer.b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}';
    expect(json.length).toBe(209);
    const n = 216; // padded to a multiple of 8 with 7 spaces
    expect(bytes.length).toBe(8 + n + 24);
    expect(new DataView(bytes.buffer).getBigUint64(0, true)).toBe(BigInt(n));
    expect(new TextDecoder().decode(bytes.slice(8, 8 + n))).toBe(json + ' '.repeat(7));
    expect(Array.from(bytes.slice(8 + n))).toEqual([...f64Bytes([3.5]), ...f32Bytes([0.5, -1]), ...f32Bytes([1, 2])]);
  });

  test('names sort by their UTF-8 bytes, integer-like names included', () => {
    const bytes = serializeSafetensors({ '9': tensor([1]), '10': tensor([2]), b: tensor([3]), 'é': tensor([4]), Z: tensor([5]) });
    const header = new TextDecoder().decode(bytes.slice(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const order = [...header.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    expect(order).toEqual(['10', '9', 'Z', 'b', 'é']);
  });
});

describe('round trips', () => {
  const modelArb = fc.record({
    sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
    dtype: fc.constantFrom('float32' as const, 'float64' as const),
    norm: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  });

  function build(c: { sizes: number[]; dtype: 'float32' | 'float64'; norm: boolean }, seed: number): Module {
    const mlp = new MLP(c.sizes, { dtype: c.dtype, seed, activation: 'tanh' });
    if (!c.norm) return mlp;
    const last = c.sizes[c.sizes.length - 1]!;
    return new Sequential(mlp, new BatchNorm1d(last, { dtype: c.dtype }), new LayerNorm(last, { dtype: c.dtype }), new Tanh());
  }

  test('stateDict -> bytes -> parse -> loadStateDict restores every bit (random models)', () => {
    fc.assert(
      fc.property(modelArb, (c) => {
        const a = build(c, c.seed);
        if (c.norm) {
          // Give the running statistics non-trivial values.
          a.forward(tensor(Array.from({ length: 3 * c.sizes[0]! }, (_, i) => Math.sin(i)), { shape: [3, c.sizes[0]!], dtype: c.dtype }));
        }
        const b = build(c, c.seed + 1);
        const bytes = serializeSafetensors(a.stateDict(), { seed: String(c.seed) });
        const parsed = parseSafetensorsFile(bytes);
        expect(parsed.metadata).toEqual({ seed: String(c.seed) });
        b.loadStateDict(parsed.tensors);
        const sa = a.stateDict(), sb = b.stateDict();
        expect(Object.keys(sb)).toEqual(Object.keys(sa));
        for (const k of Object.keys(sa)) {
          expect(sb[k]!.dtype).toBe(sa[k]!.dtype);
          expect(sb[k]!.shape).toEqual(sa[k]!.shape);
          expect(new Uint8Array(sb[k]!.data.buffer)).toEqual(new Uint8Array(sa[k]!.data.buffer));
        }
        // and writing it again gives the same bytes
        expect(serializeSafetensors(b.stateDict(), { seed: String(c.seed) })).toEqual(bytes);
      }),
      { numRuns: 25 },
    );
  });

  test('special values survive: NaN payload-free, ±Infinity, -0, subnormals', () => {
    const t = new Tensor(Float64Array.from([NaN, Infinity, -Infinity, -0, 5e-324]), [5]);
    const back = parseSafetensors(serializeSafetensors({ t }))['t']!;
    expect(Object.is(back.data[3], -0)).toBe(true);
    expect(Array.from(back.data)).toEqual([NaN, Infinity, -Infinity, -0, 5e-324]);
  });

  test('parses from a Uint8Array view with an offset (as Node Buffers are)', () => {
    const bytes = serializeSafetensors({ w: tensor([1, 2, 3], { dtype: 'float64' }) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(Array.from(parseSafetensors(big.subarray(3))['w']!.data)).toEqual([1, 2, 3]);
  });

  test("I64 (PyTorch's BatchNorm num_batches_tracked) is read into int32, so a PyTorch BatchNorm state loads", () => {
    // The layout PyTorch's save_file gives BatchNorm1d(2): F32 parameters and buffers, one I64 counter.
    const header = {
      bias: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      num_batches_tracked: { dtype: 'I64', shape: [], data_offsets: [8, 16] },
      running_mean: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
      running_var: { dtype: 'F32', shape: [2], data_offsets: [24, 32] },
      weight: { dtype: 'F32', shape: [2], data_offsets: [32, 40] },
    };
    const bytes = file(header, [...f32Bytes([0.5, -0.5]), ...i64Bytes([-7n]), ...f32Bytes([1, 2]), ...f32Bytes([3, 4]), ...f32Bytes([1.5, 2.5])]);
    const state = parseSafetensors(bytes);
    expect(state['num_batches_tracked']!.dtype).toBe('int32');
    expect(state['num_batches_tracked']!.item()).toBe(-7);
    const bn = new BatchNorm1d(2);
    bn.loadStateDict(state);
    expect(Array.from(bn.runningVar!.data)).toEqual([3, 4]);
    expect(bn.stateDict()['num_batches_tracked']!.item()).toBe(-7);
  });

  test('a tensor named __proto__ stays a plain entry', () => {
    const bytes = file('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32Bytes([7]));
    const out = parseSafetensors(bytes);
    expect(Object.keys(out)).toEqual(['__proto__']);
    // No prototype: the name is an ordinary key, and reading it gives the tensor.
    expect(Object.getPrototypeOf(out)).toBe(null);
    expect(Array.from(out['__proto__']!.data)).toEqual([7]);
  });
});

describe('malformed files: clear errors, nothing half-loaded', () => {
  const t = (dtype: string, shape: number[], offsets: [number, number]) => ({ dtype, shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', new Uint8Array([1, 2, 3]), /truncated file: 3 byte\(s\), fewer than the 8 of the header length/],
    ['header longer than the file', file({ a: t('F32', [1], [0, 4]) }, f32Bytes([1])).slice(0, 30), /truncated file: the header claims \d+ bytes but only 22 follow the length/],
    ['data cut short', file({ a: t('F32', [2], [0, 8]) }, f32Bytes([1, 2])).slice(0, -3), /'a' data_offsets \[0, 8\] run past the end of the data \(5 bytes\): truncated file\?/],
    ['overlapping tensors', file({ a: t('F32', [2], [0, 8]), b: t('F32', [1], [4, 8]) }, f32Bytes([1, 2])), /'b' data_offsets \[4, 8\] overlap the previous tensor \(which ends at 8\)/],
    ['a gap between tensors', file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, f32Bytes([1, 2, 3])), /gap in the data: bytes \[4, 8\) belong to no tensor \(before 'b'\)/],
    ['offsets out of bounds', file({ a: t('F32', [1], [96, 100]) }, f32Bytes([1])), /'a' data_offsets \[96, 100\] run past the end of the data \(4 bytes\)/],
    ['offsets beyond the data', file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [4, 8]) }, f32Bytes([1])), /'b' data_offsets \[4, 8\] run past the end of the data \(4 bytes\)/],
    ['trailing bytes', file({ a: t('F32', [1], [0, 4]) }, f32Bytes([1, 2])), /the data section holds 8 bytes but the tensors cover 4/],
    ['size disagreeing with the shape', file({ a: t('F32', [3], [0, 8]) }, f32Bytes([1, 2])), /'a' \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 8\] span 8/],
    ['an unknown dtype', file({ a: t('I16', [2], [0, 4]) }, [0, 0, 0, 0]), /'a' has dtype "I16"; chainrule reads F64, F32, F16 and BF16 \(as float32\), I32, I64 and U8 \(as int32\) and BOOL/],
    ['an I64 outside int32', file({ a: t('I64', [2], [0, 16]) }, i64Bytes([3n, 2n ** 31n])), /'a' \(I64\) holds 2147483648 at element 1, which int32 cannot hold/],
    ['a BOOL byte that is neither 0 nor 1', file({ a: t('BOOL', [3], [0, 3]) }, [1, 0, 2]), /'a' \(BOOL\) holds 2 at element 2, which bool cannot hold \(a BOOL byte is 0 or 1\)/],
    ['reversed offsets', file({ a: t('F32', [0], [4, 0]) }), /'a' has invalid data_offsets \[4,0\]/],
    ['a negative dimension', file({ a: t('F32', [-1], [0, 0]) }), /'a' has an invalid shape \[-1\]/],
    ['invalid JSON', file('{"a": '), /the header is not valid JSON/],
    ['a JSON array header', file('[1,2]'), /the header must be a JSON object/],
    ['non-string metadata', file({ __metadata__: { epoch: 3 } }), /'__metadata__' value 'epoch' must be a string, got number/],
    ['a huge declared header', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true); return b; })(), /header length \d+ exceeds the limit/],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, () => {
      expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  test('a failed load leaves the model untouched', () => {
    const lin = new Linear(2, 2, { seed: 0 });
    const before = Array.from(lin.weight.data);
    const good = serializeSafetensors(new Linear(2, 2, { seed: 1 }).stateDict());
    expect(() => lin.loadStateDict(parseSafetensors(good.slice(0, good.length - 1)))).toThrow(SafetensorsError);
    expect(Array.from(lin.weight.data)).toEqual(before);
  });

  test('serializing rejects non-tensors, the reserved key, and non-string metadata', () => {
    expect(() => serializeSafetensors({ __metadata__: tensor([1]) })).toThrow(/reserved for metadata/);
    expect(() => serializeSafetensors({ a: [1, 2] as unknown as Tensor })).toThrow("serializeSafetensors: 'a' is not a Tensor");
    expect(() => serializeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata values must be strings/);
  });
});

describe('files on disk (@chainrule/nn/node)', () => {
  test('save writes atomically and returns the bytes; load reads them back; save(null) only returns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainrule-nn-'));
    try {
      const model = new MLP([3, 4, 2], { seed: 5 });
      const path = join(dir, 'model.safetensors');
      const bytes = save(path, model.stateDict(), { format: 'pt' });
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(save(null, model.stateDict(), { format: 'pt' })).toEqual(bytes);
      const other = new MLP([3, 4, 2], { seed: 6 });
      other.loadStateDict(load(path));
      expect(Array.from(other.parameters()[0]!.data)).toEqual(Array.from(model.parameters()[0]!.data));
      writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([1, 2]));
      expect(() => load(join(dir, 'bad.safetensors'))).toThrow(SafetensorsError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the main entry imports no Node built-in', () => {
    const root = new URL('../src/', import.meta.url);
    // node.ts and the node/ folder it alone imports are the Node entry.
    const files = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && f !== 'node.ts' && !f.startsWith('node/'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const src = readFileSync(new URL(f, root), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(src, f).not.toMatch(/from ['"](node:|fs|path|os|process)/);
      expect(src, f).not.toMatch(/\bprocess\./);
    }
  });
});

import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '@chainrule/autograd';
import { BatchNorm1d, SafetensorsError, parseSafetensors, parseSafetensorsFile, serializeSafetensors } from '@chainrule/nn';

// PyTorch's F16 and BF16 bits for chosen values (scripts/half-precision-reference.py).
interface HalfCase { from64: number[]; from32: number[]; value: (number | string)[] }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/half-precision.json', import.meta.url), 'utf8')) as {
  values: number[]; float32: number[]; f16: HalfCase; bf16: HalfCase; special: { f16: number[]; bf16: number[] };
};

const decode = (v: number | string): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity);

/** The header and the data section of a file. */
function split(bytes: Uint8Array): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; data: DataView } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as ReturnType<typeof split>['header'];
  return { header, data: new DataView(bytes.buffer, bytes.byteOffset + 8 + n) };
}

/** A file holding one tensor of 16-bit elements. */
function halfFile(code: string, bits: number[]): Uint8Array {
  let json = JSON.stringify({ h: { dtype: code, shape: [bits.length], data_offsets: [0, 2 * bits.length] } });
  while (json.length % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + 2 * bits.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  bits.forEach((b, i) => view.setUint16(8 + json.length + 2 * i, b, true));
  return out;
}

const HALVES = [['F16', fixture.f16, 0x7c00], ['BF16', fixture.bf16, 0x7f80]] as const;

describe('int32 and bool tensors round trip as I32 and BOOL', () => {
  test('exact values and dtypes, any shape', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        (ints, bools) => {
          const dict = { i: tensor(ints, { dtype: 'int32' }), b: tensor(bools, { dtype: 'bool' }) };
          const bytes = serializeSafetensors(dict);
          const { header } = split(bytes);
          expect(header['i']!.dtype).toBe('I32');
          expect(header['b']!.dtype).toBe('BOOL');
          const back = parseSafetensors(bytes);
          expect(back['i']!.dtype).toBe('int32');
          expect(Array.from(back['i']!.data)).toEqual(ints);
          expect(back['b']!.dtype).toBe('bool');
          expect(Array.from(back['b']!.data)).toEqual(bools.map(Number));
        },
      ),
      { numRuns: 50 },
    );
  });

  test("tensors are laid out as the reference writer orders its Dtype enum: F64, F32, I32, BF16, F16, BOOL, then by name", () => {
    const dict: Record<string, Tensor> = {
      a: tensor([true]), b: tensor([1], { dtype: 'int32' }), c: tensor([1]), d: tensor([1], { dtype: 'float64' }), e: tensor([2], { dtype: 'int32' }),
    };
    const order = (bytes: Uint8Array): string[] =>
      Object.entries(split(bytes).header).sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]).map(([k]) => k);
    expect(order(serializeSafetensors(dict))).toEqual(['d', 'c', 'b', 'e', 'a']);
    // Half precision: the float tensors become F16 (rank 7), below I32 (9) and above BOOL (0).
    expect(order(serializeSafetensors(dict, undefined, { halfPrecision: 'F16' }))).toEqual(['b', 'e', 'c', 'd', 'a']);
  });

  test("U8 reads into int32 (chainrule has no uint8)", () => {
    let json = JSON.stringify({ u: { dtype: 'U8', shape: [3], data_offsets: [0, 3] } });
    while (json.length % 8 !== 0) json += ' ';
    const bytes = new Uint8Array(8 + json.length + 3);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(new TextEncoder().encode(json), 8);
    bytes.set([0, 128, 255], 8 + json.length);
    const u = parseSafetensors(bytes)['u']!;
    expect(u.dtype).toBe('int32');
    expect(Array.from(u.data)).toEqual([0, 128, 255]);
  });
});

describe("half precision matches PyTorch's .half() and .bfloat16() bit for bit", () => {
  for (const [code, ref, inf] of HALVES) {
    test(`${code}: written from float64 and float32, read back into float32`, () => {
      const finite = (bits: number): boolean => (bits & 0x7fff) !== inf;
      for (const [source, bits] of [[tensor(fixture.values, { dtype: 'float64' }), ref.from64], [tensor(fixture.values), ref.from32]] as const) {
        // Values PyTorch turns into Infinity are refused, each named; write the rest.
        fixture.values.forEach((v, i) => {
          if (finite(bits[i]!)) return;
          expect(() => serializeSafetensors({ x: tensor([v], { dtype: source.dtype }) }, undefined, { halfPrecision: code }), `${v}`).toThrow(SafetensorsError);
          expect(() => serializeSafetensors({ x: tensor([v], { dtype: source.dtype }) }, undefined, { halfPrecision: code })).toThrow(
            new RegExp(`'x' holds ${String(Math.fround(v) === v || source.dtype === 'float64' ? v : Math.fround(v)).replace(/[.+]/g, '\\$&')} at element 0, past the range of ${code}`),
          );
        });
        const keep = fixture.values.map((_, i) => i).filter((i) => finite(bits[i]!));
        const x = tensor(keep.map((i) => fixture.values[i]!), { dtype: source.dtype });
        const bytes = serializeSafetensors({ x }, undefined, { halfPrecision: code });
        const { header, data } = split(bytes);
        expect(header['x']!.dtype).toBe(code);
        expect(keep.map((_, k) => data.getUint16(2 * k, true)), `${code} from ${source.dtype}`).toEqual(keep.map((i) => bits[i]!));
        const back = parseSafetensors(bytes)['x']!;
        expect(back.dtype).toBe('float32');
        expect(Array.from(back.data)).toEqual(keep.map((i) => decode(ref.value[i]!)));
      }
    });

    test(`${code}: reading every bit pattern PyTorch wrote, infinities and NaN included`, () => {
      const bits = [...ref.from32, ...fixture.special[code === 'F16' ? 'f16' : 'bf16']];
      const got = Array.from(parseSafetensors(halfFile(code, bits))['h']!.data);
      const want = [...ref.value.map(decode), Infinity, -Infinity, NaN];
      expect(got).toEqual(want);
    });
  }

  test('NaN and the infinities are written as such', () => {
    const x = tensor([NaN, Infinity, -Infinity]);
    for (const code of ['F16', 'BF16'] as const) {
      const back = parseSafetensors(serializeSafetensors({ x }, undefined, { halfPrecision: code }))['x']!;
      expect(Array.from(back.data)).toEqual([NaN, Infinity, -Infinity]);
    }
  });

  test('int32 and bool tensors keep their codes under halfPrecision; a bad option is an error', () => {
    const bytes = serializeSafetensors({ i: tensor([3], { dtype: 'int32' }), f: tensor([0.5]) }, undefined, { halfPrecision: 'BF16' });
    expect(split(bytes).header['i']!.dtype).toBe('I32');
    expect(() => serializeSafetensors({ f: tensor([1]) }, undefined, { halfPrecision: 'F8' as never })).toThrow(
      `serializeSafetensors: halfPrecision must be 'F16' or 'BF16', got "F8"`,
    );
  });
});

describe("BatchNorm's num_batches_tracked is int32", () => {
  test('counts in int32, and survives a round trip', () => {
    const bn = new BatchNorm1d(2);
    bn.forward(tensor([[1, 2], [3, 5], [0, 1]]));
    bn.forward(tensor([[1, 2], [3, 5], [0, 1]]));
    const state = bn.stateDict();
    expect(state['num_batches_tracked']!.dtype).toBe('int32');
    expect(state['num_batches_tracked']!.item()).toBe(2);
    const bytes = serializeSafetensors(state);
    expect(parseSafetensorsFile(bytes).tensors['num_batches_tracked']!.dtype).toBe('int32');
    const other = new BatchNorm1d(2);
    other.loadStateDict(parseSafetensors(bytes));
    expect(other.numBatchesTracked!.item()).toBe(2);
  });
});

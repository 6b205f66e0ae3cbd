import { afterEach, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  abs, add, ceil, div, floor, grad, jit, kernelBackend, maximum, minimum, mul, neg, reciprocal, relu, round, setKernelBackend, sign, sqrt, square, sub, tanh, tensor, trunc, Tensor,
  type KernelBackend,
} from '@chainrule/autograd';
import { compileProgram } from '../src/jit/compile.js';
import { compileGroup, type FusedGroup } from '../src/jit/fusion.js';
import { trace } from '../src/jit/trace.js';
import { hasTanh, wasmLoop } from '../src/jit/wasm-loop.js';
import { TANH_TABLE } from '../src/jit/wasm-tanh.js';
import { arenaArray, claimArena, releaseArena } from '../src/kernels/wasm/memory.js';
import { loadKernels, wasmAvailable } from '../src/kernels/wasm/module.js';

// Fused float32 groups of arithmetic, selects, roundings and tanh run as generated WebAssembly
// functions computing in native float32: held bit for bit to eager over random chains, shapes
// (across the loop's chunks and vector tails) and values (NaN, ±0, ±∞, subnormals, overflow),
// under the 'wasm' and 'js' kernel backends, eager's kernels each time under the same backend.

const initial = kernelBackend();
afterEach(() => setKernelBackend(initial));

/** Float32 values that find the edges: signed zeros, infinities, NaN, subnormals, ties for rounding, overflow. */
const SPECIAL = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, Infinity, -Infinity, NaN, 1.401298464324817e-45, -1.401298464324817e-45, 1e-40, -1e-40,
  1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1e20, -1e20, 8388609, -8388609.5, 0.1, 1e-20,
];

/** `n` float32 values from `seed`: a quarter special, a quarter arbitrary bit patterns, the rest uniform in [-4, 4). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  let s = seed >>> 0 || 1;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < n; i++) {
    const r = next() & 3;
    if (r === 0) out[i] = SPECIAL[next() % SPECIAL.length]!;
    else if (r === 1) bits[i] = next();
    else out[i] = (next() / 2 ** 32) * 8 - 4;
  }
  return out;
}

const UNARY: ((a: Tensor) => Tensor)[] = [neg, abs, sqrt, square, reciprocal, relu, sign, floor, ceil, round, trunc, tanh];
const BINARY: ((a: Tensor, b: Tensor | number) => Tensor)[] = [add, sub, mul, div, maximum, minimum];

/** One op of a chain: which op, and its operands by index into the values so far (or a number). */
interface Op {
  readonly unary: boolean;
  readonly which: number;
  readonly a: number;
  readonly b: number | { literal: number };
}
const opArb: fc.Arbitrary<Op> = fc.record({
  unary: fc.boolean(),
  which: fc.nat(),
  a: fc.nat(),
  b: fc.oneof(fc.nat(), fc.record({ literal: fc.oneof(fc.constantFrom(...SPECIAL), fc.double()) })),
});

/**
 * The chain as a function of x, y (of the group's shape), s (one element) and b (a row: the
 * shape's last axis, broadcast over the others): each op reads earlier values, picked by index;
 * it returns the last value and one from the middle (so groups may write two outputs).
 */
function chain(ops: readonly Op[]): (x: Tensor, y: Tensor, s: Tensor, b: Tensor) => Tensor[] {
  return (x, y, s, b) => {
    const vals: Tensor[] = [x, y, s, b];
    for (const op of ops) {
      const a = vals[op.a % vals.length]!;
      if (op.unary) vals.push(UNARY[op.which % UNARY.length]!(a));
      else vals.push(BINARY[op.which % BINARY.length]!(a, typeof op.b === 'number' ? vals[op.b % vals.length]! : op.b.literal));
    }
    return [vals[vals.length - 1]!, vals[4 + (ops.length >> 1)]!];
  };
}

function expectSameBits(actual: readonly Tensor[], expected: readonly Tensor[]): void {
  expected.forEach((e, i) => {
    const t = actual[i]!;
    expect(t.shape).toEqual(e.shape);
    expect(t.dtype).toBe(e.dtype);
    for (let k = 0; k < e.size; k++) {
      if (!Object.is(t.data[k], e.data[k])) throw new Error(`output ${i} element ${k}: jit ${t.data[k]}, eager ${e.data[k]}`);
    }
  });
}

/** The fused groups of f's compiled program on these arguments, and its input variables' ids. */
function groupsOf(f: (...xs: Tensor[]) => unknown, args: Tensor[]): { groups: FusedGroup[]; inputs: number[] } {
  const { program } = trace(f as (...xs: unknown[]) => unknown, args, (tracers) => [...tracers]);
  const groups = compileProgram(program).steps.flatMap((s) => (s.kind === 'fused' ? [s.group] : []));
  return { groups, inputs: program.inputs.map((v) => v.id) };
}

/**
 * Shapes of x and y: within one vector, vector tails, across chunk boundaries (4096 elements),
 * rows (the last axis) of lengths that make chunks of 4095, 4090 and 4000 elements.
 */
const SHAPES: number[][] = [[1], [3], [4], [5], [2, 3], [7, 5], [4096], [4097], [3, 2735], [700, 7], [64, 10], [9, 1000]];
const rowShape = (shape: number[]): number[] => (shape.length === 1 ? shape : [1, shape[shape.length - 1]!]);
const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const SCALAR_SHAPES: number[][] = [[], [1], [1, 1]];

const backends: KernelBackend[] = wasmAvailable() ? ['wasm', 'js'] : ['js'];

describe('generated WebAssembly loops', () => {
  test.runIf(wasmAvailable())('every group of these ops gets a WebAssembly function, which gives its JavaScript loop\'s bits', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 10 }), fc.constantFrom(...SHAPES), fc.constantFrom(...SCALAR_SHAPES), (ops, shape, sShape) => {
        const n = sizeOf(shape), row = rowShape(shape);
        const args = [
          tensor(values(n, 1), { shape }), tensor(values(n, 2), { shape }), tensor(values(1, 3), { shape: sShape }), tensor(values(sizeOf(row), 4), { shape: row }),
        ];
        const { groups, inputs } = groupsOf(chain(ops), args);
        for (const g of groups) {
          const wasm = wasmLoop(g);
          expect(wasm, g.equations.map((e) => e.primitive).join(',')).not.toBeNull();
          // A group that reads only the arguments runs here directly, against its JavaScript loop.
          if (!g.inputs.every((v) => inputs.includes(v.id))) continue;
          const ins = g.inputs.map((v) => args[inputs.indexOf(v.id)]!.data as Float32Array);
          const size = sizeOf(g.shape);
          const viaWasm = g.outputs.map(() => new Float32Array(size));
          const viaJs = g.outputs.map(() => new Float32Array(size));
          wasm!.run(ins, viaWasm);
          setKernelBackend('js');
          compileGroup(g)!(ins, viaJs);
          setKernelBackend(initial);
          viaJs.forEach((js, k) => {
            for (let i = 0; i < size; i++) if (!Object.is(viaWasm[k]![i], js[i])) throw new Error(`output ${k} element ${i}: WebAssembly ${viaWasm[k]![i]}, JavaScript ${js[i]}`);
          });
          // In place in the kernels' shared memory: where rows start every fourth element, the same bits.
          const rows = g.inputs.filter((v) => v.shape.length > 0 && sizeOf(v.shape) !== size && sizeOf(v.shape) !== 1);
          expect(wasm!.inPlace !== null).toBe(loadKernels()?.shared === true && rows.every((v) => sizeOf(v.shape) % 4 === 0));
          if (wasm!.inPlace === null) continue;
          // Operands, then (where the group has tanh) a copy of tanh's table.
          const tanh = hasTanh(g);
          const lengths = [...ins.map((a) => a.length), ...g.outputs.map(() => size), ...(tanh ? [TANH_TABLE.length * 2] : [])];
          const bytes = lengths.map((l) => Math.ceil((l * 4) / 64) * 64);
          const base = claimArena(bytes.reduce((p, q) => p + q, 0))!;
          try {
            let at = base;
            const addresses = bytes.map((b) => ((at += b), at - b));
            ins.forEach((a, k) => arenaArray(true, addresses[k]!, a.length).set(a));
            if (tanh) (arenaArray(false, addresses[addresses.length - 1]!, TANH_TABLE.length) as Float64Array).set(TANH_TABLE);
            wasm!.inPlace(size, ...addresses);
            g.outputs.forEach((_, k) => {
              const got = arenaArray(true, addresses[ins.length + k]!, size);
              for (let i = 0; i < size; i++) if (!Object.is(got[i], viaJs[k]![i])) throw new Error(`output ${k} element ${i}: in place ${got[i]}, JavaScript ${viaJs[k]![i]}`);
            });
          } finally {
            releaseArena();
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  test('groups outside the set stay JavaScript loops: a transcendental op, other broadcasts, float64', () => {
    const x = tensor(values(12, 4), { shape: [3, 4] });
    const column = tensor(values(3, 5), { shape: [3, 1] });
    const cases: [string, (...xs: Tensor[]) => unknown, Tensor[]][] = [
      ['exp', (a) => a!.mul(2).exp().add(1), [x]],
      ['column broadcast', (a, b) => a!.mul(b!).add(1), [x, column]],
      ['row longer than a chunk', (a, b) => a!.mul(b!).add(1), [tensor(values(10000, 9), { shape: [2, 5000] }), tensor(values(5000, 10), { shape: [5000] })]],
      ['rows whose common multiple passes a chunk', (a, b, c) => a!.mul(b!).add(c!), [tensor(values(2 * 3 * 100 * 61, 11), { shape: [2, 3, 100, 61] }), tensor(values(100 * 61, 12), { shape: [100, 61] }), tensor(values(3 * 100 * 61, 13), { shape: [3, 100, 61] })]],
      ['float64', (a) => a!.mul(2).add(1), [tensor(Float64Array.from(values(12, 6)), { shape: [3, 4] })]],
    ];
    for (const [name, f, args] of cases) {
      const { groups } = groupsOf(f, args);
      expect(groups.length, name).toBeGreaterThan(0);
      for (const g of groups) expect(wasmLoop(g), name).toBeNull();
    }
  });

  test.runIf(wasmAvailable())("tanh gives Math.tanh's float32 bits on every float32 of its expm1 cases' edges and on a stride over all bit patterns", () => {
    // Every float32 within 2¹² ulps of the points where fdlibm's tanh and expm1 change case
    // (|x| at 2⁻²⁸, 0.5·ln2/2, 1.5·ln2/2, 1, 22, and where k reaches −2, 20 and 57), both signs,
    // and every 4099th bit pattern (all exponents, NaNs, infinities, subnormals).
    const edges = [2 ** -28, 0.34657359028 / 2, 1.03972077084 / 2, 1, 22, (1.5 * Math.LN2) / 2, (19.5 * Math.LN2) / 2, (56.5 * Math.LN2) / 2];
    const probe = new Float32Array(1);
    const probeBits = new Uint32Array(probe.buffer);
    const picked: number[] = [];
    for (const edge of edges) {
      probe[0] = edge;
      for (const sign of [0, 0x80000000]) for (let d = -4096; d <= 4096; d++) picked.push(((probeBits[0]! + d) | sign) >>> 0);
    }
    for (let b = 0; b < 2 ** 32; b += 4099) picked.push(b);
    const bits = Uint32Array.from(picked);
    const x = new Float32Array(bits.buffer);
    const got = jit((v: Tensor) => v.tanh())(tensor(x, { shape: [x.length] })).data;
    setKernelBackend('wasm');
    const viaWasm = jit((v: Tensor) => v.tanh())(tensor(x, { shape: [x.length] })).data;
    for (let i = 0; i < x.length; i++) {
      const want = Math.fround(Math.tanh(x[i]!));
      if (!Object.is(viaWasm[i], want)) throw new Error(`tanh(${x[i]}): WebAssembly ${viaWasm[i]}, Math.tanh ${want}`);
      if (!Object.is(got[i], want)) throw new Error(`tanh(${x[i]}): jit ${got[i]}, Math.tanh ${want}`);
    }
    const groups = groupsOf((v: Tensor) => v.tanh(), [tensor(x.subarray(0, 8), { shape: [8] })]).groups;
    expect(groups.length).toBe(1);
    expect(wasmLoop(groups[0]!)).not.toBeNull();
  });

  test.runIf(wasmAvailable())("tanh gives Math.tanh's float32 bits where its fast form must defer to fdlibm's steps, and at the fast form's own case edges", () => {
    // The fast form (wasm-tanh.ts) answers a vector only where its whole error band rounds to
    // one float32: the inputs whose Math.tanh lies near a float32 rounding boundary (within
    // 2⁻³⁶ relative, wider than the band) are where a wrong fast answer could hide. They are
    // found by scanning runs of consecutive float32 in every binade tanh reaches before 1, and
    // each is placed in a vector with ordinary neighbours, in each lane. Also every float32
    // within 2¹² ulps of the fast form's own edges: |x| where k = round(2|x|/ln2) steps, and 22.
    const near: number[] = [];
    const probe = new Float32Array(1);
    const probeBits = new Uint32Array(probe.buffer);
    for (let exponent = -14; exponent <= 3; exponent++) {
      probe[0] = 2 ** exponent * 1.37;
      const start = probeBits[0]!;
      for (let d = 0; d < 1 << 16; d++) {
        probeBits[0] = start + d;
        const t = Math.tanh(probe[0]!);
        if (Math.fround(t * (1 - 2 ** -36)) !== Math.fround(t * (1 + 2 ** -36))) near.push(probe[0]!);
      }
    }
    expect(near.length).toBeGreaterThan(50);
    const picked: number[] = [];
    for (const v of near) for (let lane = 0; lane < 4; lane++) for (let j = 0; j < 4; j++) picked.push(j === lane ? v : -v * 0.5 + j);
    for (let k = 0; k <= 64; k++) {
      probe[0] = ((k + 0.5) * Math.LN2) / 2;
      const edge = probeBits[0]!;
      for (let d = -4096; d <= 4096; d++) {
        probeBits[0] = edge + d;
        picked.push(probe[0]!, -probe[0]!);
      }
    }
    probe[0] = 22;
    for (let d = -4096; d <= 4096; d++) picked.push(new Float32Array(new Uint32Array([probeBits[0]! + d]).buffer)[0]!);
    const x = Float32Array.from(picked);
    setKernelBackend('wasm');
    const got = jit((v: Tensor) => v.tanh())(tensor(x, { shape: [x.length] })).data;
    for (let i = 0; i < x.length; i++) {
      const want = Math.fround(Math.tanh(x[i]!));
      if (!Object.is(got[i], want)) throw new Error(`tanh(${x[i]}): WebAssembly ${got[i]}, Math.tanh ${want}`);
    }
    // The same through the group's in-place form, its table copied into the kernels' memory as a program does.
    const wasm = wasmLoop(groupsOf((v: Tensor) => v.tanh(), [tensor(x.subarray(0, 8), { shape: [8] })]).groups[0]!);
    if (wasm?.inPlace == null) return;
    const bytes = Math.ceil((x.length * 4) / 64) * 64;
    const base = claimArena(2 * bytes + TANH_TABLE.byteLength)!;
    try {
      arenaArray(true, base, x.length).set(x);
      (arenaArray(false, base + 2 * bytes, TANH_TABLE.length) as Float64Array).set(TANH_TABLE);
      wasm.inPlace(x.length, base, base + bytes, base + 2 * bytes);
      const inPlace = arenaArray(true, base + bytes, x.length);
      for (let i = 0; i < x.length; i++) {
        const want = Math.fround(Math.tanh(x[i]!));
        if (!Object.is(inPlace[i], want)) throw new Error(`tanh(${x[i]}): in place ${inPlace[i]}, Math.tanh ${want}`);
      }
    } finally {
      releaseArena();
    }
  });

  for (const backend of backends) {
    test(`jit gives eager's bits over random chains, shapes and values (${backend})`, () => {
      setKernelBackend(backend);
      fc.assert(
        fc.property(
          fc.array(opArb, { minLength: 1, maxLength: 12 }),
          fc.constantFrom(...SHAPES),
          fc.constantFrom(...SCALAR_SHAPES),
          fc.integer(),
          (ops, shape, sShape, seed) => {
            const n = sizeOf(shape), row = rowShape(shape);
            const x = tensor(values(n, seed), { shape });
            const y = tensor(values(n, seed + 1), { shape });
            const s = tensor(values(1, seed + 2), { shape: sShape });
            const b = tensor(values(sizeOf(row), seed + 3), { shape: row });
            const f = chain(ops);
            const compiled = jit(f);
            expectSameBits(compiled(x, y, s, b), f(x, y, s, b));
            // A second call runs the compiled program again, in its kept storage, with another row.
            const x2 = tensor(values(n, seed + 4), { shape });
            const b2 = tensor(values(sizeOf(row), seed + 5), { shape: row });
            expectSameBits(compiled(x2, y, s, b2), f(x2, y, s, b2));
          },
        ),
        { numRuns: 150 },
      );
    });

    test(`the benchmark's chain, and relu's gradient (a step mask), give eager's bits (${backend})`, () => {
      setKernelBackend(backend);
      const x = tensor(values(10007, 7), { shape: [10007] });
      const bench = (v: Tensor): Tensor => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).square();
      expectSameBits([jit(bench)(x)], [bench(x)]);
      const loss = (v: Tensor): Tensor => v.mul(0.75).relu().mul(v).sum();
      expectSameBits([jit(grad(loss))(x)], [grad(loss)(x)]);
      if (backend === 'wasm') {
        // The gradient's step mask is in a group that runs as WebAssembly.
        const withStep = groupsOf(grad(loss), [x]).groups.filter((g) => g.equations.some((e) => e.elementwise?.kind === 'step'));
        expect(withStep.length).toBeGreaterThan(0);
        for (const g of withStep) expect(wasmLoop(g)).not.toBeNull();
      }
    });
  }
});

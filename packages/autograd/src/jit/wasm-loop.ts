import type { FloatArray } from '../dtype.js';
import type { BinaryKind } from '../kernels/binary.js';
import type { UnaryKind } from '../kernels/unary.js';
import { Code, F32, I32, moduleBytes, OP, SIMD, V128, type ValueType } from '../kernels/wasm/encoder.js';
import { MAX_PAGES } from '../kernels/wasm/layout.js';
import { kernelsWithMemory } from '../kernels/wasm/memory.js';
import { shapesEqual, sizeOf, type Shape } from '../shape.js';
import type { FusedGroup } from './fusion.js';
import { emitTanh, TANH_LOCALS, TANH_TABLE, tanhLocalTypes } from './wasm-tanh.js';
import { isLiteral, type Atom } from './program.js';

/**
 * A float32 fused group as a WebAssembly function generated at compile time: a loop of f32x4
 * SIMD over whole vectors, then a scalar loop over the last elements, both computing in native
 * float32.
 *
 * NOTE: why. The JavaScript loop computes in float64 and must round with Math.fround after
 * every op to give the eager kernels' bits, and V8 makes those calls most of the loop's cost;
 * WebAssembly's f32 arithmetic rounds once per op by itself. For +, −, ×, ÷ and √ the IEEE
 * float32 result equals the float64 result rounded to float32 (float64 carries more than
 * twice float32's precision plus two bits, so the double rounding is innocuous), and the other
 * ops here select, negate or round to an integer float32 values, exactly in either arithmetic:
 * so the function gives the eager ops' bits with no fround at all, four lanes at a time.
 * tanh is computed as Math.tanh computes it, in float64 lanes, then rounded once (wasm-tanh.ts).
 * Other transcendental functions are not WebAssembly instructions, so a group holding any op
 * outside SUPPORTED_UNARY and SUPPORTED_BINARY stays a JavaScript loop.
 *
 * The operands live in JavaScript arrays, so the loop runs over chunks of CHUNK elements: each
 * chunk's full-size inputs are copied into WebAssembly memory, the function runs, and its
 * outputs are copied out, all while the chunk is in cache (so the copies add no pass over main
 * memory). Inputs of one element are written once and splatted. A row repeated over leading
 * axes (a bias [n] added to [m, n]) is tiled once per call over a chunk whose length is a
 * multiple of the row's, so every chunk starts on a row and reads the same tiles; any other
 * broadcast keeps the group a JavaScript loop.
 *
 * Each function has a small memory of its own (its chunks: a page or two), not the kernels'
 * memory: its chunks then never meet the kernels' staging or a compiled program's arena there,
 * its view never goes stale when that memory grows, and its copies are plain memcpy. The
 * kernels' main memory is shared where the runtime allows (for the gemm helper thread), and V8
 * copies into a SharedArrayBuffer about half as fast (Node 20, 4 MB in 16 KiB chunks: 0.32-0.39
 * ms into shared memory against 0.17-0.20 into unshared; out of it 0.25 against 0.10-0.20;
 * noisy shared machine). So a compiled program that keeps its intermediates in the arena (the
 * kernels' shared memory, see compile.ts) calls the group's other form, `inPlace`, a function
 * of the same body importing that memory and taking each operand's address: no copies at all
 * for operands in the arena (the program copies the others in and out around the call).
 */

/** Elements per chunk: each array's chunk (16 KiB) and the function's working set stay in L1/L2. */
const CHUNK = 4096;
const CHUNK_BYTES = CHUNK * 4;

/**
 * The ops a generated function computes, with their eager definitions' exact semantics (NaN,
 * ±0, infinities): arithmetic rounded once (the IEEE op), relu/maximum/minimum/sign/step by
 * selects on the same comparisons the kernels make, rounding to integers by the IEEE roundings
 * (nearest is half to even, as roundHalfEven), tanh by Math.tanh's float64 steps. Comparisons (eq, lt...) are not here: their
 * results are bool, never part of a float group.
 */
const SUPPORTED_UNARY: ReadonlySet<UnaryKind> = new Set<UnaryKind>([
  'identity', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', 'relu', 'step', 'sign', 'floor', 'ceil', 'trunc', 'round', 'tanh',
]);
const SUPPORTED_BINARY: ReadonlySet<BinaryKind> = new Set<BinaryKind>([
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum',
]);

/**
 * How an input covers the group's elements: all of them in order ('full'), one value for all
 * ('scalar'), or `length` values repeated from the start of every run of that many ('row').
 */
type Layout = { kind: 'full' } | { kind: 'scalar' } | { kind: 'row'; length: number };

/** The input's layout in a group of `shape`, or null for a broadcast the loop does not take. */
function layoutOf(input: Shape, shape: Shape): Layout | null {
  const size = sizeOf(input), n = sizeOf(shape);
  // An input broadcasts to the group's shape, so one of as many elements differs at most by
  // axes of 1 ([3] in a [1, 3] group) and walks the output's elements in order.
  if (size === n) return { kind: 'full' };
  if (size === 1) return { kind: 'scalar' };
  // A row: the input's shape past its leading 1s is the group's trailing axes ([1, 4] or [4] in [3, 4]).
  let lead = 0;
  while (lead < input.length && input[lead] === 1) lead++;
  const rest = input.slice(lead);
  const tail = shape.slice(shape.length - rest.length);
  return size <= CHUNK && rest.length <= shape.length && shapesEqual(rest, tail) ? { kind: 'row', length: size } : null;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The generated function of a group and where it expects its operands. */
export interface WasmLoop {
  /** Runs over `ins` into `outs` (the group's inputs and outputs, as a FusedLoop takes them). */
  run(ins: readonly FloatArray[], outs: readonly FloatArray[]): void;
  /**
   * The same function working in place in the kernels' shared memory, or null where that memory
   * is not shared (or a row's length is not a multiple of 4): called with the element count, then
   * the byte address of each input (a single value, a row, or the group's elements) and of each
   * output, in the group's order (see `inPlaceBody`), then, where the group has tanh
   * (`hasTanh`), of a copy of TANH_TABLE in that memory.
   */
  readonly inPlace: ((...args: number[]) => void) | null;
}

/** A generated function and the memory it works in. */
interface Instance {
  readonly run: (n: number) => void;
  readonly view: Float32Array;
}

/**
 * Generated functions by their bytes: groups of the same ops and layouts share one (and its
 * memory: a call runs to its end before any other starts).
 */
const compiled = new Map<string, Instance | null>();

/**
 * The group's WebAssembly loop, or null where the group is not float32, holds an op outside the
 * supported set or an input broadcast other than a single value or a row (of rows whose lengths'
 * least common multiple is at most CHUNK), or WebAssembly (or its SIMD) is missing or refuses
 * the module.
 */
export function wasmLoop(group: FusedGroup): WasmLoop | null {
  if (group.dtype !== 'float32') return null;
  for (const e of group.equations) {
    const w = e.elementwise!;
    if (w.arity === 1 ? !SUPPORTED_UNARY.has(w.kind) : !SUPPORTED_BINARY.has(w.kind)) return null;
  }
  const layouts: Layout[] = [];
  const n = sizeOf(group.shape);
  // Elements per chunk: a multiple of every row's length, so that each chunk starts on a row.
  let period = 1;
  for (const v of group.inputs) {
    const layout = layoutOf(v.shape, group.shape);
    if (layout === null) return null;
    if (layout.kind === 'row') period = (period / gcd(period, layout.length)) * layout.length;
    if (period > CHUNK) return null;
    layouts.push(layout);
  }
  if (typeof WebAssembly !== 'object') return null;
  const chunk = CHUNK - (CHUNK % period);

  // Full and row inputs are both read at the cursor; they differ in when they are copied in.
  const full = layouts.flatMap((l, k) => (l.kind !== 'scalar' ? [k] : []));
  const scalar = layouts.flatMap((l, k) => (l.kind === 'scalar' ? [k] : []));
  // Byte addresses: each full input's chunk, each output's chunk, then one 16-byte slot per scalar.
  const inAt = new Map<number, number>();
  full.forEach((k, j) => inAt.set(k, j * CHUNK_BYTES));
  const outAt = group.outputs.map((_, j) => (full.length + j) * CHUNK_BYTES);
  const scalarBase = (full.length + group.outputs.length) * CHUNK_BYTES;
  const scalarAt = new Map<number, number>();
  scalar.forEach((k, j) => scalarAt.set(k, scalarBase + j * 16));
  // tanh's table (wasm-tanh.ts) after the single values.
  const tanh = hasTanh(group);
  const tableAt = Math.ceil((scalarBase + scalar.length * 16) / 8) * 8;
  const pages = Math.max(1, Math.ceil((tableAt + (tanh ? TANH_TABLE.byteLength : 0)) / 65536));

  const body = functionBody(group, { kind: 'chunk', inAt, outAt, scalarAt, tableAt });
  const bytes = moduleBytes({ minimum: pages }, 1, body.locals, body.code);
  const key = bytes.join(',');
  let instance = compiled.get(key);
  if (instance === undefined) {
    instance = null;
    try {
      // Validation answers false where SIMD128 is missing.
      if (WebAssembly.validate(bytes)) {
        const memory = new WebAssembly.Memory({ initial: pages });
        const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
        instance = { run: exports['run'] as (n: number) => void, view: new Float32Array(memory.buffer) };
        if (tanh) new Float64Array(memory.buffer, tableAt, TANH_TABLE.length).set(TANH_TABLE);
      }
    } catch {
      // A runtime that refuses to compile it (a Content-Security-Policy without 'wasm-unsafe-eval').
    }
    compiled.set(key, instance);
  }
  if (instance === null) return null;
  const { run, view } = instance;
  const inPlace = inPlaceFunction(group, layouts, period);
  const fullIns = full.filter((k) => layouts[k]!.kind === 'full').map((k) => ({ k, at: inAt.get(k)! / 4 }));
  const rowIns = full.filter((k) => layouts[k]!.kind === 'row').map((k) => ({ k, at: inAt.get(k)! / 4 }));
  const scalarIns = scalar.map((k) => ({ k, at: scalarAt.get(k)! / 4 }));
  const outsAt = outAt.map((a) => a / 4);
  return {
    inPlace,
    run(ins, outs) {
      for (const { k, at } of scalarIns) view[at] = ins[k]![0]!;
      for (const { k, at } of rowIns) {
        const row = ins[k]!;
        for (let t = 0; t < chunk; t += row.length) view.set(row, at + t);
      }
      for (let start = 0; start < n; start += chunk) {
        const stop = Math.min(n, start + chunk);
        for (let j = 0; j < fullIns.length; j++) view.set(ins[fullIns[j]!.k]!.subarray(start, stop), fullIns[j]!.at);
        run(stop - start);
        for (let j = 0; j < outsAt.length; j++) outs[j]!.set(view.subarray(outsAt[j]!, outsAt[j]! + stop - start), start);
      }
    },
  };
}

/** Whether the group computes tanh, whose generated form reads TANH_TABLE. */
export function hasTanh(group: FusedGroup): boolean {
  return group.equations.some((e) => e.elementwise!.kind === 'tanh');
}

/** Where a generated function finds its operands. */
type Addressing =
  /** Constant byte addresses in its own memory: full inputs' and outputs' chunks, single values' slots. */
  | { readonly kind: 'chunk'; readonly inAt: ReadonlyMap<number, number>; readonly outAt: readonly number[]; readonly scalarAt: ReadonlyMap<number, number>; readonly tableAt: number }
  /**
   * Parameters 1.. (inputs, then outputs, then TANH_TABLE's where the group has tanh): byte
   * addresses in the kernels' memory; rows repeat every `periodBytes`.
   */
  | { readonly kind: 'inPlace'; readonly layouts: readonly Layout[]; readonly periodBytes: number };

/** The kernels' memory's generated in-place functions by their bytes (one memory per process). */
const inPlaceCompiled = new Map<string, ((...args: number[]) => void) | null>();

/**
 * The group's function over operands in the kernels' shared memory (the compiled program's
 * arena): no copies at all. Null where that memory is not shared (an unshared one's buffer is
 * replaced when it grows) or rows do not start every fourth element (each vector of four must
 * read one piece of its row).
 */
function inPlaceFunction(group: FusedGroup, layouts: readonly Layout[], period: number): ((...args: number[]) => void) | null {
  if (layouts.some((l) => l.kind === 'row') && period % 4 !== 0) return null;
  const kernels = kernelsWithMemory();
  if (kernels === null || !kernels.shared) return null;
  const body = functionBody(group, { kind: 'inPlace', layouts, periodBytes: period * 4 });
  const bytes = moduleBytes({ minimum: 1, sharedMaximum: MAX_PAGES }, 1 + group.inputs.length + group.outputs.length + (hasTanh(group) ? 1 : 0), body.locals, body.code);
  const key = bytes.join(',');
  let run = inPlaceCompiled.get(key);
  if (run === undefined) {
    run = null;
    try {
      if (WebAssembly.validate(bytes)) {
        run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: kernels.memory } }).exports['run'] as (...args: number[]) => void;
      }
    } catch {
      // Refused (a Content-Security-Policy without 'wasm-unsafe-eval'): the chunked function serves.
    }
    inPlaceCompiled.set(key, run);
  }
  return run;
}

/**
 * The function `run(n, ...)`: over the group's n elements (a chunk's, or all of them in place),
 * at byte cursor i, loads each full input at its address + i, computes the group's equations
 * into locals, stores each output at its address + i; vectors of four lanes while whole vectors
 * remain, then single elements. In place, rows are read at their address + a cursor that wraps
 * every `periodBytes` (the rows' common length, a multiple of 4 elements, so a whole number of
 * vectors, and n a multiple of it, so no single elements).
 */
function functionBody(group: FusedGroup, addressing: Addressing): { code: Code; locals: ValueType[] } {
  const inputs = group.inputs.length;
  const inPlace = addressing.kind === 'inPlace';
  // Parameters: the element count, then (in place) an address per input and output.
  const params = inPlace ? 1 + inputs + group.outputs.length + (hasTanh(group) ? 1 : 0) : 1;
  const N = 0, CURSOR = params, WHOLE = params + 1, END = params + 2, ROW = params + 3;
  const locals: ValueType[] = [I32, I32, I32, I32];
  const values = inputs + group.equations.length;
  // Per value (inputs, then equations' results): a v128 local, then an f32 local.
  const vectorLocal = (j: number): number => params + 4 + j;
  const scalarLocal = (j: number): number => params + 4 + values + j;
  for (let j = 0; j < values; j++) locals.push(V128);
  for (let j = 0; j < values; j++) locals.push(F32);
  // tanh's temporaries (wasm-tanh.ts): float64 lanes and a spare vector, then float64 scalars.
  const tanhFirst = params + 4 + 2 * values;
  const tanhLocals = { vector: tanhFirst, scratch: tanhFirst + TANH_LOCALS, scalar: tanhFirst + TANH_LOCALS + 1 };
  if (hasTanh(group)) locals.push(...tanhLocalTypes(true), V128, ...tanhLocalTypes(false));
  const slot = new Map<number, number>();
  group.inputs.forEach((v, k) => slot.set(v.id, k));
  group.equations.forEach((e, j) => slot.set(e.outputs[0]!.id, inputs + j));
  const rows = inPlace && addressing.layouts.some((l) => l.kind === 'row');

  const c = new Code();
  c.get(N).i32(2).op(OP.i32Shl).set(END);
  c.get(END).i32(-16).op(OP.i32And).set(WHOLE);
  /** Pushes the base address of input k's load and returns the load's constant offset, or null for a single value. */
  const inputAddress = (k: number): number | null => {
    if (addressing.kind === 'chunk') {
      const at = addressing.inAt.get(k);
      if (at === undefined) return null;
      c.get(CURSOR);
      return at;
    }
    const layout = addressing.layouts[k]!;
    if (layout.kind === 'scalar') return null;
    c.get(1 + k).get(layout.kind === 'row' ? ROW : CURSOR).op(OP.i32Add);
    return 0;
  };
  // Single values, splatted once.
  group.inputs.forEach((_, k) => {
    const at = addressing.kind === 'chunk' ? addressing.scalarAt.get(k) : addressing.layouts[k]!.kind === 'scalar' ? 0 : undefined;
    if (at === undefined) return;
    const base = (): void => void (addressing.kind === 'chunk' ? c.i32(0) : c.get(1 + k));
    base();
    c.memory(SIMD.v128Load32Splat, 2, at, true).set(vectorLocal(k));
    base();
    c.memory(OP.f32Load, 2, at).set(scalarLocal(k));
  });
  for (const vector of [true, false]) {
    const local = vector ? vectorLocal : scalarLocal;
    const push = (a: Atom): void => {
      if (isLiteral(a)) {
        if (vector) c.f32x4(a.literal);
        else c.f32(a.literal);
      } else {
        c.get(local(slot.get(a.id)!));
      }
    };
    const constant = (x: number): void => {
      if (vector) c.f32x4(x);
      else c.f32(x);
    };
    c.op(OP.block, 0x40, OP.loop, 0x40);
    c.get(CURSOR).get(vector ? WHOLE : END).op(OP.i32GeU, OP.brIf, 1);
    group.inputs.forEach((_, k) => {
      const offset = inputAddress(k);
      if (offset === null) return;
      if (vector) c.memory(SIMD.v128Load, 4, offset, true);
      else c.memory(OP.f32Load, 2, offset);
      c.set(local(k));
    });
    group.equations.forEach((e, j) => {
      const w = e.elementwise!;
      if (w.kind === 'tanh') {
        const table = addressing.kind === 'chunk' ? { at: addressing.tableAt } : { at: 0, local: 1 + inputs + group.outputs.length };
        emitTanh(c, vector, () => push(e.inputs[0]!), vector ? tanhLocals.vector : tanhLocals.scalar, tanhLocals.scratch, table);
      }
      else if (w.arity === 1) unaryOp(c, w.kind, vector, () => push(e.inputs[0]!), constant);
      else binaryOp(c, w.kind, vector, () => push(e.inputs[0]!), () => push(e.inputs[1]!));
      c.set(local(inputs + j));
    });
    group.outputs.forEach((v, j) => {
      let offset = 0;
      if (addressing.kind === 'chunk') {
        c.get(CURSOR);
        offset = addressing.outAt[j]!;
      } else {
        c.get(1 + inputs + j).get(CURSOR).op(OP.i32Add);
      }
      c.get(local(slot.get(v.id)!));
      if (vector) c.memory(SIMD.v128Store, 4, offset, true);
      else c.memory(OP.f32Store, 2, offset);
    });
    c.get(CURSOR).i32(vector ? 16 : 4).op(OP.i32Add).set(CURSOR);
    if (rows && addressing.kind === 'inPlace') {
      // The row cursor steps with the element cursor and wraps at the rows' period.
      c.get(ROW).i32(vector ? 16 : 4).op(OP.i32Add).set(ROW);
      c.get(ROW).i32(addressing.periodBytes).op(OP.i32Sub).get(ROW).get(ROW).i32(addressing.periodBytes).op(OP.i32GeU, OP.select).set(ROW);
    }
    c.op(OP.br, 0, OP.end, OP.end);
  }
  return { code: c, locals };
}

/** Opcodes of the ops that are one instruction: [f32x4, f32]. */
const UNARY_INSTRUCTION: Partial<Record<UnaryKind, [number, number]>> = {
  neg: [SIMD.f32x4Neg, OP.f32Neg],
  abs: [SIMD.f32x4Abs, OP.f32Abs],
  sqrt: [SIMD.f32x4Sqrt, OP.f32Sqrt],
  floor: [SIMD.f32x4Floor, OP.f32Floor],
  ceil: [SIMD.f32x4Ceil, OP.f32Ceil],
  trunc: [SIMD.f32x4Trunc, OP.f32Trunc],
  round: [SIMD.f32x4Nearest, OP.f32Nearest],
};
const BINARY_INSTRUCTION: Partial<Record<BinaryKind, [number, number]>> = {
  add: [SIMD.f32x4Add, OP.f32Add],
  sub: [SIMD.f32x4Sub, OP.f32Sub],
  mul: [SIMD.f32x4Mul, OP.f32Mul],
  div: [SIMD.f32x4Div, OP.f32Div],
};
/** The comparisons the selects are made of: [f32x4 (a lane mask), f32 (an i32)]. */
const COMPARISON = {
  ne: [SIMD.f32x4Ne, OP.f32Ne],
  lt: [SIMD.f32x4Lt, OP.f32Lt],
  gt: [SIMD.f32x4Gt, OP.f32Gt],
} as const;

/** Emits `a if cond else b`: `a`, `b` and `cond` push their values (cond: a mask or an i32). */
function choose(c: Code, vector: boolean, a: () => void, b: () => void, cond: () => void): void {
  a();
  b();
  cond();
  if (vector) c.simd(SIMD.v128Bitselect);
  else c.op(OP.select);
}

/** Emits `x compare y` as a mask (vector) or an i32 (scalar). */
function compare(c: Code, vector: boolean, kind: keyof typeof COMPARISON, x: () => void, y: () => void): void {
  const [v, s] = COMPARISON[kind];
  x();
  y();
  if (vector) c.simd(v);
  else c.op(s);
}

/** Emits `p > q || p !== p` (the kernels' pick of p in relu and maximum; `<` for minimum). */
function pickFirst(c: Code, vector: boolean, kind: 'gt' | 'lt', p: () => void, q: () => void): void {
  compare(c, vector, kind, p, q);
  compare(c, vector, 'ne', p, p);
  if (vector) c.simd(SIMD.v128Or);
  else c.op(OP.i32Or);
}

/** Emits 1 where the mask (or i32) is set, else +0, as the kernels' `+(cond)`. */
function oneWhere(c: Code, vector: boolean, cond: () => void): void {
  if (vector) {
    cond();
    c.f32x4(1).simd(SIMD.v128And);
  } else {
    cond();
    c.op(OP.f32ConvertI32U);
  }
}

function unaryOp(c: Code, kind: UnaryKind, vector: boolean, v: () => void, constant: (x: number) => void): void {
  const one = UNARY_INSTRUCTION[kind];
  if (one !== undefined) {
    v();
    if (vector) c.simd(one[0]);
    else c.op(one[1]);
    return;
  }
  const zero = (): void => constant(0);
  const mul = (): void => void (vector ? c.simd(SIMD.f32x4Mul) : c.op(OP.f32Mul));
  switch (kind) {
    case 'identity':
      v();
      return;
    case 'square':
      v();
      v();
      mul();
      return;
    case 'reciprocal':
      constant(1);
      v();
      if (vector) c.simd(SIMD.f32x4Div);
      else c.op(OP.f32Div);
      return;
    case 'relu':
      // v where v > 0 or v is NaN, else +0 (also for −0).
      choose(c, vector, v, zero, () => pickFirst(c, vector, 'gt', v, zero));
      return;
    case 'step':
      oneWhere(c, vector, () => compare(c, vector, 'gt', v, zero));
      return;
    case 'sign':
      // Math.sign: 1 above zero, −1 below, v itself for ±0 and NaN.
      choose(
        c,
        vector,
        () => constant(1),
        () => choose(c, vector, () => constant(-1), v, () => compare(c, vector, 'lt', v, zero)),
        () => compare(c, vector, 'gt', v, zero),
      );
      return;
    default:
      throw new Error(`jit: no WebAssembly form for unary '${kind}'`);
  }
}

function binaryOp(c: Code, kind: BinaryKind, vector: boolean, p: () => void, q: () => void): void {
  const one = BINARY_INSTRUCTION[kind];
  if (one !== undefined) {
    p();
    q();
    if (vector) c.simd(one[0]);
    else c.op(one[1]);
    return;
  }
  if (kind === 'maximum' || kind === 'minimum') {
    // p where p > q (p < q for minimum) or p is NaN, else q: the kernels' pick, so NaN on either
    // side gives NaN and maximum(+0, −0) is −0, as eager.
    choose(c, vector, p, q, () => pickFirst(c, vector, kind === 'maximum' ? 'gt' : 'lt', p, q));
    return;
  }
  throw new Error(`jit: no WebAssembly form for binary '${kind}'`);
}

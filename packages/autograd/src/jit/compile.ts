import { allocate, type FloatArray, bytesPerElement, isFloatDType } from '../dtype.js';
import { WASM_THRESHOLDS, wantsWasm } from '../kernels/backend.js';
import { gemm } from '../kernels/gemm.js';
import { product as productAt, type ProductShape } from '../kernels/wasm/gemm.js';
import { loadKernels, type Kernels } from '../kernels/wasm/module.js';
import { broadcastCopy, copyAlongAxis } from '../kernels/layout.js';
import { arenaArray, arenaCurrent, claimArena, releaseArena } from '../kernels/wasm/memory.js';
import { noGrad } from '../engine/grad-mode.js';
import { formatShape, normalizeAxes, shapesEqual, sizeOf } from '../shape.js';
import { reduceAxis, reduceRun } from '../kernels/reduce.js';
import { constant, scalarTensor, Tensor } from '../tensor.js';
import { pinStorage } from '../storage-pool.js';
import { planBuffers, type BufferPlan, type PlanStep } from './buffers.js';
import { compileGroup, fuse, type FusedLoop, type Step } from './fusion.js';
import { hasTanh, wasmLoop } from './wasm-loop.js';
import { TANH_TABLE } from './wasm-tanh.js';
import { productFunction } from './wasm-product.js';
import { eliminateCommonSubexpressions, eliminateDeadCode, isLiteral, printProgram, typeText, type Atom, type Equation, type Program, type Var } from './program.js';
import { TraceError } from '../errors.js';

/** A program made ready to run: dead code removed, elementwise groups fused, buffers planned. */
export interface CompiledProgram {
  /** The program after dead-code and repeated-computation elimination. */
  readonly program: Program;
  readonly steps: readonly Step[];
  readonly plan: BufferPlan;
  /** Runs the program on one tensor per input (their shapes and dtypes as traced); one tensor per output. */
  run(inputs: readonly Tensor[]): Tensor[];
  /**
   * Runs every equation through its primitive, unfused, in the grad mode and under the
   * transforms of the caller: so a graph is recorded (or an outer transform sees each op) as
   * for eager code.
   */
  replay(inputs: readonly Tensor[]): Tensor[];
  /** The program as text, fused groups marked (see `compiledText`). */
  toString(): string;
}

/**
 * Compiles `program`: dead code and repeated deterministic equations removed, elementwise groups
 * fused, buffers planned, and the steps resolved once into a flat list of closures over a
 * dense array of values, so that a call is one tight loop with no lookups.
 *
 * Storage: a call writes no input. Planned storage that holds a program output (or storage one
 * aliases) is allocated afresh at every call, so results never share storage with an earlier
 * call's. The rest (intermediates, dead when the call returns) is kept for the next calls:
 * nothing outside a call can reach it. It lives in the kernels' WebAssembly memory (the arena,
 * claimed for the call) where that memory is shared, so that kernels and the fused loops'
 * WebAssembly functions read and write it in place;
 * else in ArrayBuffers made at the first call. A call made while another is running (an op's own
 * implementation calling the same jitted function) takes fresh storage for everything.
 * 2-D products and the layout equations of `layoutOf` write into planned storage with the
 * kernel their op calls; other equations that are not fused run through their primitive's own
 * implementation with gradient recording off.
 */
export function compileProgram(traced: Program): CompiledProgram {
  const program = eliminateDeadCode(eliminateCommonSubexpressions(eliminateDeadCode(traced)));
  const steps = fuse(program);
  const loops: (FusedLoop | null)[] = steps.map((s) => (s.kind === 'fused' ? compileGroup(s.group) : null));
  const planSteps: PlanStep[] = steps.map((s, i) => {
    const eqs = s.kind === 'fused' ? s.group.equations : [s.equation];
    const uses = new Set<number>();
    for (const e of eqs) for (const a of e.inputs) if (!isLiteral(a)) uses.add(a.id);
    if (s.kind === 'fused' && loops[i] !== null) {
      const own = new Set(s.group.outputs.map((v) => v.id));
      return { uses: s.group.inputs.map((v) => v.id), planned: [...own], foreign: [] };
    }
    if (s.kind === 'equation' && (productOf(s.equation) !== undefined || typeof layoutOf(s.equation) === 'function')) {
      return { uses: [...uses], planned: [s.equation.outputs[0]!.id], foreign: [] };
    }
    return { uses: [...uses], planned: [], foreign: eqs.flatMap((e) => e.outputs.map((v) => v.id)) };
  });
  const vars = new Map<number, Var>();
  for (const s of steps) for (const e of s.kind === 'fused' ? s.group.equations : [s.equation]) for (const v of e.outputs) vars.set(v.id, v);
  const outputIds = program.outputs.filter((o): o is Var => !isLiteral(o)).map((v) => v.id);
  const plan = planBuffers(planSteps, (id) => byteSize(vars.get(id)!), outputIds);

  // Every variable gets a place in one array of values: inputs first, then constants, then the
  // equations' outputs as they are defined; literal operands of unfused equations too.
  const index = new Map<number, number>();
  let count = 0;
  const place = (v: Var): number => {
    let i = index.get(v.id);
    if (i === undefined) index.set(v.id, (i = count++));
    return i;
  };
  program.inputs.forEach(place);
  const constants = program.constants.map((c) => ({ at: place(c.v), value: c.value }));
  // One 0-d tensor per literal operand, made once: ops never write their inputs.
  const literals: { at: number; value: Tensor }[] = [];
  const at = (a: Atom): number => {
    if (!isLiteral(a)) return index.get(a.id)!;
    literals.push({ at: count, value: scalarTensor(a.literal, a.dtype) });
    return count++;
  };

  // Kept storage of the slots that do not escape: in the kernels' WebAssembly memory (the arena,
  // laid out once here) where it can be claimed for the call, so that products read and write
  // it with no copy; else an ArrayBuffer per slot, made at the first call that needs it.
  const kept: (ArrayBuffer | undefined)[] = plan.slots.map(() => undefined);
  const arenaOffset: number[] = plan.slots.map(() => 0);
  // A WebAssembly fused loop works in the arena in place (`WasmLoop.inPlace`), as products do.
  // NOTE: where it cannot, a slot it reads or writes stays out of the arena: the chunked loop
  // copies its operands through a memory of its own, and V8 copies out of and into a
  // SharedArrayBuffer (the arena's memory) with relaxed atomic word copies, not memcpy: measured
  // on the PINN step (Node 20, noisy shared machine), an arena holding every slot made the step
  // ~8% slower than none with chunked loops.
  const wasmLoops = steps.map((s, i) => (s.kind === 'fused' && loops[i] !== null ? wasmLoop(s.group) : null));
  const arenaSlot = plan.slots.map((_, slot) => !plan.escapes[slot]!);
  steps.forEach((s, i) => {
    const wasm = wasmLoops[i];
    if (s.kind !== 'fused' || wasm === null || wasm === undefined || wasm.inPlace !== null) return;
    for (const v of [...s.group.inputs, ...s.group.outputs]) {
      const slot = plan.slotOf.get(v.id);
      if (slot !== undefined) arenaSlot[slot] = false;
    }
  });
  let arenaBytes = 0;
  plan.slots.forEach((bytes, slot) => {
    if (!arenaSlot[slot]!) return;
    arenaOffset[slot] = arenaBytes;
    arenaBytes += align64(bytes);
  });
  // Room after the slots where an in-place loop's operands that are not in the arena (program
  // inputs, results, values made by unfused equations) are copied in or out: as much as the
  // group that needs most (groups run one at a time).
  let stagingEnd = arenaBytes;
  // The operands, inputs then outputs, of the steps that run on arena addresses: in-place loops
  // and float32 products.
  const addressed = steps.map((s, i): Var[] => {
    if (s.kind === 'fused') return wasmLoops[i]?.inPlace == null ? [] : [...s.group.inputs, ...s.group.outputs];
    const e = s.equation;
    return productOf(e) !== undefined && e.outputs[0]!.dtype === 'float32' ? [...(e.inputs as Var[]), e.outputs[0]!] : [];
  });
  // The float32 products that run as a function generated for their shape (wasm-product.ts),
  // and where each finds the scratch it transposes B into (after its operands' staging).
  const generatedProducts = steps.map((s) => {
    if (s.kind !== 'equation') return null;
    const product = productOf(s.equation);
    if (product === undefined || s.equation.outputs[0]!.dtype !== 'float32') return null;
    const [m, n] = s.equation.outputs[0]!.shape as [number, number];
    const k = (s.equation.inputs[0] as Var).shape[product.transA ? 0 : 1]!;
    // Only products that run on the calling thread anyway: larger ones share the helper's.
    if (m * n * k >= WASM_THRESHOLDS.compiledShared.min) return null;
    return productFunction({ m, n, k, ...product });
  });
  // Program inputs and constants that steps run on arena addresses read: copied into the arena
  // once per call, after the slots, rather than through the staging room at each such step
  // (the PINN step's weights are read by up to ten products).
  const preStaged = new Map<number, number>();
  if (arenaBytes > 0) {
    const fixed = new Set([...program.inputs.map((v) => v.id), ...program.constants.map((c) => c.v.id)]);
    for (const operands of addressed) {
      for (const v of operands) {
        if (!fixed.has(v.id) || v.dtype !== 'float32' || preStaged.has(v.id)) continue;
        preStaged.set(v.id, arenaBytes);
        arenaBytes += align64(byteSize(v));
      }
    }
  }
  // tanh's table (wasm-tanh.ts), where an in-place loop computes tanh: copied into the arena at
  // each call, as the inputs are.
  let tableOffset = -1;
  if (arenaBytes > 0 && steps.some((s, i) => s.kind === 'fused' && wasmLoops[i]?.inPlace != null && hasTanh(s.group))) {
    tableOffset = arenaBytes;
    arenaBytes += align64(TANH_TABLE.byteLength);
  }
  // A reshape is a view of its input's storage (layoutOf): in the arena where its input is.
  const viewOf = new Map<number, number>();
  for (const s of steps) if (s.kind === 'equation' && layoutOf(s.equation) === 'view') viewOf.set(s.equation.outputs[0]!.id, (s.equation.inputs[0] as Var).id);
  /** The offset from the arena's start where `v`'s values lie during a call in the arena, if known when compiling. */
  const fixedOffset = (v: Var): number | null => {
    let id = v.id;
    while (viewOf.has(id)) id = viewOf.get(id)!;
    const slot = plan.slotOf.get(id);
    if (slot !== undefined && arenaSlot[slot]!) return arenaOffset[slot]!;
    return preStaged.get(id) ?? null;
  };
  const scratchAt: number[] = steps.map(() => 0);
  const staging = addressed.map((operands, i): Operand[] => {
    let at = arenaBytes;
    const offsets = operands.map((v): Operand => {
      const fixed = fixedOffset(v);
      if (fixed !== null) return { fixed };
      const offset = at;
      at += align64(byteSize(v));
      return { staged: offset };
    });
    const generated = generatedProducts[i];
    if (generated != null && generated.scratchBytes > 0) {
      scratchAt[i] = at;
      at += align64(generated.scratchBytes);
    }
    stagingEnd = Math.max(stagingEnd, at);
    return offsets;
  });
  if (arenaBytes > 0) arenaBytes = stagingEnd;
  // The arena's base address and the memory buffer of the call in progress, when it holds the arena.
  let arenaBase = 0;
  let arenaBuffer: ArrayBufferLike | null = null;
  let busy = false;
  let kernels: Kernels | undefined;
  /** The arena's memory as float32, made again when the memory has grown. */
  let memory: Float32Array<ArrayBufferLike> = new Float32Array(0);
  /**
   * Arena addresses for a step's float32 operands (`staging`: inputs, then outputs; see
   * `addressed`): an operand whose place is known when compiling (a slot in the arena, a
   * program input copied in at the call's start, or a view of either) at that place; any
   * other through the staging room at its operand's offset there (from the arena's start),
   * copied in (an input) by `place` or out (an output) by `finish`. `place` fills `args` from
   * index 1.
   */
  const arenaOperands = (staging: readonly Operand[], ins: number) => {
    const args: number[] = new Array<number>(1 + staging.length).fill(0);
    const staged = staging.flatMap((o, k) => ('staged' in o ? [k] : []));
    const stagedIns = staged.filter((k) => k < ins);
    const stagedOuts = staged.filter((k) => k >= ins).map((k) => k - ins);
    let base = -1;
    return {
      args,
      place(inArrays: readonly FloatArray[]): void {
        if (base !== arenaBase) {
          base = arenaBase;
          staging.forEach((o, k) => (args[1 + k] = arenaBase + ('fixed' in o ? o.fixed : o.staged)));
        }
        for (const k of stagedIns) memory.set(inArrays[k]!, args[1 + k]! >> 2);
      },
      finish(outArrays: readonly FloatArray[]): void {
        for (const k of stagedOuts) {
          const o = outArrays[k]!;
          const address = args[1 + ins + k]! >> 2;
          o.set(memory.subarray(address, address + o.length));
        }
      },
    };
  };
  type Exec = (values: Tensor[], mode: Mode) => void;
  const execs: Exec[] = [];
  /**
   * Where a planned value is written at a call: fresh storage when it escapes (or the call is
   * nested in another), else its slot's kept storage, viewed once per storage.
   */
  const storage = (v: Var): ((mode: Mode) => FloatArray) => {
    const slot = plan.slotOf.get(v.id)!;
    const bytes = plan.slots[slot]!;
    const f32 = v.dtype === 'float32';
    const make = (buffer?: ArrayBuffer): FloatArray =>
      f32 ? (buffer === undefined ? new Float32Array(bytes / 4) : new Float32Array(buffer)) : buffer === undefined ? new Float64Array(bytes / 8) : new Float64Array(buffer);
    if (plan.escapes[slot]!) return () => make();
    let view: FloatArray | undefined;
    let inArena: FloatArray | undefined;
    let arenaOf: ArrayBufferLike | null = null;
    return (mode) => {
      if (mode === 'fresh') return make();
      if (mode === 'kept' || !arenaSlot[slot]!) return (view ??= make((kept[slot] ??= new ArrayBuffer(bytes))));
      // Made again only when the memory has grown (a new buffer) since the last view.
      if (arenaOf !== arenaBuffer) {
        arenaOf = arenaBuffer;
        inArena = arenaArray(f32, arenaBase + arenaOffset[slot]!, bytes / (f32 ? 4 : 8));
      }
      return inArena!;
    };
  };
  /**
   * The tensor over a planned value's storage at a call: one made once and reused while the
   * storage is the same array (an intermediate's kept or arena storage, which nothing outside
   * a call can reach), else a new one.
   */
  const wrap = (v: Var): ((c: FloatArray) => Tensor) => {
    if (plan.escapes[plan.slotOf.get(v.id)!]!) return (c) => constant(c, v.shape);
    let last: Tensor | null = null;
    return (c) => (last !== null && last.data === c ? last : (last = constant(c, v.shape)));
  };
  steps.forEach((s, i) => {
    const loop = loops[i];
    const product = s.kind === 'equation' ? productOf(s.equation) : undefined;
    if (product !== undefined && s.kind === 'equation') {
      // A 2-D product straight into planned storage: the kernel call matmulT makes, same bits.
      const e = s.equation;
      const [a, b] = e.inputs.map(at) as [number, number];
      const out = e.outputs[0]!;
      const where = storage(out);
      const tensorOf = wrap(out);
      const result = place(out);
      const { transA, transB } = product;
      const [m, n] = out.shape as [number, number];
      const k = (e.inputs[0] as Var).shape[transA ? 0 : 1]!;
      const alone = m * n * k < WASM_THRESHOLDS.compiledShared.min;
      // In the arena (float32), the product kernel itself on the operands' addresses: no call
      // record, staging regions or callback made per call. Elsewhere the gemm kernel, which stages.
      const shape: ProductShape = { transA, transB, m, n, k, alone };
      const direct = staging[i]!.length > 0 && m > 0 && n > 0 && k > 0;
      const operands = arenaOperands(staging[i]!, 2);
      const special = generatedProducts[i] ?? null;
      const scratch = scratchAt[i]!;
      const pair: FloatArray[] = [new Float32Array(0), new Float32Array(0)];
      const single: FloatArray[] = [new Float32Array(0)];
      execs.push((values, mode) => {
        const c = where(mode);
        // Kept storage holds the last call's values: with nothing to sum, zeros as in a fresh array.
        if (k === 0) c.fill(0);
        const aData = values[a]!.data as FloatArray, bData = values[b]!.data as FloatArray;
        pair[0] = aData;
        pair[1] = bData;
        single[0] = c;
        if (direct && mode === 'arena' && wantsWasm('gemm', m * n * k)) {
          operands.place(pair);
          if (special !== null) {
            special.run(operands.args[1]!, operands.args[2]!, operands.args[3]!, arenaBase + scratch);
          } else {
            const all = (kernels ??= loadKernels()!);
            productAt(shape, true, operands.args[1]!, operands.args[2]!, operands.args[3]!, all, all.f32);
          }
          operands.finish(single);
        } else {
          gemm({ transA, transB, m, n, k, a: aData, aOffset: 0, b: bData, bOffset: 0, c, cOffset: 0, alone });
        }
        values[result] = tensorOf(c);
      });
      return;
    }
    const layout = s.kind === 'equation' ? layoutOf(s.equation) : undefined;
    if (layout !== undefined && s.kind === 'equation') {
      const out = s.equation.outputs[0]!;
      const x = at(s.equation.inputs[0]!);
      const result = place(out);
      if (layout === 'view') {
        execs.push((values) => {
          values[result] = constant(pinStorage(values[x]!.data), out.shape);
        });
        return;
      }
      const where = storage(out);
      const tensorOf = wrap(out);
      execs.push((values, mode) => {
        const c = where(mode);
        layout(values[x]!.data as FloatArray, c);
        values[result] = tensorOf(c);
      });
      return;
    }
    if (s.kind === 'fused' && loop !== null && loop !== undefined) {
      const ins = s.group.inputs.map((v) => index.get(v.id)!);
      const outs = s.group.outputs.map((v) => ({ at: place(v), where: storage(v), tensorOf: wrap(v) }));
      // Argument arrays reused by every call: filled and handed to the loop with nothing in between.
      const inArrays: FloatArray[] = ins.map(() => new Float32Array(0));
      const outArrays: FloatArray[] = outs.map(() => new Float32Array(0));
      const inPlace = arenaBytes > 0 ? (wasmLoops[i]?.inPlace ?? null) : null;
      const n = sizeOf(s.group.shape);
      const operands = arenaOperands(staging[i]!, ins.length);
      operands.args[0] = n;
      // The table's address after the operands', for a loop that computes tanh.
      const tableArg = hasTanh(s.group) ? operands.args.push(0) - 1 : -1;
      execs.push((values, mode) => {
        for (let k = 0; k < ins.length; k++) inArrays[k] = values[ins[k]!]!.data as FloatArray;
        for (let k = 0; k < outs.length; k++) outArrays[k] = outs[k]!.where(mode);
        if (mode === 'arena' && inPlace !== null && wantsWasm('fused', n)) {
          operands.place(inArrays);
          if (tableArg >= 0) operands.args[tableArg] = arenaBase + tableOffset;
          inPlace(...operands.args);
          operands.finish(outArrays);
        } else {
          loop(inArrays, outArrays);
        }
        for (let k = 0; k < outs.length; k++) values[outs[k]!.at] = outs[k]!.tensorOf(outArrays[k]!);
      });
      return;
    }
    for (const e of s.kind === 'fused' ? s.group.equations : [s.equation]) {
      const args = e.inputs.map(at);
      const results = e.outputs.map(place);
      const given: Tensor[] = args.map(() => PLACEHOLDER);
      execs.push((values) => {
        for (let k = 0; k < args.length; k++) given[k] = values[args[k]!]!;
        const outs = e.apply(given);
        check(e, outs);
        for (let k = 0; k < results.length; k++) values[results[k]!] = outs[k]!;
      });
    }
  });
  const outputAt = program.outputs.map(at);
  const size = count;
  const preStagedAt = [...preStaged].map(([id, offset]) => ({ at: index.get(id)!, offset }));

  const execute = (inputs: readonly Tensor[], mode: Mode): Tensor[] => {
    const values = new Array<Tensor>(size);
    for (let i = 0; i < inputs.length; i++) values[i] = inputs[i]!;
    for (const c of constants) values[c.at] = c.value;
    for (const l of literals) values[l.at] = l.value;
    if (mode === 'arena') {
      if (memory.buffer !== arenaBuffer) memory = new Float32Array(arenaBuffer!);
      for (const p of preStagedAt) memory.set(values[p.at]!.data as Float32Array, (arenaBase + p.offset) >> 2);
      if (tableOffset >= 0) new Float64Array(memory.buffer, arenaBase + tableOffset, TANH_TABLE.length).set(TANH_TABLE);
    }
    for (let i = 0; i < execs.length; i++) execs[i]!(values, mode);
    return outputAt.map((i) => values[i]!);
  };

  const run = (inputs: readonly Tensor[]): Tensor[] =>
    noGrad(() => {
      if (busy) return execute(inputs, 'fresh');
      busy = true;
      const base = arenaBytes > 0 ? claimArena(arenaBytes) : null;
      try {
        if (base === null) return execute(inputs, 'kept');
        arenaBase = base;
        arenaBuffer = arenaCurrent();
        return execute(inputs, 'arena');
      } finally {
        if (base !== null) releaseArena();
        busy = false;
      }
    });

  const replay = (inputs: readonly Tensor[]): Tensor[] => {
    const env = new Map<number, Tensor>();
    program.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
    for (const c of program.constants) env.set(c.v.id, c.value);
    const read = (a: Atom): Tensor => (isLiteral(a) ? scalarTensor(a.literal, a.dtype) : env.get(a.id)!);
    for (const e of program.equations) applyEquation(e, env, read);
    return program.outputs.map(read);
  };

  return {
    program,
    steps,
    plan,
    run,
    replay,
    toString: () => compiledText(program, steps),
  };
}

/**
 * The transposes of a product the executor runs through the gemm kernel itself: matmulT of two
 * 2-D float operands of one dtype (what linear layers and their gradients make), whose result
 * then goes into planned storage instead of a fresh array per call.
 */
function productOf(e: Equation): { transA: boolean; transB: boolean } | undefined {
  if (e.primitive !== 'matmulT' || e.inputs.length !== 2 || e.outputs.length !== 1) return undefined;
  const [a, b] = e.inputs as [Atom, Atom];
  const out = e.outputs[0]!;
  const transA = e.params['2'], transB = e.params['3'];
  if (isLiteral(a) || isLiteral(b) || typeof transA !== 'boolean' || typeof transB !== 'boolean') return undefined;
  if (!isFloatDType(out.dtype) || a.dtype !== out.dtype || b.dtype !== out.dtype) return undefined;
  if (a.shape.length !== 2 || b.shape.length !== 2 || out.shape.length !== 2) return undefined;
  return { transA, transB };
}

/**
 * Where a call writes the values it keeps to itself (see `compileProgram`): fresh arrays (a call
 * nested in another of the same program), the program's own ArrayBuffers kept between calls, or
 * the arena in the kernels' WebAssembly memory, held for the call.
 */
type Mode = 'fresh' | 'kept' | 'arena';

/**
 * The layout equations the executor runs itself: reshape as a view of its input's storage (as
 * the op makes it), and expand, sliceRange and padRange as the copy their op makes (the same
 * kernel), written into planned storage instead of a fresh array and a dispatch per call; and
 * sums, likewise, through the reduction kernels their op calls.
 * Float operands only (planned storage is float).
 */
function layoutOf(e: Equation): 'view' | ((x: FloatArray, out: FloatArray) => void) | undefined {
  const x = e.inputs[0];
  const out = e.outputs[0];
  if (e.inputs.length !== 1 || e.outputs.length !== 1 || x === undefined || out === undefined || isLiteral(x)) return undefined;
  if (!isFloatDType(out.dtype) || x.dtype !== out.dtype) return undefined;
  const [ax, lo, third] = [e.params['1'], e.params['2'], e.params['3']];
  switch (e.primitive) {
    case 'reshape':
      return 'view';
    case 'expand':
      return (data, c) => broadcastCopy(data, x.shape, c, out.shape);
    case 'sum': {
      // The kernel calls of the op's own reduction (ops/reduce.ts, reduceData) where its axes
      // are one run of neighbouring axes: the same sums in the same order, into planned storage.
      // Only as traced (positional parameters: sum(x, axis?, keepdims?)).
      if (Object.keys(e.params).some((key) => key !== '1' && key !== '2')) return undefined;
      const axis = e.params['1'];
      if (axis !== undefined && typeof axis !== 'number' && !(Array.isArray(axis) && axis.every((a) => typeof a === 'number'))) return undefined;
      let axes: number[];
      try {
        axes = normalizeAxes('sum', axis as number | number[] | undefined, x.shape.length);
      } catch {
        return undefined;
      }
      if (axes.length === 0 || axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) return undefined;
      if (axes.length === x.shape.length) return (data, c) => void (c[0] = reduceRun('sum', data, 0, data.length));
      const first = axes[0]!, last = axes[axes.length - 1]!;
      const outer = sizeOf(x.shape.slice(0, first)), n = sizeOf(x.shape.slice(first, last + 1)), inner = sizeOf(x.shape.slice(last + 1));
      if (outer * inner !== sizeOf(out.shape)) return undefined;
      return (data, c) => reduceAxis('sum', data, outer, n, inner, c);
    }
    case 'sliceRange':
    case 'padRange': {
      if (typeof ax !== 'number' || typeof lo !== 'number' || typeof third !== 'number') return undefined;
      const outer = sizeOf(x.shape.slice(0, ax));
      const inner = sizeOf(x.shape.slice(ax + 1));
      const n = x.shape[ax]!;
      if (e.primitive === 'sliceRange') return (data, c) => copyAlongAxis(data, n, lo, c, third - lo, 0, outer, third - lo, inner);
      // Kept storage holds the last call's values: the zeros around the copy are written too.
      return (data, c) => {
        c.fill(0);
        copyAlongAxis(data, n, 0, c, third, lo, outer, n, inner);
      };
    }
    default:
      return undefined;
  }
}

/**
 * Where a step run on arena addresses finds one operand: at an offset from the arena's start
 * known when compiling, or copied through the staging room at this offset.
 */
type Operand = { readonly fixed: number } | { readonly staged: number };

/** Stands for a tensor argument in an argument array before the call fills it in. */
const PLACEHOLDER = new Tensor(new Float32Array(0), [0]);

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

function byteSize(v: Var): number {
  return sizeOf(v.shape) * bytesPerElement(v.dtype);
}

/** Runs one equation through its primitive and checks what it made against the trace. */
function applyEquation(e: Equation, env: Map<number, Tensor>, read: (a: Atom) => Tensor): void {
  const outs = e.apply(e.inputs.map(read));
  check(e, outs);
  e.outputs.forEach((v, k) => env.set(v.id, outs[k]!));
}

/** Checks what an equation's primitive made against the trace. */
function check(e: Equation, outs: readonly Tensor[]): void {
  e.outputs.forEach((v, k) => {
    const t = outs[k];
    // NOTE: the guard against a stale program: a primitive whose result's shape or dtype
    // depends on values (or on anything but its traced inputs) is refused here, never replayed
    // into a wrong answer.
    if (t === undefined || !shapesEqual(t.shape, v.shape) || t.dtype !== v.dtype) {
      const got = t === undefined ? 'nothing' : `${t.dtype} ${formatShape(t.shape)}`;
      throw new TraceError(
        `jit: primitive '${e.primitive}' gave ${got} for output ${k} on replay, where the trace had ${typeText(v)}; its result depends on the input values, which a jitted function cannot have`,
      );
    }
  });
}

/**
 * The program as text with its fused groups marked: each group prints as
 * `fused { ... }` around its equations, followed by the values it writes out.
 */
export function compiledText(program: Program, steps: readonly Step[]): string {
  const text = printProgram(program).split('\n');
  // Equation lines are 1..n in program order; regroup them by step.
  const lineOf = new Map<Equation, string>();
  program.equations.forEach((e, i) => lineOf.set(e, text[i + 1]!));
  const body: string[] = [];
  for (const s of steps) {
    if (s.kind === 'equation') {
      body.push(lineOf.get(s.equation)!);
      continue;
    }
    body.push(`    fused[${typeText({ shape: s.group.shape, dtype: s.group.dtype })}] {`);
    for (const e of s.group.equations) body.push(`    ${lineOf.get(e)!}`);
    body.push('    }');
  }
  return [text[0]!, ...body, text[text.length - 1]!].join('\n');
}

/** @internal for tests: storage for a value of `v`'s type. */
export function storageFor(v: Var): Tensor {
  return new Tensor(allocate(v.dtype, sizeOf(v.shape)), v.shape);
}

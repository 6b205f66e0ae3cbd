import type { FloatArray } from '../../dtype.js';
import { byteCopier } from '../environment.js';
import { helperMayTake } from './helper-thread.js';
import { MAX_PAGES } from './layout.js';
import { DATA_START, type DtypeKernels, type Kernels, loadKernels, loadLocalKernels } from './module.js';

/**
 * The kernels' linear memories seen from TypeScript, and the one shape every WebAssembly kernel
 * call takes: copy the operands in, call, copy the results out (`staged`). The copies cost
 * O(size) against the kernel's own O(size) or O(mnk) work, which is why each kernel takes
 * this path only within the sizes of WASM_THRESHOLDS (kernels/backend.ts).
 *
 * The module runs as two instances, each over a memory of its own (module.ts): the main one,
 * shared where the runtime allows, which the helper thread and the arena need, and a local one,
 * unshared, for every call that hands nothing to the helper thread. V8 copies into and out of
 * a shared buffer word by word where an unshared one gets memcpy, two to four times faster,
 * and most calls (everything below the threading threshold, everything on one thread) only pay
 * the copies. `staged` makes the choice, from what the caller says it may hand the helper.
 *
 * Operands that already live in the main memory (the arena, `claimArena`) are used where they
 * are, with no copy:
 *
 *   [DATA_START, arenaEnd)   the arena: storage a caller keeps in the memory across calls
 *   [arenaEnd, ...)          operands `staged` copies in and out, per call
 */

/** One instance's memory as views, valid until the next call that grows it (`reserve`). */
interface Space {
  readonly kernels: Kernels;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
}

/** The main instance (shared memory where allowed) and the local one (unshared); undefined until loaded. */
let main: Space | undefined;
let local: Space | undefined;

const newSpace = (kernels: Kernels): Space => ({ kernels, f32: new Float32Array(0), f64: new Float64Array(0), i32: new Int32Array(0) });

/** Largest linear memory asked for: byte addresses are i32, kept below 2 GiB. */
const MAX_BYTES = MAX_PAGES * 65536;

/** Rounds up to a cache line (arithmetic, not bit masks: sizes may pass 2³¹ before the check). */
const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/**
 * The main kernels (those the helper thread and the arena use) with their memory at least `end`
 * bytes, or null where WebAssembly SIMD is missing or the memory cannot grow that far. The views
 * here are valid until the next call that grows the memory.
 */
export function kernelsWithMemory(end = DATA_START): Kernels | null {
  const space = mainSpace();
  return space !== null && reserve(space, end) ? space.kernels : null;
}

/** The main instance's space: the one the helper thread and the arena use. */
function mainSpace(): Space | null {
  if (main !== undefined) return main;
  const kernels = loadKernels();
  if (kernels === null) return null;
  main = newSpace(kernels);
  return main;
}

/** The local instance's space: the main one where that is unshared already (or no second instance loads). */
function localSpace(): Space | null {
  if (local !== undefined) return local;
  const kernels = loadLocalKernels();
  const shared = mainSpace();
  if (kernels === null || shared === null) return null;
  local = kernels === shared.kernels ? shared : newSpace(kernels);
  return local;
}

/**
 * Makes the space's memory at least `end` bytes; false if it cannot (over 2 GiB, or out of
 * memory). Grow-only: the memory keeps its largest size for later calls. Only this code grows
 * it (the module has no memory.grow), so the views stay valid until the next grow here; an
 * unshared memory's old buffer is detached by the grow, and the views are made again over the
 * new one.
 */
function reserve(space: Space, end: number): boolean {
  if (end > MAX_BYTES) return false;
  if (end <= space.f32.byteLength) return true;
  const { memory } = space.kernels;
  try {
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  space.f32 = new Float32Array(memory.buffer);
  space.f64 = new Float64Array(memory.buffer);
  space.i32 = new Int32Array(memory.buffer);
  return true;
}

/**
 * Bytes of the memory the arena may take (64 MiB): the memory never shrinks, so beyond this a
 * caller keeps its storage in ordinary arrays.
 */
const ARENA_MAX_BYTES = 1 << 26;

/** The arena's end (grow-only: the largest claim so far), where `staged` starts placing. */
let arenaEnd = DATA_START;
let arenaHeld = false;

/**
 * Claims the arena, `bytes` long from DATA_START, for the caller's own storage until
 * `releaseArena`: arrays made over it with `arenaArray` are kernel operands `staged` uses in
 * place. Its contents are undefined at each claim (another caller may have used it between
 * two). Returns DATA_START, or null where the arena is held already (a nested caller), is too
 * large, or the memory is not shared: an unshared memory's buffer is detached when it grows, and
 * with it every array over the arena, so the arena is only offered where growth keeps them.
 * @example const base = claimArena(bytes); if (base !== null) try { ... } finally { releaseArena(); }
 */
export function claimArena(bytes: number): number | null {
  if (arenaHeld || bytes > ARENA_MAX_BYTES) return null;
  const end = align(DATA_START + bytes);
  const space = mainSpace();
  if (space === null || !space.kernels.shared || !reserve(space, Math.max(end, arenaEnd))) return null;
  arenaEnd = Math.max(arenaEnd, end);
  arenaHeld = true;
  return DATA_START;
}

/** Gives the arena back (see `claimArena`). */
export function releaseArena(): void {
  arenaHeld = false;
}

/**
 * A float32 (`f32`) or float64 array of `length` elements at byte address `at` of the memory,
 * in the arena the caller holds. Valid for as long as the memory (shared) lives; `staged` uses
 * such an array in place while the memory has not grown since it was made (`arenaCurrent`).
 */
export function arenaArray(f32: boolean, at: number, length: number): FloatArray {
  const buffer = arenaCurrent();
  return f32 ? new Float32Array(buffer, at, length) : new Float64Array(buffer, at, length);
}

/**
 * The memory's current buffer: arrays made by `arenaArray` over an earlier one (before the memory
 * grew) still hold the right values, but `staged` copies them as any other array; a caller makes
 * its arrays again when this changes.
 */
export function arenaCurrent(): ArrayBufferLike {
  return (main?.f32 ?? NO_VIEW).buffer;
}

const NO_VIEW = new Float32Array(0);

/**
 * One array's place in WebAssembly memory for a `staged` call: `length` elements (of the call's
 * dtype, or float64, or int32), copied in from `input` (from `inputOffset`) before the call and
 * out to `output` (from `outputOffset`) after it, each where given. Made by `copyIn`, `copyOut`,
 * `copyInOut`, `float64Out`, `int32In` and `int32Out`, which give every region the same shape (so `staged`
 * reads them at full speed, whichever kernel calls it).
 */
export interface Region {
  readonly length: number;
  readonly input: FloatArray | Int32Array | null;
  readonly inputOffset: number;
  readonly output: FloatArray | Int32Array | null;
  readonly outputOffset: number;
  readonly float64: boolean;
  readonly int32: boolean;
  /** Copied in by the kernel's caller during the call (`copyInNow`), not before it. */
  readonly late: boolean;
}

/** `length` elements of `array` from `offset`, copied in. */
export const copyIn = (array: FloatArray | null, length: number, offset = 0): Region =>
  ({ length, input: array, inputOffset: offset, output: null, outputOffset: 0, float64: false, int32: false, late: false });

/**
 * `length` elements of `array` from `offset`, copied in by the caller during the call
 * (`copyInNow`) rather than before it: so that a product posted to the helper thread can start
 * while the caller copies in what only its own product reads.
 */
export const copyInLate = (array: FloatArray, length: number, offset = 0): Region =>
  ({ length, input: array, inputOffset: offset, output: null, outputOffset: 0, float64: false, int32: false, late: true });

/** `length` elements written by the kernel, copied out into `array` from `offset`. */
export const copyOut = (array: FloatArray, length: number, offset = 0): Region =>
  ({ length, input: null, inputOffset: 0, output: array, outputOffset: offset, float64: false, int32: false, late: false });

/** `length` elements of `array` (from `offset`) copied in, updated in place by the kernel, and copied out to `to` (from `offset`). */
export const copyInOut = (array: FloatArray, length: number, to: FloatArray = array, offset = 0): Region =>
  ({ length, input: array, inputOffset: offset, output: to, outputOffset: offset, float64: false, int32: false, late: false });

/** `length` elements the kernel uses as a temporary: neither copied in nor out. */
export const scratchRegion = (length: number): Region =>
  ({ length, input: null, inputOffset: 0, output: null, outputOffset: 0, float64: false, int32: false, late: false });

/**
 * `length` float64 values the kernel writes (sums it accumulates in float64), copied out into
 * `array` where given: one rounding each into its dtype, as a TypeScript kernel's `set`.
 */
export const float64Out = (array: FloatArray | null, length: number, offset = 0): Region =>
  ({ length, input: null, inputOffset: 0, output: array, outputOffset: offset, float64: true, int32: false, late: false });

/** `length` float64 values of `array` (from `offset`) copied in, whatever the call's dtype. */
export const float64In = (array: Float64Array, length: number, offset = 0): Region =>
  ({ length, input: array, inputOffset: offset, output: null, outputOffset: 0, float64: true, int32: false, late: false });

/** `length` float64 values of `array` copied in, updated in place by the kernel (sums it adds to), and copied back. */
export const float64InOut = (array: Float64Array, length: number): Region =>
  ({ length, input: array, inputOffset: 0, output: array, outputOffset: 0, float64: true, int32: false, late: false });

/** `length` int32 values of `array` from `offset` (indices, offsets), copied in. */
export const int32In = (array: Int32Array, length: number, offset = 0): Region =>
  ({ length, input: array, inputOffset: offset, output: null, outputOffset: 0, float64: false, int32: true, late: false });

/** `length` int32 values (indices) the kernel writes, copied out into `array`. */
export const int32Out = (array: Int32Array, length: number): Region =>
  ({ length, input: null, inputOffset: 0, output: array, outputOffset: 0, float64: false, int32: true, late: false });

/** Byte addresses of the regions of the call in progress (calls do not nest). */
const addresses: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
/** Whether each region of the call in progress is an array in the arena, used in place. */
const residents: boolean[] = [false, false, false, false, false, false, false, false];

/**
 * Runs one WebAssembly kernel call: places `regions` one after another from the first free
 * byte (each on a cache line), copies their inputs in (but those of `copyInLate` regions, which
 * `run` copies itself with `copyInNow`), calls `run` with the kernels of the dtype (`f32` or
 * float64), each region's byte address and the instance, then copies the outputs out. The caller's arrays must not overlap where one is written, as for any kernel call.
 *
 * `helperWork` is the multiply-adds of the largest product `run` may hand to the helper thread
 * (`runProduct` shares those of 64³ and up; Infinity where it posts a job whole, at any
 * size, as `runImages` does), 0 for none. Such a call, when the helper may take it (two
 * threads, a helper that has not failed), runs in the main instance, whose memory the helper
 * shares; so does a call with an operand in the arena. Any other call runs in the local
 * instance, over an unshared memory, whose copies are faster: the same kernels, the same bits.
 * In the main instance, a region only read or only written whose array lives in the arena (of
 * the region's element type) is not copied: its address is the array's own.
 *
 * Returns false, having done nothing, where WebAssembly SIMD is missing or the regions do not
 * fit its memory: the caller then takes its TypeScript kernel.
 * @example staged(true, [copyIn(x, n), copyOut(out, n)], (k, at) => k.unary(op, at[0]!, at[1]!, n));
 */
export function staged(
  f32: boolean,
  regions: readonly Region[],
  run: (dtype: DtypeKernels, at: readonly number[], kernels: Kernels) => void,
  helperWork = 0,
): boolean {
  const space = helperWork > 0 && helperMayTake(helperWork) ? mainSpace() : inArena(regions) ? main! : localSpace();
  if (space === null) return false;
  const at = addresses;
  const resident = residents;
  const arena = space === main ? space.f32.buffer : null;
  let end = space === main ? arenaEnd : DATA_START;
  for (let i = 0; i < regions.length; i++) {
    const region = regions[i]!;
    const size = region.int32 || (f32 && !region.float64) ? 4 : 8;
    // An array in the arena, read or written (not both: a kernel that updates its operand in
    // place must not change the caller's input), is the kernel's operand where it is.
    const { input, output } = region;
    const array = input === null ? output : output === null ? input : null;
    resident[i] = array !== null && array.buffer === arena && array.BYTES_PER_ELEMENT === size;
    if (resident[i]) {
      at[i] = array!.byteOffset + (input === null ? region.outputOffset : region.inputOffset) * size;
      continue;
    }
    end = align(end);
    at[i] = end;
    end += region.length * size;
  }
  if (!reserve(space, end)) return false;
  const { f32: f32View, f64: f64View, i32: i32View, kernels } = space;
  const memory = f32View.buffer;
  const copyBytes = space.kernels.shared ? fastCopy : undefined;
  for (let i = 0; i < regions.length; i++) if (!regions[i]!.late) copyRegionIn(space, regions[i]!, i, f32);
  lateSpace = space;
  lateRegions = regions;
  lateF32 = f32;
  try {
    run(f32 ? kernels.f32 : kernels.f64, at, kernels);
  } finally {
    lateRegions = NO_REGIONS;
  }
  for (let i = 0; i < regions.length; i++) {
    const { output, length, outputOffset, float64, int32 } = regions[i]!;
    if (output === null || resident[i]) continue;
    if (int32) {
      (output as Int32Array).set(i32View.subarray(at[i]! / 4, at[i]! / 4 + length), outputOffset);
      continue;
    }
    const size = f32 && !float64 ? 4 : 8;
    if (copyBytes !== undefined && length * size >= FAST_COPY_MIN_BYTES && output.BYTES_PER_ELEMENT === size && output.buffer !== memory) {
      copyBytes(output.buffer, output.byteOffset + outputOffset * size, memory, at[i]!, length * size);
      continue;
    }
    const start = at[i]! / size;
    (output as FloatArray).set((f32 && !float64 ? f32View : f64View).subarray(start, start + length), outputOffset);
  }
  return true;
}

/** The call in progress, for `copyInNow`. */
let lateSpace: Space | undefined;
const NO_REGIONS: readonly Region[] = [];
let lateRegions: readonly Region[] = NO_REGIONS;
let lateF32 = true;

/**
 * Copies in region `i` of the `staged` call in progress, one made by `copyInLate`, at the address
 * the call gave it (a no-op where its array lives in the arena, used in place).
 * @example staged(true, [copyIn(a, n), copyInLate(b, n)], (k, at) => { post(...); copyInNow(1); ... });
 */
export function copyInNow(i: number): void {
  const region = lateRegions[i];
  if (region === undefined || !region.late) throw new Error(`copyInNow: region ${i} of the call in progress is not one copied in late`);
  copyRegionIn(lateSpace!, region, i, lateF32);
}

/** Copies `region`'s input (if any, and not used in place) to its address in `space`. */
function copyRegionIn(space: Space, region: Region, i: number, f32: boolean): void {
  const { input, length, inputOffset, float64, int32 } = region;
  if (input === null || residents[i]) return;
  const size = int32 || (f32 && !float64) ? 4 : 8;
  const memory = space.f32.buffer;
  const at = addresses[i]!;
  if (fastCopy !== undefined && space.kernels.shared && length * size >= FAST_COPY_MIN_BYTES && input.BYTES_PER_ELEMENT === size && input.buffer !== memory) {
    fastCopy(memory, at, input.buffer, input.byteOffset + inputOffset * size, length * size);
    return;
  }
  // NOTE: subarray makes a view, not a copy; `set` then copies with memcpy.
  const source = inputOffset === 0 && input.length === length ? input : input.subarray(inputOffset, inputOffset + length);
  if (int32) space.i32.set(source, at / 4);
  else if (f32 && !float64) space.f32.set(source, at / 4);
  else space.f64.set(source, at / 8);
}

/**
 * Copies into and out of a shared memory as one memcpy each (`byteCopier`), where the runtime
 * offers it: a typed array's `set` there goes word by word, at about half the speed (25 against
 * 40 GB/s from 128 KiB up, noisy). Unshared memories keep `set`, a memcpy already.
 */
const fastCopy = byteCopier();

/** Bytes from which a copy takes `fastCopy` (64 KiB): below it, making its two Buffer views costs more than the copy saves. */
const FAST_COPY_MIN_BYTES = 1 << 16;

/** Whether a region's array lives in the main memory (the arena), where it is used in place. */
function inArena(regions: readonly Region[]): boolean {
  if (main === undefined || !main.kernels.shared) return false;
  const memory = main.f32.buffer;
  for (let i = 0; i < regions.length; i++) {
    const { input, output } = regions[i]!;
    if (input?.buffer === memory || output?.buffer === memory) return true;
  }
  return false;
}

import type { FloatArray } from '../../dtype.js';
import { adoptBuffer } from '../../storage-pool.js';
import { MAX_PAGES } from './layout.js';
import { kernelsOver, type Kernels } from './module.js';

/**
 * Results made where they are kept. A kernel whose result is large and only written (the outer
 * products of per-example gradients: a 784×128 weight's for 64 examples is 26 MB) spends more
 * time copying the result out of WebAssembly memory than making it. Such a result can instead
 * be a tensor's storage inside a WebAssembly memory of its own, with its own instance of the
 * kernels: the storage is the memory's first bytes, the kernel's inputs go in the room after
 * it, and the kernel writes the result where it stays. The memory never grows (that would
 * detach its buffer, and the storage with it). Its buffer goes to the storage pool as any other
 * storage, by the storage's bytes (`adoptBuffer`), so the next result of that size is made in
 * place again; any other op may take it from the pool too, as plain storage.
 */

/** A memory made by `residentStorage`: the kernels over it and the room after the storage. */
export interface Resident {
  readonly kernels: Kernels;
  /** Byte address of the room after the storage (a cache line past its end). */
  readonly room: number;
  /** Bytes of that room. */
  readonly roomBytes: number;
}

const residents = new WeakMap<ArrayBuffer, Resident>();

/**
 * Bytes of a result from which `residentStorage` is worth its memory of its own: below this,
 * copying the result out costs little, and each such memory takes the address space a
 * WebAssembly memory reserves.
 */
export const RESIDENT_MIN_BYTES = 4 << 20;

/**
 * Storage of `length` elements (float32 where `f32`, else float64) at the start of a new
 * WebAssembly memory with room for `roomElements` more after it, recyclable by the storage
 * pool; its values are unset (zeros). Null where WebAssembly is missing or the memory cannot
 * be made (too large, or the runtime's address space for such memories is spent): the caller
 * then takes ordinary storage.
 * @example const out = residentStorage(true, n * m * k, n * (m + k)) ?? new Float32Array(n * m * k);
 */
export function residentStorage(f32: boolean, length: number, roomElements: number): FloatArray | null {
  const size = f32 ? 4 : 8;
  const bytes = length * size;
  const room = Math.ceil(bytes / 64) * 64;
  const pages = Math.max(1, Math.ceil((room + roomElements * size) / 65536));
  if (!(pages <= MAX_PAGES)) return null;
  let memory: WebAssembly.Memory;
  let kernels: Kernels | null;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    kernels = kernelsOver(memory);
  } catch {
    // Out of memory, or of the address space the runtime gives WebAssembly memories.
    return null;
  }
  if (kernels === null) return null;
  const buffer = memory.buffer;
  residents.set(buffer, { kernels, room, roomBytes: pages * 65536 - room });
  adoptBuffer(buffer, bytes);
  return f32 ? new Float32Array(buffer, 0, length) : new Float64Array(buffer, 0, length);
}

/** The memory `array` is storage in, made by `residentStorage`, when `array` starts at its start. */
export function residentOf(array: FloatArray): Resident | undefined {
  return array.byteOffset === 0 ? residents.get(array.buffer as ArrayBuffer) : undefined;
}

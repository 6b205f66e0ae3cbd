/**
 * Freed tensor storage kept for reuse. Fresh memory is dear in JavaScript: a new ArrayBuffer of a
 * megabyte costs the allocator a mapping and the kernel a page of zeros per 4 KiB touched, and
 * the engine frees ArrayBuffers only at a garbage collection. PyTorch hands a freed block to the
 * next allocation of its size at once (reference counts tell it when); here a tensor's storage
 * comes back when the tensor is disposed (`Tensor.dispose`), or when a backward pass is done
 * with an intermediate gradient, and `allocate`/`allocateUnset` (dtype.ts) take it again.
 *
 * Only storage that nothing else can reach is taken back. A buffer is *recyclable* from the
 * moment `allocate` makes it for a tensor until another tensor may share it (a reshape view, a
 * `detach()` leaf, a jit program's view): each of those calls `pinStorage`, and a pinned buffer
 * is never pooled again (the garbage collector frees it as before). Storage the library did not
 * allocate (a caller's typed array, a WebAssembly memory, a subarray) was never recyclable. The
 * other holders are checked when a tensor is disposed (dispose.ts: a `.grad` in place, a tensor
 * inside jit or vmap) or can never read it again: a graph that saved a disposed tensor refuses
 * its backward before any VJP runs (engine/versions.ts), so its VJPs never see reused storage.
 *
 * Small buffers are left out (below `POOL_MIN_BYTES`): there, fresh memory costs little and
 * the bookkeeping would be the larger part. The pool is bounded in total bytes (oldest sizes
 * dropped first) and in buffers per size.
 *
 * A buffer is pooled by the bytes of the storage it holds, its first bytes: the whole buffer,
 * except for one made with room after the storage (a WebAssembly memory holding a kernel's
 * result in place, with the kernel's inputs after it; kernels/wasm/resident.ts).
 */

import { ArgumentError } from './errors.js';

/** Buffers of fewer bytes are never pooled (nor tracked): allocation stays a plain construction. */
export const POOL_MIN_BYTES = 16 << 10;

/** At most this many free buffers of one size are kept. */
const PER_SIZE = 8;

const DEFAULT_MAX_BYTES = 128 << 20;

/** Free buffers by byte length; a Map keeps insertion order, so the first key is the size put least recently. */
const free = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;
let maxBytes = DEFAULT_MAX_BYTES;
/** Buffers `allocate` made (or handed out again) that nothing but their tensor holds yet. */
const recyclable = new WeakSet<ArrayBuffer>();
/** The storage bytes of buffers with room after their storage (see above); the rest hold storage whole. */
const storageBytes = new WeakMap<ArrayBuffer, number>();

/**
 * A free buffer whose storage is `bytes` long (its first `bytes`: a view of that many from 0 is
 * the storage), taken out of the pool (recyclable again), or undefined.
 */
export function takeBuffer(bytes: number): ArrayBuffer | undefined {
  const list = free.get(bytes);
  if (list === undefined) return undefined;
  const buffer = list.pop()!;
  if (list.length === 0) free.delete(bytes);
  pooledBytes -= buffer.byteLength;
  recyclable.add(buffer);
  return buffer;
}

/**
 * Marks `buffer`, just allocated for one tensor's storage, as recyclable: its first `bytes` (all
 * of it unless said) are the storage, a view of them from 0.
 */
export function adoptBuffer(buffer: ArrayBuffer, bytes = buffer.byteLength): void {
  if (bytes !== buffer.byteLength) storageBytes.set(buffer, bytes);
  recyclable.add(buffer);
}

/**
 * Marks `data`'s storage as shared by more than one tensor (a view): it will never be pooled. Free for small arrays, which are never pooled anyway. Returns `data`.
 */
export function pinStorage<T extends ArrayBufferView>(data: T): T {
  if (data.byteLength >= POOL_MIN_BYTES) recyclable.delete(data.buffer as ArrayBuffer);
  return data;
}

/**
 * Puts `data`'s storage in the pool if it is recyclable and the whole of its buffer; true if it
 * was taken. The caller guarantees nothing will read or write `data` again.
 */
export function recycleStorage(data: ArrayBufferView): boolean {
  const bytes = data.byteLength;
  const buffer = data.buffer as ArrayBuffer;
  if (bytes < POOL_MIN_BYTES || buffer.byteLength > maxBytes) return false;
  if (data.byteOffset !== 0 || (storageBytes.get(buffer) ?? buffer.byteLength) !== bytes || !recyclable.delete(buffer)) return false;
  let list = free.get(bytes);
  if (list !== undefined && list.length >= PER_SIZE) return false;
  // Re-inserted, the size moves to the end of the Map: the sizes dropped first are those put back least recently.
  if (list !== undefined) free.delete(bytes);
  free.set(bytes, (list ??= []));
  list.push(buffer);
  pooledBytes += buffer.byteLength;
  while (pooledBytes > maxBytes) dropOldest();
  return true;
}

function dropOldest(): void {
  const [bytes, list] = free.entries().next().value as [number, ArrayBuffer[]];
  const buffer = list.shift()!;
  if (list.length === 0) free.delete(bytes);
  pooledBytes -= buffer.byteLength;
}

/** What the pool holds now, and its bound (see `setMemoryPoolLimit`). */
export interface MemoryPoolStats {
  /** Bytes of the free buffers held for reuse (a buffer made with room after its storage counts whole). */
  readonly bytes: number;
  /** How many buffers those are. */
  readonly buffers: number;
  /** The most it holds, in bytes (0: off). */
  readonly maxBytes: number;
  /** Buffers smaller than this are never pooled. */
  readonly minBytes: number;
}

/**
 * What the pool of freed storage holds: the storage of disposed tensors (and of gradients a
 * backward pass was done with), kept for the next tensors of the same byte size.
 * @example memoryPool().bytes // bytes held for reuse right now
 */
export function memoryPool(): MemoryPoolStats {
  let buffers = 0;
  for (const list of free.values()) buffers += list.length;
  return { bytes: pooledBytes, buffers, maxBytes, minBytes: POOL_MIN_BYTES };
}

/**
 * Bounds the pool of freed storage to `maxBytes` (default 128 MiB), dropping what exceeds it to
 * the garbage collector; 0 empties the pool and turns recycling off. Returns the previous bound.
 * @throws ArgumentError for a bound that is not a non-negative number.
 * @example setMemoryPoolLimit(0) // no reuse: memory goes back only through garbage collection
 */
export function setMemoryPoolLimit(bytes: number): number {
  if (typeof bytes !== 'number' || !(bytes >= 0)) {
    throw new ArgumentError(`setMemoryPoolLimit: the bound must be a number of bytes >= 0, got ${String(bytes)}`);
  }
  const previous = maxBytes;
  maxBytes = bytes;
  while (pooledBytes > maxBytes) dropOldest();
  return previous;
}

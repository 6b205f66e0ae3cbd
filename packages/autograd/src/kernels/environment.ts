/**
 * What the kernels read of the runtime they are in, behind guards, so the same code runs in a
 * browser: environment variables and Node built-in modules exist only in Node.
 */

/**
 * An environment variable, or undefined where there is none (or no `process`, as in a browser).
 * @example environmentVariable('CHAINRULE_KERNELS'); // 'js' | 'wasm' | 'auto' | undefined
 */
export function environmentVariable(name: string): string | undefined {
  return typeof process === 'object' && process !== null ? process.env?.[name] : undefined;
}

/**
 * A Node built-in module, loaded synchronously (`process.getBuiltinModule`, Node 20.16+), or
 * undefined elsewhere; no import statement, so bundles for the browser carry no Node module.
 * @example nodeBuiltin<typeof import('node:os')>('node:os')?.availableParallelism();
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  if (typeof process !== 'object' || process === null) return undefined;
  const load = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof load === 'function' ? (load.call(process, id) as T | undefined) : undefined;
}

/**
 * Node's `Buffer.allocUnsafeSlow` (bytes the allocator does not clear, in an ArrayBuffer of their
 * own), where the global Buffer is; undefined elsewhere, as in a browser. Never imported, so
 * bundles carry no Node module.
 * @example unclearedAllocator()?.(1 << 20); // a Uint8Array over 1 MiB of unset bytes
 */
export function unclearedAllocator(): ((bytes: number) => Uint8Array) | undefined {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => Uint8Array } }).Buffer;
  const alloc = B?.allocUnsafeSlow;
  return typeof alloc === 'function' ? (bytes) => alloc.call(B, bytes) : undefined;
}

/**
 * Copies `bytes` bytes between two buffers, shared or not, as one memcpy: Node's `Buffer.fill`
 * with a Buffer value as long as the range it fills copies it once, whatever the buffers, where
 * a typed array's `set` into or out of a SharedArrayBuffer goes word by word at about half the
 * speed. The ranges must not overlap. Undefined where the global Buffer is not (a browser).
 * @example byteCopier()?.(memory.buffer, at, x.buffer, x.byteOffset, x.byteLength);
 */
export function byteCopier(): ((to: ArrayBufferLike, toByte: number, from: ArrayBufferLike, fromByte: number, bytes: number) => void) | undefined {
  type Bytes = Uint8Array & { fill(value: Uint8Array): unknown };
  const B = (globalThis as { Buffer?: { from?: (buffer: ArrayBufferLike, byteOffset: number, length: number) => Bytes } }).Buffer;
  const from = B?.from;
  if (typeof from !== 'function') return undefined;
  return (to, toByte, source, fromByte, bytes) => {
    from.call(B, to, toByte, bytes).fill(from.call(B, source, fromByte, bytes));
  };
}

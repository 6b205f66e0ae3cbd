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

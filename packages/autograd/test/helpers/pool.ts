import { expect } from 'vitest';
import { memoryPool, setMemoryPoolLimit } from '@chainrule/autograd';

/** The storage pool's limit as the library starts. */
export const DEFAULT_POOL_LIMIT = memoryPool().maxBytes;

/**
 * Requires `run` to give the same result, bit for bit, with the storage pool off, on, and on
 * again while it holds what the first pooled run gave back: reuse of storage must never show.
 */
export function expectSameWithPoolOnAndOff<T>(run: () => T): void {
  setMemoryPoolLimit(0);
  const off = run();
  setMemoryPoolLimit(DEFAULT_POOL_LIMIT);
  const on = run();
  const again = run();
  expect(on).toEqual(off);
  expect(again).toEqual(off);
}

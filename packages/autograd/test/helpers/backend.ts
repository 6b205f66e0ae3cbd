import { kernelBackend, setKernelBackend, type KernelBackend } from '../../src/kernels/backend.js';

/** Runs `fn` with the kernel backend set to `backend`, then restores the previous one. */
export function withBackend<T>(backend: KernelBackend, fn: () => T): T {
  const previous = kernelBackend();
  setKernelBackend(backend);
  try {
    return fn();
  } finally {
    setKernelBackend(previous);
  }
}

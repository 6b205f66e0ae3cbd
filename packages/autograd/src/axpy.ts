import { DTypeError, ShapeError } from './errors.js';
import type { FloatArray } from './dtype.js';
import { axpyKernel } from './kernels/axpy.js';
import { bumpVersion } from './engine/versions.js';

/** Throws, naming `op`, unless y and x are storage arrays of one dtype and length. */
function checkPair(op: string, y: FloatArray, x: FloatArray): void {
  const yIs32 = y instanceof Float32Array;
  if (!(yIs32 || y instanceof Float64Array) || !(x instanceof Float32Array || x instanceof Float64Array)) {
    throw new DTypeError(`${op}: y and x must be Float32Array or Float64Array storage (a tensor's .data)`);
  }
  if (yIs32 !== x instanceof Float32Array) {
    throw new DTypeError(`${op}: y is ${yIs32 ? 'float32' : 'float64'} but x is ${yIs32 ? 'float64' : 'float32'}`);
  }
  if (y.length !== x.length) throw new ShapeError(`${op}: y holds ${y.length} elements but x holds ${x.length}`);
}

/**
 * y ← y + α·x in place over two storage arrays of one dtype and length (BLAS axpy): how an
 * optimiser updates a parameter from its gradient. Each element is computed in float64 and
 * rounded once, the same bits on every kernel backend; long arrays run a WebAssembly vector
 * loop where it is available. Bumps the version of y's storage, so a backward that needs its
 * old values refuses to run (see `Tensor.version`).
 * @throws DTypeError unless y and x are Float32Array or Float64Array storage of one dtype.
 * @throws ShapeError if their lengths differ.
 * @example axpy(param.data, -lr, param.grad!.data) // a plain SGD step
 */
export function axpy(y: FloatArray, alpha: number, x: FloatArray): void {
  checkPair('axpy', y, x);
  axpyKernel(y, alpha, x);
  bumpVersion(y);
}

/**
 * y ← α·x + β·y in place over two storage arrays of one dtype and length (BLAS axpby), computed
 * in float64 and rounded once per element, the same bits on every kernel backend: how momentum
 * folds a gradient into its buffer. Bumps the version of y's storage, as `axpy`.
 * @throws DTypeError and ShapeError as `axpy`.
 * @example axpby(buf, 1 - dampening, grad, momentum) // buf ← momentum·buf + (1 - dampening)·grad
 */
export function axpby(y: FloatArray, alpha: number, x: FloatArray, beta: number): void {
  checkPair('axpby', y, x);
  axpyKernel(y, alpha, x, beta);
  bumpVersion(y);
}

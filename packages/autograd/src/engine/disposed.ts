import { GraphError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * Disposed tensors. A disposed tensor keeps its shape and dtype (for messages) but its values
 * and gradient are gone: reading `.data` or `.grad` throws a DisposedError, and an op given it
 * names itself in that error (dispatch.ts renames it). Only the tensor object changes, through
 * accessors of its own, so tensors that are not disposed pay nothing.
 */
const disposed = new WeakSet<Tensor>();

/** Whether `t` was disposed. */
export function isDisposed(t: Tensor): boolean {
  return disposed.has(t);
}

/**
 * A use of a disposed tensor. A GraphError to callers; a class of its own so that the op the
 * tensor was given to can put its name in the message.
 */
export class DisposedError extends GraphError {
  private readonly what: string;

  constructor(what: string, access: string) {
    super(`${access}: the tensor ${disposedText(what)}`);
    this.what = what;
  }

  /** Names `op` as the user of the tensor: the outermost op wins, as each one on the way out renames. */
  usedBy(op: string, role = 'an input'): void {
    this.message = `${op}: ${role} ${disposedText(this.what)}`;
  }
}

function disposedText(what: string): string {
  return `(${what}) was disposed; a tensor cannot be used after dispose(), and its storage may already hold another tensor's values`;
}

/** Describes `t` for the messages: dtype and shape. */
export function describeTensor(t: Tensor): string {
  return `${t.dtype} ${formatShape(t.shape)}`;
}

/**
 * Marks `t` disposed: its `.data` and `.grad` become accessors that throw (dropping the
 * references they held), `size` stays readable.
 */
export function markDisposed(t: Tensor): void {
  disposed.add(t);
  const what = describeTensor(t);
  const size = t.shape.reduce((a, b) => a * b, 1);
  const fail = (access: string) => (): never => {
    throw new DisposedError(what, access);
  };
  Object.defineProperty(t, 'size', { configurable: true, enumerable: false, value: size });
  Object.defineProperty(t, 'data', { configurable: true, enumerable: true, get: fail('Tensor.data') });
  Object.defineProperty(t, 'grad', { configurable: true, enumerable: true, get: fail('Tensor.grad'), set: fail('Tensor.grad') });
}

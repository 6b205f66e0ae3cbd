import { emptyStorage } from '../dtype.js';
import { ArgumentError, GraphError } from '../errors.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { markBatched } from '../engine/dispatch.js';

/**
 * A tensor inside `vmap`: what f sees for a batched argument. It has the logical shape (one
 * example's), and holds the whole batch in `value`, a tensor whose dimension 0 is the batch (as
 * functorch's BatchedTensor, with the batch moved first). `level` is the vmap it belongs to (1 for
 * the outermost); under nested vmaps, `value` is itself a BatchedTensor of an outer level.
 *
 * Ops on it go through vmap's batching rules; its elements cannot be read (`data`, `item`,
 * `toArray` throw), since they differ from one example to the next.
 * @internal
 */
export class BatchedTensor extends Tensor {
  /** The batch: dimension 0 is the batch, the rest the logical shape. */
  readonly value: Tensor;
  /** The vmap this batch dimension belongs to, 1 for the outermost. */
  readonly level: number;

  constructor(value: Tensor, level: number) {
    // The storage the base class checks is an empty array of the dtype: this tensor has none of its own.
    super(emptyStorage(value.dtype), [0]);
    this.value = value;
    this.level = level;
    markBatched(this);
    (this as { shape: Shape }).shape = value.shape.slice(1);
    Object.defineProperty(this, 'data', UNREADABLE_DATA);
  }

  /** Whether the batch carries gradients (its value's flag). */
  override get requiresGrad(): boolean {
    return this.value.requiresGrad;
  }

  override set requiresGrad(_: boolean) {
    throw new GraphError(`requiresGrad: cannot be set on a tensor batched by vmap (shape ${formatShape(this.shape)}); set it outside vmap, or use grad inside it`);
  }

  override get size(): number {
    return sizeOf(this.shape);
  }

  override item(): number {
    throw readError(this, 'item()');
  }

  override toArray(): NestedArray {
    throw readError(this, 'toArray()');
  }

  override detach(): Tensor {
    return new BatchedTensor(this.value.detach(), this.level);
  }

  override backward(): void {
    throw new GraphError(
      `backward: cannot be called inside vmap on a batched tensor (shape ${formatShape(this.shape)}); use grad, valueAndGrad or vjp inside vmap, as torch.func does`,
    );
  }

  override toString(): string {
    return `BatchedTensor(${this.dtype} ${formatShape(this.shape)}, batch of ${this.value.shape[0]} at vmap level ${this.level})`;
  }
}

/** `data` of every batched tensor: one getter that throws, shared (no closure per tensor). */
const UNREADABLE_DATA: PropertyDescriptor = {
  get(this: BatchedTensor): never {
    throw readError(this, 'data');
  },
};

/** The error for reading a batched tensor's elements: a clear one, naming what was read. */
export class BatchedReadError extends ArgumentError {}

function readError(t: BatchedTensor, what: string): BatchedReadError {
  return new BatchedReadError(
    `vmap: ${what} of a batched tensor (shape ${formatShape(t.shape)}, ${t.dtype}) cannot be read inside vmap: its values differ across the batch. Return it from the function instead`,
  );
}

/** Whether `t` is batched at `level`. */
export function batchedAt(t: unknown, level: number): t is BatchedTensor {
  return t instanceof BatchedTensor && t.level === level;
}

import { Tensor } from './tensor.js';
import { isDisposed } from './engine/disposed.js';

/**
 * Bytes of tensor storage the graph behind `t` keeps alive for its backward pass: `t`'s own,
 * every op's inputs, and the other tensors each op's VJP declares it reads (`saves`), each
 * buffer counted once. What `checkpoint` saves shows here: a checkpointed segment keeps its
 * inputs and outputs, not its intermediate results. A measure of the graph, not of the process
 * (tensors held elsewhere by the caller are not counted unless the graph holds them too).
 * @example retainedBytes(loss) // e.g. 1.2e6 for a small MLP on a batch
 */
export function retainedBytes(t: Tensor): number {
  const buffers = new Set<ArrayBufferLike>();
  const seen = new Set<Tensor>();
  const stack: Tensor[] = [t];
  let bytes = 0;
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    // A disposed tensor's storage is no longer the graph's (the pool may have reused it).
    if (!isDisposed(u) && !buffers.has(u.data.buffer)) {
      buffers.add(u.data.buffer);
      bytes += u.data.buffer.byteLength;
    }
    const node = u.gradFn;
    if (node === null || node.vjp === null) continue;
    for (const p of node.inputs) stack.push(p);
    for (const ref of node.saves) if (ref instanceof Tensor) stack.push(ref);
  }
  return bytes;
}

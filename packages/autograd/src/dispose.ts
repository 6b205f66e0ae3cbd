/**
 * Explicit disposal: a tensor its owner is done with gives its storage back at once, for the
 * next tensor of that byte size (storage-pool.ts), instead of waiting for a garbage collection.
 * PyTorch frees a tensor when its last reference goes; JavaScript cannot see that, so code that
 * allocates large tensors in a loop says it, as TF.js's `dispose` and jax-js's `.dispose()`.
 */
import type { Tensor } from './tensor.js';
import { flattenTree, isTensor } from './tree.js';
import { recycleStorage } from './storage-pool.js';
import { isDisposed, markDisposed } from './engine/disposed.js';
import { isTraced, isTracing } from './engine/trace-access.js';
import { isBatched } from './engine/dispatch.js';
import { isAttachedGrad } from './engine/backward.js';
import { noteDisposal } from './engine/versions.js';

/**
 * Disposes `t` (see `Tensor.dispose`): its storage goes to the pool when nothing else can reach
 * it. Idempotent.
 */
export function disposeTensor(t: Tensor): void {
  // A tensor vmap batches stands for each example of a batch the transform owns: nothing to do.
  if (isDisposed(t) || isBatched(t)) return;
  // Storage is taken back only outside jit, which manages the storage of the tensors it traces.
  const data = isTraced(t) || isTracing() || isAttachedGrad(t) ? null : t.data;
  markDisposed(t);
  // A graph recorded before now may save this tensor: its backward looks again (versions.ts).
  noteDisposal();
  if (data !== null) recycleStorage(data);
}

/**
 * Disposes every tensor in a structure of tensors (arrays and plain objects nested to any depth,
 * as the transforms take; see `treeFlatten`): `dispose(grads)` after reading a gradient
 * dictionary. Each tensor as `Tensor.dispose`; a tensor met twice is disposed once.
 * @throws ArgumentError naming the path of a value that is neither a Tensor nor a structure.
 * @example const g = grad(loss)(params); use(g); dispose(g)
 */
export function dispose(tree: unknown): void {
  const { leaves } = flattenTree<Tensor>(tree, isTensor, (path) => `dispose: the value${path === '' ? '' : ` at ${path}`}`);
  for (const t of leaves) disposeTensor(t);
}

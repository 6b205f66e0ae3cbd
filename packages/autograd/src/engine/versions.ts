import type { TensorData } from '../dtype.js';
import { GraphError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { SavedRef, Tensor } from '../tensor.js';
import { withValueAccess } from './trace-access.js';
import { describeTensor, isDisposed } from './disposed.js';

/**
 * Version counters, as PyTorch's: every in-place write the library makes into a tensor's storage
 * (an optimiser step, loadStateDict, axpy, adamUpdate, a `.grad` summed into in place) bumps the
 * version of that storage; an op records the versions of the tensors its VJP reads, and backward
 * refuses to run that VJP once one of them has moved on, instead of computing a gradient from
 * values the forward never saw.
 *
 * The counter belongs to the storage (the typed array), not to the Tensor object, so a reshape
 * (which shares storage) or a `detach()` sees the edits of the tensor it came from, as PyTorch's
 * views share their base's counter. Storage never written in place has no entry and is at 0.
 * NOTE: a write through `.data` by hand is not seen (as PyTorch's `.data`); code that writes
 * into `.data` and wants it checked calls `incrementVersion`.
 */
/** A storage's in-place writes: how many, and the global write count just after the last one. */
interface Writes {
  version: number;
  at: number;
}
const written = new WeakMap<TensorData, Writes>();
/** In-place writes so far, all storages together: while 0, every version is 0 without a lookup. */
let writes = 0;

/** The version of a storage array: how many in-place writes the library has made into it. */
export function versionOf(data: TensorData): number {
  return writes === 0 ? 0 : (written.get(data)?.version ?? 0);
}

/** Records one in-place write into `data`. */
export function bumpVersion(data: TensorData): void {
  writes++;
  const entry = written.get(data);
  if (entry === undefined) written.set(data, { version: 1, at: writes });
  else {
    entry.version++;
    entry.at = writes;
  }
}

/**
 * How many in-place writes the library has made so far. An op records it; a backward need not
 * look anything up for an op made after the last write, and otherwise asks only whether each
 * saved storage was written after it.
 */
export function writeCount(): number {
  return writes;
}

/**
 * Records that a tensor was disposed: each graph recorded before now is checked again before its
 * backward runs (`checkSavedVersions`), so a disposed tensor it saved is an error there rather
 * than inside a VJP.
 */
export function noteDisposal(): void {
  writes++;
}

/**
 * Throws unless no tensor the VJP of `output`'s op reads was written in place after the op ran:
 * the gradient would otherwise be computed from values the forward never used.
 */
export function checkSavedVersions(output: Tensor): void {
  const node = output.gradFn!;
  if (node.writesBefore === writes) return;
  const { saves } = node;
  for (let k = 0; k < saves.length; k++) {
    const ref = saves[k]!;
    const t = ref === 'output' ? output : typeof ref === 'number' ? node.inputs[ref]! : ref;
    if (isDisposed(t)) throw disposedInGraph(node.op, whichSaved(ref), t);
    // The storage is only looked up, never read: a traced tensor's may be.
    const entry = written.get(withValueAccess(() => t.data));
    if (entry === undefined || entry.at <= node.writesBefore) continue;
    const which = whichSaved(ref);
    throw new GraphError(
      `backward of '${node.op}': ${which} (shape ${formatShape(t.shape)}, ${t.dtype}) was modified in place after the forward ` +
        `(it is now at version ${entry.version}). The gradient needs the values the forward used; ` +
        'run backward before the in-place update (an optimiser step, loadStateDict, axpy...), or redo the forward after it',
    );
  }
}

function whichSaved(ref: SavedRef): string {
  return ref === 'output' ? 'its output' : typeof ref === 'number' ? `input ${ref}` : 'a tensor its gradient reads';
}

function disposedInGraph(op: string, which: string, t: Tensor): GraphError {
  return new GraphError(
    `backward of '${op}': ${which} (${describeTensor(t)}) was disposed after the forward, but the gradient needs its values; ` +
      'dispose a tensor a graph saved only after backward',
  );
}

/**
 * Records an in-place write into `t`'s storage made by hand (through `t.data`), as the library's
 * own in-place updates do: a backward that needs the old values then throws instead of
 * computing a wrong gradient. PyTorch's `torch.autograd.graph.increment_version`.
 * @example for (let i = 0; i < p.size; i++) p.data[i] -= lr * Math.sign(p.grad!.data[i]!); incrementVersion(p);
 */
export function incrementVersion(t: Tensor): void {
  bumpVersion(t.data);
}

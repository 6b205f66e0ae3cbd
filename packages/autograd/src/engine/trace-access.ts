import type { TensorData } from '../dtype.js';
import { TraceError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { pinStorage } from '../storage-pool.js';

/**
 * The values of traced tensors, kept from the code being traced.
 *
 * While jit traces a function, its tensors hold the values of the call being traced, but the
 * compiled program replays only the ops: any value the function reads itself (`.data`, `item()`,
 * `toArray()`, a branch on one) would be baked into every later call. So a traced tensor's
 * `data` becomes an accessor that throws a TraceError, except while the library itself works
 * on it: inside an op's implementation (the jit interpreter opens access around each op it
 * records) and in the few engine paths that pass storage along unread (`sharedTensor`).
 *
 * NOTE: a library path that reads a traced tensor's values outside an op (a helper computing a
 * mask from values inside a VJP, say) throws here too. That is the point: such a path would
 * otherwise bake the values of the traced call into the program. Route it through an op.
 */

let open = 0;
let reads = 0;

/**
 * Sets the count of reads of traced values (by the library, inside ops) to `n` and returns the
 * count it replaces: a trace counts the reads an op's own implementation makes.
 */
export function swapValueReads(n: number): number {
  const previous = reads;
  reads = n;
  return previous;
}
const hidden = new WeakMap<Tensor, TensorData>();
let onShare: ((from: Tensor, to: Tensor) => void) | null = null;

/**
 * Tensors made while a trace runs that are no op's output: a mask an op's forward computed from
 * traced values and its VJP reads later (median's tie mask), or a library tensor standing for a
 * traced one. The program could only hold such a tensor as a constant, with the traced call's
 * values: so a trace holds it as a stale constant, refused if the program needs it (see
 * jit/trace.ts), instead of replaying those values into every later call. Creation from numbers
 * alone (zeros, ones, full, eye, arange, linspace, a number operand) is cleared with `untaint`,
 * and `tensor(values)` in f's own code with `fromUserValues` (its numbers cannot come from a
 * traced tensor, whose values f cannot read).
 */
const tainted = new WeakSet<Tensor>();
let tracing = 0;
let inVjp = 0;
/** Whether a tensor made now is marked (read by the Tensor constructor: a live binding). */
export let tainting = false;

function update(): void {
  tainting = tracing > 0;
}

/** Whether a trace is running (jit). */
export function isTracing(): boolean {
  return tracing > 0;
}

/**
 * Clears the mark of a tensor made by `tensor(values)` from f's own code (not inside an op or a
 * VJP, where values may come from traced tensors); returns it.
 */
export function fromUserValues<T extends Tensor>(t: T): T {
  return open > 0 || inVjp > 0 ? t : untaint(t);
}

/** Runs `fn` with the values of traced tensors readable (the library's own work on them). */
export function withValueAccess<T>(fn: () => T): T {
  open++;
  update();
  try {
    return fn();
  } finally {
    open--;
    update();
  }
}

/** Runs a trace's body: tensors made inside ops and VJPs during it are marked (see `tainted`). */
export function whileTracing<T>(fn: () => T): T {
  tracing++;
  update();
  try {
    return fn();
  } finally {
    tracing--;
    update();
  }
}

/**
 * What a running trace does with a VJP (see `setVjpHook`): given the op's output `out`, the
 * cotangent `g` and `run` (the VJP as the graph holds it), returns one gradient per input.
 */
export type VjpHook = (out: Tensor, g: Tensor, run: () => readonly (Tensor | null)[]) => readonly (Tensor | null)[];
let onVjp: VjpHook | null = null;

/** Installs (or with null removes) what a running trace does with each VJP; returns the hook it replaces. */
export function setVjpHook(hook: VjpHook | null): VjpHook | null {
  const previous = onVjp;
  onVjp = hook;
  return previous;
}

/**
 * Runs the VJP `run` of the op that made `out`, for the cotangent `g`: during a trace, through
 * the trace's hook, with the tensors it makes directly (not through ops) marked.
 */
export function duringVjp(out: Tensor, g: Tensor, run: () => readonly (Tensor | null)[]): readonly (Tensor | null)[] {
  if (tracing === 0) return run();
  inVjp++;
  update();
  try {
    return onVjp === null ? run() : onVjp(out, g, run);
  } finally {
    inVjp--;
    update();
  }
}

/**
 * The ones a backward pass made during a trace as the gradient of a one-element root (the seed
 * of `grad`): the engine hands it only to the root's VJP, which reads it, and nobody writes it.
 * A trace holds every such seed of one dtype and shape as one constant, so that the work two
 * gradient calls share (the second derivatives of a physics-informed loss differentiate the
 * same function twice) is one computation after common-subexpression elimination.
 */
const seeds = new WeakSet<Tensor>();

/** Marks `t`, a new tensor of ones, as a backward pass's seed (see `seeds`) while a trace runs; returns it. */
export function markSeed<T extends Tensor>(t: T): T {
  if (tracing > 0) seeds.add(t);
  return t;
}

/** Whether `t` is a seed a backward pass made during a trace (see `markSeed`). */
export function isSeed(t: Tensor): boolean {
  return seeds.has(t);
}

/** Marks a tensor made while `tainting`. */
export function markTainted(t: Tensor): void {
  tainted.add(t);
}

/** Clears the mark of a tensor made from numbers alone; returns it. */
export function untaint<T extends Tensor>(t: T): T {
  if (tracing > 0) tainted.delete(t);
  return t;
}

/** Whether `t` was made inside an op or a VJP during a trace without being an op's output. */
export function isTainted(t: Tensor): boolean {
  return tainted.has(t);
}

/** Whether `t` is a tensor of a running (or finished) trace, whose values user code may not read. */
export function isTraced(t: Tensor): boolean {
  return hidden.has(t);
}

/** Makes `t`'s values unreadable outside `withValueAccess` (see the module comment). */
export function guardValues(t: Tensor): void {
  if (hidden.has(t)) return;
  const data = t.data;
  hidden.set(t, data);
  // The size is a fact of the shape, not a value: it stays readable (Tensor's getter reads data.length).
  Object.defineProperty(t, 'size', { configurable: true, enumerable: false, value: data.length });
  Object.defineProperty(t, 'data', {
    configurable: true,
    enumerable: true,
    get(): TensorData {
      if (open > 0) {
        reads++;
        return data;
      }
      throw new TraceError(
        `jit: the values of a traced tensor (${t.dtype} ${formatShape(t.shape)}) cannot be read inside a jitted function: ` +
          '.data, item(), toArray() and printing have no values to give while jit traces, and whatever depended on them ' +
          'would be baked into every later call. Compute with tensor ops instead (where, maximum, clamp...), return the ' +
          'tensor and read it after the call, or pass the number as a static (non-tensor) argument',
      );
    },
  });
}

/**
 * Installs (or with null removes) what a running trace does when a tensor is made from a traced
 * one's storage; returns the hook it replaces, for the trace to put back.
 */
export function setShareHook(hook: ((from: Tensor, to: Tensor) => void) | null): ((from: Tensor, to: Tensor) => void) | null {
  const previous = onShare;
  onShare = hook;
  return previous;
}

/**
 * `make(storage)` for a tensor sharing `t`'s storage (a fresh leaf, a view): where `t` is
 * traced, the result is traced as the same value. The one way the engine passes storage along
 * outside an op.
 */
export function sharedTensor(t: Tensor, make: (data: TensorData) => Tensor): Tensor {
  const data = hidden.get(t);
  if (data === undefined) {
    const own = t.data;
    // Two tensors hold this storage now: disposing either must not recycle it.
    pinStorage(own);
    const out = make(own);
    // The same values as t: a stray value of a trace only if t is one (`ones` made a leaf is not).
    return tainted.has(t) ? out : untaint(out);
  }
  const out = make(data);
  guardValues(out);
  onShare?.(t, out);
  return out;
}

import { ArgumentError, GraphError, ShapeError, TraceError } from '../errors.js';
import { formatShape, shapesEqual, type Shape } from '../shape.js';
import { expectFloat, Tensor, type GradNode } from '../tensor.js';
import { ones } from '../creation.js';
import { add } from '../ops/binary.js';
import { sumTo } from '../ops/reduce.js';
import { axpyKernel } from '../kernels/axpy.js';
import { nextVisitStamp } from './topo-sort.js';
import { setGradEnabled } from './grad-mode.js';
import { checkFinite, isAnomalyEnabled, runningBackward } from './anomaly.js';
import { markSeed } from './trace-access.js';
import { markFresh, takeFresh, withFreshGradients } from './fresh-grads.js';
import { bumpVersion, checkSavedVersions, writeCount } from './versions.js';
import { duringVjp, isTraced, isTracing } from './trace-access.js';
import { isBatched, opsRunEagerly } from './dispatch.js';
import { describeTensor, DisposedError, isDisposed } from './disposed.js';
import { POOL_MIN_BYTES, recycleStorage } from '../storage-pool.js';

/** Options of `backward` and of the functional transforms built on it. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: it is freed). */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated again (default false). */
  createGraph?: boolean;
  /**
   * Accumulate into the `.grad` of these tensors only (leaves or not), as PyTorch's `inputs`:
   * every other tensor's `.grad` is left as it is. Each must require grad; a non-empty list.
   */
  inputs?: Tensor | readonly Tensor[];
}

interface RunOptions extends Omit<BackwardOptions, 'inputs'> {
  /** Return the gradients with respect to these tensors instead of accumulating into `.grad`. */
  inputs?: readonly Tensor[];
  /**
   * Take `inputs` as leaves: nothing beyond them is visited, so each gets its partial derivative
   * through this graph alone. For a recomputed segment whose inputs are views of an outer graph
   * (checkpoint), which that graph's own backward continues from.
   */
  cutAtInputs?: boolean;
}

function checkRootGradient(root: Tensor, gradient: Tensor | undefined): Tensor {
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new GraphError(
        `backward: the gradient can be implied only for a one-element output; got shape ${formatShape(root.shape)}, so pass backward(gradient) with that shape`,
      );
    }
    return markSeed(ones(root.shape, { dtype: root.dtype }));
  }
  if (!shapesEqual(gradient.shape, root.shape) || gradient.dtype !== root.dtype) {
    throw new ShapeError(
      `backward: gradient of shape ${formatShape(gradient.shape)} (${gradient.dtype}) does not match the output's shape ${formatShape(root.shape)} (${root.dtype})`,
    );
  }
  return gradient;
}

function accumulate(current: Tensor | null, incoming: Tensor): Tensor {
  return current === null ? incoming : add(current, incoming);
}

/**
 * Whether `g` is a gradient for an input of shape `input` that still carries dimensions the op
 * broadcast the input along: aligned on the right, each of g's dimensions equals the input's, or
 * is one the input lacks or has as 1 while the output `out` has it at g's size.
 */
function broadcastOf(g: Shape, input: Shape, out: Shape): boolean {
  if (g.length < input.length || g.length > out.length) return false;
  for (let d = 1; d <= g.length; d++) {
    const gd = g[g.length - d]!;
    const id = input[input.length - d];
    if (gd === id) continue;
    if ((id !== undefined && id !== 1) || gd !== out[out.length - d]) return false;
  }
  return true;
}

/**
 * The gradient for input `j` of `node` from what its VJP returned: as is when it has the input's
 * shape and dtype; summed back when it still has dimensions the op broadcast the input along (so
 * no VJP undoes broadcasting itself); any other shape is the VJP's error, named here. The sum is
 * recorded under createGraph like any op, so it is differentiable again.
 */
function toInputShape(node: GradNode, j: number, g: Tensor, input: Tensor, out: Tensor): Tensor {
  const sameShape = shapesEqual(g.shape, input.shape);
  if (g.dtype !== input.dtype || (!sameShape && !broadcastOf(g.shape, input.shape, out.shape))) {
    throw new GraphError(
      `backward of '${node.op}' returned a gradient of shape ${formatShape(g.shape)} (${g.dtype}) for input ${j} of shape ${formatShape(input.shape)} (${input.dtype})`,
    );
  }
  if (sameShape) return g;
  const summed = sumTo(g, input.shape);
  // New storage from this sum, held by nothing else: a leaf may take it (fresh-grads.ts).
  markFresh(summed);
  return summed;
}

/**
 * Reverse-mode sweep from `roots`. Without `inputs`, accumulates into `.grad` of the leaves
 * (and of tensors that called `retainGrad`); with `inputs`, returns their gradients instead
 * (null for an input the roots do not depend on) and touches no `.grad`.
 */
export function backward(roots: readonly Tensor[], gradients: readonly Tensor[] | undefined, options: RunOptions = {}): (Tensor | null)[] {
  const { retainGraph = false, createGraph = false, inputs, cutAtInputs = false } = options;
  for (const t of inputs === undefined ? roots : [...roots, ...inputs]) {
    // A tensor batched by vmap is no graph vertex (its batch is): only grad and vjp map it.
    if (isBatched(t)) {
      throw new GraphError(
        `backward: a tensor batched by vmap (shape ${formatShape(t.shape)}) cannot be a root or an input of backward or gradients; use grad, valueAndGrad or vjp inside vmap`,
      );
    }
  }
  for (const t of [...roots, ...(inputs ?? []), ...(gradients ?? [])]) {
    if (t instanceof Tensor && isDisposed(t)) {
      const role = roots.includes(t) ? 'a root' : inputs?.includes(t) === true ? 'an input' : 'a gradient';
      throw new GraphError(`backward: ${role} (${describeTensor(t)}) was disposed; a tensor cannot be used after dispose()`);
    }
  }
  for (const root of roots) {
    if (!root.requiresGrad) {
      throw new GraphError(
        `backward: tensor of shape ${formatShape(root.shape)} does not require grad and has no gradFn; did the forward run under noGrad, or are no inputs marked requiresGrad?`,
      );
    }
  }
  if (gradients !== undefined && gradients.length !== roots.length) {
    throw new ArgumentError(`backward: got ${gradients.length} gradients for ${roots.length} outputs`);
  }
  // Fresh gradients may be taken as .grad without a copy only by a pass that stores into .grad
  // as plain buffers.
  const takesFresh = !createGraph && inputs === undefined;
  try {
    return setGradEnabled(createGraph, () => withFreshGradients(takesFresh, () => sweep(roots, gradients, retainGraph, createGraph, inputs, cutAtInputs)));
  } catch (e) {
    // A disposed leaf reached, or its disposed .grad: named as backward's.
    if (e instanceof DisposedError) e.usedBy('backward', 'a tensor the pass reached');
    throw e;
  }
}

/**
 * With `inputs`, the tensors whose VJP must run: those with a parent that is an input or leads to
 * one. Other VJPs cannot change the result, so they are neither run nor freed (as PyTorch's
 * autograd.grad executes only the nodes it needs), which keeps a transform nested inside a larger
 * graph from sweeping through all of it.
 */
function leadingToInputs(order: readonly Tensor[], wanted: ReadonlyMap<Tensor, unknown>): Set<Tensor> {
  const reaches = new Set<Tensor>();
  const runs = new Set<Tensor>();
  for (const t of order) {
    if (wanted.has(t)) reaches.add(t);
    const ins = t.gradFn?.inputs;
    if (ins === undefined) continue;
    for (let j = 0; j < ins.length; j++) {
      if (reaches.has(ins[j]!)) {
        reaches.add(t);
        runs.add(t);
        break;
      }
    }
  }
  return runs;
}

/** Sweeps running now: more than one while a VJP runs a backward pass of its own (checkpoint). */
let sweeping = 0;

/**
 * Every tensor reachable from `roots`, each after all of its parents (post-order DFS, parents in
 * their recorded order, so the order is deterministic); the parents of a tensor in `stop` are not
 * visited. As each tensor is placed it is also checked, so the graph is walked once before any
 * VJP runs: a pending gradient of an enclosing pass is set aside into `enclosing` (when `nested`),
 * and a VJP whose saved tensors were written in place since is refused, before any VJP runs or
 * any .grad changes, so a refused pass leaves gradients and graph as they were.
 * NOTE: iterative with an explicit stack (a recursive walk overflows the JS stack on long chains),
 * and reading the graph fields directly: topo-sort.ts's generic sort goes through Vertex getters.
 */
function sweepOrder(roots: readonly Tensor[], stop: ReadonlySet<Tensor> | undefined, nested: boolean, enclosing: [Tensor, Tensor][]): Tensor[] {
  const mark = nextVisitStamp();
  const order: Tensor[] = [];
  const stack: Tensor[] = [];
  const next: number[] = [];
  const writes = writeCount();
  for (let r = 0; r < roots.length; r++) {
    const root = roots[r]!;
    if (root.visitStamp === mark) continue;
    root.visitStamp = mark;
    stack.push(root);
    next.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const v = stack[top]!;
      const i = next[top]!;
      const node = v.gradFn;
      if (node !== null && i < node.inputs.length && (stop === undefined || !stop.has(v))) {
        next[top] = i + 1;
        const p = node.inputs[i]!;
        if (p.visitStamp !== mark) {
          p.visitStamp = mark;
          stack.push(p);
          next.push(0);
        }
        continue;
      }
      stack.pop();
      next.pop();
      order.push(v);
      if (nested && v.pendingGrad !== null) {
        enclosing.push([v, v.pendingGrad]);
        v.pendingGrad = null;
      }
      if (node !== null && node.vjp !== null && node.writesBefore !== writes) checkSavedVersions(v);
    }
  }
  return order;
}

function sweep(
  roots: readonly Tensor[],
  gradients: readonly Tensor[] | undefined,
  retainGraph: boolean,
  createGraph: boolean,
  inputs: readonly Tensor[] | undefined,
  cutAtInputs: boolean,
): (Tensor | null)[] {
  // A pass run from inside another's VJP (checkpoint's recomputation) shares tensors with it, whose
  // gradients that pass is still summing: set them aside and give them back after. Only a pass
  // started while another runs can meet any (every pass clears what it summed).
  const enclosing: [Tensor, Tensor][] = [];
  const order = sweepOrder(roots, cutAtInputs && inputs !== undefined ? new Set(inputs) : undefined, sweeping > 0, enclosing);
  const wanted = inputs === undefined ? null : new Map<Tensor, Tensor | null>(inputs.map((t) => [t, null]));
  const runs = wanted === null ? null : leadingToInputs(order, wanted);
  const anomaly = isAnomalyEnabled();
  // Every saved tensor was checked at this write count; a hook, a .grad summed in place or a
  // custom VJP may write after, and then each VJP is checked again just before it runs.
  const checkedAt = writeCount();
  // Gradients the pass is done with go back to the storage pool at once (see releaseDone); not
  // inside a transform, whose tensors' storage it manages (a batched or traced tensor's is not
  // even readable).
  const releases = !createGraph && opsRunEagerly() && !isTracing();
  let finished = false;
  sweeping++;
  try {
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      root.pendingGrad = accumulate(root.pendingGrad, checkRootGradient(root, gradients?.[r]));
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      let g = t.pendingGrad;
      if (g === null) continue;
      t.pendingGrad = null;
      if (runs !== null && !runs.has(t) && !wanted!.has(t)) continue;
      if (t.hooks !== null) g = runHooks(t, g);
      const node = t.gradFn;
      if (wanted !== null) {
        if (wanted.has(t)) wanted.set(t, accumulate(wanted.get(t) ?? null, g));
      } else if (node === null || t.retainsGrad) {
        if (t.requiresGrad) storeGrad(t, g, createGraph);
      }
      if (node === null || (runs !== null && !runs.has(t))) continue;
      const vjp = node.vjp;
      if (vjp === null) {
        throw new GraphError(
          `backward: the graph through '${node.op}' was already freed by an earlier backward(); pass { retainGraph: true } to the first call to backpropagate twice`,
        );
      }
      if (writeCount() !== checkedAt) checkSavedVersions(t);
      // The usual case calls the VJP directly: no closure per node.
      const ins = node.inputs;
      const grads = anomaly || isTracing() ? duringVjp(t, g, () => (anomaly ? runningBackward(() => vjp(g, t, ins)) : vjp(g, t, ins))) : vjp(g, t, ins);
      if (!retainGraph) node.vjp = null;
      for (let j = 0; j < ins.length; j++) {
        const input = ins[j]!;
        const returned = grads[j];
        if (returned === null || returned === undefined || !input.requiresGrad) continue;
        // The usual case, a gradient of the input's own shape, without a call.
        const gj = returned.dtype === input.dtype && shapesEqual(returned.shape, input.shape) ? returned : toInputShape(node, j, returned, input, t);
        if (anomaly) checkFinite(node.op, 'backward', gj.data, node.site, ` for input ${j}`);
        // One tensor handed to two inputs (add's VJP) is no longer any one's own.
        // Small gradients are never pooled: they skip all of this.
        const large = releases && ownBytes(gj) >= POOL_MIN_BYTES;
        if (large && gj === returned && returnedTwice(grads, j)) takeFresh(gj);
        const pending = input.pendingGrad;
        if (pending === null) input.pendingGrad = gj;
        else {
          const sum = add(pending, gj);
          input.pendingGrad = sum;
          if (large) {
            releaseDone(pending, sum, grads);
            releaseDone(gj, sum, grads);
          }
        }
      }
      if (releases && t.hooks === null && !t.retainsGrad && ownBytes(g) >= POOL_MIN_BYTES) releaseDone(g, null, grads);
    }
    finished = true;
  } finally {
    sweeping--;
    // An error midway must not leave half-summed gradients behind for the next pass. A finished
    // pass has cleared every one already: each tensor in the order is taken as it is reached, and
    // no VJP runs whose inputs lie outside the order.
    if (!finished) for (const t of order) t.pendingGrad = null;
    for (const [t, g] of enclosing) t.pendingGrad = g;
  }
  return inputs === undefined ? [] : inputs.map((t) => wanted!.get(t) ?? null);
}

/** Whether grads[j] also stands for another input. */
function returnedTwice(grads: readonly (Tensor | null)[], j: number): boolean {
  const gj = grads[j];
  for (let k = 0; k < grads.length; k++) if (k !== j && grads[k] === gj) return true;
  return false;
}

/**
 * Gives the storage of `g`, a gradient the pass has finished with (a VJP consumed it, or it was
 * summed into `sum`), to the storage pool: only when it is fresh (made during this pass, held by
 * nothing outside it: see fresh-grads.ts) and shares no storage with what the VJP returned or the
 * sum (a reshape's VJP returns a view of g). The pool refuses pinned or small storage itself.
 */
function releaseDone(g: Tensor, sum: Tensor | null, grads: readonly (Tensor | null)[]): void {
  if (ownBytes(g) < POOL_MIN_BYTES || !takeFresh(g)) return;
  const data = g.data;
  const buffer = data.buffer;
  // A batched tensor's storage cannot be compared: it may hold a view of g.
  if (sum !== null && (isBatched(sum) || sum.data.buffer === buffer)) return;
  for (let k = 0; k < grads.length; k++) {
    const r = grads[k];
    if (r !== null && r !== undefined && (isBatched(r) || r.data.buffer === buffer)) return;
  }
  recycleStorage(data);
}

/** Bytes of t's own storage: none for a tensor vmap batches (its values are a batch held elsewhere, and unreadable). */
function ownBytes(t: Tensor): number {
  return isBatched(t) ? 0 : t.data.byteLength;
}

function runHooks(t: Tensor, g: Tensor): Tensor {
  // A hook may keep the gradient it sees, so no .grad may take that buffer as its own.
  takeFresh(g);
  const hooks = t.hooks!.slice();
  for (let h = 0; h < hooks.length; h++) {
    const replaced: unknown = hooks[h]!(g);
    if (replaced === undefined) continue;
    const target = `a tensor of shape ${formatShape(g.shape)} (${g.dtype}${t.gradFn === null ? '' : `, output of '${t.gradFn.op}'`})`;
    if (!(replaced instanceof Tensor)) {
      throw new GraphError(
        `registerHook: a hook (number ${h} on ${target}) returned ${replaced === null ? 'null' : typeof replaced}; return a Tensor of that shape and dtype to replace the gradient, or nothing to keep it`,
      );
    }
    if (!shapesEqual(replaced.shape, g.shape) || replaced.dtype !== g.dtype) {
      throw new GraphError(
        `registerHook: a hook returned a gradient of shape ${formatShape(replaced.shape)} (${replaced.dtype}) for ${target} (hook number ${h})`,
      );
    }
    // The hook may keep what it returned, too.
    takeFresh(replaced);
    g = replaced;
  }
  return g;
}

/**
 * `.grad` buffers that storeGrad allocated and nothing else holds: the only ones it sums into in
 * place. NOTE: a createGraph pass stores the VJP's own tensor as `.grad`, and that tensor may be
 * shared (add hands one tensor to both inputs; a leaf root gets the caller's gradient), so
 * writing into it would change other tensors' gradients too.
 */
const ownedGrads = new WeakSet<Tensor>();

function owned(t: Tensor): Tensor {
  ownedGrads.add(t);
  return t;
}

/** The tensor each `.grad` that backward stored was stored into: disposing a `.grad` still in place must not recycle it. */
const gradOf = new WeakMap<Tensor, Tensor>();

function setGrad(t: Tensor, g: Tensor): void {
  t.grad = g;
  gradOf.set(g, t);
}

/** Whether `g` is the `.grad` backward stored into a tensor and is still in place there. */
export function isAttachedGrad(g: Tensor): boolean {
  const holder = gradOf.get(g);
  return holder !== undefined && !isDisposed(holder) && holder.grad === g;
}

/**
 * `Tensor.backward({ inputs })`: the gradients with respect to `inputs` alone, each added into that
 * tensor's `.grad` as an ordinary backward adds into a leaf's (inputs the roots do not reach keep
 * their `.grad`, as PyTorch leaves them).
 */
export function backwardInto(roots: readonly Tensor[], gradients: readonly Tensor[] | undefined, inputs: readonly Tensor[], options: BackwardOptions): void {
  const { retainGraph = false, createGraph = false } = options;
  const gs = backward(roots, gradients, { retainGraph, createGraph, inputs });
  setGradEnabled(createGraph, () => gs.forEach((g, i) => {
    if (g !== null) storeGrad(inputs[i]!, g, createGraph);
  }));
}

/**
 * Adds `g` into `t.grad`. Without createGraph the gradient is a plain buffer summed in place,
 * so repeated backward passes allocate nothing; with it, the sum stays on the graph.
 */
function storeGrad(t: Tensor, g: Tensor, createGraph: boolean): void {
  if (isTraced(g)) {
    throw new TraceError(
      `backward: a gradient computed inside a jitted function cannot be stored into .grad (shape ${formatShape(t.shape)}): the store would happen once, at trace time. ` +
        'Use grad or valueAndGrad inside the jitted function and return the gradients',
    );
  }
  const current = t.grad;
  if (createGraph) {
    setGrad(t, current === null ? g : add(current, g));
    return;
  }
  if (current === null) {
    // A leaf takes a fresh gradient as is (see fresh-grads.ts). Anything else is copied,
    // because a VJP may hand one tensor to several inputs (add does), and this buffer is
    // summed into in place later.
    setGrad(t, owned(t.gradFn === null && takeFresh(g) ? g : new Tensor(g.data.slice(), g.shape)));
    return;
  }
  if (!shapesEqual(current.shape, g.shape) || current.dtype !== g.dtype) {
    throw new GraphError(
      `backward: the existing .grad of shape ${formatShape(current.shape)} (${current.dtype}) cannot take a gradient of shape ${formatShape(g.shape)} (${g.dtype})`,
    );
  }
  if (!ownedGrads.has(current)) {
    // Not ours to write into (kept from a createGraph pass, or set by the caller): sum out of
    // place. Grad mode is off here, so the sum is a plain buffer, ours from now on.
    setGrad(t, owned(add(current, g)));
    return;
  }
  // y + 1·x rounds once, as dst[i] += src[i] does: the same bits, on the vector path when long.
  axpyKernel(expectFloat('backward', current).data, 1, expectFloat('backward', g).data);
  bumpVersion(current.data);
  // Summed into a leaf's .grad, a fresh gradient has served its purpose (a retained non-leaf's
  // goes on to its VJP).
  if (t.gradFn === null && opsRunEagerly() && !isTracing()) releaseDone(g, null, []);
}

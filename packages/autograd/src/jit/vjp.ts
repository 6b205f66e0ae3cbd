/**
 * The gradient of an op whose VJP a trace cannot record op by op, as one primitive.
 *
 * Most VJPs are written in ops, and a trace records them like any other code. Some read values
 * outside ops (a kernel over the cotangent and an index buffer, the positions of maxima, a
 * factorisation's pivots) or keep numbers their forward computed: a program could hold those
 * only as the traced call's values. For such a VJP, `opBackward(prim)` is the primitive
 * `<op>Backward`, of the recorded call's arguments and the cotangent, that runs the call again
 * and applies the VJP of the graph node it made at the same place: so everything the VJP needs
 * is recomputed from the program's values at every call (the cost: the op's forward once more
 * in backward). It is differentiable as the VJP is, and a trace records it whole, since it
 * reads values itself; a node made inside a call (an op's internal packed result, a part of a
 * composite recorded whole) is found again by its order among the nodes the call made.
 */
import { primitive, splitArguments, type Primitive } from '../engine/dispatch.js';
import { enableGrad } from '../engine/grad-mode.js';
import { TraceError } from '../errors.js';
import { isFloat, lastSerial, Tensor } from '../tensor.js';
import { treeFlatten } from '../tree.js';
import { pinStorage } from '../storage-pool.js';
import { zeros } from '../creation.js';

/**
 * `(...callArgs, g, node, needs, argCount) => gradients`: `node` is the graph node's place among
 * those the call made (1 for the first), `needs` which tensor arguments required grad when the
 * call was traced; one gradient per input of that node.
 */
type Backward = (...args: unknown[]) => Tensor[];

const backwards = new WeakMap<Primitive, Backward>();

/** The backward primitive of `prim` (made once per op). */
export function opBackward(prim: Primitive): Backward {
  let b = backwards.get(prim);
  if (b === undefined) {
    b = primitive(`${prim.name}Backward`, { kind: 'other', rule: 'none' }, (...all: unknown[]): Tensor[] => {
      const count = all[all.length - 1] as number;
      const needs = all[all.length - 2] as readonly boolean[];
      const place = all[all.length - 3] as number;
      const g = all[all.length - 4] as Tensor;
      const split = splitArguments(all.slice(0, count));
      const start = lastSerial();
      // The call records the same nodes as when traced only if the same arguments require grad:
      // those that did stand in as leaves sharing their storage unless they have a history of
      // their own (kept, so the gradients stay differentiable where the caller builds a graph).
      const outputs = enableGrad(() => {
        const tracked = split.tensors.map((t, i) => {
          if (needs[i] === true) return t.requiresGrad || !isFloat(t) ? t : new Tensor(pinStorage(t.data), t.shape, { requiresGrad: true });
          return t.requiresGrad ? t.detach() : t;
        });
        return treeFlatten<Tensor>(prim.bind(...split.rebuild(tracked))).leaves;
      });
      const out = madeAt(outputs, start, start + place);
      const node = out?.gradFn ?? null;
      if (out === undefined || node === null || node.vjp === null) {
        throw new TraceError(`jit: '${prim.name}' did not record the same gradient when run again for its backward pass; its gradient cannot be traced`);
      }
      const grads = node.vjp(g, out, node.inputs);
      return node.inputs.map((input, j) => grads[j] ?? zeros(input.shape, { dtype: input.dtype }));
    });
    backwards.set(prim, b);
  }
  return b;
}

/** The tensor whose graph node has serial `serial`, among the history of `outputs` after `start`. */
function madeAt(outputs: readonly Tensor[], start: number, serial: number): Tensor | undefined {
  const stack = outputs.slice();
  const seen = new Set<Tensor>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    const node = t.gradFn;
    if (node === null || node.serial <= start || seen.has(t)) continue;
    if (node.serial === serial) return t;
    seen.add(t);
    for (const input of node.inputs) stack.push(input);
  }
  return undefined;
}

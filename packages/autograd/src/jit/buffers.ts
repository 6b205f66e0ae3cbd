/**
 * Buffer planning for a compiled program: which storage each value the program writes itself
 * (a fused loop's output) goes into, so that a new value takes the storage of one that is dead
 * instead of a fresh allocation.
 *
 * The rules, each a test in test/jit-buffers.test.ts:
 * - A storage is taken over only by a value of the same byte size, and only at a step after
 *   the last step that reads any value living in it.
 * - A value made by a step the planner does not control (a primitive's own implementation) may
 *   be a view of its inputs (reshape shares storage), so it is taken to alias all of them: their
 *   storage lives as long as it does.
 * - Program inputs are never written; a storage holding a program output, or aliased by one,
 *   is never taken over (it leaves with the result).
 */

/** One step of a program as the planner sees it. */
export interface PlanStep {
  /** Variables the step reads. */
  readonly uses: readonly number[];
  /** Variables the step writes into storage the planner assigns. */
  readonly planned: readonly number[];
  /** Variables the step defines with storage of its own making (possibly views of `uses`). */
  readonly foreign: readonly number[];
}

/** Where each planned variable is stored. */
export interface BufferPlan {
  /** Byte size of each storage slot. */
  readonly slots: readonly number[];
  /** Slot of each planned variable. */
  readonly slotOf: ReadonlyMap<number, number>;
  /**
   * Whether each slot holds a program output (or storage one aliases): such a slot leaves with
   * the result, so each call needs it afresh; every other slot is dead once the call returns.
   */
  readonly escapes: readonly boolean[];
}

/**
 * Assigns a slot to every planned variable of `steps`, reusing dead slots of the same byte size.
 * `bytes(v)` is a planned variable's byte size; `outputs` are the program's outputs.
 */
export function planBuffers(steps: readonly PlanStep[], bytes: (v: number) => number, outputs: Iterable<number>): BufferPlan {
  // Alias classes: a foreign value joins the class of everything it reads.
  const parent = new Map<number, number>();
  const find = (v: number): number => {
    let r = v;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    // Path compression keeps later finds short.
    let x = v;
    while (x !== r) {
      const next = parent.get(x)!;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  steps.forEach((s) => {
    for (const f of s.foreign) for (const u of s.uses) union(f, u);
  });

  // The last step at which each class is read (or defined, for a value nobody reads).
  const lastUse = new Map<number, number>();
  const touch = (v: number, i: number): void => {
    const r = find(v);
    lastUse.set(r, Math.max(lastUse.get(r) ?? -1, i));
  };
  steps.forEach((s, i) => {
    for (const v of s.uses) touch(v, i);
    for (const v of s.planned) touch(v, i);
    for (const v of s.foreign) touch(v, i);
  });
  for (const o of outputs) lastUse.set(find(o), Infinity);

  // Slots held by each class, and the classes to release after each step.
  const held = new Map<number, number[]>();
  const releaseAt = new Map<number, number[]>();
  for (const [root, last] of lastUse) {
    if (last === Infinity) continue;
    const list = releaseAt.get(last);
    if (list === undefined) releaseAt.set(last, [root]);
    else list.push(root);
  }

  const slots: number[] = [];
  const slotOf = new Map<number, number>();
  const free = new Map<number, number[]>();
  steps.forEach((s, i) => {
    for (const v of s.planned) {
      const size = bytes(v);
      const pool = free.get(size);
      const slot = pool !== undefined && pool.length > 0 ? pool.pop()! : slots.push(size) - 1;
      slotOf.set(v, slot);
      const root = find(v);
      const list = held.get(root);
      if (list === undefined) held.set(root, [slot]);
      else list.push(slot);
    }
    // Released only after the step: its outputs must not land in storage it still reads.
    for (const root of releaseAt.get(i) ?? []) {
      for (const slot of held.get(root) ?? []) {
        const size = slots[slot]!;
        const pool = free.get(size);
        if (pool === undefined) free.set(size, [slot]);
        else pool.push(slot);
      }
      held.delete(root);
    }
  });
  // Every class read at a finite step was released above: what is still held is the outputs'.
  const escapes = slots.map(() => false);
  for (const list of held.values()) for (const slot of list) escapes[slot] = true;
  return { slots, slotOf, escapes };
}

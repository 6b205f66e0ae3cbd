import { bytesPerElement } from '../dtype.js';
import { GraphError } from '../errors.js';
import { formatShape, shapesEqual } from '../shape.js';
import { POOL_MIN_BYTES } from '../storage-pool.js';
import type { Tensor } from '../tensor.js';
import { isFresh } from './fresh-grads.js';

/**
 * Forward mode: tangents carried alongside primals, as dual numbers (PyTorch's forward AD with
 * levels, JAX's JVPTrace). Each `jvp` opens a level; a tensor holds at most one tangent per level,
 * tagged with it, so tangents of different `jvp` calls never mix (no perturbation confusion), and
 * a tangent left on a tensor after its `jvp` returned is ignored.
 *
 * Levels nest as JAX's traces: the tangent at level k is computed with levels k and above hidden,
 * so it carries tangents of the enclosing levels only. `jvp` of `jvp` then differentiates the inner
 * tangent once more, and a VJP run inside a `jvp` (forward-over-reverse) carries the outer tangent
 * through its Tensor ops like any other computation.
 */

/** One `jvp` call's level; `Tensor.duals` entries name it. */
export interface Level {
  /** For errors only. */
  readonly id: number;
  /**
   * The first tangents ops attached at this level in storage of their own the pool takes (see
   * `attachTangents`): what `jvp` may give back to the pool when it returns.
   */
  readonly made: Tensor[];
}

/**
 * At most this many tangents a level keeps for the pool: no more of one size are pooled, and the
 * list keeps its tangents alive until the level closes (a long chain's would all be).
 */
const MADE_MAX = 8;

/** A tensor's tangent at one level; a tensor's entries form a list, newest first. */
export interface Dual {
  readonly level: Level;
  readonly tangent: Tensor;
  readonly next: Dual | null;
}

/**
 * An op's Jacobian-vector product: one tangent per input (null where that input has none at the
 * level being computed; at least one is non-null) and the op's output in, the output's tangent out
 * (null for a zero tangent); the op's inputs come last, so a rule needing nothing else can be one
 * constant shared by every call. Written in Tensor ops, so it carries the tangents of enclosing levels
 * and records a graph like any computation.
 */
export type JvpRule = (tangents: readonly (Tensor | null)[], output: Tensor, inputs: readonly Tensor[]) => Tensor | null;

/**
 * How an op declares its JVP beside its VJP: a rule, or 'elementwise' for an op of one input whose
 * Jacobian is diagonal (each output element depends on the same element of the input only), whose
 * JVP is then its VJP applied to the tangent.
 */
export type JvpDeclaration = JvpRule | 'elementwise';

/** The visible levels, outermost first. Only `makeOutput`'s one check reads it when none is open. */
let levels: Level[] = [];
let nextId = 1;

/** Whether any level is visible: the one check every op makes. */
export function forwardActive(): boolean {
  return levels.length !== 0;
}

/** The one visible level when exactly one is open (a plain `jvp`), else null. */
export function soleLevel(): Level | null {
  return levels.length === 1 ? levels[0]! : null;
}

/** Runs `body` inside a new level, innermost, which it receives; the level closes after, even on error. */
export function withLevel<T>(body: (level: Level) => T): T {
  const level: Level = { id: nextId++, made: [] };
  const saved = levels;
  levels = [...saved, level];
  try {
    return body(level);
  } finally {
    levels = saved;
  }
}

/** `t`'s tangent at `level`, or null. */
export function tangentAt(t: Tensor, level: Level): Tensor | null {
  for (let d = t.duals; d !== null; d = d.next) if (d.level === level) return d.tangent;
  return null;
}

/** Gives `t` the tangent `tangent` at `level` (its own tensor, fresh from an op or a view). */
export function setTangent(t: Tensor, level: Level, tangent: Tensor): void {
  t.duals = { level, tangent, next: t.duals };
}

/** Whether `t` may carry a tangent at a visible level (a cheap, conservative test). */
export function carriesTangents(t: Tensor): boolean {
  return levels.length !== 0 && t.duals !== null;
}

/**
 * Gives `to` (a new tensor for the same value: a tracked leaf) the tangents `from` carries at the
 * visible levels, so that starting a reverse pass inside a `jvp` keeps its tangents.
 */
export function carryTangents(from: Tensor, to: Tensor): void {
  if (levels.length !== 0 && from.duals !== null) to.duals = from.duals;
}

/**
 * Computes and attaches `out`'s tangent at each visible level where an input has one, outermost
 * first (an inner level's rule reads `out`'s outer tangents). Integer and bool outputs get none.
 * @throws GraphError naming the op when a tangent reaches an op without a rule.
 */
export function attachTangents(op: string, inputs: readonly Tensor[], out: Tensor, rule: JvpDeclaration | undefined, vjp: (g: Tensor, out: Tensor, inputs: readonly Tensor[]) => readonly (Tensor | null)[]): void {
  if (out.dtype !== 'float32' && out.dtype !== 'float64') return;
  const visible = levels;
  for (let k = 0; k < visible.length; k++) {
    const level = visible[k]!;
    let tangents: (Tensor | null)[] | null = null;
    for (let i = 0; i < inputs.length; i++) {
      const t = tangentAt(inputs[i]!, level);
      if (t === null) continue;
      tangents ??= inputs.map(() => null);
      tangents[i] = t;
    }
    if (tangents === null) continue;
    if (rule === undefined) {
      throw new GraphError(
        `jvp: '${op}' has no forward-mode (JVP) rule, and a tangent reached it (inputs ${inputs.map((x) => `${x.dtype} ${formatShape(x.shape)}`).join(', ')}); differentiate through it with grad/vjp instead`,
      );
    }
    // This level's tangent is computed below it: it may carry outer levels' tangents, never its own.
    levels = visible.slice(0, k);
    let tangent: Tensor | null;
    try {
      tangent = rule === 'elementwise' ? vjp(tangents[0]!, out, inputs)[0] ?? null : rule(tangents, out, inputs);
    } finally {
      levels = visible;
    }
    if (tangent === null) continue;
    if (!shapesEqual(tangent.shape, out.shape) || tangent.dtype !== out.dtype) {
      throw new GraphError(
        `jvp: the forward-mode rule of '${op}' returned a tangent of ${tangent.dtype} ${formatShape(tangent.shape)} for an output of ${out.dtype} ${formatShape(out.shape)}`,
      );
    }
    setTangent(out, level, tangent);
    // Storage made for this tangent alone (fresh: see fresh-grads.ts) is worth pooling once the level closes.
    // (Its size, not its data: a traced tensor's values are unreadable.)
    if (level.made.length < MADE_MAX && isFresh(tangent) && tangent.size * bytesPerElement(tangent.dtype) >= POOL_MIN_BYTES && !level.made.includes(tangent)) level.made.push(tangent);
  }
}

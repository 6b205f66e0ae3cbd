import { AnomalyError, ArgumentError } from '../errors.js';
import type { TensorData } from '../dtype.js';
import { runScoped } from './grad-mode.js';

/**
 * Anomaly mode: every op records where it was created, and the first NaN in a forward output,
 * or NaN or ±Inf in a gradient computed by backward, throws, naming the op and that place.
 * ±Inf in a forward output is ordinary (a causal mask's -Infinity, log(0) that a later op maps
 * back to a finite value) and is reported only when asked (`forwardInf`), as JAX separates
 * debug_infs from debug_nans. Off by default; when off, the only cost is one boolean test per op.
 */
let enabled = false;
let forwardInf = false;

/** What `detectAnomaly` reports beyond its default. */
export interface AnomalyOptions {
  /**
   * Also report ±Inf in forward outputs (JAX's `debug_infs`). Default false: a mask's -Infinity
   * is not an anomaly. NaN in a forward output and NaN or ±Inf in a gradient are always reported.
   */
  forwardInf?: boolean;
}

/** Whether anomaly mode is on (inside `detectAnomaly`). @example isAnomalyEnabled() // false */
export function isAnomalyEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` in anomaly mode and returns its result. Reported, as an `AnomalyError` naming the op,
 * forward or backward, and the line that created the op:
 * - NaN in any op's forward output (PyTorch's mode checks only the backward; an early NaN is
 *   easier to place where it is made);
 * - NaN or ±Inf in a gradient an op's VJP computes (PyTorch reports NaN only; an infinite
 *   gradient ruins a step as surely, and a mask's -Infinity never makes one);
 * - ±Inf in a forward output only with `{ forwardInf: true }` (JAX's `debug_infs`), so the
 *   -Infinity of a causal attention mask, added before a softmax, is not an anomaly.
 * `fn` must be synchronous: an async function is refused (the mode would end at its first
 * `await`). Nested calls use the innermost options.
 * @throws AnomalyError naming the op, forward or backward, and the line that created it.
 * @throws ArgumentError when `fn` is async or returns a promise, or an option is unknown.
 * @example detectAnomaly(() => loss(x).backward())
 * @example detectAnomaly(() => loss(x).backward(), { forwardInf: true })
 */
export function detectAnomaly<T>(fn: () => T, options: AnomalyOptions = {}): T {
  if (options === null || typeof options !== 'object') throw new ArgumentError(`detectAnomaly: options must be an object such as { forwardInf: true }, got ${options === null ? 'null' : typeof options}`);
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'forwardInf') throw new ArgumentError(`detectAnomaly: unknown option '${key}' (the option is forwardInf)`);
    if (value !== undefined && typeof value !== 'boolean') throw new ArgumentError(`detectAnomaly: forwardInf must be a boolean, got ${typeof value}`);
  }
  return runScoped('detectAnomaly', fn, () => {
    const previous = [enabled, forwardInf] as const;
    enabled = true;
    forwardInf = options.forwardInf ?? false;
    return () => {
      [enabled, forwardInf] = previous;
    };
  });
}

let inBackward = 0;

/**
 * Runs a VJP. Ops it creates are not judged as forward ops: a NaN there is the gradient's, and
 * the engine reports it as the backward anomaly of the op whose VJP this is.
 */
export function runningBackward<T>(fn: () => T): T {
  inBackward++;
  try {
    return fn();
  } finally {
    inBackward--;
  }
}

/** Whether forward outputs are checked right now. */
export function checksForward(): boolean {
  return enabled && inBackward === 0;
}

// The folder holding chainrule's sources (or its bundle), whose frames are not the user's.
// NOTE: a module loaded from a blob: or data: URL has no folder; then no frame is filtered out.
const ownDir = ((): string => {
  try {
    return new URL('..', import.meta.url).href;
  } catch {
    return '\u0000';
  }
})();

/** The call site that created an op, with chainrule's own frames removed. */
export function captureCreationSite(): string {
  const stack = new Error().stack ?? '';
  const frames = stack.split('\n').slice(1).map((f) => f.trim());
  const ownPath = ownDir.startsWith('file:') ? new URL(ownDir).pathname : ownDir;
  const user = frames.filter((f) => !f.includes(ownDir) && !f.includes(ownPath) && !f.includes('node:internal'));
  return (user.length > 0 ? user : frames).join('\n    ');
}

/** The first element that is NaN, or also ±Inf when `infs`; -1 when none. */
function firstAnomaly(data: TensorData, infs: boolean): number {
  if (infs) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) return i;
    }
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v !== v) return i;
    }
  }
  return -1;
}

/**
 * Throws when `data` holds an anomaly: a gradient (`backward`) any NaN or Inf, a forward output
 * a NaN, or also an Inf when the mode was asked for `forwardInf`.
 */
export function checkFinite(op: string, phase: 'forward' | 'backward', data: TensorData, site: string | undefined, what = ''): void {
  const i = firstAnomaly(data, phase === 'backward' || forwardInf);
  if (i < 0) return;
  const kind = phase === 'forward' ? 'its output' : `the gradient it computed${what}`;
  throw new AnomalyError(
    `anomaly: ${phase} of '${op}' produced ${data[i]} in ${kind} (element ${i})` +
      (site ? `\n  the op was created at:\n    ${site}` : ''),
  );
}

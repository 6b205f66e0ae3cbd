import { AnomalyError } from '../errors.js';
import type { TensorData } from '../dtype.js';
import { runScoped } from './grad-mode.js';

/**
 * Anomaly mode: every op records where it was created, and the first forward output or
 * backward gradient holding NaN or Inf throws, naming the op and that place.
 * Off by default; when off, the only cost is one boolean test per op.
 */
let enabled = false;

/** Whether anomaly mode is on (inside `detectAnomaly`). @example isAnomalyEnabled() // false */
export function isAnomalyEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` in anomaly mode (`torch.autograd.detect_anomaly`) and returns its result: the first
 * op whose forward output or computed gradient holds NaN or Inf throws, where PyTorch only
 * checks the backward. `fn` must be synchronous: an async function is refused (the mode would
 * end at its first `await`).
 * @throws AnomalyError naming the op, forward or backward, and the line that created it.
 * @throws ArgumentError when `fn` is async or returns a promise.
 * @example detectAnomaly(() => loss(x).backward())
 */
export function detectAnomaly<T>(fn: () => T): T {
  return runScoped('detectAnomaly', fn, () => {
    const previous = enabled;
    enabled = true;
    return () => {
      enabled = previous;
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

function firstNonFinite(data: TensorData): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Throws when `data` holds a NaN or Inf. `phase` says whether a forward output or a gradient. */
export function checkFinite(op: string, phase: 'forward' | 'backward', data: TensorData, site: string | undefined, what = ''): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const kind = phase === 'forward' ? 'its output' : `the gradient it computed${what}`;
  throw new AnomalyError(
    `anomaly: ${phase} of '${op}' produced ${data[i]} in ${kind} (element ${i})` +
      (site ? `\n  the op was created at:\n    ${site}` : ''),
  );
}

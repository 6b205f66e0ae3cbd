// Timing: warm-up and calibration (in the worker that hosts a contender), batches of runs
// timed with performance.now(), and the statistics the report prints. The orchestrator in
// main.ts alternates contenders round by round; this file only measures one of them.

import type { Calibration, Runner, TimingOptions } from './types.js';

const now = (): number => performance.now();

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** State kept between calibrate() and measure() for one runner. */
export interface Timed {
  runner: Runner;
  async: boolean;
}

/**
 * Runs the workload until it is warm (JIT compiled, caches filled), then picks how many runs
 * make one timed batch of about `targetBatchMs`. The first run (compilation, first-touch
 * allocation) is reported apart and never enters a timing.
 */
export async function calibrate(runner: Runner, opts: TimingOptions): Promise<{ timed: Timed; calibration: Calibration }> {
  let t0 = now();
  let first = runner.run();
  const async = isPromise(first);
  if (async) first = await first;
  const firstRunMs = now() - t0;
  const firstValue = typeof first === 'number' ? first : undefined;

  // A slow first run is often compilation alone (a jit's trace, V8's tiers), so the warm-up runs
  // at least once more whatever the first run cost; it stops at the first slow warm run.
  const times: number[] = [];
  const start = now();
  while (times.length < opts.minWarmupRuns || now() - start < opts.warmupMs) {
    t0 = now();
    const r = runner.run();
    if (async) await r;
    const dt = now() - t0;
    times.push(dt);
    if (dt > opts.slowRunMs) break;
  }
  // The tail of the warm-up is the best guess of a warm run.
  const tail = times.slice(Math.floor(times.length / 2));
  const perRunMs = tail.length > 0 ? median(tail) : firstRunMs;
  const batch = Math.max(1, Math.round(opts.targetBatchMs / Math.max(perRunMs, 1e-6)));
  return {
    timed: { runner, async },
    calibration: { firstRunMs, perRunMs, warmupRuns: times.length + 1, batch, ...(firstValue === undefined ? {} : { firstValue }) },
  };
}

/** Times `batch` back-to-back runs; returns the total in milliseconds. */
export async function measure(timed: Timed, batch: number): Promise<number> {
  const { runner } = timed;
  if (timed.async) {
    const t0 = now();
    for (let i = 0; i < batch; i++) await runner.run();
    return now() - t0;
  }
  const t0 = now();
  for (let i = 0; i < batch; i++) runner.run();
  return now() - t0;
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile (NumPy's default), q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    q1: quantile(xs, 0.25),
    q3: quantile(xs, 0.75),
  };
}

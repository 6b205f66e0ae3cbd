/**
 * The little of Node's `process` the training loop reads, reached through globalThis so the
 * main entry imports no Node built-in and runs in a browser (where it is simply absent).
 */

/** Where progress is written: process.stdout by default, or anything with `write`. */
export interface ProgressOutput {
  /** Writes text as it is (lines end in '\n'; a terminal's live line is redrawn with '\r'). */
  write(text: string): unknown;
  /** A terminal: progress is redrawn in place with \r. */
  isTTY?: boolean;
}

interface ProcessLike {
  env?: Record<string, string | undefined>;
  stdout?: ProgressOutput;
}

function processLike(): ProcessLike | undefined {
  const p = (globalThis as { process?: unknown }).process;
  return typeof p === 'object' && p !== null ? (p as ProcessLike) : undefined;
}

/** True under CI (the CI variable set to anything but '', 'false' or '0'), as most CI services set it. */
export function isCI(): boolean {
  const v = processLike()?.env?.['CI'];
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** process.stdout where there is one; otherwise lines go to console.log. */
export function defaultOutput(): ProgressOutput {
  const stdout = processLike()?.stdout;
  if (stdout !== undefined && typeof stdout.write === 'function') return stdout;
  let pending = '';
  return {
    write(text: string): void {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) console.log(line);
    },
    isTTY: false,
  };
}

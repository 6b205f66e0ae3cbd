/**
 * How the examples tell "run as a script" from "imported by a test": a file run with
 * `node scripts/run.mjs examples/x.ts` is process.argv[1]; under vitest it is not.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Options every example's `main` takes. */
export interface ExampleOptions {
  /** A short run for tests: less data, fewer epochs (default false: the full run). */
  quick?: boolean;
  /** Seed of everything random in the run (default 0). */
  seed?: number;
  /** Where lines of output go: nowhere by default (tests); a direct run passes console.log. */
  log?: (line: string) => void;
}

/** True when the module at `moduleUrl` is the program's entry point. @example if (isMain(import.meta.url)) await main() */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(resolve(entry)).href === moduleUrl;
}

/** A logger that prints nothing: the default of `main` when imported. */
export const silent = (_line: string): void => {};

/** Seconds since `start` (from performance.now()), to one decimal. */
export function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 100) / 10;
}

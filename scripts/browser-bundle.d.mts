// Types of browser-bundle.mjs, for the TypeScript tests and the playground build that import it.
import type { BuildOptions, BuildResult } from 'esbuild';

/** Source text standing in for an entry file; imports resolve from `resolveDir` (relative to the root). */
export interface SourceEntry {
  contents: string;
  sourcefile: string;
  resolveDir?: string;
}

/** An entry path relative to the repository root, or source text. */
export type BrowserInput = string | SourceEntry;

export const ROOT: string;
export const BROWSER_ENTRIES: ReadonlyArray<{ readonly name: string; readonly entry: string }>;
export const NODE_GLOBALS: readonly string[];
export const GUARDED_GLOBALS: Readonly<Record<string, readonly string[]>>;
export const BROWSER_OPTIONS: BuildOptions;

/** Every Node built-in import and Node global the browser bundle of `input` reaches; empty when clean. `extra` esbuild options apply too. */
export function findNodeDependencies(input: BrowserInput, extra?: BuildOptions): Promise<string[]>;
/** Checks, then builds `input` for the browser; `extra` esbuild options pass through. */
export function buildForBrowser<T extends BuildOptions>(input: BrowserInput, extra?: T): Promise<BuildResult<T>>;
/** Minified and minified+gzipped bytes of the browser bundle of `input`. */
export function bundleSize(input: BrowserInput): Promise<{ minified: number; gzipped: number }>;

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Exported by the package so that its root can be found from anywhere it is installed.
const SELF = '@chainrule/datasets/package.json';

/**
 * Places to resolve modules from. This file's own URL works when the package runs from source
 * (vitest, tsc, Node with a TS loader). NOTE: once a bundler inlines this file, import.meta.url
 * is the bundle's, which may sit in a temp directory with no node_modules above it; the entry
 * script and the working directory then still lead to an installed @chainrule/datasets.
 */
function bases(): string[] {
  const out = [import.meta.url];
  const entry = process.argv[1];
  if (entry !== undefined && entry !== '') out.push(entry);
  out.push(join(process.cwd(), 'index.js'));
  return out;
}

/** Directories that may be this package's root, most likely first. */
function packageRoots(): string[] {
  const roots = [join(dirname(fileURLToPath(import.meta.url)), '..', '..')];
  for (const base of bases()) {
    try {
      roots.push(dirname(createRequire(base).resolve(SELF)));
    } catch {
      // Not resolvable from there; try the next place.
    }
  }
  return roots;
}

/** Absolute path of a file shipped in this package (e.g. 'data/cal_housing.data.gz'), or undefined. */
export function packageFile(relative: string): string | undefined {
  for (const root of packageRoots()) {
    const candidate = join(root, relative);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Loads a CommonJS dependency of this package, trying this package's own node_modules when a bundle hides it. */
export function requireDependency(name: string): unknown {
  let first: unknown;
  for (const root of packageRoots()) {
    try {
      return createRequire(join(root, 'package.json'))(name);
    } catch (err: unknown) {
      first ??= err;
    }
  }
  throw first;
}

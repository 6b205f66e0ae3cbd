/**
 * Builds the playground's script into dist/ with the same esbuild settings and Node check as
 * the library bundles, so the page fails to build rather than fail in the browser.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildForBrowser } from '../../scripts/browser-bundle.mjs';

/** The folder served as the site root: index.html, style.css and dist/. */
export const PLAYGROUND_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Bundles src/main.ts to dist/main.js (with a source map) and returns that path. Code split:
 * what is imported dynamically (Graphviz, about 1.5 MB, loaded by the first graph drawing)
 * goes to chunks of its own in dist/chunks/, so the page starts without waiting for it.
 * @example await buildPlayground()
 */
export async function buildPlayground(): Promise<string> {
  const outdir = join(PLAYGROUND_DIR, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  await buildForBrowser('examples/playground/src/main.ts', {
    outdir,
    splitting: true,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
  });
  return join(outdir, 'main.js');
}

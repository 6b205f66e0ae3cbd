/**
 * Builds the playground's script into dist/ with the same esbuild settings and Node check as
 * the library bundles, so the page fails to build rather than fail in the browser.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildForBrowser } from '../../scripts/browser-bundle.mjs';

/** The folder served as the site root: index.html, style.css and dist/. */
export const PLAYGROUND_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Bundles src/main.ts to dist/main.js (with a source map) and returns that path. @example await buildPlayground() */
export async function buildPlayground(): Promise<string> {
  const outfile = join(PLAYGROUND_DIR, 'dist', 'main.js');
  await buildForBrowser('examples/playground/src/main.ts', { outfile, sourcemap: 'linked' });
  return outfile;
}

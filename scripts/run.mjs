#!/usr/bin/env node
// Runs a TypeScript entry point of the workspace with Node: `node scripts/run.mjs file.ts [args]`.
// Sources are transpiled file by file as they load (see ts-hooks.mjs); there is no build step.
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args...]');
  process.exit(2);
}
register('./ts-hooks.mjs', import.meta.url);
const file = resolve(entry);
process.argv = [process.argv[0], file, ...args];
await import(pathToFileURL(file).href);

#!/usr/bin/env node
// `pnpm bundle-size`: builds each browser entry as a page would ship it (esbuild, ESM, minified)
// and prints its minified and gzipped size as a Markdown table, the one in the README. Fails
// when an entry reaches a Node built-in or a Node global (see browser-bundle.mjs).
import { BROWSER_ENTRIES, bundleSize } from './browser-bundle.mjs';

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

const rows = [];
for (const { name, entry } of BROWSER_ENTRIES) {
  const size = await bundleSize(entry);
  rows.push([`\`${name}\``, size]);
}
// A page using all three ships autograd once: nn's bundle already holds it.
const all = await bundleSize({
  contents: BROWSER_ENTRIES.map(({ name }, i) => `export * as p${i} from '${name}';`).join('\n'),
  sourcefile: 'all-three.ts',
  resolveDir: 'examples', // the workspace package that depends on all three
});
rows.push(['all three together', all]);

console.log('| entry (esbuild, ESM, minified) | minified | minified + gzip |');
console.log('|---|---:|---:|');
for (const [label, { minified, gzipped }] of rows) console.log(`| ${label} | ${kB(minified)} | ${kB(gzipped)} |`);

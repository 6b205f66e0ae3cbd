// Node module hooks that let Node run the workspace's TypeScript sources directly: each .ts
// file is transpiled by esbuild as it loads (types stripped, nothing bundled), so module
// resolution, import.meta.url and package dependencies behave exactly as in an installed build.
// Workspace packages resolve to their sources through the "@chainrule/source" export condition
// (added here rather than with --conditions, so that `node scripts/run.mjs` is all it takes).
import { transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const SOURCE_CONDITION = '@chainrule/source';

export async function resolve(specifier, original, nextResolve) {
  const context = { ...original, conditions: [SOURCE_CONDITION, ...original.conditions] };
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    // Sources import siblings as './x.js' (what the compiled output will be called); on disk
    // the file is still x.ts.
    const fromTs = context.parentURL?.endsWith('.ts');
    if (fromTs && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw err;
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  const { code } = await transform(source, {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    sourcemap: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}

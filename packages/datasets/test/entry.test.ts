import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { scratchDir } from './helpers.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dir = scratchDir();

function sources(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sources(path) : [path];
  });
}

describe('entry points', () => {
  it('main entry bundles for the browser without any Node built-in', async () => {
    const result = await build({
      entryPoints: [join(pkg, 'src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imports.filter((p) => p.startsWith('node:') || !p.includes('/'))).toEqual([]);
    expect(Object.keys(result.metafile.inputs).some((p) => p.includes('/node/'))).toBe(false);
  });

  it('library code never calls Math.random', () => {
    const offenders = sources(join(pkg, 'src')).filter((path) => /Math\.random\s*\(/.test(readFileSync(path, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('node entry still finds the mnist package and its data when bundled into a temp directory', async () => {
    // The workspace runner bundles scripts into a temp directory and keeps 'mnist' external.
    const entry = join(dir, 'entry.ts');
    const outfile = join(dir, 'bundle.mjs');
    writeFileSync(
      entry,
      `import { californiaHousing, mnistDigits } from ${JSON.stringify(join(pkg, 'src/node.ts'))};
const d = mnistDigits({ train: 20, test: 10 });
const c = californiaHousing();
console.log(JSON.stringify([d.train.shape, d.test.shape, c.shape]));`,
    );
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, external: ['mnist'], logLevel: 'silent' });
    const out = execFileSync(process.execPath, [outfile], { cwd: pkg, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([[20, 784], [10, 784], [20640, 8]]);
  });
});

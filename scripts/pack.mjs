// Packs the three publishable packages with `pnpm pack` (which runs each package's prepack build
// and replaces `workspace:*` with real versions), for the package checks and the consumer test.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The published packages, dependencies first (nn's build reads autograd's declarations). */
export const PACKAGES = ['autograd', 'datasets', 'nn'];

/** pnpm as the workspace runs it: the one that started this script, else the one on PATH. */
function pnpm(args, options) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath && /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ['pnpm', []];
  return spawnSync(command, [...prefix, ...args], { encoding: 'utf8', ...options });
}

/**
 * Packs every package into `dest`; returns, per package, its name and the tarball's path and file
 * list (paths inside the package). Throws with pnpm's output when a pack fails.
 * @example const packs = packAll(mkdtempSync(join(tmpdir(), 'packs-')));
 */
export function packAll(dest) {
  return PACKAGES.map((pkg) => {
    const dir = join(ROOT, 'packages', pkg);
    const result = pnpm(['pack', '--json', '--pack-destination', dest], { cwd: dir });
    if (result.status !== 0) {
      throw new Error(`pnpm pack failed in packages/${pkg} (exit code ${result.status}):\n${result.stdout}${result.stderr}`);
    }
    // The prepack build prints before the JSON does.
    const json = result.stdout.slice(result.stdout.search(/^\{/m));
    const { name, filename, files } = JSON.parse(json);
    return { name, dir, tarball: filename, files: files.map((f) => f.path) };
  });
}

// `pnpm pack:packages [dir]`: the tarballs to install elsewhere, in ./packs by default.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const dest = resolve(ROOT, process.argv[2] ?? 'packs');
  mkdirSync(dest, { recursive: true });
  for (const { tarball } of packAll(dest)) console.log(tarball);
}

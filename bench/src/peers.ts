// Loads peer libraries with Node's own resolution from bench/, not through the esbuild
// bundle: they run exactly as published (TF.js's WASM backend finds its .wasm files next to
// its own sources, its side-effect registrations stay), and nothing of them is bundled.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** bench/ : main.ts passes it to workers; scripts/run.mjs sets argv[1] to the entry file. */
export function benchDir(): string {
  if (process.env.CHAINRULE_BENCH_DIR) return process.env.CHAINRULE_BENCH_DIR;
  const entry = process.argv[1];
  if (entry && /[\\/]src[\\/][^\\/]+\.ts$/.test(entry)) return resolve(dirname(entry), '..');
  return process.cwd();
}

let req: NodeJS.Require | undefined;
function benchRequire(): NodeJS.Require {
  req ??= createRequire(join(benchDir(), 'package.json'));
  return req;
}

/** require() a peer as installed in bench/node_modules. */
export function requirePeer<T>(name: string): T {
  return benchRequire()(name) as T;
}

/** The installed version of a peer, read from its package.json (found by walking up from its entry). */
export function peerVersion(name: string): string {
  // A package that exports its package.json is read directly: that also covers the workspace's
  // own packages, whose entries resolve (for require) to a dist/ that need not be built.
  try {
    const pkg = benchRequire()(`${name}/package.json`) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    // Not exported: found by walking up from the entry below.
  }
  let dir = dirname(benchRequire().resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

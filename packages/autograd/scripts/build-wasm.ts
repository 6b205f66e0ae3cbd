/**
 * Rebuilds src/kernels/wasm/kernels.generated.ts from scripts/wasm/.
 * Run from packages/autograd: `pnpm build:wasm` (node ../../scripts/run.mjs scripts/build-wasm.ts).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assembleBuilds, GENERATED_PATH, renderGeneratedModule, type Wabt } from './wasm/assemble.js';

// NOTE: scripts/run.mjs bundles this file into a temporary directory, and wabt (an emscripten
// build) breaks when bundled; so it is loaded from this package's node_modules, found from
// this file's real path, which run.mjs leaves in process.argv[1].
const scriptPath = process.argv[1]!;
const packageRoot = join(dirname(scriptPath), '..');
const wabtInit = createRequire(scriptPath)('wabt') as () => Promise<Wabt>;

const text = renderGeneratedModule(assembleBuilds(await wabtInit()));
// Written beside its place, then renamed over it: an interrupted build leaves the old file whole.
const target = join(packageRoot, GENERATED_PATH);
writeFileSync(`${target}.tmp`, text);
renameSync(`${target}.tmp`, target);
console.log(`wrote ${GENERATED_PATH} (${text.length} characters)`);

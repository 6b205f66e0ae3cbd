/**
 * Rebuilds src/kernels/wasm/gemm-wasm.generated.ts from scripts/gemm-wat.ts.
 * Run from packages/autograd: `pnpm build:wasm` (node ../../scripts/run.mjs scripts/build-wasm.ts).
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assembleGemmWasm, GENERATED_PATH, renderGeneratedModule, type Wabt } from './gemm-wasm-build.js';

// NOTE: scripts/run.mjs bundles this file into a temporary directory, and wabt (an emscripten
// build) breaks when bundled; so it is loaded from this package's node_modules, found from
// this file's real path, which run.mjs leaves in process.argv[1].
const scriptPath = process.argv[1]!;
const packageRoot = join(dirname(scriptPath), '..');
const wabtInit = createRequire(scriptPath)('wabt') as () => Promise<Wabt>;

const text = renderGeneratedModule(assembleGemmWasm(await wabtInit()));
writeFileSync(join(packageRoot, GENERATED_PATH), text);
console.log(`wrote ${GENERATED_PATH} (${text.length} characters)`);

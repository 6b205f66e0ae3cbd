import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { assembleGemmWasm, GENERATED_PATH, renderGeneratedModule } from '../scripts/gemm-wasm-build.js';

describe('the committed WebAssembly gemm module', () => {
  it('is what rebuilding scripts/gemm-wat.ts gives (run `pnpm --filter @chainrule/autograd build:wasm` if not)', async () => {
    const rebuilt = renderGeneratedModule(assembleGemmWasm(await wabtInit()));
    const committed = readFileSync(fileURLToPath(new URL(`../${GENERATED_PATH}`, import.meta.url)), 'utf8');
    expect(committed).toBe(rebuilt);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { assembleBuilds, assembleKernels, GENERATED_PATH, renderGeneratedModule } from '../scripts/wasm/assemble.js';
import { unsharedModuleBytes } from '../src/kernels/wasm/module.js';

describe('the committed WebAssembly kernels module', () => {
  it('is what rebuilding scripts/wasm/ gives (run `pnpm --filter @chainrule/autograd build:wasm` if not)', async () => {
    const rebuilt = renderGeneratedModule(assembleBuilds(await wabtInit()));
    const committed = readFileSync(fileURLToPath(new URL(`../${GENERATED_PATH}`, import.meta.url)), 'utf8');
    expect(committed).toBe(rebuilt);
  });

  it('loses its shared memory import exactly as the assembler builds an unshared one', async () => {
    const wabt = await wabtInit();
    for (const relaxed of [false, true]) {
      const shared = new Uint8Array(assembleKernels(wabt, relaxed, true));
      const unshared = assembleKernels(wabt, relaxed, false);
      expect(Buffer.from(unsharedModuleBytes(shared)).equals(Buffer.from(unshared))).toBe(true);
      expect(Buffer.from(shared).equals(Buffer.from(unshared))).toBe(false);
    }
  });
});

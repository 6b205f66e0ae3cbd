// The main entries must bundle for a browser with nothing of Node in them; the checker that
// guards this must itself catch each way Node gets in, or a green run would prove nothing.
import { describe, expect, it } from 'vitest';
import { BROWSER_ENTRIES, buildForBrowser, findNodeDependencies } from '../../scripts/browser-bundle.mjs';

describe('browser bundles of the main entries', () => {
  for (const { name, entry } of BROWSER_ENTRIES) {
    it(`${name} bundles with esbuild for the browser and reaches no Node built-in or global`, async () => {
      expect(await findNodeDependencies(entry)).toEqual([]);
      const result = await buildForBrowser(entry, { write: false });
      expect(result.errors).toEqual([]);
      const code = result.outputFiles[0]!.text;
      expect(code.length).toBeGreaterThan(1000);
      expect(code).not.toMatch(/from\s*"node:/);
    });
  }

  it('a bundle of the ONNX exporter keeps the modules that register exporters by being imported', async () => {
    // A bundler drops an import made for its effect from a package that declares no side effects:
    // the convolution, shape and attention exporters would be missing from the bundled exportOnnx.
    const result = await buildForBrowser(
      { contents: "export { exportOnnx } from '@chainrule/nn/onnx';", sourcefile: 'onnx-entry.ts', resolveDir: 'examples' },
      { write: false },
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.text)).toEqual([]);
  });

  it('autograd embeds its WebAssembly kernels as base64 that atob decodes to a valid module', async () => {
    // The page decodes with atob (no Buffer in a browser); Node 20 has the same atob.
    const { WASM_KERNELS_SIMD128 } = await import('../../packages/autograd/src/kernels/wasm/kernels.generated.js');
    const binary = atob(WASM_KERNELS_SIMD128);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    expect(WebAssembly.validate(bytes)).toBe(true);
  });
});

describe('the Node checker', () => {
  const check = (contents: string) => findNodeDependencies({ contents, sourcefile: 'fixture.ts' });

  it('rejects node: imports and bare built-in names, naming the importer', async () => {
    expect(await check("import { readFileSync } from 'node:fs'; export const f = readFileSync;")).toEqual([
      expect.stringMatching(/'node:fs' is a Node built-in, imported by .*fixture\.ts/),
    ]);
    expect(await check("import { join } from 'path'; export const f = join;")).toEqual([expect.stringContaining("'path' is a Node built-in")]);
    expect(await check("import { gzip } from 'zlib'; export const f = gzip;")).toEqual([expect.stringContaining("'zlib' is a Node built-in")]);
  });

  it('rejects CommonJS require', async () => {
    expect(await check("const m = require('./packages/datasets/src/index.ts'); export { m };")).toEqual([
      expect.stringContaining('browser bundles take ES imports only'),
    ]);
  });

  it('rejects free Node globals and import.meta.dirname, but not properties, strings or locals of those names', async () => {
    const problems = await check(
      [
        'export const exit = () => process.exit(1);',
        "export const bytes = () => Buffer.from('x');",
        'export const dir = () => import.meta.dirname;',
        'export const later = (f: () => void) => setImmediate(f);',
      ].join('\n'),
    );
    expect(problems).toEqual([
      "fixture.ts uses the Node global 'process'",
      "fixture.ts uses the Node global 'Buffer'",
      "fixture.ts uses the Node global 'setImmediate'",
      "fixture.ts uses the Node global 'import.meta.dirname'",
    ]);
    expect(await check("export const o = { process: 1, Buffer: 'Buffer' }; export function f(global: number) { return global + o.process; }")).toEqual([]);
  });

  it('fails the build, listing the problems, when Node slips in', async () => {
    await expect(buildForBrowser({ contents: 'export const pid = process.pid;', sourcefile: 'leak.ts' }, { write: false })).rejects.toThrow(
      /browser build of leak\.ts reaches Node:\n {2}leak\.ts uses the Node global 'process'/,
    );
  });
});

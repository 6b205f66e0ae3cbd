// jit's fused float32 loops as a browser runs them: a bundle of a jitted arithmetic chain, built
// for the browser and run in headless Chromium (Debian's /usr/bin/chromium), where the group's
// WebAssembly function must compile (no Node, no 'unsafe-eval' needed for it) and give eager's
// bits over values with NaN, ±0, ±∞ and subnormals. Run by `pnpm test:browser`, not `pnpm test`.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForBrowser } from '../../scripts/browser-bundle.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'];

/** The page's script: sets globalThis.jitCheck to what it found, or to the error it met. */
const ENTRY = `
import { jit, kernelBackend, tensor } from '@chainrule/autograd';
import { trace } from '../packages/autograd/src/jit/trace.js';
import { compileProgram } from '../packages/autograd/src/jit/compile.js';
import { wasmLoop } from '../packages/autograd/src/jit/wasm-loop.js';

try {
const n = 100003;
const values = new Float32Array(n);
const special = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1.401298464324817e-45, 3.4e38, 2.5, -0.5];
let s = 7;
for (let i = 0; i < n; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  values[i] = i % 5 === 0 ? special[s % special.length] : (s / 2 ** 32) * 4 - 2;
}
const x = tensor(values, { shape: [n] });
const chain = (v) => v.mul(1.5).add(0.25).abs().mul(v).sub(0.1).relu().mul(0.5).neg().add(v).maximum(v.mul(0.3)).square();
const eager = chain(x), compiled = jit(chain)(x);
let mismatches = 0;
for (let i = 0; i < n; i++) if (!Object.is(eager.data[i], compiled.data[i])) mismatches++;
const { program } = trace(chain, [x], (t) => [...t]);
const groups = compileProgram(program).steps.filter((step) => step.kind === 'fused');
globalThis.jitCheck = { backend: kernelBackend(), mismatches, groups: groups.length, wasm: groups.filter((g) => wasmLoop(g.group) !== null).length };
} catch (e) {
  globalThis.jitCheck = { error: String(e) };
}
`;

describe('jit in headless Chromium', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("runs a fused float32 chain as generated WebAssembly, with eager's bits", async () => {
    const result = await buildForBrowser({ contents: ENTRY, sourcefile: 'jit-wasm-entry.ts', resolveDir: 'examples' }, { write: false });
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ content: result.outputFiles[0]!.text, type: 'module' });
    await page.waitForFunction(() => (globalThis as { jitCheck?: unknown }).jitCheck !== undefined, undefined, { timeout: 60_000 });
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { jitCheck?: unknown }).jitCheck)).toEqual({ backend: 'auto', mismatches: 0, groups: 1, wasm: 1 });
  }, 120_000);
});

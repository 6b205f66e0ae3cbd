// The playground as a person meets it: built, served on loopback, opened in headless Chromium
// (Debian's /usr/bin/chromium, which .ci/run installs), started with a click, and watched
// until it has learned; its computation graph drawn by Graphviz compiled to WebAssembly. The
// screenshot lands in test-output/ for CI to keep. Run by `pnpm test:browser`, not `pnpm test`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/browser-bundle.mjs';
import { buildPlayground } from '../playground/build.js';
import { startServer, type PlaygroundServer } from '../playground/serve.js';

const CHROMIUM = '/usr/bin/chromium';
/** Flags for this machine: no sandbox as root, and no background traffic to hosts it cannot reach. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** The default 2-arm spiral's cross-entropy starts near ln 2 ≈ 0.69 and passes this in a few hundred steps. */
const LOSS_BELOW = 0.1;
const SCREENSHOT = join(ROOT, 'test-output', 'playground.png');

/** The numbers #stats mirrors for scripts. */
async function stats(page: Page): Promise<{ step: number; loss: number; accuracy: number; running: boolean }> {
  return page.$eval('#stats', (el) => {
    const d = (el as HTMLElement).dataset;
    return { step: Number(d['step']), loss: d['loss'] === '' ? NaN : Number(d['loss']), accuracy: Number(d['accuracy']), running: d['running'] === 'true' };
  });
}

/** Distinct colours in a canvas, quantised to 4 bits a channel, and the share of painted pixels. */
async function canvasColours(page: Page, selector: string): Promise<{ distinct: number; painted: number }> {
  return page.$eval(selector, (el) => {
    const canvas = el as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set<number>();
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) painted++;
      seen.add(((data[i]! >> 4) << 12) | ((data[i + 1]! >> 4) << 8) | ((data[i + 2]! >> 4) << 4) | (data[i + 3]! >> 4));
    }
    return { distinct: seen.size, painted: painted / (data.length / 4) };
  });
}

/** Each drawn node's text lines (op or `leaf` first) and the number of edges, read from the page's SVG. */
async function drawnGraph(page: Page): Promise<{ nodes: string[][]; edges: number }> {
  return page.$eval('#graph', (el) => ({
    nodes: Array.from(el.querySelectorAll('svg g.node'), (g) => Array.from(g.querySelectorAll('text'), (t) => t.textContent ?? '')),
    edges: el.querySelectorAll('svg g.edge').length,
  }));
}

/** Waits until #graph holds a finished drawing (data-state 'drawn' or 'failed') and returns which. */
async function graphSettled(page: Page): Promise<string> {
  await page.waitForFunction(() => ['drawn', 'failed'].includes((document.querySelector('#graph') as HTMLElement).dataset['state'] ?? ''), undefined, {
    timeout: 30_000,
  });
  return page.$eval('#graph', (el) => (el as HTMLElement).dataset['state'] ?? '');
}

describe('playground in headless Chromium', () => {
  let server: PlaygroundServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    await buildPlayground();
    server = await startServer({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`trains an MLP after Start until the loss falls below ${LOSS_BELOW}, draws the boundary and the curve, and pauses at once`, async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 680 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server!.url);
    await page.waitForFunction(() => window.playground !== undefined);

    const before = await stats(page);
    expect(before).toMatchObject({ step: 0, running: false });
    // The WebAssembly gemm decoded from its embedded base64 with atob and compiled in the browser.
    expect(await page.evaluate(() => window.playground.wasmGemm)).not.toBeNull();

    await page.click('#start');
    await page.waitForFunction(
      (below) => Number((document.querySelector('#stats') as HTMLElement).dataset['loss'] || NaN) < below,
      LOSS_BELOW,
      { timeout: 30_000, polling: 100 },
    );
    const trained = await stats(page);
    expect(trained.running).toBe(true);
    expect(trained.step).toBeGreaterThan(0);
    expect(trained.loss).toBeLessThan(LOSS_BELOW);
    expect(await page.textContent('#start')).toBe('Pause');

    // Training runs in slices between frames, so a click is handled straight away.
    await page.click('#start');
    const paused = await stats(page);
    expect(paused.running).toBe(false);
    await page.waitForTimeout(300);
    expect((await stats(page)).step).toBe(paused.step);
    expect(paused.accuracy).toBeGreaterThan(0.9);

    // Decision regions in two class colours, white seams and the points: far from one colour.
    const boundary = await canvasColours(page, '#boundary');
    expect(boundary.painted).toBe(1);
    expect(boundary.distinct).toBeGreaterThan(20);
    const curve = await canvasColours(page, '#loss');
    expect(curve.painted).toBeGreaterThan(0.005);
    expect(curve.distinct).toBeGreaterThan(2);

    // Paused, the graph is redrawn with the gradients of the latest step on the parameters.
    expect(await graphSettled(page)).toBe('drawn');
    const norms = (await drawnGraph(page)).nodes.filter((lines) => lines.includes('requiresGrad')).map((lines) => lines.at(-1)!);
    expect(norms).toHaveLength(6);
    for (const norm of norms) expect(norm).toMatch(/^\|grad\| \d/);

    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  it('draws the loss graph of the model the controls describe, and redraws it for a new one', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server!.url);
    expect(await graphSettled(page)).toBe('drawn');
    // The default 2-16-16-2 tanh network: the points, a weight and a bias per layer; a linear op
    // per layer, tanh after the two hidden ones, cross-entropy on top.
    let graph = await drawnGraph(page);
    expect(graph.nodes.map((lines) => lines[0]).sort()).toEqual(['crossEntropy', ...new Array<string>(7).fill('leaf'), 'linear', 'linear', 'linear', 'tanh', 'tanh']);
    expect(graph.edges).toBe(12);
    const leafShapes = graph.nodes.filter((lines) => lines[0] === 'leaf').map((lines) => lines[1]).sort();
    expect(leafShapes).toEqual(['[16,16] float32', '[16,2] float32', '[16] float32', '[16] float32', '[2,16] float32', '[2] float32', '[300,2] float32']);
    // The picture is laid out, not just present: it has a size on the page.
    const box = await page.$eval('#graph svg', (svg) => svg.getBoundingClientRect().toJSON() as { width: number; height: number });
    expect(box.width).toBeGreaterThan(100);
    expect(box.height).toBeGreaterThan(20);

    // One hidden layer of 8: a 2-8-2 network.
    await page.fill('input[name="hidden"]', '8');
    await page.dispatchEvent('input[name="hidden"]', 'change');
    await page.waitForFunction(() => document.querySelectorAll('#graph svg g.node').length !== 13, undefined, { timeout: 30_000 });
    expect(await graphSettled(page)).toBe('drawn');
    graph = await drawnGraph(page);
    expect(graph.nodes.map((lines) => lines[0]).sort()).toEqual(['crossEntropy', 'leaf', 'leaf', 'leaf', 'leaf', 'leaf', 'linear', 'linear', 'tanh']);
    expect(graph.edges).toBe(8);
    expect(graph.nodes.filter((lines) => lines[0] === 'leaf').map((lines) => lines[1]).sort()).toEqual([
      '[2,8] float32', '[2] float32', '[300,2] float32', '[8,2] float32', '[8] float32',
    ]);
    expect(errors).toEqual([]);
  }, 60_000);
});

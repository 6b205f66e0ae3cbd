// The playground's parts that need no browser: the trainer under Node, the build, and the
// static server's refusal to serve anything outside its folder. The page itself is driven in
// Chromium by playground.e2e.test.ts (pnpm test:browser).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toDot } from '@chainrule/autograd';
import { DEFAULT_CONFIG, Trainer } from '../playground/src/trainer.js';
import { buildPlayground } from '../playground/build.js';
import { startServer } from '../playground/serve.js';

describe('playground trainer', () => {
  it('learns each dataset: the loss falls and training accuracy passes 90%', () => {
    for (const dataset of ['spirals', 'spirals3', 'moons'] as const) {
      const trainer = new Trainer({ ...DEFAULT_CONFIG, dataset, lr: 0.02 });
      trainer.train(300);
      expect(trainer.step).toBe(300);
      expect(trainer.history).toHaveLength(300);
      expect(trainer.loss).toBeLessThan(trainer.history[0]! / 3);
      expect(trainer.accuracy()).toBeGreaterThan(0.9);
    }
  });

  it('gives class probabilities on the grid, summing to 1 per cell', () => {
    const trainer = new Trainer({ ...DEFAULT_CONFIG, dataset: 'spirals3' });
    const probabilities = trainer.grid(8);
    expect(probabilities).toHaveLength(8 * 8 * 3);
    for (let cell = 0; cell < 64; cell++) {
      const p = probabilities.subarray(cell * 3, cell * 3 + 3);
      expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic for a seed, and a linear model (no hidden layer) trains too', () => {
    const a = new Trainer(DEFAULT_CONFIG), b = new Trainer(DEFAULT_CONFIG);
    expect(a.train(20)).toBe(b.train(20));
    const linear = new Trainer({ ...DEFAULT_CONFIG, dataset: 'moons', hidden: [], optimizer: 'sgd', lr: 0.1 });
    linear.train(200);
    expect(linear.accuracy()).toBeGreaterThan(0.8);
  });

  it('changes the learning rate in place: lr 0 freezes the weights', () => {
    const trainer = new Trainer(DEFAULT_CONFIG);
    trainer.train(5);
    trainer.setLearningRate(0);
    const frozen = trainer.train(1);
    expect(trainer.train(1)).toBe(frozen);
  });
});

describe('playground trainer: the graph it draws', () => {
  it('is the loss it trains on: one linear op per layer, the activation between, cross-entropy on top', () => {
    const trainer = new Trainer({ ...DEFAULT_CONFIG, hidden: [5, 3], activation: 'tanh' });
    const dot = toDot(trainer.lossGraph());
    const ops = [...dot.matchAll(/label="(\w+)\\n/g)].map((m) => m[1]).sort();
    // Leaves: the 300 points, and a weight and a bias per layer (2-5, 5-3, 3-2).
    expect(ops).toEqual(['crossEntropy', ...new Array<string>(7).fill('leaf'), 'linear', 'linear', 'linear', 'tanh', 'tanh']);
    expect(dot).toContain('leaf\\n[300,2] float32');
    for (const shape of ['[5,2]', '[5]', '[3,5]', '[3]', '[2,3]', '[2]']) expect(dot).toContain(`leaf\\n${shape} float32\\nrequiresGrad`);
    expect(trainer.lossGraph().item()).toBeCloseTo(trainer.train(1), 6);
  });
});

describe('playground build', () => {
  it('passes the Node check and leaves Graphviz to a chunk the page loads on its first drawing', async () => {
    const main = await buildPlayground();
    const code = readFileSync(main, 'utf8');
    const chunks = readdirSync(join(dirname(main), 'chunks')).filter((f) => f.endsWith('.js'));
    // A name Graphviz's Emscripten module keeps through minification.
    const graphviz = chunks.filter((f) => readFileSync(join(dirname(main), 'chunks', f), 'utf8').includes('agerrMessages'));
    expect(graphviz).toHaveLength(1);
    expect(code).not.toContain('agerrMessages');
    expect(code).toContain(`import("./chunks/${graphviz[0]}")`);
  });
});

describe('playground server', () => {
  it('serves the page and its stylesheet, and nothing outside its folder', async () => {
    const { url, close } = await startServer({ port: 0 });
    try {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<canvas id="boundary"');
      expect((await fetch(new URL('style.css', url))).status).toBe(200);
      for (const path of ['%2e%2e/package.json', '..%2f..%2fpackage.json', 'src/main.ts', 'nothing.html']) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(404);
      }
    } finally {
      await close();
    }
  });
});

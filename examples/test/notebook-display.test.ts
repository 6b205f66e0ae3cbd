import { describe, expect, test } from 'vitest';
import { MLP } from '@chainrule/nn';
import { Value, gradcheck, randn, taylorTest, tensor } from '@chainrule/autograd';
import { graphSvg, toHtml } from '../lib/notebook-display.js';

/** The op or `leaf` heading each node of a Graphviz SVG. */
const nodeHeads = (svg: string): string[] =>
  [...svg.matchAll(/<g id="node\d+" class="node">[\s\S]*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

describe('notebook display', () => {
  test('toHtml picks the renderer by what it is given', () => {
    const x = randn([2, 2], { dtype: 'float64', seed: 0, requiresGrad: true });
    expect(toHtml(x)).toContain('class="chainrule-tensor"');
    expect(toHtml(gradcheck((t) => t.tanh(), [x]))).toContain('class="chainrule-gradcheck"');
    expect(toHtml(taylorTest((t) => t.tanh().sum(), x))).toContain('class="chainrule-taylor"');
  });

  test('a graph renders to inline SVG, without the XML prolog, with one node per op and leaf', async () => {
    const a = new Value(2, 'a');
    const svg = await graphSvg(a.mul(3).tanh());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // a, the constant 3, mul and tanh
    expect(nodeHeads(svg).sort()).toEqual(['leaf', 'leaf', 'mul', 'tanh']);
  });

  test('a small tensor graph keeps its own size in points', async () => {
    const w = tensor([[1, 2]], { requiresGrad: true });
    const svg = await graphSvg(w.square().sum());
    expect(nodeHeads(svg).sort()).toEqual(['leaf', 'square', 'sum']);
    const width = Number(/^<svg width="([\d.]+)pt" height="[\d.]+pt"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThan(0);
    expect(width).toBeLessThanOrEqual(560);
  });

  test('a graph wider than the output area is scaled to its width, keeping its aspect through the viewBox', async () => {
    // An MLP's graph runs left to right through a dozen ops: far wider than 560 pt.
    const model = new MLP([3, 4, 4, 1], { activation: 'tanh', seed: 0 });
    const svg = await graphSvg(model.forward(randn([2, 3], { seed: 1 })).sum());
    expect(svg).toMatch(/^<svg width="100%"\s+viewBox="[\d. ]+"/);
    expect(svg).not.toMatch(/^<svg[^>]*height=/);
    const [, , w] = /viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg)!.slice(1).map(Number);
    expect(w).toBeGreaterThan(560);
  });
});

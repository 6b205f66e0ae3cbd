import { describe, expect, test } from 'vitest';
import { Value, gradcheck, randn, taylorTest, tensor } from '@chainrule/autograd';
import { dotToSvg, graphSvg, toHtml } from '../lib/notebook-display.js';

describe('notebook display', () => {
  test('toHtml picks the renderer by what it is given', () => {
    const x = randn([2, 2], { dtype: 'float64', seed: 0, requiresGrad: true });
    expect(toHtml(x)).toContain('class="chainrule-tensor"');
    expect(toHtml(gradcheck((t) => t.tanh(), [x]))).toContain('class="chainrule-gradcheck"');
    expect(toHtml(taylorTest((t) => t.tanh().sum(), x))).toContain('class="chainrule-taylor"');
  });

  test('a graph renders to inline SVG, without the XML prolog, with one node per op and leaf', () => {
    const a = new Value(2, 'a');
    const svg = graphSvg(a.mul(3).tanh());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // a, the constant 3, mul and tanh
    expect(svg.match(/class="node"/g)).toHaveLength(4);
  });

  test('tensor graphs too, and DOT text of any origin', () => {
    const w = tensor([[1, 2]], { requiresGrad: true });
    expect(graphSvg(w.square().sum())).toContain('square');
    expect(dotToSvg('digraph { x -> y }')).toContain('<title>x&#45;&gt;y</title>');
  });
});

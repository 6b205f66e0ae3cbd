import { describe, expect, it } from 'vitest';
import { lineChart, niceTicks } from '../lib/svg-chart.js';

describe('examples/lib/svg-chart', () => {
  it('round ticks cover the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.83, 0.97)).toEqual([0.85, 0.9, 0.95]);
  });

  it('escapes text and draws one path per series', () => {
    const svg = lineChart([
      { title: 'a < b & c', xLabel: 'x', yLabel: 'y', series: [{ name: 's"1', values: [1, 2, 3], color: 'red' }, { name: 's2', values: [3, 2, 1], color: 'blue' }] },
    ]);
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).toContain('s&quot;1');
    expect(svg.match(/<path /g)).toHaveLength(2);
  });

  it('handles a single point and a flat series without NaN', () => {
    const svg = lineChart([{ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'one', values: [0.5], color: 'red' }, { name: 'flat', values: [], color: 'blue' }] }]);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

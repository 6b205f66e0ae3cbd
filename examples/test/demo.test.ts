import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type DemoResult } from '../demo.js';

describe('examples/demo', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'chainrule-demo-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
  let r: DemoResult;
  beforeAll(() => {
    r = main({ quick: true, seed: 0, outDir });
  });

  it('training loss falls by at least 2x and test accuracy is above 85% in the short run', () => {
    expect(r.history.loss.at(-1)!).toBeLessThan(r.history.loss[0]! / 2);
    expect(r.testAccuracy).toBeGreaterThan(0.85);
  });

  it('the confusion matrix is 10x10 and counts every test digit, its diagonal matching the accuracy', () => {
    expect(r.confusion).toHaveLength(10);
    for (const row of r.confusion) expect(row).toHaveLength(10);
    const total = r.confusion.flat().reduce((a, b) => a + b, 0);
    const diagonal = r.confusion.reduce((s, row, i) => s + row[i]!, 0);
    expect(total).toBe(500);
    expect(diagonal / total).toBeCloseTo(r.testAccuracy, 10);
  });

  it('writes a well-formed SVG with one path per curve', () => {
    const svg = readFileSync(r.svgPath, 'utf8');
    expect(r.svgPath.startsWith(outDir)).toBe(true);
    expect(svg.trimStart().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    const paths = svg.match(/<path d="M[^"]*"/g) ?? [];
    expect(paths).toHaveLength(4); // train and test loss, train and test accuracy
    for (const p of paths) expect(p.split('L')).toHaveLength(3); // 3 epochs: a move and two lines
    expect(svg).not.toMatch(/NaN|undefined/);
    // Tags balance: every opened element is closed or self-closing.
    const starts = (svg.match(/<[a-z]/g) ?? []).length;
    const selfClosing = (svg.match(/\/>/g) ?? []).length;
    const closing = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(starts - selfClosing).toBe(closing);
  });
});

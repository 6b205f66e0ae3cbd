import { describe, expect, test } from 'vitest';
import { inspect } from 'node:util';
import {
  arange, customOp, formatTensor, gradcheck, gradcheckReportToHtml, randn, taylorTest, taylorTestReportToHtml, tensor,
  tensorToHtml, type GradcheckReport, type TaylorTestReport, type Tensor,
} from '@chainrule/autograd';

/** Opening and closing tags pair up (the renderers use no void elements), so the HTML is a tree. */
function expectBalanced(html: string): void {
  const stack: string[] = [];
  for (const [, close, name] of html.matchAll(/<(\/?)([a-z]+)[^>]*>/g)) {
    if (close === '') stack.push(name!);
    else expect(stack.pop()).toBe(name);
  }
  expect(stack).toEqual([]);
}

const count = (html: string, tag: string): number => html.split(`<${tag}`).length - 1;
/** The text of every <td>, in order. */
const cells = (html: string): string[] => [...html.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]!);

describe('Tensor.toString', () => {
  test('0-d and 1-d tensors fit on the header line', () => {
    expect(String(tensor(3.5))).toBe('Tensor(float32 []) 3.5000');
    expect(String(tensor([1, -2.5, 3], { dtype: 'float64' }))).toBe('Tensor(float64 [3]) [ 1.0000, -2.5000,  3.0000]');
  });

  test('a matrix has one row per line, columns right-aligned', () => {
    expect(String(tensor([[1, 2], [3, 400]]))).toBe('Tensor(float32 [2,2])\n[[  1,   2],\n [  3, 400]]');
    const lines = String(randn([4, 5], { seed: 1 })).split('\n').slice(1);
    expect(lines).toHaveLength(4);
    // Every row after its opening brackets ('[[' or ' [') has the same length, commas at the same columns.
    expect(new Set(lines.map((l) => l.slice(2).length)).size).toBe(1);
    expect(new Set(lines.map((l) => [...l.matchAll(/,/g)].map((m) => m.index).slice(0, 4).join())).size).toBe(1);
  });

  test('matrices of a 3-d tensor are separated by a blank line', () => {
    expect(String(arange(8).reshape([2, 2, 2]))).toBe('Tensor(float32 [2,2,2])\n[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]');
  });

  test('the header says whether the tensor requires grad and which op made it', () => {
    const x = tensor([[1, 2]], { requiresGrad: true });
    expect(String(x).split('\n')[0]).toBe('Tensor(float32 [1,2], requiresGrad)');
    expect(String(x.matmul(x.transpose(0, 1))).split('\n')[0]).toBe('Tensor(float32 [1,1], gradFn=matmul)');
  });

  test('one number style for all elements: scientific when magnitudes span over 1e3, NaN and Inf by name', () => {
    expect(String(tensor([1e-6, 1]))).toBe('Tensor(float32 [2]) [1.0000e-6, 1.0000e+0]');
    expect(String(tensor([NaN, Infinity, -Infinity, 0.5]))).toBe('Tensor(float32 [4]) [   NaN,    Inf,   -Inf, 0.5000]');
  });

  test('more than 1000 elements are summarised with the first and last three of each dimension', () => {
    const lines = String(arange(2000).reshape([40, 50])).split('\n');
    expect(lines).toHaveLength(8); // header, 3 rows, '...', 3 rows
    expect(lines[1]).toBe('[[   0,    1,    2,  ...,   47,   48,   49],');
    expect(lines[4]).toBe(' ...,');
    expect(lines[7]).toBe(' [1950, 1951, 1952,  ..., 1997, 1998, 1999]]');
  });

  test('empty tensors', () => {
    expect(String(tensor(new Float32Array(0), { shape: [0, 3] }))).toBe('Tensor(float32 [0,3])\n[]');
    expect(String(tensor(new Float32Array(0), { shape: [2, 0] }))).toBe('Tensor(float32 [2,0])\n[[],\n []]');
  });

  test("Node's inspect (console.log, REPLs, notebook kernels) prints the same text", () => {
    const x = randn([2, 3], { seed: 0 });
    expect(inspect(x)).toBe(String(x));
  });

  test('formatTensor takes the precision and the summary size', () => {
    expect(formatTensor(tensor([1.23456, 2]), { precision: 2 })).toBe('Tensor(float32 [2]) [1.23, 2.00]');
    expect(formatTensor(arange(10), { threshold: 5, edgeItems: 1 })).toBe('Tensor(float32 [10]) [0, ..., 9]');
  });
});

describe('tensorToHtml', () => {
  test('a matrix is one table: a header row of column indices, one row per row with its index', () => {
    const html = tensorToHtml(tensor([[1, 2, 3], [4, 5, 6]]));
    expectBalanced(html);
    expect(count(html, 'table')).toBe(1);
    expect(count(html, 'tr')).toBe(3);
    expect(cells(html)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(html).toContain('Tensor(float32 [2,3])');
  });

  test('0-d and 1-d tensors', () => {
    const scalar = tensorToHtml(tensor(2.5, { dtype: 'float64' }));
    expectBalanced(scalar);
    expect(scalar).toContain('2.5000');
    const vector = tensorToHtml(tensor([1, 2, 3]));
    expectBalanced(vector);
    expect(count(vector, 'tr')).toBe(2);
    expect(cells(vector)).toEqual(['1', '2', '3']);
  });

  test('a 3-d tensor gets one captioned table per leading index', () => {
    const html = tensorToHtml(arange(12).reshape([3, 2, 2]));
    expectBalanced(html);
    expect(count(html, 'table')).toBe(3);
    expect(html).toContain('[2, :, :]');
  });

  test('a large tensor is summarised: at most 7 × 7 cells, with gap marks', () => {
    const html = tensorToHtml(randn([50, 60], { seed: 0 }));
    expectBalanced(html);
    expect(cells(html)).toHaveLength(49);
    expect(html).toContain('⋮');
    expect(html).toContain('…');
    expect(html).toContain('⋱');
  });

  test('an op name from user code is escaped', () => {
    const evil = customOp({ name: '<img src=x onerror="alert(1)">&', forward: (x: Tensor) => x.mul(2), backward: (g) => g.mul(2) });
    const html = tensorToHtml(evil(tensor([1], { requiresGrad: true })));
    expectBalanced(html);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;');
  });
});

describe('gradcheckReportToHtml', () => {
  const square = customOp({ name: 'square', forward: (x: Tensor) => x.square(), backward: (g, { inputs: [x] }) => g.mul(x!).mul(2) });
  const wrong = customOp({ name: 'wrongSquare', forward: (x: Tensor) => x.square(), backward: (g, { inputs: [x] }) => g.mul(x!) });
  const x = randn([2, 3], { dtype: 'float64', seed: 3, requiresGrad: true });

  test('a pass shows the verdict and the errors', () => {
    const html = gradcheckReportToHtml(gradcheck((t) => square(t), [x]));
    expectBalanced(html);
    expect(html).toContain('✓ gradcheck (full): passed');
    expect(html).toContain('max abs error');
  });

  test('a failure names the worst entry with both values', () => {
    const report = gradcheck((t) => wrong(t), [x]);
    const html = gradcheckReportToHtml(report);
    expectBalanced(html);
    expect(html).toContain('✗ gradcheck (full): FAILED');
    const w = report.worst!;
    expect(html).toContain(`input 0 at ${JSON.stringify(w.index)}`);
    expect(html).toContain(String(w.analytic));
    expect(html).toContain(String(w.numeric));
  });

  test('a report that compared nothing says so', () => {
    const empty: GradcheckReport = { ok: true, mode: 'fast', maxAbsError: 0, maxRelError: 0, worst: null };
    expect(gradcheckReportToHtml(empty)).toContain('nothing was compared');
  });
});

describe('taylorTestReportToHtml', () => {
  test('one row per step, the observed orders, and the verdict', () => {
    const report = taylorTest((t) => t.sin().sum(), randn([4], { dtype: 'float64', seed: 0 }));
    const html = taylorTestReportToHtml(report);
    expectBalanced(html);
    expect(html).toContain('✓ taylorTest: correct');
    expect(count(html, 'tr')).toBe(report.steps.length + 1);
    expect(cells(html)[3]).toBe(''); // the first step has no order
    expect(cells(html)[7]).toBe(report.orders[0]!.toFixed(2));
  });

  test('rounding-noise orders are named, and the message is escaped', () => {
    const report: TaylorTestReport = {
      ok: false, verdict: 'inconclusive', steps: [0.1, 0.05], remainders: [1e-16, 1e-16], orders: [NaN], message: 'f <b>noisy</b>',
    };
    const html = taylorTestReportToHtml(report);
    expectBalanced(html);
    expect(html).toContain('? taylorTest: inconclusive');
    expect(html).toContain('f &lt;b&gt;noisy&lt;/b&gt;');
    expect(cells(html)[7]).toBe('noise');
  });
});

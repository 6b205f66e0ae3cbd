// Rich and plain renderings of tensors and check reports, as strings: HTML tables for notebooks
// and text for terminals. Pure functions with no I/O, so this stays browser-safe; a notebook
// front end (examples/lib/notebook-display.ts for tslab) decides how to show them.
import type { Tensor } from './tensor.js';
import { worstLocation, type GradcheckReport } from './gradcheck.js';
import type { TaylorTestReport } from './taylor.js';
import { GAP, elementLayout, headerText, tensorText, type TensorFormatOptions, type TensorHeader } from './format.js';
import { checkOptions } from './options.js';

// The option names each function takes: an unknown one is an error (checkOptions).
const FORMAT_OPTIONS = ['precision', 'threshold', 'edgeItems'];

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe inside HTML elements and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function headerOf(t: Tensor): TensorHeader {
  return { dtype: t.dtype, shape: t.shape, op: t.gradFn?.op ?? null, requiresGrad: t.requiresGrad };
}

/**
 * The text form of `Tensor.toString`, with options: digits, and when and how much to summarise.
 * @example formatTensor(randn([100, 100]), { precision: 2, edgeItems: 2 })
 */
export function formatTensor(t: Tensor, options: TensorFormatOptions = {}): string {
  checkOptions('formatTensor', options, FORMAT_OPTIONS);
  return tensorText(headerOf(t), t.data, options);
}

const TABLE = 'border-collapse:collapse;font-family:monospace;font-size:12px';
const CELL = 'padding:1px 6px;text-align:right';
const INDEX = `${CELL};color:#888;font-weight:normal`;
const CAPTION = 'font-family:monospace;font-size:12px;margin:4px 0 2px';

/** One `<table>` of a 1-d run (a single row) or a 2-d block, with its indices as headers. */
function matrixTable(rows: readonly number[], cols: readonly number[], cell: (r: number, c: number) => string, showRowIndex: boolean): string {
  const colHead = cols.map((c) => `<th style="${INDEX}">${c === GAP ? '…' : c}</th>`).join('');
  const body = rows.map((r) => {
    const head = showRowIndex ? `<th style="${INDEX}">${r === GAP ? '⋮' : r}</th>` : '';
    const cells = cols.map((c) => `<td style="${CELL}">${r === GAP ? (c === GAP ? '⋱' : '⋮') : c === GAP ? '…' : escapeHtml(cell(r, c))}</td>`);
    return `<tr>${head}${cells.join('')}</tr>`;
  });
  const corner = showRowIndex ? `<th style="${INDEX}"></th>` : '';
  return `<table style="${TABLE}"><thead><tr>${corner}${colHead}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

/** Every combination of the kept leading indices, GAP included, in row-major order. */
function leadingIndices(kept: readonly (readonly number[])[]): number[][] {
  let combos: number[][] = [[]];
  for (const dim of kept) combos = combos.flatMap((prefix) => dim.map((i) => [...prefix, i]));
  return combos;
}

/**
 * An HTML rendering of a tensor for notebooks: a header with dtype, shape and gradFn, then a
 * table per matrix (one per leading index from 3-d up), indices as headers, numbers aligned in
 * one style; large tensors are summarised as in `formatTensor`.
 * @example tslab.display.html(tensorToHtml(randn([3, 4])))
 */
export function tensorToHtml(t: Tensor, options: TensorFormatOptions = {}): string {
  checkOptions('tensorToHtml', options, FORMAT_OPTIONS);
  const header = `<div style="${CAPTION}">${escapeHtml(headerText(headerOf(t)))}</div>`;
  const { kept, strides, format } = elementLayout(t.data, t.shape, options);
  const value = (offset: number): string => format(t.data[offset]!);
  let body: string;
  if (t.ndim === 0) {
    body = `<div style="${CAPTION}">${escapeHtml(value(0))}</div>`;
  } else if (t.ndim === 1) {
    body = matrixTable([0], kept[0]!, (_r, c) => value(c * strides[0]!), false);
  } else {
    const rowAxis = t.ndim - 2;
    const blocks = leadingIndices(kept.slice(0, rowAxis)).map((lead) => {
      if (lead.includes(GAP)) return `<div style="${CAPTION}">⋮</div>`;
      const base = lead.reduce((o, i, d) => o + i * strides[d]!, 0);
      const table = matrixTable(kept[rowAxis]!, kept[rowAxis + 1]!, (r, c) => value(base + r * strides[rowAxis]! + c * strides[rowAxis + 1]!), true);
      const caption = lead.length === 0 ? '' : `<div style="${CAPTION}">[${[...lead, ':', ':'].join(', ')}]</div>`;
      return caption + table;
    });
    body = blocks.join('');
  }
  return `<div class="chainrule-tensor">${header}${body}</div>`;
}

const PASS = 'color:#1a7f37;font-weight:bold';
const FAIL = 'color:#cf222e;font-weight:bold';
const UNSURE = 'color:#9a6700;font-weight:bold';
const LABEL = 'padding:1px 8px 1px 0;text-align:left;font-weight:normal;font-size:13px;color:#555';
const VALUE = 'padding:1px 0;text-align:left;font-family:monospace;font-size:12px';

function row(label: string, value: string): string {
  return `<tr><th style="${LABEL}">${escapeHtml(label)}</th><td style="${VALUE}">${escapeHtml(value)}</td></tr>`;
}

/**
 * An HTML rendering of a gradcheck report for notebooks: the verdict in colour, the largest
 * errors, and where the worst entry is with both of its values. Text: `formatGradcheckReport`.
 * @example tslab.display.html(gradcheckReportToHtml(gradcheck(f, [x])))
 */
export function gradcheckReportToHtml(r: GradcheckReport): string {
  const verdict = `<div style="${r.ok ? PASS : FAIL}">${r.ok ? '✓' : '✗'} gradcheck (${escapeHtml(r.mode)}): ${r.ok ? 'passed' : 'FAILED'}</div>`;
  const rows = [row('max abs error', r.maxAbsError.toExponential(3)), row('max rel error', r.maxRelError.toExponential(3))];
  const w = r.worst;
  if (w === null) {
    rows.push(row('worst entry', 'none: nothing was compared'));
  } else {
    rows.push(
      row(r.ok ? 'closest to tolerance' : 'worst entry', worstLocation(w)),
      row('analytic', String(w.analytic)),
      row('numeric', String(w.numeric)),
      row('|difference|', Math.abs(w.analytic - w.numeric).toExponential(3)),
    );
  }
  return `<div class="chainrule-gradcheck">${verdict}<table style="border-collapse:collapse">${rows.join('')}</table></div>`;
}

/**
 * An HTML rendering of a taylorTest report for notebooks: the verdict, its explanation, and
 * the remainder and observed order at each step (2 for a right gradient, 1 for a wrong one).
 * @example tslab.display.html(taylorTestReportToHtml(taylorTest((x) => x.sin().sum(), x)))
 */
export function taylorTestReportToHtml(r: TaylorTestReport): string {
  const style = r.verdict === 'correct' ? PASS : r.verdict === 'wrong-gradient' ? FAIL : UNSURE;
  const mark = r.verdict === 'correct' ? '✓' : r.verdict === 'wrong-gradient' ? '✗' : '?';
  const verdict = `<div style="${style}">${mark} taylorTest: ${escapeHtml(r.verdict)}</div><div style="margin:2px 0 4px">${escapeHtml(r.message)}</div>`;
  const head = ['step', 'h', 'remainder', 'order'].map((h) => `<th style="${INDEX}">${h}</th>`).join('');
  // orders[k - 1] compares step k with step k - 1, so the first step has none.
  const rows = r.steps.map((h, k) => {
    const order = k === 0 ? '' : Number.isNaN(r.orders[k - 1]!) ? 'noise' : r.orders[k - 1]!.toFixed(2);
    const cells = [String(k), h.toExponential(2), r.remainders[k]!.toExponential(3), order];
    return `<tr>${cells.map((c) => `<td style="${CELL}">${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<div class="chainrule-taylor">${verdict}<table style="${TABLE}"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/**
 * A small dependency-free SVG line chart: one or more panels side by side, each with its own
 * axes and curves (loss and accuracy live on different scales). Used by the demo.
 */

/** One curve: y values at x = 1, 2, ... (epochs). */
export interface Series {
  name: string;
  values: readonly number[];
  color: string;
  /** Draw dashed (e.g. validation curves). */
  dashed?: boolean;
}

/** One panel: a title, axis labels and its curves. */
export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Fixed y range; default: the data's range with a little margin. */
  yRange?: readonly [number, number];
}

/** Layout of the whole chart. */
export interface ChartOptions {
  /** Width of one panel in px (default 420). */
  panelWidth?: number;
  /** Height in px (default 300). */
  height?: number;
}

const MARGIN = { left: 56, right: 16, top: 34, bottom: 58 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Shortest readable label of a tick value. */
function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function yRangeOf(panel: Panel): [number, number] {
  if (panel.yRange !== undefined) return [panel.yRange[0], panel.yRange[1]];
  const all = panel.series.flatMap((s) => s.values.filter(Number.isFinite));
  if (all.length === 0) return [0, 1];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function renderPanel(panel: Panel, offsetX: number, width: number, height: number): string {
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const n = Math.max(1, ...panel.series.map((s) => s.values.length));
  const [y0, y1] = yRangeOf(panel);
  const sx = (i: number): number => MARGIN.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const sy = (v: number): number => MARGIN.top + (1 - (v - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${tickLabel(t)}</text>`);
  }
  for (const t of niceTicks(1, n, Math.min(n - 1, 8)).filter(Number.isInteger)) {
    parts.push(`<text x="${sx(t - 1).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 26}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`);
    const d = points.length === 0 ? '' : `M${points.join(' L')}`;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${dash}><title>${escapeXml(s.name)}</title></path>`);
    // Legend under the axis label.
    const lx = MARGIN.left + k * 130;
    const ly = height - 10;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${escapeXml(s.color)}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/**
 * An SVG document with the panels side by side.
 * @example writeFileSync('curves.svg', lineChart([{ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', values: [1, 0.5], color: '#1f77b4' }] }]))
 */
export function lineChart(panels: readonly Panel[], options: ChartOptions = {}): string {
  const { panelWidth = 420, height = 300 } = options;
  const width = panelWidth * panels.length;
  const body = panels.map((p, i) => renderPanel(p, i * panelWidth, panelWidth, height)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Rich display for the notebooks in examples/notebooks, run by the tslab kernel: tensors and
 * check reports as HTML tables (autograd renders them), computation graphs as SVG (Graphviz
 * compiled to WebAssembly draws toDot's graph: toSvg from '@chainrule/autograd/viz') and curves as SVG
 * charts (svg-chart.ts).
 *
 * Notebooks import this file as '@chainrule/notebook': `pnpm notebooks:build` bundles it with
 * the packages, because tslab compiles only the notebook's own folder (see scripts/notebooks.ts).
 * The `...Html`/`...Svg` functions only build strings; the `show...` ones send them to the page.
 */
import * as tslab from 'tslab';
import {
  Tensor, gradcheckReportToHtml, taylorTestReportToHtml, tensorToHtml,
  type GradcheckReport, type TaylorTestReport, type Value,
} from '@chainrule/autograd';
import { toSvg } from '@chainrule/autograd/viz';
import { lineChart, type ChartOptions, type Panel } from './svg-chart.js';

/** What `show` knows how to render. */
export type Displayable = Tensor | GradcheckReport | TaylorTestReport;

/**
 * HTML of a tensor, a gradcheck report or a taylorTest report.
 * @example toHtml(gradcheck(f, [x]))
 */
export function toHtml(x: Displayable): string {
  if (x instanceof Tensor) return tensorToHtml(x);
  return 'verdict' in x ? taylorTestReportToHtml(x) : gradcheckReportToHtml(x);
}

/**
 * Shows a tensor or a report in the notebook as an HTML table.
 * @example show(x.grad!)
 */
export function show(x: Displayable): void {
  tslab.display.html(toHtml(x));
}

/** About the width of a notebook's output area, in points (Graphviz sizes its SVG in points). */
const OUTPUT_WIDTH_PT = 560;

/**
 * A graph wider than the output area scales down to fit it. NOTE: the classic Notebook sizes an
 * SVG's box from its width and height attributes, so a CSS max-width alone would not shrink it;
 * a width of 100% and no height does, in JupyterLab too. Narrower graphs keep their own size.
 */
function fitWidth(svg: string): string {
  const size = /^<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg);
  if (size === null || Number(size[1]) <= OUTPUT_WIDTH_PT) return svg;
  return `<svg width="100%"${svg.slice(size[0].length)}`;
}

/**
 * SVG of the graph behind a Tensor or Value, one box per op and one ellipse per leaf (`toDot`),
 * scaled down to the output area when wider.
 * @example await graphSvg(loss)
 */
export async function graphSvg(root: Tensor | Value): Promise<string> {
  return fitWidth(await toSvg(root));
}

/**
 * Shows the graph behind a Tensor or Value inline as SVG (drawing is asynchronous: await it,
 * or the picture may land under a later cell's output).
 * @example await showGraph(loss)
 */
export async function showGraph(root: Tensor | Value): Promise<void> {
  tslab.display.svg(await graphSvg(root));
}

/**
 * Shows line charts inline: one panel per scale, each with its own axes and curves.
 * @example showChart([{ title: 'Loss', xLabel: 'step', yLabel: 'loss', series: [{ name: 'train', values: losses, color: '#1f77b4' }] }])
 */
export function showChart(panels: readonly Panel[], options: ChartOptions = {}): void {
  tslab.display.svg(lineChart(panels, options));
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** Labels of `plot`'s single panel. */
export interface PlotOptions extends ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/**
 * Shows named curves in one panel, coloured in turn; x runs 1, 2, ... along each curve.
 * @example plot({ 'focal loss': losses }, { title: 'Training', xLabel: 'iteration' })
 */
export function plot(curves: Readonly<Record<string, readonly number[]>>, options: PlotOptions = {}): void {
  const { title = '', xLabel = 'step', yLabel = 'value', ...chart } = options;
  const series = Object.entries(curves).map(([name, values], i) => ({ name, values, color: PALETTE[i % PALETTE.length]! }));
  showChart([{ title, xLabel, yLabel, series }], chart);
}

/**
 * Canvas drawing for the playground: the decision boundary under the data points, and the
 * loss curve. Pure functions of what they are given, so a redraw never depends on history.
 */
import type { Bounds } from './trainer.js';

/** One colour per class (sRGB 0-255), colour-blind-safe orange, blue and green. */
export const CLASS_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [230, 126, 34],
  [41, 128, 185],
  [39, 174, 96],
];

const css = ([r, g, b]: readonly [number, number, number]): string => `rgb(${r} ${g} ${b})`;

/**
 * Sizes a canvas's backing store to its CSS size times the device pixel ratio (sharp lines on
 * HiDPI screens) and returns a context that draws in CSS pixels.
 */
export function fitCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('playground: this browser gives no 2-D canvas context');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, width, height };
}

/** A small canvas reused for the probability grid, which is then scaled up smoothly. */
let gridCanvas: HTMLCanvasElement | undefined;

/**
 * Paints the decision regions: each grid cell takes the colours of the classes mixed by their
 * probabilities, paler where the model is unsure, so the boundary shows as a soft white seam.
 */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  probabilities: Float32Array,
  res: number,
  classes: number,
  points: Float32Array,
  labels: Uint8Array,
  bounds: Bounds,
): void {
  const { ctx, width, height } = fitCanvas(canvas);
  gridCanvas ??= document.createElement('canvas');
  gridCanvas.width = res;
  gridCanvas.height = res;
  const gridCtx = gridCanvas.getContext('2d')!;
  const image = gridCtx.createImageData(res, res);
  for (let cell = 0; cell < res * res; cell++) {
    let r = 0, g = 0, b = 0, top = 0;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[cell * classes + c]!;
      const colour = CLASS_COLOURS[c % CLASS_COLOURS.length]!;
      r += p * colour[0];
      g += p * colour[1];
      b += p * colour[2];
      top = Math.max(top, p);
    }
    // Confidence 0 at chance level, 1 when one class takes all: tint from white towards the mix.
    const confidence = (top - 1 / classes) / (1 - 1 / classes);
    const tint = 0.06 + 0.5 * confidence;
    image.data[cell * 4] = 255 + (r - 255) * tint;
    image.data[cell * 4 + 1] = 255 + (g - 255) * tint;
    image.data[cell * 4 + 2] = 255 + (b - 255) * tint;
    image.data[cell * 4 + 3] = 255;
  }
  gridCtx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(gridCanvas, 0, 0, width, height);

  const sx = width / (bounds.xMax - bounds.xMin);
  const sy = height / (bounds.yMax - bounds.yMin);
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.95)';
  for (let i = 0; i < labels.length; i++) {
    const x = (points[2 * i]! - bounds.xMin) * sx;
    const y = (bounds.yMax - points[2 * i + 1]!) * sy;
    ctx.beginPath();
    ctx.arc(x, y, 3.6, 0, 2 * Math.PI);
    ctx.fillStyle = css(CLASS_COLOURS[labels[i]! % CLASS_COLOURS.length]!);
    ctx.fill();
    ctx.stroke();
  }
}

/** Round numbers for the loss axis: 1, 0.1, 0.01, ... within [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * The loss per step on a log scale (it spans decades), at most one vertex per pixel column:
 * each column shows the mean of the steps it covers.
 */
export function drawLossCurve(canvas: HTMLCanvasElement, history: readonly number[]): void {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  const left = 44, right = 10, top = 10, bottom = 24;
  const w = width - left - right, h = height - top - bottom;

  // The top is the worst loss (at least 1), the bottom a little under the best; a loop, not
  // Math.min(...history), which overflows the stack past ~100k steps.
  let hi = 1, best = Infinity;
  for (const v of history) {
    if (!(v > 0 && v < Infinity)) continue;
    hi = Math.max(hi, v);
    best = Math.min(best, v);
  }
  const lo = best < Infinity ? Math.min(best * 0.8, hi / 10) : hi / 100;
  const yOf = (v: number): number => top + ((Math.log10(hi) - Math.log10(v)) / (Math.log10(hi) - Math.log10(lo))) * h;

  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.strokeStyle = '#e5e7eb';
  ctx.fillStyle = '#6b7280';
  ctx.lineWidth = 1;
  for (const v of decades(lo, hi)) {
    const y = Math.round(yOf(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + w, y);
    ctx.stroke();
    ctx.fillText(v >= 0.01 ? String(v) : v.toExponential(0), left - 6, y);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText('step 0', left, height - 6);
  ctx.textAlign = 'right';
  ctx.fillText(`${history.length}`, left + w, height - 6);
  if (history.length < 2) return;

  const columns = Math.min(history.length, Math.floor(w));
  ctx.beginPath();
  for (let col = 0; col < columns; col++) {
    const from = Math.floor((col * history.length) / columns);
    const to = Math.max(from + 1, Math.floor(((col + 1) * history.length) / columns));
    let sum = 0;
    for (let i = from; i < to; i++) sum += history[i]!;
    const y = yOf(Math.max(sum / (to - from), lo));
    const x = left + (columns === 1 ? 0 : (col / (columns - 1)) * w);
    if (col === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.strokeStyle = '#7c3aed';
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  ctx.stroke();
}

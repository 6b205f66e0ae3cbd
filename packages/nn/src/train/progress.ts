import type { ProgressOutput } from './env.js';

/** Figures shown for an epoch in progress or finished. */
export interface ProgressFigures {
  step: number;
  /** Steps per epoch, when known (from an array, or from the first epoch). */
  total: number | null;
  loss: number;
  metrics: Record<string, number>;
  samples: number;
  seconds: number;
}

const REDRAW_MS = 100;

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${Math.round(seconds - 60 * m).toString().padStart(2, '0')}s`;
}

function metricText(prefix: string, metrics: Record<string, number>): string {
  return Object.entries(metrics).map(([k, v]) => ` ${prefix}${k} ${fmt(v)}`).join('');
}

/**
 * Writes training progress: on a terminal a live line per epoch redrawn with \r (at most every
 * 100 ms), elsewhere (CI, pipes, browsers) one finished line per epoch.
 */
export class Progress {
  private lastDraw = -Infinity;
  private drawnWidth = 0;

  constructor(private readonly out: ProgressOutput, private readonly live: boolean, private readonly epochs: number) {}

  private head(epoch: number): string {
    const w = String(this.epochs).length;
    return `Epoch ${String(epoch + 1).padStart(w)}/${this.epochs}`;
  }

  /** Redraws the live line (throttled). */
  update(epoch: number, f: ProgressFigures, now: number): void {
    if (!this.live || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const rate = f.seconds > 0 ? f.samples / f.seconds : 0;
    const steps = f.total === null ? `${f.step}` : `${f.step}/${f.total}`;
    const eta = f.total !== null && f.step > 0 ? ` ETA ${duration((f.seconds / f.step) * (f.total - f.step))}` : '';
    const line = `${this.head(epoch)} ${steps} loss ${fmt(f.loss)}${metricText('', f.metrics)} ${Math.round(rate)} samples/s${eta}`;
    this.draw(line);
  }

  /** Writes the finished epoch's line. */
  finish(epoch: number, f: ProgressFigures, validation: { loss: number | null; metrics: Record<string, number> } | null): void {
    const rate = f.seconds > 0 ? f.samples / f.seconds : 0;
    const val = validation === null ? '' : `${validation.loss === null ? '' : ` val_loss ${fmt(validation.loss)}`}${metricText('val_', validation.metrics)}`;
    const line = `${this.head(epoch)} ${f.step}/${f.total ?? f.step} loss ${fmt(f.loss)}${metricText('', f.metrics)}${val} ${duration(f.seconds)} ${Math.round(rate)} samples/s`;
    if (this.live) {
      this.draw(line);
      this.out.write('\n');
      this.drawnWidth = 0;
      this.lastDraw = -Infinity;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  private draw(line: string): void {
    // Pad with spaces over a longer previous line rather than relying on terminal escape codes.
    const padded = line.padEnd(this.drawnWidth);
    this.drawnWidth = line.length;
    this.out.write(`\r${padded}`);
  }
}

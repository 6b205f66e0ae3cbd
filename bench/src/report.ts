// The results of a run: their shape (written to results/latest.json) and the tables printed
// at the end (medians, min–max spread over rounds, speed relative to chainrule).

import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Summary } from './harness.js';
import type { Calibration, ContenderInfo, MemoryReport, Workload } from './types.js';

export type CellStatus = 'ok' | 'unsupported' | 'skipped' | 'failed' | 'unavailable';

export interface CellResult {
  status: CellStatus;
  reason?: string;
  calibration?: Calibration;
  /** Runs per timed batch, and timed batches (one per round). */
  batch?: number;
  rounds?: number;
  /** Mean milliseconds per run of each timed batch. */
  samplesMs?: number[];
  /** No batch fitted the time budget: the figure is the warm-up's. */
  warmupOnly?: boolean;
  ms?: Summary;
  /** The same in the workload's unit (min/max swapped when lower is better, so min is the worst). */
  value?: Summary;
  /** Median over rounds of chainrule's time / this contender's in the same round: above 1, this contender is faster. */
  speedVsChainrule?: number;
}

export interface WorkloadResult {
  workload: Workload;
  title: string;
  unit: string;
  higherIsBetter: boolean;
  cells: Record<string, CellResult>;
}

export interface ContenderStatus {
  name: string;
  available: boolean;
  info?: ContenderInfo;
  reason?: string;
}

export interface MachineInfo {
  cpu: string;
  cpuDetail?: string;
  cores: number;
  memoryGB: number;
  node: string;
  platform: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  commit?: string;
}

export interface BenchResults {
  schema: 1;
  mode: 'full' | 'quick';
  date: string;
  durationSeconds: number;
  machine: MachineInfo;
  contenders: ContenderStatus[];
  workloads: WorkloadResult[];
  memory?: { contender: string; report?: MemoryReport; error?: string };
  notes: string[];
}

/** Three significant figures, without exponent notation for ordinary magnitudes. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a >= 0.01) return v.toFixed(3);
  return v.toPrecision(2);
}

function ratio(r: number | undefined): string {
  return r === undefined ? '' : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

function table(rows: string[][], align: ('l' | 'r')[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c]! - [...cell].length);
          return align[c] === 'r' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function cellReason(cell: CellResult): string {
  return `${cell.status}${cell.reason ? `: ${cell.reason}` : ''}`;
}

export function formatReport(res: BenchResults): string {
  const out: string[] = [];
  const m = res.machine;
  out.push(
    `chainrule bench (${res.mode}) — ${res.date}`,
    `machine: ${m.cpu}${m.cpuDetail ? ` (${m.cpuDetail})` : ''}, ${m.cores} cores, ${m.memoryGB.toFixed(0)} GB, Node ${m.node}, ${m.platform}` +
      `, load ${m.loadAverageStart.map((l) => l.toFixed(2)).join('/')}` +
      (m.commit ? `, commit ${m.commit}` : ''),
    '',
    'contenders:',
  );
  for (const c of res.contenders) {
    if (c.available && c.info) {
      const notes = c.info.notes?.length ? ` — ${c.info.notes.join('; ')}` : '';
      out.push(`  ${c.name.padEnd(11)} ${c.info.version}, ${c.info.backend}${notes}`);
    } else out.push(`  ${c.name.padEnd(11)} unavailable: ${c.reason ?? 'unknown reason'}`);
  }
  out.push('', 'Medians over rounds (contenders alternate round-robin); spread = min–max over rounds;');
  out.push('"vs chainrule" = median over rounds of chainrule\'s time / the contender\'s in the same round');
  out.push('(above 1×: faster than chainrule). runs = rounds × runs per timed batch.');

  const names = res.contenders.map((c) => c.name);
  for (const w of res.workloads) {
    out.push('', `${w.title} — ${w.unit}, ${w.higherIsBetter ? 'higher' : 'lower'} is better`);
    const rows: string[][] = [['  contender', 'median', 'spread', 'vs chainrule', 'runs', '']];
    for (const name of names) {
      const cell = w.cells[name];
      if (!cell) continue;
      if (cell.status !== 'ok' || !cell.value) {
        rows.push([`  ${name}`, '—', '', '', '', cellReason(cell)]);
        continue;
      }
      const v = cell.value;
      const lo = w.higherIsBetter ? v.min : v.max;
      const hi = w.higherIsBetter ? v.max : v.min;
      rows.push([
        `  ${name}`,
        fmt(v.median),
        `${fmt(Math.min(lo, hi))}–${fmt(Math.max(lo, hi))}`,
        name === 'chainrule' ? '1×' : ratio(cell.speedVsChainrule),
        cell.warmupOnly ? 'warm-up' : `${cell.rounds}×${cell.batch}`,
        cell.reason ?? '',
      ]);
    }
    out.push(table(rows, ['l', 'r', 'r', 'r', 'r', 'l']));
    const losses = names
      .map((n) => [n, w.cells[n]?.calibration?.firstValue] as const)
      .filter((e): e is readonly [string, number] => e[1] !== undefined);
    if ((w.workload.kind === 'mlp' || w.workload.kind === 'conv' || w.workload.kind === 'transformer') && losses.length > 0) {
      // Everyone starts from the same weights and batch: a loss off by more than float32
      // rounding means a contender computes something else, and its timing is suspect.
      const ref = losses.find(([n]) => n === 'chainrule')?.[1] ?? losses[0]![1];
      const shown = losses.map(([n, l]) => `${n} ${l.toFixed(5)}${Math.abs(l - ref) > 1e-3 * Math.abs(ref) ? ' (differs!)' : ''}`);
      out.push(`  first-step ${w.workload.kind === 'conv' ? 'value' : 'loss'} (same data and weights): ${shown.join(', ')}`);
    }
  }

  // One line per workload: everyone's speed relative to chainrule.
  const peers = names.filter((n) => n !== 'chainrule');
  const summary: string[][] = [['workload', 'chainrule', ...peers]];
  for (const w of res.workloads) {
    const base = w.cells.chainrule;
    const row = [w.workload.id, base?.status === 'ok' && base.value ? `${fmt(base.value.median)} ${w.unit}` : '—'];
    for (const p of peers) {
      const c = w.cells[p];
      // Without a chainrule figure to compare with, the peer's own median.
      const own = c?.value ? `${fmt(c.value.median)} ${w.unit}` : '—';
      row.push(c?.status === 'ok' ? ratio(c.speedVsChainrule) || own : c?.status === 'unsupported' ? 'n/a' : '—');
    }
    summary.push(row);
  }
  out.push('', 'summary: chainrule median, and each peer\'s speed relative to it');
  out.push(table(summary, ['l', 'r', ...peers.map(() => 'r' as const)]));

  if (res.memory) {
    out.push('', `memory (${res.memory.contender}, fresh process, MLP batch 64):`);
    const r = res.memory.report;
    if (r) {
      out.push(
        `  ${r.epochs} epochs × ${r.samples} samples (${r.steps} steps) in ${r.trainSeconds.toFixed(1)} s`,
        `  RSS: start ${r.rssStartMB.toFixed(0)} MB, after setup ${r.rssAfterSetupMB.toFixed(0)} MB, ` +
          `after epoch 1 ${r.rssAfterFirstEpochMB.toFixed(0)} MB, after epoch ${r.epochs} ${r.rssAfterTrainMB.toFixed(0)} MB` +
          (r.rssAfterGcMB !== undefined ? `, after gc ${r.rssAfterGcMB.toFixed(0)} MB` : ''),
        `  JS heap used: after training ${r.heapUsedAfterTrainMB.toFixed(0)} MB` +
          (r.heapUsedAfterGcMB !== undefined ? `, after gc ${r.heapUsedAfterGcMB.toFixed(0)} MB` : ''),
      );
    } else out.push(`  failed: ${res.memory.error}`);
  }
  for (const n of res.notes) out.push(`note: ${n}`);
  out.push('', `total ${res.durationSeconds.toFixed(0)} s`);
  return out.join('\n');
}

/**
 * Writes the JSON through a temporary file, so a reader never sees half a file. The temporary
 * name is random and created exclusively: a link planted at a predictable name is never followed.
 */
export function writeResults(res: BenchResults, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(res, null, 2) + '\n', { flag: 'wx' });
  renameSync(tmp, file);
}

// `pnpm bench:summary results/a.json results/b.json ...`: several full runs side by side. One
// run's ratios move with whatever else the machine does during it, so what a claim rests on is
// the median over runs of each run's paired ratio, with its worst and best run beside it.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BenchResults } from './report.js';

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

function fmt(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  if (x >= 0.1) return x.toFixed(2);
  return x.toPrecision(2);
}

const show = (s: Spread, suffix = ''): string => `${fmt(s.median)}${suffix} (${fmt(s.min)}–${fmt(s.max)})`;

function main(files: string[]): number {
  if (files.length === 0) {
    console.error('usage: pnpm bench:summary results/run-1.json results/run-2.json ...');
    return 2;
  }
  const runs = files.map((f) => JSON.parse(readFileSync(resolve(f), 'utf8')) as BenchResults);
  const full = runs.filter((r) => r.mode === 'full');
  if (full.length < runs.length) console.log(`(${runs.length - full.length} quick run(s) left out: their rounds are too few to compare)`);
  if (full.length === 0) return 1;
  const peers = [...new Set(full.flatMap((r) => r.contenders.filter((c) => c.available && c.name !== 'chainrule').map((c) => c.name)))];
  const ids = [...new Set(full.flatMap((r) => r.workloads.map((w) => w.workload.id)))];
  console.log(`${full.length} full run(s): ${full.map((r) => `${r.date.slice(0, 16)} (load ${r.machine.loadAverageStart[0]!.toFixed(1)}, ${r.machine.commit ?? '?'})`).join(', ')}`);
  console.log('Each cell: median over runs (lowest–highest). chainrule: its median in each run; a peer: its');
  console.log("speed relative to chainrule's (above 1×: faster), paired round by round within each run.\n");
  const header = ['workload', 'chainrule', ...peers];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const id of ids) {
    const results = full.flatMap((r) => r.workloads.filter((w) => w.workload.id === id));
    const own = results.flatMap((w) => (w.cells.chainrule?.status === 'ok' ? [w.cells.chainrule.value!.median] : []));
    if (own.length === 0) continue;
    const row = [`${results[0]!.title} (${results[0]!.unit})`, show(spread(own))];
    for (const peer of peers) {
      const ratios = results.flatMap((w) => {
        const c = w.cells[peer];
        return c?.status === 'ok' && c.speedVsChainrule !== undefined ? [c.speedVsChainrule] : [];
      });
      row.push(ratios.length === 0 ? '—' : show(spread(ratios), '×'));
    }
    console.log(`| ${row.join(' | ')} |`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));

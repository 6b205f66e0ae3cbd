// The compiled-program rows (bench/src/types.ts, CompiledWorkload) for chainrule eager, chainrule
// jit and jax-js (eager and jit), alternating the variants in one process and reporting medians
// of wall and CPU time (process.cpuUsage: all threads) per run. Figures from a shared machine
// are noisy; `pnpm bench --workloads=...` gives the benchmark's own.
//   node scripts/run.mjs bench/micro/compiled.ts [elementwise|pinn|mlpStep ...] [--no-jax]
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contender as chainrule } from '../src/chainrule.js';
import { contender as jaxjs } from '../src/jax.js';
import { workloads } from '../src/workloads.js';
import type { CompiledWorkload, Contender, Runner } from '../src/types.js';

// Peers load from bench/node_modules (src/peers.ts), wherever this runs from.
process.env.CHAINRULE_BENCH_DIR ??= resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const programs = args.filter((a) => !a.startsWith('--'));
const contenders: Contender[] = args.includes('--no-jax') ? [chainrule] : [chainrule, jaxjs];
for (const c of contenders) await c.load();

const rows = workloads(false).filter((w): w is CompiledWorkload => w.kind === 'compiled' && (programs.length === 0 || programs.includes(w.program)));
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1]!;

for (const program of [...new Set(rows.map((w) => w.program))]) {
  const variants: { name: string; runner: Runner; wall: number[]; cpu: number[]; first: number | void }[] = [];
  for (const w of rows.filter((r) => r.program === program)) {
    for (const c of contenders) {
      const r = await c.setup(w);
      if ('unsupported' in r) continue;
      const first = await r.run();
      variants.push({ name: `${c.name} ${w.via} (${w.id})`, runner: r, wall: [], cpu: [], first });
    }
  }
  // Runs per round: about 50 ms of the slowest variant.
  const t0 = performance.now();
  for (const v of variants) for (let i = 0; i < 3; i++) await v.runner.run();
  const per = (performance.now() - t0) / (3 * variants.length);
  const reps = Math.max(1, Math.round(50 / Math.max(per, 0.01)));
  for (let round = 0; round < 15; round++) {
    for (const v of variants) {
      const w0 = performance.now(), c0 = cpu();
      for (let i = 0; i < reps; i++) await v.runner.run();
      v.wall.push((performance.now() - w0) / reps);
      v.cpu.push((cpu() - c0) / reps);
    }
  }
  console.log(`${program} (${reps} runs × 15 rounds, medians; noisy shared machine)`);
  const base = variants.find((v) => v.name.startsWith('chainrule eager'));
  for (const v of variants) {
    const ratio = base === undefined ? '' : `  eager/this: wall ${(median(base.wall) / median(v.wall)).toFixed(2)}×, cpu ${(median(base.cpu) / median(v.cpu)).toFixed(2)}×`;
    const first = typeof v.first === 'number' ? `  first value ${v.first.toPrecision(8)}` : '';
    console.log(`  ${v.name.padEnd(44)} wall ${median(v.wall).toFixed(3).padStart(8)} ms  cpu ${median(v.cpu).toFixed(3).padStart(8)} ms${ratio}${first}`);
  }
  for (const v of variants) v.runner.dispose?.();
}

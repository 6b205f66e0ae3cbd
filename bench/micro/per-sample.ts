/**
 * Per-sample gradients against the one batch gradient, and jvp against the forward: the bench's
 * own chainrule runners (per-sample-grad-mlp-b64, batch-grad-mlp-b64, jvp-mlp-b64,
 * mlp-forward-b64), alternating in one process, medians over rounds of wall time, of the
 * process's CPU time (user + system, steadier on a shared machine) and of page faults per run.
 * With `--ab js`, each case also runs under the pure TypeScript kernels, alternating with the
 * default ones. With `--base <checkout>`, each case also runs on that other checkout's chainrule
 * (with its own node_modules), alternating with this one's (`--ab` switches this one's kernels
 * only). Figures are noisy on a loaded machine; the least CPU time over rounds is shown beside
 * the median, as the steadiest under load:
 *
 *   node scripts/run.mjs bench/micro/per-sample.ts [--only per-sample,jvp] [--rounds 15] [--ab js] [--base /tmp/other-checkout]
 *
 * In-process figures share one heap (and, with --base, two helper threads share the cores): only
 * a guide, the bench's separate processes decide.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

process.env.CHAINRULE_BENCH_DIR ??= resolve(fileURLToPath(import.meta.url), '..', '..');
const { contender } = await import('../src/chainrule.js');
const base = option('--base');
const contenders: [string, typeof contender][] = [['', contender]];
if (base !== undefined) contenders.push([` (${base})`, ((await import(resolve(base, 'bench/src/chainrule.ts'))) as { contender: typeof contender }).contender]);
const { kernelBackend, setKernelBackend } = await import('@chainrule/autograd');
type Workload = Parameters<typeof contender.setup>[0];

const only = (option('--only') ?? 'per-sample,jvp').split(',');
const rounds = Number(option('--rounds') ?? 15);
const ab = option('--ab') as 'js' | undefined;
const families: [string, Workload, Workload][] = [];
if (only.includes('per-sample')) {
  families.push(['per-sample', { kind: 'perSample', id: 'per-sample-grad-mlp-b64', batch: 64, mode: 'per-sample' }, { kind: 'perSample', id: 'batch-grad-mlp-b64', batch: 64, mode: 'batch' }]);
}
if (only.includes('jvp')) {
  families.push(['jvp', { kind: 'jvp', id: 'jvp-mlp-b64', batch: 64, via: 'jvp' }, { kind: 'jvp', id: 'mlp-forward-b64', batch: 64, via: 'forward' }]);
}
for (const [, c] of contenders) await c.load();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const backends = ab === undefined ? [kernelBackend()] : [kernelBackend(), ab];

for (const [family, target, baseline] of families) {
  const cases: { name: string; backend: string; run: () => unknown; wall: number[]; cpu: number[]; faults: number[] }[] = [];
  for (const w of [baseline, target]) {
    for (const [label, c] of contenders) {
      const r = await c.setup(w);
      if ('unsupported' in r) throw new Error(`${w.id}${label}: ${r.unsupported}`);
      for (const backend of backends) cases.push({ name: w.id + label, backend, run: r.run, wall: [], cpu: [], faults: [] });
    }
  }
  for (let round = -2; round < rounds; round++) {
    for (const c of cases) {
      setKernelBackend(c.backend as 'js' | 'auto' | 'wasm');
      // About 100 ms of work per case per round.
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const f0 = process.resourceUsage().minorPageFault;
      let runs = 0;
      while (performance.now() - t0 < 100 || runs < 3) {
        c.run();
        runs++;
      }
      const cu = process.cpuUsage(c0);
      if (round < 0) continue; // warm-up
      c.wall.push((performance.now() - t0) / runs);
      c.cpu.push((cu.user + cu.system) / 1000 / runs);
      c.faults.push((process.resourceUsage().minorPageFault - f0) / runs);
    }
  }
  setKernelBackend(backends[0] as 'js' | 'auto' | 'wasm');
  const baseCpu = median(cases[0]!.cpu);
  const baseWall = median(cases[0]!.wall);
  console.log(`${family} (medians of ${rounds} rounds; ratios against ${baseline.id} on the default kernels)`);
  for (const c of cases) {
    const cpu = median(c.cpu);
    const wall = median(c.wall);
    console.log(
      `  ${c.name.padEnd(24)} ${c.backend.padEnd(4)} cpu ${cpu.toFixed(3)} ms (${(cpu / baseCpu).toFixed(2)}×, least ${Math.min(...c.cpu).toFixed(3)})  wall ${wall.toFixed(3)} ms (${(wall / baseWall).toFixed(2)}×)  faults/run ${median(c.faults).toFixed(0)}`,
    );
  }
}

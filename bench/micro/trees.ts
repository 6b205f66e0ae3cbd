/**
 * The bench's chainrule rows in two (or more) checkouts of the workspace, alternated round by
 * round, each run in a fresh process of its own tree (so no heap or JIT state is shared), with
 * CPU time (user + system, all threads) beside wall time. CPU time is far steadier than wall
 * time on a shared machine; figures are medians over rounds of each process's median batch, and
 * `best` the median over rounds of each process's fastest batch: on a heavily loaded machine the
 * median batch carries whatever the neighbours did to the caches and page tables that round, the
 * fastest far less, so `best` is the nearer guide to an idle machine's figures. Each side's
 * minor page faults per run come last: fresh memory that a side touches run after run.
 *
 *   node scripts/run.mjs bench/micro/trees.ts --trees /path/to/old,. --rows chain-1000,mlp-b64,mlp-b256,scalar-mlp
 *   options: --rounds N (default 7), --warmup-ms N (default 1000), --batches N (default 9) of
 *            --batch-ms N (default 100) each; CHAINRULE_THREADS is passed through as set
 *
 * A row is a workload id of `bench/src/workloads.ts` as the tree defines it (its full list).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface ChildResult {
  wallMs: number;
  cpuMs: number;
  /** CPU time of the fastest batch. */
  cpuBestMs: number;
  /**
   * Minor page faults per run over the batches: fresh memory the allocator maps (or maps again
   * after returning it to the system), which costs microseconds a page here and far more when
   * the machine is loaded.
   */
  faults: number;
}

interface Runner {
  run(): unknown;
  dispose?(): void;
}

async function child(tree: string, row: string): Promise<void> {
  const src = (file: string): string => pathToFileURL(resolve(tree, 'bench/src', file)).href;
  const { workloads } = (await import(src('workloads.ts'))) as { workloads(quick: boolean): { id: string }[] };
  const { contender } = (await import(src('chainrule.ts'))) as {
    contender: { load(): Promise<unknown>; setup(w: unknown): Runner | { unsupported: string } | Promise<Runner | { unsupported: string }> };
  };
  const workload = workloads(false).find((w) => w.id === row);
  if (workload === undefined) throw new Error(`trees: no row '${row}' in ${tree}`);
  await contender.load();
  const runner = await contender.setup(workload);
  if ('unsupported' in runner) throw new Error(`trees: ${row} unsupported in ${tree}: ${runner.unsupported}`);
  const warmupMs = Number(option('--warmup-ms', '1000'));
  const batchMs = Number(option('--batch-ms', '100'));
  const batches = Number(option('--batches', '9'));
  let t0 = performance.now();
  let warm = 0;
  while (performance.now() - t0 < warmupMs || warm < 3) {
    await runner.run();
    warm++;
  }
  // Runs per batch from the warm-up's pace, so every batch times the same number of runs.
  const perBatch = Math.max(1, Math.round(batchMs / ((performance.now() - t0) / warm)));
  const faults0 = process.resourceUsage().minorPageFault;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let i = 0; i < perBatch; i++) await runner.run();
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    wall.push(t / perBatch);
    cpu.push((c.user + c.system) / 1000 / perBatch);
  }
  const faults = (process.resourceUsage().minorPageFault - faults0) / (batches * perBatch);
  runner.dispose?.();
  process.stdout.write(JSON.stringify({ wallMs: median(wall), cpuMs: median(cpu), cpuBestMs: Math.min(...cpu), faults } satisfies ChildResult) + '\n');
  process.exit(0);
}

function main(): void {
  const trees = option('--trees', '.').split(',').map((t) => resolve(t));
  const rows = option('--rows', 'chain-1000,mlp-b64,mlp-b256,scalar-mlp').split(',');
  const rounds = Number(option('--rounds', '7'));
  const self = fileURLToPath(import.meta.url);
  const passOn = ['--warmup-ms', '--batch-ms', '--batches'].flatMap((o) => (process.argv.includes(o) ? [o, option(o, '')] : []));
  console.log(`trees: ${trees.join(' | ')}; load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const row of rows) {
    const results: ChildResult[][] = trees.map(() => []);
    for (let r = 0; r < rounds; r++) {
      // Rotate which tree goes first, so a drift in load favours none.
      for (let k = 0; k < trees.length; k++) {
        const t = (k + r) % trees.length;
        const out = execFileSync(process.execPath, [resolve(trees[t]!, 'scripts/run.mjs'), self, '--child', trees[t]!, '--row', row, ...passOn], {
          encoding: 'utf8',
          // Peers' versions are read from the bench directory of the tree that runs.
          cwd: resolve(trees[t]!, 'bench'),
          env: { ...process.env, CHAINRULE_BENCH_DIR: resolve(trees[t]!, 'bench') },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        results[t]!.push(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
      }
    }
    const cpu0 = median(results[0]!.map((x) => x.cpuMs));
    const best0 = median(results[0]!.map((x) => x.cpuBestMs));
    const line = trees.map((tree, t) => {
      const cpu = median(results[t]!.map((x) => x.cpuMs));
      const best = median(results[t]!.map((x) => x.cpuBestMs));
      const wall = median(results[t]!.map((x) => x.wallMs));
      const faults = median(results[t]!.map((x) => x.faults));
      const ratio = t === 0 ? '' : ` (cpu ${(cpu / cpu0).toFixed(3)}×, best ${(best / best0).toFixed(3)}× first)`;
      return `${tree.split('/').pop()}: cpu ${cpu.toFixed(4)} ms, best ${best.toFixed(4)} ms, wall ${wall.toFixed(4)} ms, ${faults.toFixed(1)} page faults${ratio}`;
    });
    console.log(`${row}: ${line.join('; ')}`);
  }
}

if (process.argv.includes('--child')) await child(option('--child', ''), option('--row', ''));
else main();

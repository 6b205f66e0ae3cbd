/**
 * Scalar Value graph micro-benchmark: the bench's `scalar` workload (a 2-16-16-1 tanh MLP over
 * 100 samples built neuron by neuron from Values, MSE, backward, SGD) for one or more Value
 * implementations. Each implementation runs in its own fresh process per round (so no heap is
 * shared), the implementations alternate with a rotating start, and each figure is the median
 * over rounds of the per-round median ms per step.
 *
 *   node scripts/run.mjs bench/micro/scalar.ts                       # the workspace's Value
 *   node scripts/run.mjs bench/micro/scalar.ts --impl a.ts,b.ts      # modules exporting Value
 *   node scripts/run.mjs bench/micro/scalar.ts --impl a.ts,a.ts+prelude   # one entry with the prelude
 *   options: --rounds N (default 9), --steps N per round (default 40), --warmup-ms N (default 1500),
 *            --prelude: first run the bench's other chainrule workloads for ~0.4 s each, as the
 *            bench's worker process does before it reaches the scalar workload
 *            --harness: time as the bench does (bench/src/harness.ts: 0.4 s warm-up, then 15
 *            batches of ~80 ms with an event-loop turn between them); implies --prelude
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scalarStep, type ValueClass } from '../src/scalar-workload.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const workspaceValue = resolve(root, 'packages/autograd/src/value.ts');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The bench's chainrule workloads before `scalar`, each set up and run for about 0.4 s. */
async function prelude(): Promise<void> {
  const { contender } = await import('../src/chainrule.js');
  const { workloads } = await import('../src/workloads.js');
  for (const w of workloads(false)) {
    if (w.kind === 'scalar') continue;
    const runner = await contender.setup(w);
    if ('unsupported' in runner) continue;
    const t0 = performance.now();
    while (performance.now() - t0 < 400) await runner.run();
    runner.dispose?.();
  }
}

/** Per-step times of a warmed-up `step`, and the CPU time per step over the same runs. */
interface Timing {
  perStep: number[];
  cpuMsPerStep: number;
}

/** Times single steps after a fixed warm-up. */
function simpleTiming(step: () => number, steps: number, warmupMs: number): Timing {
  const t0 = performance.now();
  while (performance.now() - t0 < warmupMs) step();
  const perStep: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    perStep.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  return { perStep, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps };
}

/** The bench's own timing of a cell (harness.ts): calibrate, then 15 batches with an event-loop turn between. */
async function benchTiming(step: () => number): Promise<Timing> {
  const { calibrate, measure } = await import('../src/harness.js');
  const { timed, calibration } = await calibrate({ run: step }, { warmupMs: 400, minWarmupRuns: 3, targetBatchMs: 80, slowRunMs: 1000 });
  const perStep: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < 15; r++) {
    await new Promise((resolve) => setImmediate(resolve));
    perStep.push((await measure(timed, calibration.batch)) / calibration.batch);
  }
  const cpu = process.cpuUsage(cpu0);
  return { perStep, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / (15 * calibration.batch) };
}

async function child(impl: string, steps: number, warmupMs: number): Promise<void> {
  const { Value } = (await import(pathToFileURL(impl).href)) as { Value: ValueClass };
  const harness = process.argv.includes('--harness');
  if (harness || process.argv.includes('--prelude')) await prelude();
  const step = scalarStep(Value);
  // The loss after five SGD steps depends on every gradient: implementations must agree on it.
  let loss = 0;
  for (let i = 0; i < 5; i++) loss = step();
  const { perStep, cpuMsPerStep } = harness ? await benchTiming(step) : simpleTiming(step, steps, warmupMs);
  process.stdout.write(JSON.stringify({ median: median(perStep), cpuMs: cpuMsPerStep, loss5: loss }) + '\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    await child(option('--child', ''), Number(option('--steps', '40')), Number(option('--warmup-ms', '1500')));
    return;
  }
  const entries = option('--impl', workspaceValue).split(',');
  const impls = entries.map((p) => resolve(p.replace(/\+prelude$/, '')));
  const withPrelude = entries.map((p) => p.endsWith('+prelude'));
  const rounds = Number(option('--rounds', '9'));
  const passArgs = ['--steps', option('--steps', '40'), '--warmup-ms', option('--warmup-ms', '1500')];
  if (process.argv.includes('--prelude')) passArgs.push('--prelude');
  if (process.argv.includes('--harness')) passArgs.push('--harness');
  const nodeFlags = option('--node-flags', '').split(' ').filter(Boolean);
  const runner = resolve(root, 'scripts/run.mjs');
  const results = impls.map(() => [] as number[]);
  const cpus = impls.map(() => [] as number[]);
  const losses = impls.map(() => '');
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < impls.length; k++) {
      const i = (r + k) % impls.length;
      const args = [...nodeFlags, runner, fileURLToPath(import.meta.url), '--child', impls[i]!, ...passArgs, ...(withPrelude[i] ? ['--prelude'] : [])];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
      const res = JSON.parse(out.trim().split('\n').pop()!) as { median: number; cpuMs: number; loss5: number };
      results[i]!.push(res.median);
      cpus[i]!.push(res.cpuMs);
      losses[i] = `loss after 5 steps ${res.loss5.toPrecision(15)}`;
    }
  }
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const base = results[0]!;
  impls.forEach((impl, i) => {
    const ratios = results[i]!.map((t, r) => base[r]! / t);
    console.log(
      `${(impl.replace(root + '/', '') + (withPrelude[i] ? ' +prelude' : '')).padEnd(50)} median ${median(results[i]!).toFixed(2)} ms/step  ` +
        `(rounds ${Math.min(...results[i]!).toFixed(2)}–${Math.max(...results[i]!).toFixed(2)}; ` +
        `speed vs first ${median(ratios).toFixed(2)}×; CPU ${median(cpus[i]!).toFixed(2)} ms/step; ${losses[i]})`,
    );
  });
}

await main();

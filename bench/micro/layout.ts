/**
 * The layout rows of `pnpm bench` (concat along the last axis, cumsum) alone, for a quick look
 * without the full run: each contender in its own process, the median of a few batches, in the
 * report's unit (GB/s of result). PyTorch runs through bench/src/torch.py when a Python with
 * torch is found (single thread, as in the full run).
 *
 *   node scripts/run.mjs bench/micro/layout.ts [--only=chainrule,jax-js,tfjs-wasm,tfjs-cpu,pytorch] [--rounds N]
 */
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricOf, describe, workloads } from '../src/workloads.js';
import type { Contender, LayoutWorkload, Workload } from '../src/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, '..');
const option = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(option('rounds') ?? 7);
const rows = workloads(true).filter((w): w is LayoutWorkload => w.kind === 'layout');

const JS: Record<string, () => Promise<Contender>> = {
  chainrule: async () => (await import('../src/chainrule.js')).contender,
  'jax-js': async () => (await import('../src/jax.js')).contender,
  'tfjs-wasm': async () => (await import('../src/tfjs-wasm.js')).contender,
  'tfjs-cpu': async () => (await import('../src/tfjs-cpu.js')).contender,
};

/** ms per run: the median over `rounds` batches of runs lasting ~50 ms each, after a warm-up. */
async function timeRuns(run: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await run();
  let t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 50) {
    await run();
    n++;
  }
  const batch = Math.max(1, n);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    for (let i = 0; i < batch; i++) await run();
    times.push((performance.now() - t0) / batch);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function child(name: string): Promise<void> {
  const contender = await JS[name]!();
  await contender.load();
  const out: Record<string, number | string> = {};
  for (const w of rows) {
    const runner = await contender.setup(w);
    if ('unsupported' in runner) {
      out[w.id] = runner.unsupported;
      continue;
    }
    out[w.id] = await timeRuns(() => runner.run());
    runner.dispose?.();
  }
  console.log(JSON.stringify(out));
}

function pytorch(): Promise<Record<string, number | string>> {
  return new Promise((resolveAll, reject) => {
    const py = spawn('/usr/bin/python3', [join(benchDir, 'src', 'torch.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const queue = [...rows];
    const out: Record<string, number | string> = {};
    let current: Workload | undefined;
    let samples: number[] = [];
    let batch = 1;
    const send = (msg: object): void => void py.stdin.write(`${JSON.stringify(msg)}\n`);
    const next = (): void => {
      current = queue.shift();
      if (current === undefined) {
        send({ type: 'exit' });
        resolveAll(out);
        return;
      }
      samples = [];
      send({ type: 'setup', workload: current, timing: { warmupMs: 200, minWarmupRuns: 5, targetBatchMs: 50, slowRunMs: 1000 } });
    };
    let buffer = '';
    py.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('@@bench ')) continue;
        const reply = JSON.parse(line.slice(8)) as { type: string; calibration?: { batch: number }; totalMs?: number; reason?: string; message?: string };
        if (reply.type === 'loaded') next();
        else if (reply.type === 'unsupported') {
          out[current!.id] = reply.reason!;
          next();
        } else if (reply.type === 'ready') {
          batch = reply.calibration!.batch;
          send({ type: 'measure', batch });
        } else if (reply.type === 'sample') {
          samples.push(reply.totalMs! / batch);
          if (samples.length < rounds) send({ type: 'measure', batch });
          else {
            out[current!.id] = samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
            next();
          }
        } else if (reply.type === 'error') reject(new Error(reply.message));
      }
    });
    send({ type: 'load' });
  });
}

async function main(): Promise<void> {
  const childName = option('contender');
  if (childName !== undefined) return child(childName);
  const names = (option('only') ?? 'chainrule,jax-js,tfjs-wasm,tfjs-cpu,pytorch').split(',');
  const results: Record<string, Record<string, number | string>> = {};
  for (const name of names) {
    try {
      if (name === 'pytorch') results[name] = await pytorch();
      else {
        const text = execFileSync(process.execPath, [join(benchDir, '..', 'scripts', 'run.mjs'), fileURLToPath(import.meta.url), `--contender=${name}`, `--rounds=${rounds}`], {
          env: { ...process.env, CHAINRULE_BENCH_DIR: benchDir },
          encoding: 'utf8',
        });
        results[name] = JSON.parse(text.trim().split('\n').pop()!) as Record<string, number | string>;
      }
    } catch (e) {
      results[name] = Object.fromEntries(rows.map((w) => [w.id, `failed: ${(e as Error).message.split('\n')[0]}`]));
    }
  }
  for (const w of rows) {
    const metric = metricOf(w);
    console.log(describe(w));
    for (const name of names) {
      const v = results[name]?.[w.id];
      console.log(`  ${name.padEnd(10)} ${typeof v === 'number' ? `${metric.fromMs(v).toFixed(2)} ${metric.unit} (${v.toFixed(3)} ms)` : v}`);
    }
  }
}

await main();

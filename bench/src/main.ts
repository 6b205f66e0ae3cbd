// `pnpm bench [--quick] [--only=a,b] [--out=file]`: runs every workload for chainrule and each
// peer, alternating contenders round by round, and prints medians, spreads and speed relative
// to chainrule; the results also go to bench/results/latest.json.
//
// Each contender lives in its own process (worker.ts, or torch.py for PyTorch); only one of
// them computes at a time. Exit code: 1 only if chainrule itself fails; a peer that cannot
// load, or does not support a workload, is reported as such.

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { median, summarize } from './harness.js';
import { benchDir } from './peers.js';
import { formatReport, writeResults, type BenchResults, type CellResult, type ContenderStatus, type WorkloadResult } from './report.js';
import type { Calibration, Reply, TimingOptions, Workload } from './types.js';
import { WorkerProcess } from './workers.js';
import { describe, familyOf, memoryRequest, metricOf, workloads } from './workloads.js';

interface Config {
  timing: TimingOptions;
  minRounds: number;
  maxRounds: number;
  /** Measuring time aimed at per contender and workload. */
  cellBudgetMs: number;
  /** Never spend more than this measuring one contender on one workload. */
  slowCellCapMs: number;
  /** Skip a workload whose run is estimated (from the previous size) to take longer. */
  estimateSkipMs: number;
  requestTimeoutMs: number;
  /** After this, remaining cells are skipped (keeps the CI smoke run short). */
  deadlineMs: number;
  /**
   * Idle time before each batch: the previous contender's process may still be collecting
   * garbage or winding down threads, and a contender that uses both cores would pay for it.
   */
  settleMs: number;
}

const FULL: Config = {
  timing: { warmupMs: 400, minWarmupRuns: 3, targetBatchMs: 80, slowRunMs: 1000 },
  minRounds: 3,
  maxRounds: 15,
  cellBudgetMs: 1500,
  slowCellCapMs: 20_000,
  estimateSkipMs: 10_000,
  requestTimeoutMs: 300_000,
  deadlineMs: 60 * 60_000,
  settleMs: 25,
};

const QUICK: Config = {
  timing: { warmupMs: 150, minWarmupRuns: 3, targetBatchMs: 40, slowRunMs: 400 },
  minRounds: 3,
  maxRounds: 3,
  cellBudgetMs: 120,
  slowCellCapMs: 2000,
  estimateSkipMs: 2000,
  requestTimeoutMs: 45_000,
  deadlineMs: 80_000,
  settleMs: 0,
};

const NODE_CONTENDERS = ['chainrule', 'chainrule-1t', 'chainrule-fma', 'jax-js', 'tfjs-wasm', 'tfjs-cpu', 'js-pytorch'];

/**
 * chainrule as a user would meet it elsewhere: on one thread (as every JavaScript peer runs),
 * and with relaxed-SIMD fused multiply-add, which browsers and Node 22+ have on by default and
 * Node 20 only behind a flag.
 */
const VARIANTS: Record<string, { flags?: string[]; env?: Record<string, string> }> = {
  'chainrule-1t': { env: { CHAINRULE_THREADS: '1' } },
  'chainrule-fma': { flags: ['--experimental-wasm-relaxed-simd'] },
};
const PYTORCH = 'pytorch';

const t0 = performance.now();
const elapsed = (): number => performance.now() - t0;
const log = (msg: string): void => void process.stderr.write(`[${(elapsed() / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

function parseArgs(argv: string[]): { quick: boolean; only?: string[]; workloads?: string[]; out?: string } {
  const opts: { quick: boolean; only?: string[]; workloads?: string[]; out?: string } = { quick: false };
  for (const a of argv) {
    if (a === '--quick') opts.quick = true;
    else if (a.startsWith('--only=')) opts.only = a.slice(7).split(',').filter(Boolean);
    else if (a.startsWith('--workloads=')) opts.workloads = a.slice(12).split(',').filter(Boolean);
    else if (a.startsWith('--out=')) opts.out = a.slice(6);
    else if (a === '--help' || a === '-h') {
      console.log('usage: pnpm bench [--quick] [--only=chainrule,jax-js,...] [--workloads=solve-f64-256,...] [--out=results/file.json]');
      process.exit(0);
    } else {
      console.error(`bench: unknown argument "${a}" (try --help)`);
      process.exit(2);
    }
  }
  return opts;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1]?.trim() ?? '';
}

/** The first Python that imports torch: $BENCH_PYTHON, python3, /usr/bin/python3. */
async function findPython(): Promise<{ python?: string; reason?: string }> {
  const candidates = [...new Set([process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))];
  const reasons: string[] = [];
  for (const py of candidates) {
    const result = await new Promise<string | undefined>((resolve) => {
      execFile(py, ['-c', 'import torch'], { timeout: 60_000 }, (err, _stdout, stderr) =>
        resolve(err ? lastLine(stderr) || err.message : undefined),
      );
    });
    if (result === undefined) return { python: py };
    reasons.push(`${py}: ${result}`);
  }
  return {
    reason: `no Python with torch (${reasons.join('; ')}); on Debian: apt-get install python3-torch libopenblas0-pthread`,
  };
}

/** Family/model and the SIMD flags that matter to kernels, from /proc/cpuinfo (Linux only). */
function cpuDetail(): string | undefined {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
    const flags = new Set((field('flags') ?? '').split(/\s+/));
    const simd = ['avx2', 'fma', 'avx512f'].filter((f) => flags.has(f));
    return `family ${field('cpu family') ?? '?'} model ${field('model') ?? '?'}${simd.length ? `, ${simd.join('+')}` : ''}`;
  } catch {
    return undefined;
  }
}

function machineInfo(dir: string): BenchResults['machine'] {
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = undefined;
  }
  const cpuList = cpus();
  const detail = cpuDetail();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    ...(detail ? { cpuDetail: detail } : {}),
    cores: cpuList.length,
    memoryGB: totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverageStart: loadavg(),
    ...(commit ? { commit } : {}),
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Live {
  name: string;
  worker: WorkerProcess;
  /** Set when the process died: every later cell is skipped with this reason. */
  dead?: string;
  /** Last per-run time in each workload family, for the too-slow estimate. */
  lastRun: Map<string, { scale: number; perRunMs: number; id: string }>;
}

async function request(live: Live, req: Parameters<WorkerProcess['request']>[0], cfg: Config): Promise<Reply> {
  try {
    return await live.worker.request(req, cfg.requestTimeoutMs);
  } catch (e) {
    live.dead = errorText(e);
    throw e;
  }
}

async function startContenders(names: string[], dir: string, cfg: Config): Promise<{ live: Live[]; statuses: ContenderStatus[] }> {
  const wantTorch = names.includes(PYTORCH);
  const pythonP: Promise<{ python?: string; reason?: string }> = wantTorch ? findPython() : Promise.resolve({});
  const starts = names.map(async (name): Promise<{ status: ContenderStatus; live?: Live }> => {
    let worker: WorkerProcess;
    if (name === PYTORCH) {
      const { python, reason } = await pythonP;
      if (!python) return { status: { name, available: false, reason: reason ?? 'no Python' } };
      worker = WorkerProcess.python(name, python, dir);
    } else worker = WorkerProcess.node(name, dir, VARIANTS[name]?.flags, VARIANTS[name]?.env);
    const live: Live = { name, worker, lastRun: new Map() };
    try {
      const reply = await request(live, { type: 'load' }, cfg);
      if (reply.type === 'loaded') return { status: { name, available: true, info: reply.info }, live };
      worker.kill();
      return { status: { name, available: false, reason: reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}` } };
    } catch (e) {
      worker.kill();
      return { status: { name, available: false, reason: errorText(e) } };
    }
  });
  const started = await Promise.all(starts);
  for (const s of started) {
    log(s.status.available ? `${s.status.name}: ${s.status.info!.version}, ${s.status.info!.backend}` : `${s.status.name}: unavailable (${s.status.reason})`);
  }
  return { live: started.flatMap((s) => (s.live ? [s.live] : [])), statuses: started.map((s) => s.status) };
}

function roundsFor(cal: Calibration, cfg: Config): number {
  const batchMs = cal.batch * cal.perRunMs;
  let rounds = Math.min(cfg.maxRounds, Math.max(cfg.minRounds, Math.floor(cfg.cellBudgetMs / batchMs)));
  if (rounds * batchMs > cfg.slowCellCapMs) rounds = Math.floor(cfg.slowCellCapMs / batchMs);
  return rounds;
}

/**
 * chainrule's time over the contender's, paired round by round (both ran within the same
 * second or so), then the median: steadier than a ratio of medians when the machine's load
 * drifts during the run.
 */
function pairedRatio(base: CellResult, cell: CellResult): number {
  const a = base.samplesMs!;
  const b = cell.samplesMs!;
  const n = Math.min(a.length, b.length);
  if (base.warmupOnly || cell.warmupOnly || n === 0) return base.ms!.median / cell.ms!.median;
  return median(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}

async function runWorkload(w: Workload, contenders: Live[], cfg: Config): Promise<WorkloadResult> {
  const metric = metricOf(w);
  const { family, scale } = familyOf(w);
  const cells: Record<string, CellResult> = {};
  const ready: { live: Live; cal: Calibration; rounds: number; samples: number[] }[] = [];

  for (const live of contenders) {
    if (live.dead) {
      cells[live.name] = { status: 'skipped', reason: `worker stopped earlier (${live.dead})` };
      continue;
    }
    if (elapsed() > cfg.deadlineMs) {
      cells[live.name] = { status: 'skipped', reason: 'time budget of this run spent' };
      continue;
    }
    const prev = live.lastRun.get(family);
    if (prev) {
      const estimate = (prev.perRunMs * scale) / prev.scale;
      if (estimate > cfg.estimateSkipMs) {
        cells[live.name] = { status: 'skipped', reason: `too slow: ~${(estimate / 1000).toFixed(0)} s per run, from ${prev.id}` };
        continue;
      }
    }
    try {
      const reply = await request(live, { type: 'setup', workload: w, timing: cfg.timing }, cfg);
      if (reply.type === 'ready') {
        live.lastRun.set(family, { scale, perRunMs: reply.calibration.perRunMs, id: w.id });
        ready.push({ live, cal: reply.calibration, rounds: roundsFor(reply.calibration, cfg), samples: [] });
      } else if (reply.type === 'unsupported') cells[live.name] = { status: 'unsupported', reason: reply.reason };
      else cells[live.name] = { status: 'failed', reason: reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}` };
    } catch (e) {
      cells[live.name] = { status: 'failed', reason: errorText(e) };
    }
  }

  // Round-robin, with the starting contender rotating so no one always runs first.
  const maxRounds = Math.max(0, ...ready.map((r) => r.rounds));
  for (let round = 0; round < maxRounds; round++) {
    for (let k = 0; k < ready.length; k++) {
      const r = ready[(round + k) % ready.length]!;
      if (round >= r.rounds || r.live.dead || cells[r.live.name]) continue;
      if (cfg.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, cfg.settleMs));
      try {
        const reply = await request(r.live, { type: 'measure', batch: r.cal.batch }, cfg);
        if (reply.type === 'sample') r.samples.push(reply.totalMs / reply.batch);
        else cells[r.live.name] = { status: 'failed', reason: reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}` };
      } catch (e) {
        cells[r.live.name] = { status: 'failed', reason: errorText(e) };
      }
    }
  }

  for (const r of ready) {
    if (!r.live.dead) {
      try {
        await request(r.live, { type: 'teardown' }, cfg);
      } catch {
        // reported through live.dead on the next workload
      }
    }
    if (cells[r.live.name]) continue;
    const warmupOnly = r.samples.length === 0;
    const samples = warmupOnly ? [r.cal.perRunMs] : r.samples;
    const ms = summarize(samples);
    const value = summarize(samples.map(metric.fromMs));
    r.live.lastRun.set(family, { scale, perRunMs: ms.median, id: w.id });
    cells[r.live.name] = {
      status: 'ok',
      calibration: r.cal,
      batch: r.cal.batch,
      rounds: r.samples.length,
      samplesMs: samples,
      ms,
      value,
      ...(warmupOnly ? { warmupOnly, reason: 'one slow run: warm-up figure only' } : {}),
    };
  }
  const base = cells.chainrule;
  for (const cell of Object.values(cells)) {
    if (cell.status === 'ok' && base?.status === 'ok') cell.speedVsChainrule = pairedRatio(base, cell);
  }
  // Keep the contenders' order in the table.
  const ordered: Record<string, CellResult> = {};
  for (const live of contenders) if (cells[live.name]) ordered[live.name] = cells[live.name]!;
  return { workload: w, title: describe(w), unit: metric.unit, higherIsBetter: metric.higherIsBetter, cells: ordered };
}

async function measureMemory(dir: string, cfg: Config, quick: boolean): Promise<BenchResults['memory']> {
  const worker = WorkerProcess.node('chainrule', dir, ['--expose-gc']);
  const live: Live = { name: 'chainrule', worker, lastRun: new Map() };
  try {
    const loaded = await request(live, { type: 'load' }, cfg);
    if (loaded.type !== 'loaded') throw new Error(loaded.type === 'error' ? loaded.message : loaded.type);
    const reply = await request(live, { type: 'memory', request: memoryRequest(quick) }, cfg);
    if (reply.type === 'memory') return { contender: 'chainrule', report: reply.report };
    return { contender: 'chainrule', error: reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}` };
  } catch (e) {
    return { contender: 'chainrule', error: errorText(e) };
  } finally {
    await worker.close();
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const cfg = opts.quick ? QUICK : FULL;
  const dir = benchDir();
  const date = new Date().toISOString();
  const machine = machineInfo(dir);
  const names = opts.only ?? [...NODE_CONTENDERS, PYTORCH];
  if (!names.includes('chainrule')) log('note: chainrule not selected: no ratios');

  log(`${opts.quick ? 'quick' : 'full'} run on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`);
  const { live, statuses } = await startContenders(names, dir, cfg);
  const results: WorkloadResult[] = [];
  const chosen = workloads(opts.quick).filter((w) => opts.workloads === undefined || opts.workloads.includes(w.id));
  if (chosen.length === 0) {
    console.error(`bench: no workload matches --workloads=${opts.workloads?.join(',')}; ids: ${workloads(false).map((w) => w.id).join(', ')}`);
    return 2;
  }
  for (const w of chosen) {
    const r = await runWorkload(w, live, cfg);
    results.push(r);
    const parts = Object.entries(r.cells).map(([n, c]) => (c.status === 'ok' ? `${n} ${c.value!.median.toPrecision(3)}` : `${n} ${c.status}`));
    log(`${w.id} (${r.unit}): ${parts.join(', ')}`);
  }
  await Promise.all(live.map((l) => l.worker.close()));

  let memory: BenchResults['memory'];
  if (names.includes('chainrule')) {
    if (elapsed() > cfg.deadlineMs) memory = { contender: 'chainrule', error: 'skipped: time budget of this run spent' };
    else {
      memory = await measureMemory(dir, cfg, opts.quick);
      log(memory?.report ? `memory: RSS ${memory.report.rssAfterFirstEpochMB.toFixed(0)} MB after epoch 1 -> ${memory.report.rssAfterTrainMB.toFixed(0)} MB after the last` : `memory: ${memory?.error}`);
    }
  }

  const notes: string[] = [];
  if (opts.quick) notes.push('quick run: few short rounds, for a smoke test; use `pnpm bench` for figures');
  const res: BenchResults = {
    schema: 1,
    mode: opts.quick ? 'quick' : 'full',
    date,
    durationSeconds: elapsed() / 1000,
    machine: { ...machine, loadAverageEnd: loadavg() },
    contenders: statuses,
    workloads: results,
    ...(memory ? { memory } : {}),
    notes,
  };
  const out = opts.out ? join(process.cwd(), opts.out) : join(dir, 'results', 'latest.json');
  writeResults(res, out);
  console.log(formatReport(res));
  console.log(`results: ${out}`);

  // Only chainrule's own failures fail the run; peers' are reported.
  const chainrule = statuses.find((s) => s.name === 'chainrule');
  const failures: string[] = [];
  if (chainrule && !chainrule.available) failures.push(`chainrule did not load: ${chainrule.reason}`);
  for (const r of results) {
    const c = r.cells.chainrule;
    if (c?.status === 'failed') failures.push(`chainrule failed ${r.workload.id}: ${c.reason}`);
  }
  if (memory?.error && !memory.error.startsWith('skipped')) failures.push(`chainrule memory run failed: ${memory.error}`);
  for (const f of failures) console.error(`bench: ${f}`);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();

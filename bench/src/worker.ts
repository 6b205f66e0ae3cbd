// Worker process: hosts one contender and answers the orchestrator's requests over the IPC
// channel. One process per contender keeps peers from sharing a heap, WASM memory or a
// global backend registry, and keeps each process's warm-up out of every timing.
//
// usage (from main.ts): node scripts/run.mjs bench/src/worker.ts <contender>

import { calibrate, measure, type Timed } from './harness.js';
import type { Contender, MemoryReport, MemoryRequest, Reply, Request, Runner } from './types.js';

// Imported on demand: a contender whose module throws as it loads (chainrule included) takes
// down its own worker only.
const CONTENDERS: Record<string, () => Promise<Contender>> = {
  chainrule: async () => (await import('./chainrule.js')).contender,
  // The same code, started with another thread setting or Node flag (main.ts's VARIANTS).
  'chainrule-1t': async () => (await import('./chainrule.js')).contender,
  'chainrule-fma': async () => (await import('./chainrule.js')).contender,
  'jax-js': async () => (await import('./jax.js')).contender,
  'tfjs-wasm': async () => (await import('./tfjs-wasm.js')).contender,
  'tfjs-cpu': async () => (await import('./tfjs-cpu.js')).contender,
  'js-pytorch': async () => (await import('./js-pytorch.js')).contender,
};

function send(reply: Reply): void {
  process.send!(reply);
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

const MB = 1024 * 1024;

async function memory(contender: Contender, req: MemoryRequest): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssStart = process.memoryUsage().rss;
  const runner = await contender.setup({ kind: 'mlp', id: 'memory', batch: req.batch, batches: req.batches, lr: req.lr });
  if ('unsupported' in runner) throw new Error(`memory: ${runner.unsupported}`);
  const rssAfterSetup = process.memoryUsage().rss;
  const steps = req.epochs * req.batches;
  const t0 = performance.now();
  // The first epoch pays for one-time growth (WebAssembly memory, a helper thread); flat
  // means no growth from there on.
  let rssAfterFirstEpoch = 0;
  for (let i = 0; i < steps; i++) {
    await runner.run();
    if (i === req.batches - 1) rssAfterFirstEpoch = process.memoryUsage().rss;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage();
  const report: MemoryReport = {
    rssStartMB: rssStart / MB,
    rssAfterSetupMB: rssAfterSetup / MB,
    rssAfterFirstEpochMB: rssAfterFirstEpoch / MB,
    rssAfterTrainMB: after.rss / MB,
    heapUsedAfterTrainMB: after.heapUsed / MB,
    epochs: req.epochs,
    samples: req.batch * req.batches,
    steps,
    trainSeconds,
  };
  if (gc) {
    gc();
    const m = process.memoryUsage();
    report.rssAfterGcMB = m.rss / MB;
    report.heapUsedAfterGcMB = m.heapUsed / MB;
  }
  runner.dispose?.();
  return report;
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  if (!process.send) throw new Error('worker.ts must be started by main.ts with an IPC channel');
  let contender: Contender | undefined;
  let current: { runner: Runner; timed?: Timed } | undefined;

  const handle = async (req: Request): Promise<void> => {
    try {
      if (req.type === 'load') {
        const importer = CONTENDERS[name];
        if (!importer) throw new Error(`unknown contender "${name}" (known: ${Object.keys(CONTENDERS).join(', ')})`);
        contender = await importer();
        send({ type: 'loaded', info: await contender.load() });
        return;
      }
      if (!contender) throw new Error(`${req.type} before load`);
      switch (req.type) {
        case 'setup': {
          current?.runner.dispose?.();
          current = undefined;
          const r = await contender.setup(req.workload);
          if ('unsupported' in r) {
            send({ type: 'unsupported', reason: r.unsupported });
            return;
          }
          current = { runner: r };
          const { timed, calibration } = await calibrate(r, req.timing);
          current.timed = timed;
          send({ type: 'ready', calibration });
          return;
        }
        case 'measure':
          if (!current?.timed) throw new Error('measure before setup');
          send({ type: 'sample', totalMs: await measure(current.timed, req.batch), batch: req.batch });
          return;
        case 'teardown':
          current?.runner.dispose?.();
          current = undefined;
          send({ type: 'done' });
          return;
        case 'memory':
          send({ type: 'memory', report: await memory(contender, req.request) });
          return;
        case 'exit':
          process.exit(0);
      }
    } catch (e) {
      send({ type: 'error', message: errorMessage(e) });
    }
  };

  // Requests are strictly sequential: the orchestrator waits for each reply.
  let queue = Promise.resolve();
  process.on('message', (msg: Request) => {
    queue = queue.then(() => handle(msg));
  });
  process.on('disconnect', () => process.exit(0));
}

await main();

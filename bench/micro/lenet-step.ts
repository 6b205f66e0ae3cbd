/**
 * LeNet-5 training-step micro-benchmark: the bench's lenet workload (fwd+bwd+SGD, batch 64) for
 * chainrule and, with --peers, other contenders in this one process, alternating round by round.
 * Each figure is the median over rounds of wall time and of this process's CPU time (user+system,
 * far steadier on a loaded machine; above wall time when a helper thread works beside the main one).
 *
 *   node scripts/run.mjs bench/micro/lenet-step.ts                          # chainrule
 *   node scripts/run.mjs bench/micro/lenet-step.ts --peers jax-js,tfjs-cpu  # ratios against peers
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/run.mjs bench/micro/lenet-step.ts --rounds 40
 *   node scripts/run.mjs bench/micro/lenet-step.ts --base /tmp/other-checkout  # A/B against another checkout's chainrule
 *   options: --batch 64  --rounds N (default 15)  --ms per round per contender (default 200)
 *
 * In-process figures share one heap and are only a guide: the bench's separate processes decide.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

process.env.CHAINRULE_BENCH_DIR ??= resolve(fileURLToPath(import.meta.url), '..', '..');

const { contender: chainrule } = await import('../src/chainrule.js');
type Contender = typeof chainrule;
const batch = Number(option('--batch') ?? 64);
const rounds = Number(option('--rounds') ?? 15);
const roundMs = Number(option('--ms') ?? 200);
const peerNames = (option('--peers') ?? '').split(',').filter(Boolean);

const contenders: Contender[] = [chainrule];
const base = option('--base');
if (base !== undefined) {
  // Another checkout (with its own node_modules) of the same tree: its chainrule loads as a second contender.
  const other = ((await import(resolve(base, 'bench/src/chainrule.ts'))) as { contender: Contender }).contender;
  contenders.push({ ...other, name: `chainrule (${base})` });
}
for (const name of peerNames) {
  const file = name === 'jax-js' ? 'jax.js' : `${name}.js`;
  contenders.push(((await import(`../src/${file}`)) as { contender: Contender }).contender);
}
for (const c of contenders) await c.load();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const runners = [];
for (const c of contenders) {
  const r = await c.setup({ kind: 'lenet', id: `lenet-b${batch}`, batch, lr: 0.01 });
  if ('unsupported' in r) throw new Error(`${c.name}: ${r.unsupported}`);
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) await r.run(); // warm-up
  runners.push(r);
}
const wall: number[][] = contenders.map(() => []);
const cpu: number[][] = contenders.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let c = 0; c < runners.length; c++) {
    const r = runners[c]!;
    let steps = 0;
    const t0 = performance.now(), c0 = cpuMs();
    while (performance.now() - t0 < roundMs) {
      await r.run();
      steps++;
    }
    wall[c]!.push((performance.now() - t0) / steps);
    cpu[c]!.push((cpuMs() - c0) / steps);
  }
}
for (let c = 0; c < contenders.length; c++) {
  const w = median(wall[c]!), u = median(cpu[c]!);
  console.log(`${contenders[c]!.name}: ${((batch / w) * 1000).toFixed(0)} samples/s wall (${w.toFixed(2)} ms/step), ${u.toFixed(2)} ms CPU/step`);
}
for (const r of runners) r.dispose?.();

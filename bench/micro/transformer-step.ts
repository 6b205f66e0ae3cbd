/**
 * Transformer-encoder training-step micro-benchmark: the bench's `transformer-encoder-b16`
 * workload (one TransformerEncoderLayer step, d=128, 4 heads, ff 512, seq 64, fwd+bwd+SGD),
 * median of rounds in wall-clock and in process CPU time (the steadier of the two on a shared
 * machine, though still noisy). A process to profile, too:
 *
 *   node scripts/run.mjs bench/micro/transformer-step.ts
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/run.mjs bench/micro/transformer-step.ts --rounds 40
 *   node scripts/run.mjs bench/micro/transformer-step.ts --base /tmp/other-checkout  # A/B against another checkout's chainrule
 *   options: --batch 16 --seq 64 --rounds 15 --steps 3 (steps per round)
 *
 * With --base, the two run round by round in this process (A, B, A, B...), and the median of the
 * per-round CPU ratios is printed too. In-process figures share one heap and are only a guide.
 * CHAINRULE_THREADS=1 keeps the helper thread's polling out of the CPU figures.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const baseIndex = process.argv.indexOf('--base');
const base = baseIndex >= 0 ? process.argv[baseIndex + 1] : undefined;

process.env.CHAINRULE_BENCH_DIR ??= resolve(fileURLToPath(import.meta.url), '..', '..');
const { contender } = await import('../src/chainrule.js');
type Contender = typeof contender;
const contenders: { name: string; contender: Contender }[] = [{ name: 'chainrule', contender }];
if (base !== undefined) {
  // Another checkout (with its own node_modules) of the same tree: its chainrule loads as a second contender.
  const other = ((await import(resolve(base, 'bench/src/chainrule.ts'))) as { contender: Contender }).contender;
  contenders.push({ name: `chainrule (${base})`, contender: other });
}

const batch = option('--batch', 16);
const seq = option('--seq', 64);
const rounds = option('--rounds', 15);
const steps = option('--steps', 3);
const runners = [];
for (const { contender: c } of contenders) {
  await c.load();
  const r = await c.setup({ kind: 'transformer', id: 'transformer-encoder', batch, seq, dModel: 128, nhead: 4, dimFeedforward: 512, lr: 0.01 });
  if ('unsupported' in r) throw new Error(r.unsupported);
  for (let i = 0; i < 3; i++) await r.run(); // warm-up
  runners.push(r);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const wall: number[][] = runners.map(() => []);
const cpu: number[][] = runners.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let v = 0; v < runners.length; v++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let s = 0; s < steps; s++) await runners[v]!.run();
    const c = process.cpuUsage(c0);
    wall[v]!.push((performance.now() - t0) / steps);
    cpu[v]!.push((c.user + c.system) / 1000 / steps);
  }
}
for (let v = 0; v < runners.length; v++) {
  const w = median(wall[v]!), c = median(cpu[v]!);
  console.log(`${contenders[v]!.name} transformer-encoder b${batch} s${seq}: ${w.toFixed(1)} ms wall (${(batch / w * 1000).toFixed(0)} samples/s), ${c.toFixed(1)} ms CPU (${(batch / c * 1000).toFixed(0)} samples/s) per step`);
}
if (runners.length === 2) console.log(`median per-round CPU ratio, base / this: ${median(cpu[1]!.map((b, i) => b / cpu[0]![i]!)).toFixed(3)}`);
for (const r of runners) r.dispose?.();

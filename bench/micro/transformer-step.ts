/**
 * Transformer-encoder training-step micro-benchmark: the bench's `transformer-encoder-b16`
 * workload (one TransformerEncoderLayer step, d=128, 4 heads, ff 512, seq 64, fwd+bwd+SGD),
 * median of rounds in wall-clock and in process CPU time (the steadier of the two on a shared
 * machine, though still noisy). A process to profile, too:
 *
 *   node scripts/run.mjs bench/micro/transformer-step.ts
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/run.mjs bench/micro/transformer-step.ts --rounds 40
 *   options: --batch 16 --seq 64 --rounds 15 --steps 3 (steps per round)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

process.env.CHAINRULE_BENCH_DIR ??= resolve(fileURLToPath(import.meta.url), '..', '..');
const { contender } = await import('../src/chainrule.js');

const batch = option('--batch', 16);
const seq = option('--seq', 64);
const rounds = option('--rounds', 15);
const steps = option('--steps', 3);
await contender.load();
const r = await contender.setup({ kind: 'transformer', id: 'transformer-encoder', batch, seq, dModel: 128, nhead: 4, dimFeedforward: 512, lr: 0.01 });
if ('unsupported' in r) throw new Error(r.unsupported);
for (let i = 0; i < 3; i++) await r.run(); // warm-up

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const wall: number[] = [];
const cpu: number[] = [];
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let s = 0; s < steps; s++) await r.run();
  const c = process.cpuUsage(c0);
  wall.push((performance.now() - t0) / steps);
  cpu.push((c.user + c.system) / 1000 / steps);
}
const w = median(wall), c = median(cpu);
console.log(`transformer-encoder b${batch} s${seq}: ${w.toFixed(1)} ms wall (${(batch / w * 1000).toFixed(0)} samples/s), ${c.toFixed(1)} ms CPU (${(batch / c * 1000).toFixed(0)} samples/s) per step`);
r.dispose?.();

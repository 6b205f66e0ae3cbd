/**
 * LSTM training-step micro-benchmark: forward and backward of a 2-layer LSTM over a padded batch,
 * with and without per-sequence lengths, median of rounds, in wall-clock and in process CPU time
 * (the steadier of the two on a shared machine, though still noisy).
 *
 *   node scripts/run.mjs bench/micro/lstm-step.ts              # seq 32, batch 16, 32 -> 64
 *   options: --seq 32 --batch 16 --input 32 --hidden 64 --rounds 10
 */
import { randn } from '@chainrule/autograd';
import { LSTM } from '@chainrule/nn';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seq = option('--seq', 32);
const batch = option('--batch', 16);
const input = option('--input', 32);
const hidden = option('--hidden', 64);
const rounds = option('--rounds', 10);
const model = new LSTM(input, hidden, { numLayers: 2, batchFirst: true, seed: 0 });
const x = randn([batch, seq, input], { seed: 1 });
const lengths = Array.from({ length: batch }, (_, b) => seq - (b % Math.max(1, Math.floor(seq / 2))));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const [label, lens] of [['full length', null], ['varied lengths', lengths]] as const) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds + 2; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    model.zeroGrad();
    const [out] = model.forward(x, null, lens);
    out.square().mean().backward();
    const c = process.cpuUsage(c0);
    if (r >= 2) {
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  console.log(`LSTM 2x${hidden}, seq ${seq}, batch ${batch}, ${label}: ${median(wall).toFixed(1)} ms wall, ${median(cpu).toFixed(1)} ms CPU per step`);
}

/**
 * MLP training-step micro-benchmark: the bench's 784-128-10 MLP workload (fwd+bwd+SGD) for
 * chainrule and, with --peers, other contenders, all in this one process, alternating round by
 * round; each figure is the median over rounds. Quicker to iterate with than `pnpm bench`, and
 * a process to profile (one contender, no workers):
 *
 *   node scripts/run.mjs bench/micro/mlp-step.ts                      # chainrule, batch 64 and 256
 *   node scripts/run.mjs bench/micro/mlp-step.ts --peers jax-js       # ratios against jax-js
 *   node scripts/run.mjs bench/micro/mlp-step.ts --peers composed     # the bench's @chainrule/nn step against
 *                                                                     # the same step hand-written in Tensor ops
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/run.mjs bench/micro/mlp-step.ts --batch 64 --rounds 40
 *   options: --batch 64,256  --rounds N (default 15)  --ms per round per contender (default 150)
 *
 * In-process figures share one heap and are only a guide: the bench's separate processes decide.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// Peers load from bench/node_modules, found from this directory whatever the working directory.
process.env.CHAINRULE_BENCH_DIR ??= resolve(fileURLToPath(import.meta.url), '..', '..');

const { contender: chainrule } = await import('../src/chainrule.js');
const { tensor } = await import('@chainrule/autograd');
const { mlpData } = await import('../src/data.js');
const batches = (option('--batch') ?? '64,256').split(',').map(Number);
const rounds = Number(option('--rounds') ?? 15);
const roundMs = Number(option('--ms') ?? 150);
const peerNames = (option('--peers') ?? '').split(',').filter(Boolean);

type Contender = typeof chainrule;

/** The step hand-written in Tensor ops (no nn, no fused ops): what the bench ran before nn. */
const composed: Contender = {
  name: 'composed',
  load: chainrule.load,
  setup: (w) => {
    if (w.kind !== 'mlp') return { unsupported: 'mlp only' };
    const { batch, batches, lr } = w;
    const d = mlpData(batch, batches);
    const w1 = tensor(d.w1, { shape: [784, 128], requiresGrad: true });
    const b1 = tensor(d.b1, { shape: [128], requiresGrad: true });
    const w2 = tensor(d.w2, { shape: [128, 10], requiresGrad: true });
    const b2 = tensor(d.b2, { shape: [10], requiresGrad: true });
    const params = [w1, b1, w2, b2];
    const xs = d.xs.map((x) => tensor(x, { shape: [batch, 784] }));
    const ys = d.yOneHot.map((y) => tensor(y, { shape: [batch, 10] }));
    let i = 0;
    return {
      run: () => {
        const k = i++ % batches;
        const logits = xs[k]!.matmul(w1).add(b1).relu().matmul(w2).add(b2);
        const loss = logits.logSoftmax(1).mul(ys[k]!).sum().neg().div(batch);
        loss.backward();
        for (const p of params) {
          const v = p.data, g = p.grad!.data;
          for (let j = 0; j < v.length; j++) v[j]! -= lr * g[j]!;
          p.grad = null;
        }
        return loss.item();
      },
    };
  },
};

const contenders: Contender[] = [chainrule];
for (const name of peerNames) {
  if (name === 'composed') {
    contenders.push(composed);
    continue;
  }
  const file = name === 'jax-js' ? 'jax.js' : `${name}.js`;
  const mod = (await import(`../src/${file}`)) as { contender: Contender };
  contenders.push(mod.contender);
}
for (const c of contenders) await c.load();

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

for (const batch of batches) {
  const runners = [];
  for (const c of contenders) {
    const r = await c.setup({ kind: 'mlp', id: `mlp-b${batch}`, batch, batches: 4, lr: 0.01 });
    if ('unsupported' in r) throw new Error(`${c.name}: ${r.unsupported}`);
    const t0 = performance.now();
    while (performance.now() - t0 < 500) await r.run(); // warm-up
    runners.push(r);
  }
  const perStep: number[][] = contenders.map(() => []);
  const ratios: number[][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const ms: number[] = [];
    for (let c = 0; c < runners.length; c++) {
      const r = runners[c]!;
      let steps = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < roundMs) {
        await r.run();
        steps++;
      }
      ms.push((performance.now() - t0) / steps);
    }
    ms.forEach((m, c) => {
      perStep[c]!.push(m);
      ratios[c]!.push(ms[0]! / m);
    });
  }
  const line = contenders.map((c, i) => {
    const m = median(perStep[i]!);
    const vs = i === 0 ? '' : ` (${median(ratios[i]!).toFixed(2)}× chainrule)`;
    return `${c.name} ${(batch / m * 1000).toFixed(0)} samples/s, ${m.toFixed(3)} ms/step${vs}`;
  });
  console.log(`batch ${batch}: ${line.join('; ')}`);
  for (const r of runners) r.dispose?.();
}

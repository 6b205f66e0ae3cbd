// A/B of one compiled-program row between two checkouts of the workspace, in one process: each
// checkout's bench/src and packages load as modules of their own, and the two runners alternate
// (A, B, B, A, ...) with medians of CPU time (process.cpuUsage: all threads) and wall time per
// run, and each side's fastest round (on a loaded machine, the round least slowed by others). Copy the tree to compare (its node_modules included), change it, then:
//   CHAINRULE_BENCH_DIR=$PWD/bench node scripts/run.mjs bench/micro/compiled-ab.ts /tmp/a /tmp/b [program] [via] [rounds]
// program: pinn (default), elementwise, mlpStep; via: jit (default) or eager.
// AB_THREADS=1,2 sets each side's product threads (setKernelThreads). Figures from a shared
// machine are noisy; both sides suffer the same load only in aggregate.
import type { CompiledWorkload, Contender, Runner } from '../src/types.js';

const [treeA, treeB, program = 'pinn', via = 'jit', roundsArg = '21'] = process.argv.slice(2);
if (treeA === undefined || treeB === undefined) throw new Error('usage: compiled-ab.ts <treeA> <treeB> [program] [via] [rounds]');
const threads = (process.env.AB_THREADS ?? '').split(',');
const rounds = Number(roundsArg);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1]!;

const sides: { tree: string; runner: Runner; first: number | void; cpu: number[]; wall: number[] }[] = [];
for (const [i, tree] of [treeA, treeB].entries()) {
  const count = Number(threads[i]);
  if (count === 1 || count === 2) {
    const autograd = (await import(`${tree}/packages/autograd/src/index.ts`)) as { setKernelThreads: (n: 1 | 2) => void };
    autograd.setKernelThreads(count);
  }
  const { contender } = (await import(`${tree}/bench/src/chainrule.ts`)) as { contender: Contender };
  const { workloads } = (await import(`${tree}/bench/src/workloads.ts`)) as { workloads: (quick: boolean) => { kind: string }[] };
  await contender.load();
  const w = workloads(false).find((x): x is CompiledWorkload => x.kind === 'compiled' && (x as CompiledWorkload).program === program && (x as CompiledWorkload).via === via);
  if (w === undefined) throw new Error(`no compiled row for program '${program}' via '${via}'`);
  const runner = await contender.setup(w);
  if ('unsupported' in runner) throw new Error(`${tree}: unsupported`);
  sides.push({ tree, runner, first: await runner.run(), cpu: [], wall: [] });
}
// Warm both, then runs per round: about 40 ms of side A.
const t0 = performance.now();
for (const s of sides) for (let i = 0; i < 100; i++) await s.runner.run();
const reps = Math.max(1, Math.round(40 / ((performance.now() - t0) / 200)));
for (let round = 0; round < rounds; round++) {
  for (const s of round % 2 === 0 ? sides : sides.slice().reverse()) {
    const c0 = cpu(), w0 = performance.now();
    for (let i = 0; i < reps; i++) await s.runner.run();
    s.cpu.push((cpu() - c0) / reps);
    s.wall.push((performance.now() - w0) / reps);
  }
}
console.log(`${program} via ${via}: ${reps} runs × ${rounds} rounds, medians (noisy shared machine)`);
for (const [i, s] of sides.entries()) {
  const first = typeof s.first === 'number' ? `  first value ${s.first.toPrecision(8)}` : '';
  console.log(`  ${'AB'[i]} ${s.tree.padEnd(28)} threads ${threads[i] || 'default'}  cpu ${median(s.cpu).toFixed(3)} ms  wall ${median(s.wall).toFixed(3)} ms (fastest round ${Math.min(...s.wall).toFixed(3)})${first}`);
}

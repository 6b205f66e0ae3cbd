// The PINN step of `pnpm bench` (pinn-heat-jit) alone: prints its compiled program with
// `--print`, else runs it in rounds (optionally under a CPU profile) and reports the median CPU and wall time
// per step over rounds (noisy on a shared machine):
//   node scripts/run.mjs bench/micro/pinn-profile.ts [--print] [--eager] [--profile=FILE] [rounds]
import { jit, valueAndGrad, type Tensor } from '@chainrule/autograd';
import { pinnProblem, type PinnParams } from '../src/chainrule.js';

const args = process.argv.slice(2);
const { params: p, points: xt, loss } = pinnProblem(256);
const eager = valueAndGrad(loss);
const step = args.includes('--eager') ? eager : jit(eager);
if (args.includes('--print')) {
  const lowered = (step as ReturnType<typeof jit<[PinnParams, Tensor], ReturnType<typeof eager>>>).lower(p, xt);
  console.log(lowered.compiledText);
  console.log(`fused groups ${lowered.fusedGroups}, buffers ${lowered.buffers.join(' ')}`);
  process.exit(0);
}
const cpu = (): number => {
  const use = process.cpuUsage();
  return (use.user + use.system) / 1000;
};
const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[xs.length >> 1]!;
const run = (): number => {
  const { value, grads } = step(p, xt);
  for (const g of Object.values(grads)) void g.data[0];
  return value.item();
};
for (let i = 0; i < 300; i++) run();
// --profile=FILE: a CPU profile of the timed rounds only (node:inspector), without start-up.
const profileTo = args.find((x) => x.startsWith('--profile='))?.slice('--profile='.length);
const session = profileTo === undefined ? undefined : new (await import('node:inspector')).Session();
const post = (method: string, params?: object): Promise<unknown> =>
  new Promise((done, fail) => session!.post(method, params ?? {}, (error, result) => (error === null ? done(result) : fail(error))));
if (session !== undefined) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
}
const rounds = Number(args.find((x) => /^\d+$/.test(x)) ?? 30);
const cpus: number[] = [], walls: number[] = [];
for (let r = 0; r < rounds; r++) {
  const c0 = cpu(), w0 = performance.now();
  for (let i = 0; i < 100; i++) run();
  cpus.push((cpu() - c0) / 100);
  walls.push((performance.now() - w0) / 100);
}
if (session !== undefined) {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  (await import('node:fs')).writeFileSync(profileTo!, JSON.stringify(profile));
}
console.log(`pinn ${args.includes('--eager') ? 'eager' : 'jit'}: cpu ${median(cpus).toFixed(3)} ms, wall ${median(walls).toFixed(3)} ms (fastest ${Math.min(...walls).toFixed(3)}) per step; value ${run()}`);

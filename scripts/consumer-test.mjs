#!/usr/bin/env node
// `pnpm test:consumer`: the packages as a user gets them. Packs the three packages, installs the
// tarballs with plain npm into a fresh project in the system's temp directory (outside the
// workspace: nothing of it resolves from there), and in that project
//   1. runs `node app.mjs`: trains an MLP on real digits, gradcheck, safetensors to a file and back;
//   2. type-checks TypeScript consumers with strict, noUncheckedIndexedAccess,
//      exactOptionalPropertyTypes and skipLibCheck off, under moduleResolution "bundler" and
//      "nodenext": the browser-safe entries with no @types/node, the Node ones with it;
//   3. runs `node app.cjs`: require() of every entry (Node >= 20.19 loads ES modules that way);
//   4. bundles the browser consumer with esbuild for the browser, fails on anything of Node in
//      it, and runs the bundle;
// and checks the ways to misuse them: a Node-only entry in a browser bundle, and
// '@chainrule/autograd/testing' or '/viz' without their optional peer (fast-check, @viz-js/viz),
// each must fail naming what to do. Steps 4 and 2 come after the peers are installed.
// Network: the npm registry only (the packages' dependencies, @types/node and the two peers).
// The project is deleted afterwards; CHAINRULE_KEEP_CONSUMER=1 keeps it for a look.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForBrowser, findNodeDependencies } from './browser-bundle.mjs';
import { ROOT, packAll } from './pack.mjs';

const require = createRequire(import.meta.url);
const FIXTURES = join(ROOT, 'scripts/consumer');
const tsc = require.resolve('typescript/bin/tsc');
/** Versions the consumer installs from the registry: the workspace's own. */
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const TYPES_NODE = rootPackage.devDependencies['@types/node'];
const FAST_CHECK = rootPackage.devDependencies['fast-check'];
const VIZ = JSON.parse(readFileSync(join(ROOT, 'packages/autograd/package.json'), 'utf8')).devDependencies['@viz-js/viz'];

/** A failed step: the message says which, and what it printed. */
class StepError extends Error {}

function run(command, args, cwd, { timeout = 300_000, env = {} } = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return { status: result.status, error: result.error, output };
}

function mustRun(step, command, args, cwd, options) {
  const result = run(command, args, cwd, options);
  if (result.status !== 0) {
    throw new StepError(`${step}: \`${[command === process.execPath ? 'node' : command, ...args].join(' ')}\` exited with ${result.status ?? result.error}\n${result.output}`);
  }
  return result.output;
}

/** The strict settings of the brief every consumer type-check uses. */
function tsconfig(resolution, { node, files }) {
  const module = resolution === 'nodenext' ? 'nodenext' : 'esnext';
  return {
    compilerOptions: {
      target: 'es2022',
      module,
      moduleResolution: resolution,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      // No @types/node for the browser-safe entries: their types must stand without it.
      types: node ? ['node'] : [],
      ...(node ? { lib: ['es2023'] } : { lib: ['es2023', 'dom'] }),
    },
    files,
  };
}

const work = mkdtempSync(join(tmpdir(), 'chainrule-consumer-'));
const app = join(work, 'app');
let packs = [];

/** esbuild as a consumer's bundler sees the installed packages: without our source condition. */
const consumerBundle = (extra = {}) => ({ absWorkingDir: app, conditions: ['module'], ...extra });

const steps = [];
function step(name, fn) {
  steps.push({ name, fn });
}


step('pack the packages (pnpm pack, with their prepack build)', () => {
  packs = packAll(join(work, 'packs'));
  return packs.map((p) => p.tarball.slice(work.length + 1)).join(', ');
});

step('install the tarballs with npm into a fresh project', () => {
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'chainrule-consumer', private: true, type: 'module' }, null, 2)}\n`);
  for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(app, file));
  mustRun('npm install', 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packs.map((p) => p.tarball), `@types/node@${TYPES_NODE}`], app);
  // nn depends on @chainrule/autograd by version: the tarball's copy must serve it, never the registry.
  const stray = packs.map((p) => join(app, 'node_modules', p.name, 'node_modules', '@chainrule')).filter(existsSync);
  if (stray.length > 0) throw new StepError(`npm installed a second copy of a chainrule package: ${stray.join(', ')}`);
  return `npm ${mustRun('npm --version', 'npm', ['--version'], app)}`;
});

step('1. node app.mjs (train an MLP on digits, gradcheck, safetensors file round trip)', () =>
  mustRun('node app.mjs', process.execPath, ['app.mjs'], app),
);

step('3. node app.cjs (require() of every entry)', () => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major === 20 && minor < 19) throw new StepError(`require() of ES modules needs Node >= 20.19; this is ${process.version}`);
  return mustRun('node app.cjs', process.execPath, ['app.cjs'], app);
});

step('bad use: a Node-only entry in a browser bundle fails at load, saying what to import', async () => {
  const problems = await findNodeDependencies('node-only-in-browser.mjs', consumerBundle());
  if (problems.length > 0) throw new StepError(`the browser stub of a /node entry reaches Node:\n  ${problems.join('\n  ')}`);
  await buildForBrowser('node-only-in-browser.mjs', consumerBundle({ outfile: join(app, 'node-only.bundle.mjs') }));
  const result = run(process.execPath, ['node-only.bundle.mjs'], app);
  if (result.status === 0 || !/@chainrule\/(nn|datasets)\/node is Node-only .*In a browser, import .*'@chainrule\/(nn|datasets)'/.test(result.output)) {
    throw new StepError(`expected the bundle to throw "... is Node-only ... In a browser, import ...", got exit ${result.status}:\n${result.output}`);
  }
  return result.output.split('\n').find((line) => line.startsWith('Error: '));
});

step("bad use: '@chainrule/autograd/testing' without fast-check names the peer and the install command", () => {
  const result = run(process.execPath, ['--input-type=module', '-e', "await import('@chainrule/autograd/testing');"], app);
  if (result.status === 0 || !result.output.includes('npm install --save-dev fast-check')) {
    throw new StepError(`expected an error naming fast-check and its install command, got exit ${result.status}:\n${result.output}`);
  }
  return result.output.split('\n').find((line) => line.startsWith('Error: '));
});

step("bad use: '@chainrule/autograd/viz' without @viz-js/viz names the peer and the install command", () => {
  const script = "import { tensor } from '@chainrule/autograd'; import { toSvg } from '@chainrule/autograd/viz'; await toSvg(tensor([1]).sum());";
  const result = run(process.execPath, ['--input-type=module', '-e', script], app);
  if (result.status === 0 || !result.output.includes('npm install @viz-js/viz')) {
    throw new StepError(`expected an error naming @viz-js/viz and its install command, got exit ${result.status}:\n${result.output}`);
  }
  return result.output.split('\n').find((line) => line.startsWith('Error: '));
});

step('install the optional peers, then /testing and /viz work (node peers.mjs)', () => {
  const peers = [`fast-check@${FAST_CHECK}`, `@viz-js/viz@${VIZ}`];
  mustRun('npm install the peers', 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...peers], app);
  return mustRun('node peers.mjs', process.execPath, ['peers.mjs'], app);
});

step('4. browser bundle of browser.ts (esbuild, platform browser): nothing of Node, and it runs', async () => {
  const problems = await findNodeDependencies('browser.ts', consumerBundle());
  if (problems.length > 0) throw new StepError(`the browser bundle reaches Node:\n  ${problems.join('\n  ')}`);
  await buildForBrowser('browser.ts', consumerBundle({ outfile: join(app, 'browser.bundle.mjs') }));
  return mustRun('node browser.bundle.mjs', process.execPath, ['browser.bundle.mjs'], app);
});

for (const resolution of ['bundler', 'nodenext']) {
  step(`2. tsc, moduleResolution ${resolution}: browser.ts without @types/node, node.ts with it`, () => {
    const out = [];
    for (const [label, options] of [
      ['web', { node: false, files: ['browser.ts'] }],
      ['node', { node: true, files: ['node.ts', 'browser.ts'] }],
    ]) {
      const config = `tsconfig.${resolution}.${label}.json`;
      writeFileSync(join(app, config), `${JSON.stringify(tsconfig(resolution, options), null, 2)}\n`);
      mustRun(`tsc -p ${config}`, process.execPath, [tsc, '-p', config, '--pretty', 'false'], app);
      out.push(`${config}: 0 errors`);
    }
    return out.join('; ');
  });
}

let failed;
for (const { name, fn } of steps) {
  const started = Date.now();
  try {
    const note = await fn();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`ok   ${name} (${seconds} s)${note ? `\n       ${String(note).split('\n').join('\n       ')}` : ''}`);
  } catch (error) {
    failed = { name, error };
    break;
  }
}

if (process.env.CHAINRULE_KEEP_CONSUMER === '1') console.log(`the consumer project is kept in ${work}`);
else rmSync(work, { recursive: true, force: true });

if (failed) {
  const detail = failed.error instanceof StepError ? failed.error.message : (failed.error?.stack ?? String(failed.error));
  console.error(`\nFAIL ${failed.name}\n${detail}\n\ntest:consumer failed (CHAINRULE_KEEP_CONSUMER=1 keeps the project to look into).`);
  process.exit(1);
}
console.log('test:consumer: the packed packages install and work in a project of their own');

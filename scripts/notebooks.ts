/**
 * The notebooks in examples/notebooks, run by the tslab TypeScript kernel:
 *
 *   node scripts/run.mjs scripts/notebooks.ts build     pnpm notebooks:build
 *   node scripts/run.mjs scripts/notebooks.ts install   pnpm notebooks:install  (build, register the kernel)
 *   node scripts/run.mjs scripts/notebooks.ts run       pnpm notebooks          (CI: execute every notebook)
 *   node scripts/run.mjs scripts/notebooks.ts update    pnpm notebooks:update   (execute, save the outputs)
 *
 * Why a build: tslab compiles notebook cells with its own TypeScript (5.0, module resolution
 * `node10`, which ignores `exports` maps) and runs them as CommonJS through `require`, and it
 * compiles local .ts files only inside the notebook's folder. Our packages export .ts sources
 * through `exports`, so neither tslab's compiler nor Node's `require` can load them. The build
 * writes examples/notebooks/node_modules/@chainrule/{autograd,nn,datasets,notebook}: an esbuild
 * CommonJS bundle of each entry plus .d.ts files emitted by the workspace's TypeScript. Node and
 * tslab both look there first from the notebook folder, so cells import '@chainrule/autograd' as
 * anywhere else. The packages stay external to each other, so there is one Tensor class.
 */
import { build, type Plugin } from 'esbuild';
import ts from 'typescript';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOTEBOOKS = join(ROOT, 'examples/notebooks');
const MODULES = join(NOTEBOOKS, 'node_modules');
/** The kernel's name, as `tslab install` registers it, so notebook metadata works with either. */
const KERNEL = 'tslab';
/** Per-cell limit; the whole run takes well under a minute. */
const CELL_TIMEOUT_SECONDS = 300;
/** How long a fresh kernel may take to answer (nbclient's default is 60 s; a cold, busy machine needs more). */
const STARTUP_TIMEOUT_SECONDS = 120;

/** One package as notebooks import it: entry subpaths to their sources, relative to `dir`. */
interface NotebookPackage {
  name: string;
  /** Its folder, relative to the root; its declarations keep their layout below it. */
  dir: string;
  entries: Record<string, string>;
  /**
   * Entries whose own relative imports come from the main entry's bundle instead of a copy of
   * their own, so that they share its classes (`toDot`'s `instanceof Tensor` must see the
   * notebook's tensors). Everything such an entry imports must be exported by the main entry.
   */
  sharingMain?: string[];
}

const PACKAGES: NotebookPackage[] = [
  // './viz' carries Graphviz compiled to WebAssembly (@viz-js/viz, bundled in) for showGraph.
  { name: '@chainrule/autograd', dir: 'packages/autograd', entries: { '.': 'src/index.ts', './viz': 'src/viz.ts' }, sharingMain: ['./viz'] },
  { name: '@chainrule/nn', dir: 'packages/nn', entries: { '.': 'src/index.ts', './node': 'src/node.ts' } },
  // NOTE: '@chainrule/datasets/node' is left out: it finds its data files and the mnist package
  // relative to its own sources, which a bundle elsewhere does not have.
  { name: '@chainrule/datasets', dir: 'packages/datasets', entries: { '.': 'src/index.ts' } },
  { name: '@chainrule/notebook', dir: 'examples', entries: { '.': 'lib/notebook-display.ts' } },
];

const fileOf = (subpath: string): string => (subpath === '.' ? 'index' : subpath.slice(2));
const dts = (source: string): string => `./${source.replace(/\.ts$/, '.d.ts')}`;

/** Resolves the relative imports of `p`'s `sharingMain` entries to its main entry, left external. */
function shareMainEntry(p: NotebookPackage): Plugin {
  const files = new Set((p.sharingMain ?? []).map((sub) => join(ROOT, p.dir, p.entries[sub]!)));
  return {
    name: 'share-main-entry',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => (files.has(args.importer) ? { path: p.name, external: true } : undefined));
    },
  };
}

/** .d.ts files of every entry and what they import, laid out below `out` as below the root. */
function emitDeclarations(out: string): void {
  const base = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.base.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (base === undefined) throw new Error('notebooks: cannot read tsconfig.base.json');
  const roots = PACKAGES.flatMap((p) => Object.values(p.entries).map((e) => join(ROOT, p.dir, e)));
  const options: ts.CompilerOptions = {
    ...base.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: ROOT,
    outDir: out,
  };
  // Type errors are `pnpm typecheck`'s to report; declarations are emitted regardless.
  const result = ts.createProgram(roots, options).emit();
  if (result.emitSkipped) throw new Error('notebooks: TypeScript emitted no declarations');
}

/** Builds the packages as the notebooks import them, from nothing. */
async function buildModules(): Promise<void> {
  rmSync(MODULES, { recursive: true, force: true });
  const declarations = mkdtempSync(join(tmpdir(), 'chainrule-notebook-dts-'));
  try {
    emitDeclarations(declarations);
    for (const p of PACKAGES) {
      const out = join(MODULES, p.name);
      await build({
        absWorkingDir: ROOT,
        entryPoints: Object.entries(p.entries).map(([sub, src]) => ({ in: join(p.dir, src), out: fileOf(sub) })),
        outdir: out,
        outExtension: { '.js': '.cjs' },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['@chainrule/*', 'tslab'],
        plugins: [shareMainEntry(p)],
        // CommonJS has no import.meta; the sources read import.meta.url to find their own folder.
        define: { 'import.meta.url': '__chainrule_import_meta_url' },
        banner: { js: "'use strict';\nconst __chainrule_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
        logLevel: 'warning',
      });
      cpSync(join(declarations, p.dir), out, { recursive: true });
      const exports = Object.fromEntries(
        Object.entries(p.entries).map(([sub, src]) => [sub, { types: dts(src), default: `./${fileOf(sub)}.cjs` }]),
      );
      const main = p.entries['.']!;
      writeFileSync(
        join(out, 'package.json'),
        `${JSON.stringify({ name: p.name, private: true, main: './index.cjs', types: dts(main), exports }, null, 2)}\n`,
      );
      // tslab's `node10` resolution reads no `exports`: it finds '@chainrule/nn/node' as node.d.ts.
      for (const [sub, src] of Object.entries(p.entries)) {
        if (sub !== '.') writeFileSync(join(out, `${fileOf(sub)}.d.ts`), `export * from '${dts(src).replace(/\.d\.ts$/, '.js')}';\n`);
      }
    }
  } finally {
    rmSync(declarations, { recursive: true, force: true });
  }
  console.log(`notebooks: built ${PACKAGES.map((p) => p.name).join(', ')} into ${relative(ROOT, MODULES)}`);
}

/** The kernel spec `tslab install` writes, with absolute paths so no global tslab or PATH is needed. */
function writeKernelSpec(kernelsDir: string): string {
  const tslab = realpathSync(join(ROOT, 'examples/node_modules/tslab/bin/tslab'));
  const dir = join(kernelsDir, KERNEL);
  mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript',
    language: 'typescript',
  };
  writeFileSync(join(dir, 'kernel.json'), `${JSON.stringify(spec, null, 1)}\n`);
  return dir;
}

function jupyter(args: string[], env: NodeJS.ProcessEnv = process.env): ReturnType<typeof spawnSync> {
  const result = spawnSync('jupyter', args, { env, encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(`notebooks: cannot run jupyter (${result.error.message}); install Jupyter, e.g. Debian's jupyter-nbconvert or jupyter-notebook`);
  }
  return result;
}

/** Registers the kernel in the user's Jupyter data folder, where `jupyter notebook` finds it. */
function install(): void {
  const dataDir = String(jupyter(['--data-dir']).stdout).trim();
  const dir = writeKernelSpec(join(dataDir, 'kernels'));
  console.log(`notebooks: registered the ${KERNEL} kernel in ${dir}; open them with: jupyter notebook examples/notebooks/`);
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));

/**
 * Why a notebook failed. nbconvert names the cell but not tslab's message, which tslab writes to
 * the cell's stderr; a second run that keeps going past errors records it, so print that.
 */
function explainFailure(notebook: string, outDir: string, env: NodeJS.ProcessEnv): void {
  const r = jupyter(['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_SECONDS}`,
    `--ExecutePreprocessor.kernel_name=${KERNEL}`, '--output-dir', outDir, notebook], env);
  const executed = join(outDir, basename(notebook));
  if (r.status !== 0 || !existsSync(executed)) return;
  const cells = (JSON.parse(readFileSync(executed, 'utf8')) as { cells: Cell[] }).cells;
  let reproduced = false;
  for (const cell of cells) {
    const errors = (cell.outputs ?? []).filter((o) => o.output_type === 'error' || o.name === 'stderr');
    if (errors.length === 0) continue;
    reproduced = true;
    console.error(`--- cell:\n${joined(cell.source)}\n--- error:`);
    for (const o of errors) console.error(o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : joined(o.text));
  }
  if (!reproduced) {
    // NOTE: tslab's compiler watches the files and folders it resolved through; a change to them
    // mid-run (a `pnpm install` in the same checkout) can make its next compile throw.
    console.error('--- the failure did not happen again on a second run: did files under node_modules change meanwhile?');
  }
}

/** Drops what changes on every run (timestamps), so saved notebooks differ only where outputs do. */
function stripVolatile(path: string): void {
  const nb = JSON.parse(readFileSync(path, 'utf8')) as { cells: Cell[] };
  for (const cell of nb.cells) delete cell.metadata['execution'];
  writeFileSync(path, `${JSON.stringify(nb, null, 1)}\n`);
}

/**
 * Executes every notebook from a clean state (fresh build, fresh kernel per notebook) with the
 * kernel registered in a private Jupyter folder; any cell error fails. `save` writes the executed
 * notebooks back over the originals instead of into a temp folder.
 */
async function run(save: boolean): Promise<void> {
  await buildModules();
  const work = mkdtempSync(join(tmpdir(), 'chainrule-notebooks-'));
  // Only our kernel spec and no user configuration: the run is the same on any machine.
  const env = {
    ...process.env,
    JUPYTER_PATH: join(work, 'share'),
    JUPYTER_CONFIG_DIR: join(work, 'config'),
    JUPYTER_RUNTIME_DIR: join(work, 'runtime'),
  };
  writeKernelSpec(join(work, 'share', 'kernels'));
  const notebooks = readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort();
  const failed: string[] = [];
  try {
    for (const name of notebooks) {
      const start = performance.now();
      const outDir = save ? NOTEBOOKS : join(work, 'out');
      const execute = (): ReturnType<typeof jupyter> =>
        jupyter(['nbconvert', '--to', 'notebook', '--execute', `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_SECONDS}`,
          `--ExecutePreprocessor.startup_timeout=${STARTUP_TIMEOUT_SECONDS}`, `--ExecutePreprocessor.kernel_name=${KERNEL}`,
          '--output-dir', outDir, join(NOTEBOOKS, name)], env);
      let r = execute();
      // A kernel that never answered ran no cell: that is Jupyter's start-up failing, not the
      // notebook, so it gets one more start (said in the log); a cell error is never retried.
      if (r.status !== 0 && String(r.stderr).includes("Kernel didn't respond")) {
        console.error(`notebooks: ${name}: the kernel did not answer within ${STARTUP_TIMEOUT_SECONDS} s of starting; starting it once more`);
        r = execute();
      }
      const seconds = ((performance.now() - start) / 1000).toFixed(1);
      if (r.status === 0) {
        if (save) stripVolatile(join(NOTEBOOKS, name));
        console.log(`notebooks: ${name} ran in ${seconds} s`);
        continue;
      }
      failed.push(name);
      console.error(`notebooks: ${name} FAILED after ${seconds} s\n${String(r.stderr).trim().split('\n').slice(-12).join('\n')}`);
      explainFailure(join(NOTEBOOKS, name), join(work, 'failed'), env);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (notebooks.length === 0) throw new Error(`notebooks: no .ipynb in ${relative(ROOT, NOTEBOOKS)}`);
  if (failed.length > 0) {
    console.error(`notebooks: ${failed.length} of ${notebooks.length} failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`notebooks: all ${notebooks.length} executed without an error`);
  }
}

const command = process.argv[2];
if (command === 'build') await buildModules();
else if (command === 'install') {
  await buildModules();
  install();
} else if (command === 'run') await run(false);
else if (command === 'update') await run(true);
else {
  console.error(`usage: node scripts/run.mjs ${relative(process.cwd(), fileURLToPath(import.meta.url))} build|install|run|update`);
  process.exitCode = 2;
}

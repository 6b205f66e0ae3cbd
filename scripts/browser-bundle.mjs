// Browser builds of the workspace's main entries, and the check that keeps Node out of them.
// Shared by `pnpm bundle-size`, the playground build and the bundle test, so all three fail the
// same way when a `node:` import or a Node global slips into browser code.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The repository root: every path below is relative to it. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The browser-safe entries (their `/node` entries are Node-only by design and left out). */
export const BROWSER_ENTRIES = [
  { name: '@chainrule/autograd', entry: 'packages/autograd/src/index.ts' },
  { name: '@chainrule/nn', entry: 'packages/nn/src/index.ts' },
  { name: '@chainrule/datasets', entry: 'packages/datasets/src/index.ts' },
];

/**
 * Free identifiers that exist in Node but not in a browser: touching one outside a `typeof`
 * throws a ReferenceError on the page. `require` is not here: esbuild treats it as an import,
 * so the resolver below rejects it instead.
 */
export const NODE_GLOBALS = ['process', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate', 'clearImmediate'];

/** `import.meta` fields only Node has (browsers have `url` and `resolve`). */
const NODE_IMPORT_META = ['dirname', 'filename'];

/**
 * Modules allowed to name a Node global, each because every use sits behind a `typeof` test
 * that is false in a browser. The check also insists the module contains that `typeof` test.
 * (The same module installed from a tarball, as dist/....js, is matched to its entry here.)
 */
export const GUARDED_GLOBALS = {
  // CHAINRULE_KERNELS and CHAINRULE_THREADS, read at load; worker_threads for the gemm helper.
  'packages/autograd/src/kernels/environment.ts': ['process'],
  // BUF_BIGINT_DISABLE, read once at load (nn's '/onnx' entry writes its protobuf with it).
  '@bufbuild/protobuf/dist/esm/proto-int64.js': ['process'],
};

/**
 * The key of `file`, a module in a bundle, in GUARDED_GLOBALS: an installed chainrule package's
 * dist/ file maps to its source in the workspace, any other installed file to its path from its
 * package name (wherever npm or pnpm put it).
 */
function guardKey(file) {
  const chainrule = /(?:^|\/)node_modules\/@chainrule\/([^/]+)\/dist\/(.+)\.js$/.exec(file);
  if (chainrule) return `packages/${chainrule[1]}/src/${chainrule[2]}.ts`;
  const installed = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+\/.+)$/.exec(file);
  return installed ? installed[1].replace(/^.*\/node_modules\//, '') : file;
}

const builtins = new Set(builtinModules);

/** Rejects Node built-ins and CommonJS `require`, naming the importing file. */
const noNodeImports = {
  name: 'no-node-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'require-call' || args.kind === 'require-resolve') {
        return { errors: [{ text: `require('${args.path}') in ${args.importer}: browser bundles take ES imports only` }] };
      }
      if (args.path.startsWith('node:') || builtins.has(args.path) || builtins.has(args.path.split('/')[0])) {
        return { errors: [{ text: `'${args.path}' is a Node built-in, imported by ${args.importer}` }] };
      }
      return undefined;
    });
  },
};

/** esbuild options every browser build here shares. */
export const BROWSER_OPTIONS = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'browser',
  // The workspace's packages resolve to their TypeScript sources: no build needed. ('module' is
  // esbuild's default, which any list given replaces.)
  conditions: ['@chainrule/source', 'module'],
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'silent',
  plugins: [noNodeImports],
};

const sentinel = (name) => `__chainrule_node_global_${name}__`;

/**
 * An entry file, or source text standing in for one (the tests feed bad code this way);
 * `resolveDir`, relative to the root, is where its imports resolve from.
 */
function entryOptions(input) {
  if (typeof input === 'string') return { entryPoints: [input] };
  const resolveDir = resolve(ROOT, input.resolveDir ?? '.');
  return { stdin: { contents: input.contents, sourcefile: input.sourcefile, resolveDir, loader: 'ts' } };
}

/** esbuild's failure, one line per message, with the file and line it points at. */
function describeFailure(error) {
  const messages = error?.errors ?? [];
  if (messages.length === 0) return [String(error?.message ?? error)];
  return messages.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text));
}

/**
 * Lists every Node built-in import and Node global in the browser bundle of `input` (an entry
 * path relative to the root, or `{ contents, sourcefile }`); an empty list means browser-clean.
 * `extra` esbuild options apply too (the consumer test sets absWorkingDir and conditions).
 * How: each global is `define`d to a sentinel name, which esbuild substitutes only for free
 * identifiers (never properties, strings or shadowing locals), in an unminified build whose
 * `// path` comments tell which module each sentinel came from.
 */
export async function findNodeDependencies(input, extra = {}) {
  const define = {};
  for (const name of NODE_GLOBALS) define[name] = sentinel(name);
  for (const name of NODE_IMPORT_META) define[`import.meta.${name}`] = sentinel(`import_meta_${name}`);
  let text;
  try {
    const result = await build({ ...BROWSER_OPTIONS, ...entryOptions(input), ...extra, minify: false, define, write: false, outfile: undefined });
    text = result.outputFiles[0].text;
  } catch (error) {
    return describeFailure(error);
  }
  const problems = [];
  let module = '(bundle prelude)';
  const modules = new Map();
  for (const line of text.split('\n')) {
    const header = /^\/\/ (\S+)$/.exec(line);
    if (header) module = header[1];
    else modules.set(module, `${modules.get(module) ?? ''}${line}\n`);
  }
  for (const [file, code] of modules) {
    const allowed = GUARDED_GLOBALS[guardKey(file)] ?? [];
    for (const name of [...NODE_GLOBALS, ...NODE_IMPORT_META.map((n) => `import_meta_${n}`)]) {
      if (!code.includes(sentinel(name))) continue;
      const shown = name.replace(/^import_meta_/, 'import.meta.');
      if (!allowed.includes(name)) problems.push(`${file} uses the Node global '${shown}'`);
      else if (!code.includes(`typeof ${sentinel(name)}`)) problems.push(`${file} uses '${shown}' without a typeof guard`);
    }
  }
  return problems;
}

/**
 * Builds `input` for the browser after checking it is free of Node; throws listing every
 * problem otherwise. Extra esbuild options (outfile, sourcemap, ...) pass through.
 * @example await buildForBrowser('packages/nn/src/index.ts', { write: false })
 */
export async function buildForBrowser(input, extra = {}) {
  const problems = await findNodeDependencies(input, extra);
  if (problems.length > 0) {
    const name = typeof input === 'string' ? input : input.sourcefile;
    throw new Error(`browser build of ${name} reaches Node:\n  ${problems.join('\n  ')}`);
  }
  return build({ ...BROWSER_OPTIONS, ...entryOptions(input), ...extra });
}

/** Minified and minified+gzipped size in bytes of the browser bundle of `input`. */
export async function bundleSize(input) {
  const result = await buildForBrowser(input, { write: false });
  const bytes = result.outputFiles[0].contents;
  return { minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

#!/usr/bin/env node
// `pnpm check:packages`: packs each package as it would be published and checks the tarball —
//   - what it ships: dist/, src/ (what the maps point at), README.md, LICENSE, package.json, and
//     datasets' data/; no tests, no `workspace:` ranges, and every source map's and declaration
//     map's sources inside the tarball;
//   - publint: every message fails, suggestions included;
//   - @arethetypeswrong/cli with its "esm-only" profile: the packages are ES modules only, so it
//     leaves out the `node10` resolution (which ignores `exports`) and the CommonJS-requires-ESM
//     warning, whose premise Node >= 20.19 (our engines) no longer holds: `require()` loads them,
//     as `pnpm test:consumer` checks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packAll } from './pack.mjs';

// The CLI's bin; its package exports only package.json, from which the bin is found.
const attwPackage = createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json');
const attw = join(dirname(attwPackage), JSON.parse(readFileSync(attwPackage, 'utf8')).bin.attw);

/** What a tarball may hold, by package (paths inside the package). */
const SHIPPED = /^(dist|src)\/|^(README\.md|LICENSE|package\.json)$/;
const EXTRA = { '@chainrule/datasets': /^data\/[^/]+\.gz$/ };
const REQUIRED = ['README.md', 'LICENSE', 'package.json'];

/** Problems with the file list and the maps of one unpacked package. */
function checkContents({ name, files }, unpacked) {
  const problems = [];
  const present = new Set(files);
  for (const file of files) {
    if (!SHIPPED.test(file) && !EXTRA[name]?.test(file)) problems.push(`ships ${file}, which is neither dist/, src/, README, LICENSE nor data`);
    if (/(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s$/.test(file)) problems.push(`ships the test file ${file}`);
    if (file.endsWith('.map')) {
      const { sources } = JSON.parse(readFileSync(join(unpacked, file), 'utf8'));
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(file), source));
        if (!present.has(target)) problems.push(`${file} maps to ${source}, which is not in the tarball`);
      }
    }
  }
  for (const file of REQUIRED) if (!present.has(file)) problems.push(`does not ship ${file}`);
  const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still ${range}`);
    }
  }
  return problems;
}

async function checkPublint(tarball) {
  const bytes = readFileSync(tarball);
  const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }, level: 'suggestion' });
  return messages.map((m) => `publint ${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`);
}

function checkAttw(tarball) {
  const result = spawnSync(process.execPath, [attw, tarball, '--profile', 'esm-only', '--format', 'table', '--no-color', '--no-emoji'], { encoding: 'utf8' });
  return result.status === 0 ? [] : [`@arethetypeswrong/cli (exit code ${result.status}):\n${result.stdout}${result.stderr}`];
}

const dir = mkdtempSync(join(tmpdir(), 'chainrule-check-packages-'));
let failed = false;
try {
  for (const pack of packAll(dir)) {
    const unpacked = join(dir, pack.name.replace('/', '+'));
    mkdirSync(unpacked);
    const untar = spawnSync('tar', ['-xzf', pack.tarball, '-C', unpacked, '--strip-components=1'], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`cannot unpack ${pack.tarball}: ${untar.stderr}`);
    const problems = [...checkContents(pack, unpacked), ...(await checkPublint(pack.tarball)), ...checkAttw(pack.tarball)];
    const kB = (Number(readFileSync(pack.tarball).length) / 1000).toFixed(0);
    if (problems.length === 0) {
      console.log(`ok   ${pack.name}: ${pack.files.length} files, ${kB} kB packed; publint and attw clean`);
    } else {
      failed = true;
      console.error(`FAIL ${pack.name} (${dirname(pack.tarball)}):\n  ${problems.join('\n  ')}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error('check:packages: the packed packages have the problems above');
  process.exit(1);
}

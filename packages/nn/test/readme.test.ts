// Every ```ts block of the package README is a whole program: each type-checks under the
// workspace's strict settings and runs here, as a user would run it, so the README cannot drift
// from the API. Each block runs in a fresh Node process with the workspace's TypeScript runner,
// in a temporary working directory (the blocks write files there).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const readme = readFileSync(resolve(here, '../README.md'), 'utf8');

/** The README's ```ts blocks with the line each starts on. */
function tsBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

// The block files sit inside the package, so '@chainrule/nn' resolves to this package (Node's
// self-reference) and '@chainrule/autograd' to its dependency, exactly as for a user's script.
const scratch = join(here, '.readme-blocks');
mkdirSync(scratch, { recursive: true });
const workDirs: string[] = [];
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

describe('packages/nn/README.md', () => {
  const blocks = tsBlocks(readme);
  const fileOf = (line: number): string => join(scratch, `line-${line}.ts`);
  for (const { line, code } of blocks) writeFileSync(fileOf(line), code);

  it('has code samples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it('every sample type-checks', () => {
    writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.base.json'), include: ['*.ts'] }));
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', scratch], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 300_000);

  for (const { line } of blocks) {
    it(`the sample at line ${line} runs`, () => {
      const file = fileOf(line);
      const cwd = mkdtempSync(join(tmpdir(), 'chainrule-nn-readme-'));
      workDirs.push(cwd);
      const run = spawnSync(process.execPath, [join(root, 'scripts/run.mjs'), file], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
      expect(run.status, `README line ${line}:\n${run.stdout}\n${run.stderr}`).toBe(0);
    });
  }
});

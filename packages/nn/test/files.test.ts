// Saving is atomic, durable and safe against planted links: the tests plant links at every name
// a writer could predict, force the one unpredictable name to collide, make a write fail half way,
// and kill a process mid-write, and each time check that no other file changed and the old
// file is whole.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MLP } from '@chainrule/nn';
import { FileError, load, save, saveCheckpoint, saveOnnx } from '@chainrule/nn/node';

// Switches for the mocks below; each test sets what it needs and beforeEach resets them.
const faults = vi.hoisted(() => ({ fixedRandom: null as Buffer | null, failWriteAfter: -1 }));

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, randomBytes: (n: number) => faults.fixedRandom ?? original.randomBytes(n) };
});

vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs')>();
  // Writes at most `failWriteAfter` bytes in total, then fails as a full disk does.
  const writeSync = (fd: number, buffer: Uint8Array, offset: number, length: number): number => {
    if (faults.failWriteAfter < 0) return original.writeSync(fd, buffer, offset, length);
    if (faults.failWriteAfter === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = original.writeSync(fd, buffer, offset, Math.min(length, faults.failWriteAfter));
    faults.failWriteAfter -= n;
    return n;
  };
  return { ...original, writeSync, default: { ...original, writeSync } };
});

let dir = '';
beforeEach(() => {
  faults.fixedRandom = null;
  faults.failWriteAfter = -1;
  dir = mkdtempSync(join(tmpdir(), 'chainrule-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const model = (): MLP => new MLP([4, 8, 3], { seed: 1 });

describe('saving never follows a planted link', () => {
  test('links at the names a writer could predict are left alone, and so are their targets', () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const path = join(dir, 'model.safetensors');
    const predictable = [`${path}.${process.pid}.tmp`, `${path}.tmp`, `${path}~`, join(dir, '.model.safetensors.tmp'), `${path}.swp`, `${path}.new`];
    for (const p of predictable) symlinkSync(victim, p);
    const bytes = save(path, model().stateDict());
    saveCheckpoint(path, { model: model().stateDict() });
    saveOnnx(join(dir, 'model.onnx'), model(), { inputShape: [null, 4] });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    for (const p of predictable) expect(lstatSync(p).isSymbolicLink()).toBe(true);
    expect(load(path)['model.layers.0.weight']!.shape).toEqual([8, 4]);
    expect(bytes.length).toBeGreaterThan(0);
    // Nothing but the links, the victim and the two files: no temporary file is left behind.
    expect(readdirSync(dir).sort()).toEqual([...predictable.map((p) => p.slice(dir.length + 1)), 'model.onnx', 'model.safetensors', 'victim.txt'].sort());
  });

  test('when the random name itself is taken (by a link), the save fails instead of writing through it', () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const { path, before, error } = saveOverExisting(() => {
      faults.fixedRandom = Buffer.alloc(8, 0xab);
      symlinkSync(victim, join(dir, `.model.safetensors.${'ab'.repeat(8)}.tmp`));
    });
    expect(error).toBeInstanceOf(FileError);
    expect((error as FileError).message).toMatch(/^save: cannot write .*model\.safetensors: 8 fresh temporary names were all taken/);
    expect((error as FileError).code).toBe('EEXIST');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path)).toEqual(before);
  });

  test('a symlink at the target path itself is replaced by the file, its target untouched', () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const path = join(dir, 'model.safetensors');
    symlinkSync(victim, path);
    save(path, model().stateDict());
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
  });
});

/** Saves a model to `dir`/model.safetensors, arranges a fault, saves another over it and returns what the second save threw. */
function saveOverExisting(arrange: () => void): { path: string; before: Buffer; error: unknown } {
  const path = join(dir, 'model.safetensors');
  save(path, model().stateDict());
  const before = readFileSync(path);
  arrange();
  try {
    save(path, new MLP([4, 8, 3], { seed: 2 }).stateDict());
  } catch (error) {
    return { path, before, error };
  }
  return { path, before, error: undefined };
}

describe('a failed write leaves the old file whole', () => {
  for (const after of [0, 1, 64, 256]) {
    test(`the disk fills after ${after} byte(s): the old file is intact, no temporary file remains, the error names the file`, () => {
      const { path, before, error } = saveOverExisting(() => {
        faults.failWriteAfter = after;
      });
      expect(error).toBeInstanceOf(FileError);
      expect((error as FileError).code).toBe('ENOSPC');
      expect((error as Error).message).toContain(`save: cannot write ${path}: ENOSPC`);
      expect(readFileSync(path)).toEqual(before);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
    });
  }

  test('an existing file keeps its permission bits; a missing directory is a FileError naming the path', () => {
    const path = join(dir, 'model.safetensors');
    save(path, model().stateDict());
    chmodSync(path, 0o640);
    save(path, model().stateDict());
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const missing = join(dir, 'no', 'such', 'dir', 'm.safetensors');
    expect(() => save(missing, model().stateDict())).toThrow(FileError);
    expect(() => save(missing, model().stateDict())).toThrow(`save: cannot write ${missing}`);
    expect(() => load(missing)).toThrow(`load: cannot read ${missing}`);
  });
});

describe.runIf(process.platform === 'linux')('a write cut short by the operating system', () => {
  test('in a child process whose file-size limit stops it part way, leaves the old file whole', () => {
    // The Node entry bundled to plain JavaScript, run in a child whose RLIMIT_FSIZE (ulimit -f)
    // stops the write of an 8 MB model at 1 MB (EFBIG, or SIGXFSZ where the signal is not ignored).
    const entry = join(dir, 'child.ts');
    writeFileSync(
      entry,
      `import { Tensor } from ${JSON.stringify(resolve(__dirname, '../../autograd/src/index.ts'))};
       import { save } from ${JSON.stringify(resolve(__dirname, '../src/node.ts'))};
       save(process.argv[2]!, { big: new Tensor(new Float64Array(1 << 20).fill(1), [1 << 20]) });
       console.log('finished');`,
    );
    const bundle = join(dir, 'child.mjs');
    execFileSync(resolve(__dirname, '../../../node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', '--conditions=@chainrule/source', `--outfile=${bundle}`, '--log-level=error']);
    const path = join(dir, 'model.safetensors');
    save(path, model().stateDict());
    const before = readFileSync(path);
    const child = spawnSync('bash', ['-c', 'ulimit -f 1024; exec "$0" "$1" "$2"', process.execPath, bundle, path], { encoding: 'utf8' });
    expect(child.stdout).not.toContain('finished');
    expect(child.status !== 0 || child.signal !== null).toBe(true);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

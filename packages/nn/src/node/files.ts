// How @chainrule/nn reads and writes files. The one way it writes: Crash safety and safety against a planted link rest
// on three steps: the bytes go to a new file that nobody can have prepared (an unguessable name,
// opened with O_EXCL, which refuses any existing entry, a symlink included), that file is flushed
// to disk, and only then does one rename put it in place, after which the directory is flushed.
// A crash or power loss at any point leaves the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Attempts at a fresh temporary name before giving up (a collision of 64 random bits means an attacker). */
const ATTEMPTS = 8;

/**
 * A file that could not be read or written, named with the function that tried; Node's error is
 * the `cause`, its `code` ('ENOENT', 'ENOSPC', ...) is kept.
 * @example try { load('missing.safetensors') } catch (e) { if (e instanceof FileError && e.code === 'ENOENT') ... }
 */
export class FileError extends Error {
  /** Always 'FileError'. */
  override name = 'FileError';
  /** Node's error code ('ENOENT', 'EACCES', 'ENOSPC'...), or undefined when the cause had none. */
  readonly code: string | undefined;
  /**
   * An error with `message`, keeping Node's error.
   * @param cause - Node's error, kept as `cause`; its `code` becomes this error's.
   */
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.code = (cause as { code?: string } | null)?.code;
  }
}

function openExclusive(caller: string, path: string): { fd: number; tmp: string } {
  const dir = dirname(path);
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      return { fd: openSync(tmp, 'wx', 0o666), tmp };
    } catch (e) {
      last = e;
      if ((e as { code?: string }).code !== 'EEXIST') break;
    }
  }
  const code = (last as { code?: string }).code;
  const why = code === 'EEXIST' ? `${ATTEMPTS} fresh temporary names were all taken` : (last as Error).message;
  throw new FileError(`${caller}: cannot write ${path}: ${why}`, last);
}

/** Flushes a directory's entries (the rename) to disk; a platform that cannot is left as it is. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory, and some file systems refuse fsync on one: the rename is
    // then as durable as the platform makes it.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `bytes` to `path` atomically and durably: an exclusively created temporary file with an
 * unguessable name beside `path`, fsync, rename over `path`, fsync of the directory. An existing
 * file keeps its permission bits. If `path` is itself a symlink, the link is replaced, not
 * followed. On failure the temporary file is removed, `path` is untouched, and the error names
 * `caller` and `path` (Node's `code` and the original error as `cause` are kept).
 * @example writeFileAtomic('save', 'model.safetensors', bytes)
 */
export function writeFileAtomic(caller: string, path: string, bytes: Uint8Array): void {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${caller}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const { fd, tmp } = openExclusive(caller, path);
  let open = true;
  try {
    try {
      const mode = statSync(path).mode & 0o7777;
      if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
    } catch {
      // No file there yet (or no way to copy its mode): the new file gets the default mode.
    }
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, path);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new FileError(`${caller}: cannot write ${path}: ${(e as Error).message}`, e);
  }
  syncDirectory(dirname(path));
}

/** Reads a whole file; a failure becomes a FileError naming `caller` and `path`. @example readFileNamed('load', 'model.safetensors') */
export function readFileNamed(caller: string, path: string): Uint8Array {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${caller}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FileError(`${caller}: cannot read ${path}: ${(e as Error).message}`, e);
  }
}

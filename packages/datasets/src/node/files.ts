import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { constants, gunzipSync } from 'node:zlib';
import { DataFileError, DataFormatError } from '../errors.js';

/** A path as the readers take it: a string, or a file: URL. */
export type PathLike = string | URL;

/** The path as a string, for messages and fs calls. */
export function pathString(path: PathLike): string {
  return typeof path === 'string' ? path : fileURLToPath(path);
}

/** Reads a whole file; a missing or unreadable file becomes a DataFileError naming it. */
export function readBytes(caller: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err: unknown) {
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new DataFileError(`${caller}: cannot read ${path}: ${reason}`, path, err);
  }
}

/** Whether the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip bytes (or returns plain bytes as they are): the format is told by the magic
 * number, not the file name. A cut-off gzip stream is reported with how much it still held.
 */
export function maybeGunzip(caller: string, path: string, bytes: Uint8Array): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err: unknown) {
    let held = -1;
    try {
      // A sync flush returns whatever precedes the cut instead of failing.
      held = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).length;
    } catch {
      // Corrupt rather than cut off: `held` stays unknown.
    }
    if (held >= 0) {
      throw new DataFormatError(
        `${caller}: ${path}: truncated at byte offset ${bytes.length} (end of file): the gzip stream stops after ${held} decompressed bytes`,
        { path, offset: bytes.length },
      );
    }
    throw new DataFormatError(`${caller}: ${path}: damaged gzip data (${(err as Error).message})`, { path });
  }
}

import { closeSync, openSync, readSync } from 'node:fs';
import { csvTableBuilder, parseCsvText, type CsvOptions, type CsvTable } from '../csv.js';
import { DataFileError } from '../errors.js';
import { isGzip, maybeGunzip, pathString, readBytes, type PathLike } from './files.js';

/** Bytes read from a file at a time: the text of one chunk is all of the file held at once. */
const CHUNK_BYTES = 1 << 20;

function fileError(caller: string, path: string, err: unknown): DataFileError {
  const code = (err as { code?: unknown }).code;
  const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(err);
  return new DataFileError(`${caller}: cannot read ${path}: ${reason}`, path, err);
}

/**
 * Reads a CSV file with the caller's name in errors. A plain file is read and parsed chunk by
 * chunk, so its size is not limited by memory (only the table is); gzip (told by its first bytes)
 * is inflated in memory first, then parsed in chunks too.
 */
export function readCsvFile(caller: string, path: PathLike, options: CsvOptions = {}): CsvTable {
  const file = pathString(path);
  const builder = csvTableBuilder(caller, options, file);
  // fatal: false, as the whole-file decode before: bytes that are not UTF-8 become U+FFFD and
  // then fail as text that is not a number, on their line.
  const decoder = new TextDecoder('utf-8');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw fileError(caller, file, err);
  }
  try {
    const chunk = new Uint8Array(CHUNK_BYTES);
    let first = true;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw fileError(caller, file, err);
      }
      if (first && isGzip(chunk.subarray(0, n))) {
        const bytes = maybeGunzip(caller, file, readBytes(caller, file));
        for (let at = 0; at < bytes.length; at += CHUNK_BYTES) builder.push(decoder.decode(bytes.subarray(at, at + CHUNK_BYTES), { stream: true }));
        break;
      }
      first = false;
      if (n === 0) break;
      builder.push(decoder.decode(chunk.subarray(0, n), { stream: true }));
    }
    builder.push(decoder.decode());
  } finally {
    closeSync(fd);
  }
  return builder.finish();
}

/**
 * Reads a CSV of numbers into a Float64Array table. A string holding a line break is taken as
 * the CSV text itself; any other string (or a file: URL) is a path, plain or gzipped. Files are
 * read in chunks of 1 MiB: a file larger than memory can be read as long as its table fits, and a
 * record or field longer than `maxRecordLength` / `maxFieldLength` is an error naming the file
 * and line (see CsvOptions).
 * @throws DataFileError if the file cannot be read; DataFormatError and ArgumentError as
 * `parseCsv`, messages naming the file.
 * @example const { data, shape, columns } = readCsv('prices.csv', { columns: ['area', 'price'] });
 */
export function readCsv(pathOrText: PathLike, options: CsvOptions = {}): CsvTable {
  if (typeof pathOrText === 'string' && /[\r\n]/.test(pathOrText)) return parseCsvText('readCsv', pathOrText, options);
  return readCsvFile('readCsv', pathOrText, options);
}

import { parseCsvText, type CsvOptions, type CsvTable } from '../csv.js';
import { maybeGunzip, pathString, readBytes, type PathLike } from './files.js';

/** Reads a CSV file's text (gzip is told by its first bytes) with the caller's name in errors. */
export function readCsvFile(caller: string, path: PathLike, options: CsvOptions = {}): CsvTable {
  const file = pathString(path);
  const bytes = maybeGunzip(caller, file, readBytes(caller, file));
  return parseCsvText(caller, new TextDecoder('utf-8').decode(bytes), options, file);
}

/**
 * Reads a CSV of numbers into a Float64Array table. A string holding a line break is taken as
 * the CSV text itself; any other string (or a file: URL) is a path, plain or gzipped.
 * @throws DataFileError if the file cannot be read; DataFormatError and ArgumentError as
 * `parseCsv`, messages naming the file.
 * @example const { data, shape, columns } = readCsv('prices.csv', { columns: ['area', 'price'] });
 */
export function readCsv(pathOrText: PathLike, options: CsvOptions = {}): CsvTable {
  if (typeof pathOrText === 'string' && /[\r\n]/.test(pathOrText)) return parseCsvText('readCsv', pathOrText, options);
  return readCsvFile('readCsv', pathOrText, options);
}

import { ArgumentError, DataFormatError } from './errors.js';

/** How missing values (an empty field, NA, N/A, NaN, null, None or ?; any case) are handled. */
export type NanPolicy = 'error' | 'keep' | 'drop-row';

/** Options of {@link parseCsv} and readCsv. */
export interface CsvOptions {
  /** Whether the first row names the columns; 'auto' = yes when any of its fields is not a number. Default 'auto'. */
  readonly header?: boolean | 'auto';
  /** Columns to keep, by name (needs a header) or 0-based index, in the order wanted. Default all. */
  readonly columns?: readonly (string | number)[];
  /** Field separator, one character. Default ','. */
  readonly delimiter?: string;
  /** Missing values: throw ('error', the default), keep as NaN, or drop the whole row. */
  readonly nan?: NanPolicy;
}

/** A numeric table: `data` holds `shape` = [rows, cols] row-major. */
export interface CsvTable {
  /** Values, row-major. */
  readonly data: Float64Array;
  /** [rows, cols]. */
  readonly shape: [number, number];
  /** Column names: from the header, or '0', '1', ... without one. */
  readonly columns: string[];
}

const MISSING = new Set(['na', 'n/a', 'nan', 'null', 'none', '?']);
const HEX_LIKE = /^[+-]?0[xbo]/i;

/** Splits CSV text into records, calling `onRecord(fields, quoted, line)` for each; quotes follow RFC 4180. */
function forEachRecord(
  caller: string,
  path: string | undefined,
  text: string,
  delimiter: number,
  onRecord: (fields: string[], quoted: boolean, line: number) => void,
): void {
  const QUOTE = 34;
  const LF = 10;
  const CR = 13;
  const where = path === undefined ? '' : `${path}: `;
  const at = (line: number): { line: number; path?: string } => (path === undefined ? { line } : { line, path });
  // One array reused for every record: onRecord must copy what it keeps.
  const fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let anyQuoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 byte-order mark is not data
  const end = text.length;
  while (i <= end) {
    // One field.
    let value: string;
    if (text.charCodeAt(i) === QUOTE) {
      anyQuoted = true;
      const openLine = line;
      let parts = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw new DataFormatError(`${caller}: ${where}line ${openLine}: quoted field is never closed`, at(openLine));
        for (let k = from; k < q; k++) if (text.charCodeAt(k) === LF) line++;
        parts += text.slice(from, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          parts += '"';
          from = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      value = parts;
      const c = i < end ? text.charCodeAt(i) : -1;
      if (c !== -1 && c !== delimiter && c !== LF && c !== CR) {
        throw new DataFormatError(`${caller}: ${where}line ${line}: unexpected text after a closing quote`, at(line));
      }
    } else {
      let j = i;
      while (j < end) {
        const c = text.charCodeAt(j);
        if (c === delimiter || c === LF || c === CR) break;
        j++;
      }
      value = text.slice(i, j);
      i = j;
    }
    fields.push(value);
    const c = i < end ? text.charCodeAt(i) : -1;
    if (c === delimiter) {
      i++;
      continue;
    }
    // End of record: a line break or the end of the text.
    onRecord(fields, anyQuoted, recordLine);
    fields.length = 0;
    anyQuoted = false;
    if (c === CR) i++;
    if (i < end && text.charCodeAt(i) === LF) i++;
    if (c === -1) break;
    line++;
    recordLine = line;
    if (i === end) break;
  }
}

/** Parses one field as a number; NaN for a missing marker, undefined for text that is not a number. */
function toNumber(field: string): number | undefined {
  const s = field.trim();
  if (s === '') return Number.NaN;
  const v = Number(s);
  if (!Number.isNaN(v)) {
    // Number() also takes '0x1f', '0b1', '0o7'; a CSV of numbers means decimal.
    return HEX_LIKE.test(s) ? undefined : v;
  }
  return MISSING.has(s.toLowerCase()) ? Number.NaN : undefined;
}

/** Shared by parseCsv and readCsv: `caller` starts every message, `path` (if any) is named in it. */
export function parseCsvText(caller: string, text: string, options: CsvOptions = {}, path?: string): CsvTable {
  const { header = 'auto', columns, delimiter = ',', nan = 'error' } = options;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ArgumentError(`${caller}: delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`);
  }
  if (nan !== 'error' && nan !== 'keep' && nan !== 'drop-row') {
    throw new ArgumentError(`${caller}: nan must be 'error', 'keep' or 'drop-row', got ${JSON.stringify(nan)}`);
  }
  if (header !== true && header !== false && header !== 'auto') {
    throw new ArgumentError(`${caller}: header must be true, false or 'auto', got ${JSON.stringify(header)}`);
  }
  const where = path === undefined ? '' : `${path}: `;
  const at = (line: number): { line: number; path?: string } => (path === undefined ? { line } : { line, path });

  let names: string[] | undefined;
  let width = -1;
  let widthLine = 0;
  let picks: number[] = [];
  let data = new Float64Array(1024);
  let rows = 0;
  const row: number[] = [];

  const setWidth = (fields: string[], line: number, hasHeader: boolean): void => {
    width = fields.length;
    widthLine = line;
    const known = hasHeader ? fields.map((f) => f.trim()) : fields.map((_, j) => String(j));
    names = known;
    picks = columns === undefined ? known.map((_, j) => j) : columns.map((c) => pickColumn(caller, where, c, known, hasHeader));
  };

  forEachRecord(caller, path, text, delimiter.charCodeAt(0), (fields, quoted, line) => {
    // Blank lines carry no data (a trailing newline, spacing between blocks).
    if (fields.length === 1 && !quoted && (fields[0] as string).trim() === '') return;
    if (width < 0) {
      const isHeader = header === true || (header === 'auto' && fields.some((f) => toNumber(f) === undefined));
      setWidth(fields, line, isHeader);
      if (isHeader) return;
    }
    if (fields.length !== width) {
      throw new DataFormatError(
        `${caller}: ${where}line ${line} has ${fields.length} fields, expected ${width} as on line ${widthLine}`,
        at(line),
      );
    }
    row.length = 0;
    let missing = false;
    for (const j of picks) {
      const v = toNumber(fields[j] as string);
      if (v === undefined) {
        throw new DataFormatError(
          `${caller}: ${where}line ${line}, column ${JSON.stringify((names as string[])[j])}: ${JSON.stringify(fields[j])} is not a number`,
          at(line),
        );
      }
      if (Number.isNaN(v)) {
        if (nan === 'error') {
          throw new DataFormatError(
            `${caller}: ${where}line ${line}, column ${JSON.stringify((names as string[])[j])}: missing value ${JSON.stringify(fields[j])} (pass nan: 'keep' or 'drop-row' to accept it)`,
            at(line),
          );
        }
        missing = true;
      }
      row.push(v);
    }
    if (missing && nan === 'drop-row') return;
    if ((rows + 1) * picks.length > data.length) {
      const grown = new Float64Array(Math.max(data.length * 2, (rows + 1) * picks.length));
      grown.set(data);
      data = grown;
    }
    data.set(row, rows * picks.length);
    rows++;
  });

  if (names === undefined) {
    // No records at all: an empty table, unless columns were asked for by name.
    names = [];
    picks = columns === undefined ? [] : columns.map((c) => pickColumn(caller, where, c, [], false));
  }
  const cols = picks.length;
  return {
    data: data.slice(0, rows * cols),
    shape: [rows, cols],
    columns: picks.map((j) => (names as string[])[j] as string),
  };
}

function pickColumn(caller: string, where: string, column: string | number, names: readonly string[], named: boolean): number {
  if (typeof column === 'number') {
    if (!Number.isInteger(column) || column < 0 || column >= names.length) {
      throw new ArgumentError(`${caller}: ${where}column index ${column} is out of range (the table has ${names.length} columns)`);
    }
    return column;
  }
  const j = named ? names.indexOf(column) : -1;
  if (j < 0) {
    const known = named ? `columns are ${names.map((s) => JSON.stringify(s)).join(', ')}` : 'the table has no header; select columns by index';
    throw new ArgumentError(`${caller}: ${where}no column named ${JSON.stringify(column)} (${known})`);
  }
  return j;
}

/**
 * Parses CSV text of numbers into a Float64Array table. A row with a different number of
 * fields from the first is an error naming its line; so is text that is not a number. Quotes
 * follow RFC 4180; hexadecimal and other non-decimal literals are not numbers here.
 * @throws DataFormatError for a ragged row, a field that is not a number, a missing value under
 * `nan: 'error'`, or an unclosed quote (each naming its line).
 * @throws ArgumentError for a bad option (delimiter, nan, header) or an unknown column.
 * @throws TypeError if `text` is not a string.
 * @example parseCsv('a,b\n1,2\n3,4\n') // { data: [1,2,3,4], shape: [2, 2], columns: ['a', 'b'] }
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  if (typeof text !== 'string') throw new TypeError(`parseCsv: text must be a string, got ${typeof text}`);
  return parseCsvText('parseCsv', text, options);
}

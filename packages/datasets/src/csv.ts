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
  /**
   * Longest record (one row, quoted line breaks included) in characters; a longer one is an error
   * naming its line. Default {@link CSV_MAX_RECORD_LENGTH} (1 Mi characters). It bounds the memory
   * a reader needs besides the table, whatever the input.
   */
  readonly maxRecordLength?: number;
  /** Longest field in characters; a longer one is an error naming its line. Default {@link CSV_MAX_FIELD_LENGTH} (128 Ki characters, as Python's csv module). */
  readonly maxFieldLength?: number;
}

/** Default of `maxRecordLength`: 1,048,576 characters. @example parseCsv(text, { maxRecordLength: 4 * CSV_MAX_RECORD_LENGTH }) */
export const CSV_MAX_RECORD_LENGTH = 1 << 20;
/** Default of `maxFieldLength`: 131,072 characters. @example parseCsv(text, { maxFieldLength: 2 * CSV_MAX_FIELD_LENGTH }) */
export const CSV_MAX_FIELD_LENGTH = 1 << 17;

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
const QUOTE = 34;
const LF = 10;
const CR = 13;
const OPTION_NAMES: readonly string[] = ['header', 'columns', 'delimiter', 'nan', 'maxRecordLength', 'maxFieldLength'] satisfies (keyof CsvOptions)[];

/** Where errors point: the public function, and the file when there is one. */
interface Source {
  readonly caller: string;
  readonly path: string | undefined;
}

function formatError(source: Source, line: number, message: string): DataFormatError {
  const where = source.path === undefined ? '' : `${source.path}: `;
  return new DataFormatError(`${source.caller}: ${where}line ${line}${message}`, source.path === undefined ? { line } : { line, path: source.path });
}

/** Called with each record's fields (one array reused: copy what you keep), whether any was quoted, and its first line. */
type OnRecord = (fields: string[], quoted: boolean, line: number) => void;

/**
 * Splits CSV text into records as it arrives, chunk by chunk (quotes as RFC 4180; LF, CRLF or CR
 * line ends). Only the record being read is kept between chunks, and it may not grow past
 * maxRecordLength, so memory stays bounded whatever the input's size or shape.
 */
class CsvRecordReader {
  private pending = '';
  /** The pending text is scanned again once it is this long: a long record costs linear, not quadratic, time. */
  private retryAt = 0;
  /** Line number of the first character of `pending`. */
  private line = 1;
  private started = false;
  private readonly fields: string[] = [];

  constructor(
    private readonly source: Source,
    private readonly delimiter: number,
    private readonly limits: { readonly maxRecordLength: number; readonly maxFieldLength: number },
    private readonly onRecord: OnRecord,
  ) {}

  /** Feeds the next piece of text. */
  push(chunk: string): void {
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1); // a byte-order mark is not data
    }
    this.pending = this.pending === '' ? chunk : this.pending + chunk;
    if (this.pending.length >= this.retryAt) this.scan(false);
  }

  /** Ends the input: the last record needs no line break. */
  end(): void {
    this.started = true;
    this.scan(true);
  }

  private tooLong(line: number, what: string, limit: number, option: string): DataFormatError {
    return formatError(this.source, line, `: ${what} is longer than ${limit} characters (raise the limit with the ${option} option if the file is right)`);
  }

  /** Emits every complete record of `pending` and keeps the incomplete rest; at the end, everything is complete. */
  private scan(final: boolean): void {
    const text = this.pending;
    const end = text.length;
    const { maxRecordLength, maxFieldLength } = this.limits;
    const delimiter = this.delimiter;
    const fields = this.fields;
    let i = 0;
    let line = this.line;
    let recordStart = 0;
    let recordLine = line;
    records: while (i < end) {
      recordStart = i;
      recordLine = line;
      fields.length = 0;
      let anyQuoted = false;
      for (;;) {
        if (i - recordStart > maxRecordLength) throw this.tooLong(recordLine, 'the record', maxRecordLength, 'maxRecordLength');
        // One field.
        let value: string;
        if (text.charCodeAt(i) === QUOTE) {
          anyQuoted = true;
          const openLine = line;
          let parts = '';
          let from = i + 1;
          for (;;) {
            const q = text.indexOf('"', from);
            if (q < 0 || (q + 1 === end && !final)) {
              // The closing quote is not here yet (or a quote at the very end may be the first of "").
              if (!final) break records;
              throw formatError(this.source, openLine, ': quoted field is never closed');
            }
            for (let k = from; k < q; k++) if (text.charCodeAt(k) === LF) line++;
            parts += text.slice(from, q);
            if (parts.length > maxFieldLength) throw this.tooLong(openLine, 'a field', maxFieldLength, 'maxFieldLength');
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
          if (c !== -1 && c !== delimiter && c !== LF && c !== CR) throw formatError(this.source, line, ': unexpected text after a closing quote');
        } else {
          let j = i;
          while (j < end) {
            const c = text.charCodeAt(j);
            if (c === delimiter || c === LF || c === CR) break;
            j++;
          }
          if (j - i > maxFieldLength) throw this.tooLong(line, 'a field', maxFieldLength, 'maxFieldLength');
          if (j === end && !final) break records;
          value = text.slice(i, j);
          i = j;
        }
        fields.push(value);
        const c = i < end ? text.charCodeAt(i) : -1;
        if (c === delimiter) {
          i++;
          if (i === end && !final) break records;
          continue;
        }
        // End of record: a line break or the end of the text. A CR last in the chunk may be half a CRLF.
        if (i - recordStart > maxRecordLength) throw this.tooLong(recordLine, 'the record', maxRecordLength, 'maxRecordLength');
        if (c === CR && i + 1 === end && !final) break records;
        if (c === CR) i++;
        if (i < end && text.charCodeAt(i) === LF && (c === CR || c === LF)) i++;
        if (c !== -1) line++;
        this.onRecord(fields, anyQuoted, recordLine);
        recordStart = i;
        recordLine = line;
        continue records;
      }
    }
    // `recordStart` is where the incomplete record (if any) begins; it may end in half a CRLF.
    const rest = text.length - recordStart;
    if (rest > maxRecordLength + 1) throw this.tooLong(recordLine, 'the record', maxRecordLength, 'maxRecordLength');
    this.pending = rest === 0 ? '' : text.slice(recordStart);
    this.line = recordLine;
    this.retryAt = 2 * this.pending.length;
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

/** Options checked, with their defaults: read from own properties only, unknown names refused. */
interface CheckedOptions {
  readonly header: boolean | 'auto';
  readonly columns: readonly (string | number)[] | undefined;
  readonly delimiter: number;
  readonly nan: NanPolicy;
  readonly maxRecordLength: number;
  readonly maxFieldLength: number;
}

function checkOptions(caller: string, options: CsvOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new ArgumentError(`${caller}: options must be an object, got ${String(options)}`);
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.includes(k));
  if (unknown.length > 0) {
    throw new ArgumentError(`${caller}: unknown option(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the options are ${OPTION_NAMES.join(', ')}`);
  }
  const own = <K extends keyof CsvOptions>(k: K): CsvOptions[K] | undefined => (Object.hasOwn(options, k) ? options[k] : undefined);
  const header = own('header') ?? 'auto';
  const columns = own('columns');
  const delimiter = own('delimiter') ?? ',';
  const nan = own('nan') ?? 'error';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ArgumentError(`${caller}: delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`);
  }
  if (nan !== 'error' && nan !== 'keep' && nan !== 'drop-row') {
    throw new ArgumentError(`${caller}: nan must be 'error', 'keep' or 'drop-row', got ${JSON.stringify(nan)}`);
  }
  if (header !== true && header !== false && header !== 'auto') {
    throw new ArgumentError(`${caller}: header must be true, false or 'auto', got ${JSON.stringify(header)}`);
  }
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string' || typeof c === 'number'))) {
    throw new ArgumentError(`${caller}: columns must be an array of names and indices, got ${String(columns)}`);
  }
  const limit = (name: 'maxRecordLength' | 'maxFieldLength', fallback: number): number => {
    const v = own(name) ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${caller}: ${name} must be a positive integer, got ${String(v)}`);
    return v;
  };
  return {
    header,
    columns: columns === undefined ? undefined : [...columns],
    delimiter: delimiter.charCodeAt(0),
    nan,
    maxRecordLength: limit('maxRecordLength', CSV_MAX_RECORD_LENGTH),
    maxFieldLength: limit('maxFieldLength', CSV_MAX_FIELD_LENGTH),
  };
}

/**
 * Builds a table from text fed in pieces: `push` each piece, then `finish`. Shared by parseCsv
 * (one piece) and readCsv (a file, chunk by chunk). `caller` starts every message; `path`, when
 * given, is named in it.
 */
export function csvTableBuilder(caller: string, options: CsvOptions = {}, path?: string): { push(text: string): void; finish(): CsvTable } {
  const { header, columns, delimiter, nan, maxRecordLength, maxFieldLength } = checkOptions(caller, options);
  const source: Source = { caller, path };
  const where = path === undefined ? '' : `${path}: `;

  let names: string[] | undefined;
  let width = -1;
  let widthLine = 0;
  let picks: number[] = [];
  let data: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let rows = 0;
  const row: number[] = [];

  const setWidth = (fields: string[], hasHeader: boolean, line: number): void => {
    width = fields.length;
    widthLine = line;
    const known = hasHeader ? fields.map((f) => f.trim()) : fields.map((_, j) => String(j));
    names = known;
    picks = columns === undefined ? known.map((_, j) => j) : columns.map((c) => pickColumn(caller, where, c, known, hasHeader));
  };

  /** Room for one more row, growing geometrically; a table past what a Float64Array can hold is an error naming the line. */
  const reserve = (line: number): void => {
    const need = (rows + 1) * picks.length;
    if (need <= data.length) return;
    const size = Math.max(data.length * 2, need);
    let grown: Float64Array<ArrayBuffer>;
    try {
      grown = new Float64Array(size);
    } catch {
      try {
        grown = new Float64Array(need + (need >> 3));
      } catch {
        throw formatError(source, line, `: the table would need ${need} numbers (${need * 8} bytes), more than can be allocated`);
      }
    }
    grown.set(data);
    data = grown;
  };

  const onRecord: OnRecord = (fields, quoted, line) => {
    // Blank lines carry no data (a trailing newline, spacing between blocks).
    if (fields.length === 1 && !quoted && (fields[0] as string).trim() === '') return;
    if (width < 0) {
      const isHeader = header === true || (header === 'auto' && fields.some((f) => toNumber(f) === undefined));
      setWidth(fields, isHeader, line);
      if (isHeader) return;
    }
    if (fields.length !== width) throw formatError(source, line, ` has ${fields.length} fields, expected ${width} as on line ${widthLine}`);
    row.length = 0;
    let missing = false;
    for (const j of picks) {
      const v = toNumber(fields[j] as string);
      const column = () => JSON.stringify((names as string[])[j]);
      if (v === undefined) throw formatError(source, line, `, column ${column()}: ${quoteField(fields[j] as string)} is not a number`);
      if (Number.isNaN(v)) {
        if (nan === 'error') {
          throw formatError(source, line, `, column ${column()}: missing value ${quoteField(fields[j] as string)} (pass nan: 'keep' or 'drop-row' to accept it)`);
        }
        missing = true;
      }
      row.push(v);
    }
    if (missing && nan === 'drop-row') return;
    reserve(line);
    data.set(row, rows * picks.length);
    rows++;
  };

  const reader = new CsvRecordReader(source, delimiter, { maxRecordLength, maxFieldLength }, onRecord);
  return {
    push: (text) => reader.push(text),
    finish: () => {
      reader.end();
      if (names === undefined) {
        // No records at all: an empty table, unless columns were asked for by name.
        names = [];
        picks = columns === undefined ? [] : columns.map((c) => pickColumn(caller, where, c, [], false));
      }
      const cols = picks.length;
      return {
        data: data.length === rows * cols ? data : data.slice(0, rows * cols),
        shape: [rows, cols],
        columns: picks.map((j) => (names as string[])[j] as string),
      };
    },
  };
}

/** A field for a message: quoted, and cut short when long. */
function quoteField(field: string): string {
  const quoted = JSON.stringify(field);
  return quoted.length <= 80 ? quoted : `${quoted.slice(0, 80)}…" (${field.length} characters)`;
}

/** Parses a whole CSV text: `caller` starts every message, `path` (if any) is named in it. */
export function parseCsvText(caller: string, text: string, options: CsvOptions = {}, path?: string): CsvTable {
  const builder = csvTableBuilder(caller, options, path);
  builder.push(text);
  return builder.finish();
}

function pickColumn(caller: string, where: string, column: string | number, names: readonly string[], named: boolean): number {
  if (typeof column === 'number') {
    if (!Number.isInteger(column) || column < 0 || column >= names.length) {
      throw new ArgumentError(`${caller}: ${where}column index ${column} is out of range (the table has ${names.length} columns)`);
    }
    return column;
  }
  const j = named ? names.indexOf(column) : -1;
  const again = j < 0 ? -1 : names.indexOf(column, j + 1);
  if (again >= 0) {
    throw new ArgumentError(`${caller}: ${where}the header names two columns ${JSON.stringify(column)} (columns ${j} and ${again}); select one by index`);
  }
  if (j < 0) {
    const known = named ? `columns are ${names.map((s) => JSON.stringify(s)).join(', ')}` : 'the table has no header; select columns by index';
    throw new ArgumentError(`${caller}: ${where}no column named ${JSON.stringify(column)} (${known})`);
  }
  return j;
}

/**
 * Parses CSV text of numbers into a Float64Array table. A row with a different number of
 * fields from the first is an error naming its line; so is text that is not a number, a record
 * or field longer than its limit (`maxRecordLength`, `maxFieldLength`), an unknown option, and a
 * column selected by a name the header gives twice. Header names are kept as strings in an array
 * and never become object keys.
 * Quotes follow RFC 4180; hexadecimal and other non-decimal literals are not numbers here.
 * @throws DataFormatError for a ragged row, a field that is not a number, a missing value under
 * `nan: 'error'`, an unclosed quote, or a record or field over its length limit (each naming its line).
 * @throws ArgumentError for an unknown or bad option (delimiter, nan, header, columns, a limit), an
 * unknown column, or a column name the header gives twice.
 * @throws TypeError if `text` is not a string.
 * @example parseCsv('a,b\n1,2\n3,4\n') // { data: [1,2,3,4], shape: [2, 2], columns: ['a', 'b'] }
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  if (typeof text !== 'string') throw new TypeError(`parseCsv: text must be a string, got ${typeof text}`);
  return parseCsvText('parseCsv', text, options);
}

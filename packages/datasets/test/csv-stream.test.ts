// The CSV reader under hostile and oversized input: any split of the text into chunks parses as
// the whole does, records and fields past their limits are errors naming the file and line,
// header names never become object keys, and a plain file is read with bounded memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, DataFormatError, parseCsv } from '../src/index.js';
import { CSV_MAX_FIELD_LENGTH, CSV_MAX_RECORD_LENGTH, csvTableBuilder, type CsvOptions } from '../src/csv.js';
import { readCsv } from '../src/node.js';
import { scratchDir } from './helpers.js';

const dir = scratchDir();

const snapshot = (o: object): string[] => Reflect.ownKeys(o).map(String).sort();
const before = { proto: snapshot(Object.prototype), object: snapshot(Object) };
afterEach(() => {
  expect(snapshot(Object.prototype)).toEqual(before.proto);
  expect(snapshot(Object)).toEqual(before.object);
});

/** The outcome of parsing `pieces` in order: the table, or the error's class and message. */
function outcome(pieces: string[], options: CsvOptions = {}): unknown {
  try {
    const builder = csvTableBuilder('parseCsv', options);
    for (const p of pieces) builder.push(p);
    const t = builder.finish();
    return { data: Array.from(t.data).map(String), shape: t.shape, columns: t.columns };
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message, line: (e as DataFormatError).line };
  }
}

describe('chunks', () => {
  // Text built from the pieces that matter at a boundary: quotes, doubled quotes, CR, LF, CRLF,
  // delimiters, a BOM, numbers, missing markers and text.
  const token = fc.constantFrom('1', '-2.5', '3e2', '"', '""', '"4"', '"a,b"', ',', ';', '\r', '\n', '\r\n', ' ', 'NA', 'x', '\uFEFF', '0x1', '"\n"');
  const text = fc.array(token, { maxLength: 40 }).map((t) => t.join(''));

  it('any split into chunks gives the same table, or the same error on the same line, as the whole text', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom<CsvOptions>({}, { nan: 'keep' }, { header: false, nan: 'drop-row' }, { delimiter: ';', nan: 'keep' }), (t, cuts, options) => {
        const at = [...new Set(cuts.map((c) => c % (t.length + 1)))].sort((a, b) => a - b);
        const pieces: string[] = [];
        let from = 0;
        for (const c of at) {
          pieces.push(t.slice(from, c));
          from = c;
        }
        pieces.push(t.slice(from));
        expect(outcome(pieces, options)).toEqual(outcome([t], options));
      }),
      { numRuns: 1000 },
    );
  });

  it('a file read in 1 MiB chunks gives what the whole text gives, across quoted line breaks and CRLF at chunk ends', () => {
    // Rows sized so that chunk boundaries fall inside quotes, between CR and LF, and inside numbers.
    const rows: string[] = ['a,"b\nwith break",c'];
    for (let i = 0; rows.length < 150_000; i++) rows.push(`${i},"${i % 7 === 0 ? `x""${i}` : i * 0.5}",${-i}`.replace(/"x""(\d+)"/, '$1'));
    const body = `${rows.join('\r\n')}\r\n`;
    const path = join(dir, 'chunked.csv');
    writeFileSync(path, body);
    expect(body.length).toBeGreaterThan(2 * (1 << 20));
    const whole = parseCsv(body);
    const streamed = readCsv(path);
    expect(streamed.shape).toEqual(whole.shape);
    expect(streamed.columns).toEqual(['a', 'b\nwith break', 'c']);
    // Bit for bit (a deep equal over 450,000 numbers would take seconds).
    expect(Buffer.from(streamed.data.buffer, streamed.data.byteOffset, streamed.data.byteLength).equals(Buffer.from(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength))).toBe(true);
    expect(streamed.data[3 * 149_998]).toBe(149_998);
  });
});

describe('limits', () => {
  it('a record past maxRecordLength is an error naming the file and line; raising the limit reads it', () => {
    const long = `${Array.from({ length: 600 }, (_, i) => i).join(',')}`;
    const text = `a\n1\n${long}\n`;
    expect(() => parseCsv(text, { maxRecordLength: 1000, header: false })).toThrow(DataFormatError);
    expect(() => parseCsv(text, { maxRecordLength: 1000 })).toThrow(/^parseCsv: line 3: the record is longer than 1000 characters \(raise the limit with the maxRecordLength option/);
    const path = join(dir, 'long-record.csv');
    writeFileSync(path, `${long}\n${long}\n`);
    expect(() => readCsv(path, { maxRecordLength: 1000 })).toThrow(`readCsv: ${path}: line 1: the record is longer than 1000 characters`);
    expect(readCsv(path, { maxRecordLength: long.length, header: false }).shape).toEqual([2, 600]);
    expect(() => readCsv(path, { maxRecordLength: long.length - 1, header: false })).toThrow(/line 1: the record is longer/);
  });

  it('a field past maxFieldLength (quoted or not) is an error naming the line', () => {
    const big = '1'.repeat(200);
    expect(() => parseCsv(`a\n2\n${big}\n`, { maxFieldLength: 100 })).toThrow(/^parseCsv: line 3: a field is longer than 100 characters \(raise the limit with the maxFieldLength option/);
    expect(() => parseCsv(`a\n"\n\n${big}"\n`, { maxFieldLength: 100 })).toThrow(/^parseCsv: line 2: a field is longer than 100/);
    expect(parseCsv(`a\n${big}\n`, { maxFieldLength: 200 }).data[0]).toBe(Number(big));
    expect(CSV_MAX_FIELD_LENGTH).toBe(131_072);
    expect(CSV_MAX_RECORD_LENGTH).toBe(1_048_576);
  });

  it('one line of millions of fields stops at the default limit, early, naming the file and line 1', () => {
    // 8 MB: four million fields on one line (the shape that used to exhaust the heap).
    const path = join(dir, 'one-line.csv');
    const fd = openSync(path, 'w');
    const block = '1,'.repeat(1 << 19);
    for (let i = 0; i < 8; i++) writeSync(fd, block);
    writeSync(fd, '1\n');
    closeSync(fd);
    expect(() => readCsv(path)).toThrow(DataFormatError);
    expect(() => readCsv(path)).toThrow(`readCsv: ${path}: line 1: the record is longer than ${CSV_MAX_RECORD_LENGTH} characters`);
  });

  it('limit and other options are checked; unknown options are refused', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10', Infinity]) {
      expect(() => parseCsv('a\n1', { maxRecordLength: bad as number })).toThrow(ArgumentError);
      expect(() => parseCsv('a\n1', { maxFieldLength: bad as number })).toThrow(/maxFieldLength must be a positive integer/);
    }
    expect(() => parseCsv('a\n1', { delimeter: ';' } as CsvOptions)).toThrow("parseCsv: unknown option(s) \"delimeter\"");
    expect(() => parseCsv('a\n1', JSON.parse('{"__proto__":{"header":false}}') as CsvOptions)).toThrow('unknown option(s) "__proto__"');
    expect(() => parseCsv('a\n1', { columns: 'a' as unknown as string[] })).toThrow(/columns must be an array/);
    expect(() => parseCsv('a\n1', null as unknown as CsvOptions)).toThrow(/options must be an object/);
  });
});

describe('hostile header names', () => {
  const HOSTILE = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', 'a.b', '\u0000', '🦀'];

  it('any header names come back as given and can be selected by name', () => {
    // A subset of the hostile names plus random ones (fc.oneof inside uniqueArray is slow to draw).
    const headers = fc
      .tuple(fc.subarray(HOSTILE, { maxLength: 4 }), fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 3 }))
      .map(([h, r]) => [...new Set([...h, ...r])])
      .filter((n) => n.length > 0);
    fc.assert(
      fc.property(headers, (names) => {
        // A header must be told apart from numbers: force it.
        const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
        const text = `${names.map(quote).join(',')}\n${names.map((_, j) => j).join(',')}\n`;
        const t = parseCsv(text, { header: true });
        expect(t.columns).toEqual(names.map((n) => n.trim()));
        const unique = t.columns.filter((c, i) => t.columns.indexOf(c) === i && t.columns.lastIndexOf(c) === i);
        for (const c of unique) expect(parseCsv(text, { header: true, columns: [c] }).data[0]).toBe(t.columns.indexOf(c));
      }),
    );
    // A very long name, apart.
    const long = 'x'.repeat(100_000);
    expect(parseCsv(`"${long}",__proto__\n1,2\n`, { columns: [long, '__proto__'] }).columns).toEqual([long, '__proto__']);
  });

  it('a name the header gives twice cannot be selected by name (which one was meant?), only by index', () => {
    const text = 'a,b,a\n1,2,3\n';
    expect(() => parseCsv(text, { columns: ['a'] })).toThrow('parseCsv: the header names two columns "a" (columns 0 and 2); select one by index');
    expect(Array.from(parseCsv(text, { columns: [2] }).data)).toEqual([3]);
  });

  it('bytes that are not UTF-8 are read as U+FFFD and refused as text on their line, not mistaken for numbers', () => {
    const path = join(dir, 'latin1.csv');
    writeFileSync(path, Uint8Array.from([...Buffer.from('a,b\n1,2\n'), 0xff, 0x31, 0x2c, 0x33, 0x0a]));
    expect(() => readCsv(path)).toThrow(`readCsv: ${path}: line 3, column "a": "\uFFFD1" is not a number`);
  });
});

describe.runIf(process.platform === 'linux')('memory', () => {
  it('a 24 MB file is read with a 16 MB heap (the text is never one string)', () => {
    const path = join(dir, 'big.csv');
    const fd = openSync(path, 'w');
    writeSync(fd, 'x,y,z,w\n');
    const rows: string[] = [];
    for (let i = 0; i < 10_000; i++) rows.push(`${i},${(i * 0.37).toFixed(6)},${-i * 3},1234567.125`);
    const block = `${rows.join('\n')}\n`;
    let size = 0;
    while (size < 24e6) {
      writeSync(fd, block);
      size += block.length;
    }
    closeSync(fd);
    const entry = join(dir, 'child.ts');
    writeFileSync(
      entry,
      `import { readCsv } from ${JSON.stringify(resolve(__dirname, '../src/node.ts'))};
       const t = readCsv(process.argv[2]!, { columns: ['y'] });
       console.log(JSON.stringify({ shape: t.shape, last: t.data[t.data.length - 1] }));`,
    );
    const bundle = join(dir, 'child.mjs');
    execFileSync(resolve(__dirname, '../../../node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=error']);
    const child = spawnSync(process.execPath, ['--max-old-space-size=16', bundle, path], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const rowsRead = Math.round(size / block.length) * 10_000;
    expect(JSON.parse(child.stdout)).toEqual({ shape: [rowsRead, 1], last: Number((9_999 * 0.37).toFixed(6)) });
  });
});

describe('options in a process whose Object.prototype someone else polluted', () => {
  it('are read from the options object only', () => {
    Object.defineProperty(Object.prototype, 'header', { value: false, configurable: true, writable: true });
    Object.defineProperty(Object.prototype, 'maxRecordLength', { value: 1, configurable: true, writable: true });
    try {
      const t = parseCsv('a,b\n1,2\n', {});
      expect(t.columns).toEqual(['a', 'b']);
    } finally {
      delete (Object.prototype as Record<string, unknown>)['header'];
      delete (Object.prototype as Record<string, unknown>)['maxRecordLength'];
    }
  });
});

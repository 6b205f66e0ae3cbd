import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, DataFileError, DataFormatError, parseCsv } from '../src/index.js';
import { readCsv } from '../src/node.js';
import { scratchDir } from './helpers.js';

const dir = scratchDir();

describe('parseCsv', () => {
  it('round-trips any table of doubles written with a header', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 60 }),
        fc.constantFrom(',', ';', '\t'),
        fc.constantFrom('\n', '\r\n'),
        (cols, pool, delimiter, eol) => {
          const rows = Math.floor(pool.length / cols);
          const names = Array.from({ length: cols }, (_, j) => `col ${j}`);
          const lines = [names.join(delimiter)];
          for (let r = 0; r < rows; r++) lines.push(pool.slice(r * cols, (r + 1) * cols).map(String).join(delimiter));
          const table = parseCsv(lines.join(eol) + eol, { delimiter });
          expect(table.shape).toEqual([rows, cols]);
          expect(table.columns).toEqual(names);
          // -0 survives as -0: String(-0) is '0', so compare by value.
          expect(Array.from(table.data).map((v) => v + 0)).toEqual(pool.slice(0, rows * cols).map((v) => v + 0));
        },
      ),
    );
  });

  it('handles quotes, BOM, blank lines, header detection and column picks', () => {
    const text = '\uFEFF"a","b, with comma","c ""q"""\r\n1,2,3\r\n\r\n"4",5e-1, -6\r\n';
    const t = parseCsv(text);
    expect(t.columns).toEqual(['a', 'b, with comma', 'c "q"']);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 0.5, -6]);
    const picked = parseCsv(text, { columns: ['c "q"', 0] });
    expect(picked.columns).toEqual(['c "q"', 'a']);
    expect(Array.from(picked.data)).toEqual([3, 1, -6, 4]);
    const noHeader = parseCsv('1,2\n3,4');
    expect(noHeader.columns).toEqual(['0', '1']);
    expect(Array.from(noHeader.data)).toEqual([1, 2, 3, 4]);
    expect(parseCsv('1,2\n3,4', { header: true }).shape).toEqual([1, 2]);
    expect(parseCsv('').shape).toEqual([0, 0]);
  });

  it('applies the nan policy to missing values', () => {
    const text = 'x,y\n1,2\n3,\n5,NA\n7,8\n';
    expect(() => parseCsv(text)).toThrow(DataFormatError);
    expect(() => parseCsv(text)).toThrow(/^parseCsv: line 3, column "y": missing value ""/);
    const kept = parseCsv(text, { nan: 'keep' });
    expect(kept.shape).toEqual([4, 2]);
    expect(Array.from(kept.data)).toEqual([1, 2, 3, Number.NaN, 5, Number.NaN, 7, 8]);
    const dropped = parseCsv(text, { nan: 'drop-row' });
    expect(Array.from(dropped.data)).toEqual([1, 2, 7, 8]);
    // Only the selected columns count.
    expect(Array.from(parseCsv(text, { columns: ['x'] }).data)).toEqual([1, 3, 5, 7]);
  });

  it('names the line of a ragged row and of text that is not a number', () => {
    const ragged = 'a,b,c\n1,2,3\n4,5\n';
    expect(() => parseCsv(ragged)).toThrow(DataFormatError);
    expect(() => parseCsv(ragged)).toThrow('parseCsv: line 3 has 2 fields, expected 3 as on line 1');
    try {
      parseCsv(ragged);
    } catch (err) {
      expect((err as DataFormatError).line).toBe(3);
    }
    expect(() => parseCsv('a,b\n1,2\n3,abc\n')).toThrow('parseCsv: line 3, column "b": "abc" is not a number');
    expect(() => parseCsv('a\n0x10\n')).toThrow(/is not a number/);
    // Quoted line breaks do not shift the line numbers that follow.
    expect(() => parseCsv('"a\nb",c\n1,2\n3\n')).toThrow('parseCsv: line 4 has 1 fields, expected 2 as on line 1');
    expect(() => parseCsv('a\n"1\n')).toThrow('parseCsv: line 2: quoted field is never closed');
  });

  it('rejects bad options and unknown columns', () => {
    expect(() => parseCsv('a\n1', { delimiter: '::' })).toThrow(ArgumentError);
    expect(() => parseCsv('a\n1', { columns: ['b'] })).toThrow('parseCsv: no column named "b" (columns are "a")');
    expect(() => parseCsv('1,2\n', { header: false, columns: [2] })).toThrow('parseCsv: column index 2 is out of range (the table has 2 columns)');
  });
});

describe('readCsv', () => {
  it('reads a file (plain, gzipped, by URL) and takes text with line breaks as the CSV itself', () => {
    const text = 'price,area\n100,2.5\n250,4\n';
    const plain = join(dir, 'houses.csv');
    const gz = join(dir, 'houses.csv.gz');
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(text));
    const expected = { data: Float64Array.of(100, 2.5, 250, 4), shape: [2, 2], columns: ['price', 'area'] };
    expect(readCsv(plain)).toEqual(expected);
    expect(readCsv(gz)).toEqual(expected);
    expect(readCsv(pathToFileURL(plain))).toEqual(expected);
    expect(readCsv(text)).toEqual(expected);
  });

  it('names the file and line of a ragged row, and a missing file', () => {
    const bad = join(dir, 'ragged.csv');
    writeFileSync(bad, 'a,b\n1,2\n3,4\n5,6,7\n');
    expect(() => readCsv(bad)).toThrow(DataFormatError);
    expect(() => readCsv(bad)).toThrow(`readCsv: ${bad}: line 4 has 3 fields, expected 2 as on line 1`);
    try {
      readCsv(bad);
    } catch (err) {
      expect([(err as DataFormatError).path, (err as DataFormatError).line]).toEqual([bad, 4]);
    }
    const missing = join(dir, 'nope.csv');
    expect(() => readCsv(missing)).toThrow(DataFileError);
    expect(() => readCsv(missing)).toThrow(`readCsv: cannot read ${missing}: no such file`);
    expect(() => readCsv(dir)).toThrow(`readCsv: cannot read ${dir}: it is a directory`);
  });
});

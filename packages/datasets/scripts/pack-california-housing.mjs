#!/usr/bin/env node
// Rebuilds data/cal_housing.data.gz from the StatLib file. Numbers are rewritten in their
// shortest round-trip form ("-122.230000" -> "-122.23"), which parses to the very same
// doubles and cuts the shipped size by a fifth; the script checks that before writing.
// usage: node scripts/pack-california-housing.mjs [path/to/cal_housing.data]
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';

const source = process.argv[2] ?? new URL('../../../../shared/data/california_housing/cal_housing.data', import.meta.url);
const target = new URL('../data/cal_housing.data.gz', import.meta.url);

const rows = readFileSync(source, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
const packed = rows.map((line) => line.split(',').map((field) => String(Number(field))).join(',')).join('\n') + '\n';

const unpacked = gunzipSync(gzipSync(packed)).toString('utf8').trimEnd().split('\n');
if (unpacked.length !== rows.length) throw new Error(`row count changed: ${rows.length} -> ${unpacked.length}`);
for (let r = 0; r < rows.length; r++) {
  const a = rows[r].split(',').map(Number);
  const b = unpacked[r].split(',').map(Number);
  if (a.length !== 9 || b.length !== 9 || a.some((v, i) => !Object.is(v, b[i]) || Number.isNaN(v))) {
    throw new Error(`row ${r + 1} does not round-trip: ${rows[r]} -> ${unpacked[r]}`);
  }
}
const gz = gzipSync(packed, { level: 9 });
writeFileSync(target, gz);
console.log(`${rows.length} rows, ${gz.length} bytes -> ${target.pathname}`);

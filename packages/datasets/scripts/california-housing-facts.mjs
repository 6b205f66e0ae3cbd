#!/usr/bin/env node
// Writes test/fixtures/california-housing-facts.json: facts about the StatLib cal_housing.data
// file that the tests check the shipped copy (data/cal_housing.data.gz) and californiaHousing()
// against, so that they need no raw file. Parses the raw text on its own (no package code):
//  - row and column counts, and the sha256 of the file as read;
//  - each raw column's exact sum in millionths (the file writes every number with six decimals),
//    and its minimum and maximum;
//  - the sha256 of all parsed values as float64 little-endian, row by row;
//  - the scikit-learn features (fetch_california_housing's order and ratios) and the target in
//    $100,000: each column's float64 sum in row order and the sha256 of the matrices.
// usage: node scripts/california-housing-facts.mjs [path/to/cal_housing.data]
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = process.argv[2] ?? fileURLToPath(new URL('../../../../shared/data/california_housing/cal_housing.data', import.meta.url));
const target = fileURLToPath(new URL('../test/fixtures/california-housing-facts.json', import.meta.url));

const RAW_COLUMNS = ['longitude', 'latitude', 'housingMedianAge', 'totalRooms', 'totalBedrooms', 'population', 'households', 'medianIncome', 'medianHouseValue'];

const bytes = readFileSync(source);
const lines = bytes.toString('utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
const fields = lines.map((line, r) => {
  const row = line.split(',');
  if (row.length !== RAW_COLUMNS.length) throw new Error(`${source}:${r + 1}: ${row.length} fields, expected ${RAW_COLUMNS.length}`);
  return row.map((field) => field.trim());
});

/** A decimal with at most six places as an exact count of millionths. */
function millionths(text, where) {
  const m = /^(-?)(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) throw new Error(`${where}: "${text}" is not a decimal with at most six places`);
  const value = BigInt(m[2]) * 1000000n + BigInt((m[3] ?? '').padEnd(6, '0'));
  return m[1] === '-' ? -value : value;
}

const rows = fields.map((row) => row.map(Number));
const raw = RAW_COLUMNS.map((name, j) => {
  let sum = 0n;
  let min = Infinity;
  let max = -Infinity;
  fields.forEach((row, r) => {
    sum += millionths(row[j], `${source}:${r + 1} ${name}`);
    min = Math.min(min, rows[r][j]);
    max = Math.max(max, rows[r][j]);
  });
  return { name, sumMillionths: sum.toString(), min, max };
});

const sha256 = (array) => createHash('sha256').update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)).digest('hex');
// The hashes are of little-endian float64 bytes, as on every platform Node runs on; checked, not assumed.
if (new Uint8Array(Float64Array.of(1).buffer)[7] !== 0x3f) throw new Error('this machine is not little-endian');

const [LON, LAT, AGE, ROOMS, BEDROOMS, POPULATION, HOUSEHOLDS, INCOME, VALUE] = RAW_COLUMNS.map((_, j) => j);
const FEATURES = {
  MedInc: (r) => r[INCOME],
  HouseAge: (r) => r[AGE],
  AveRooms: (r) => r[ROOMS] / r[HOUSEHOLDS],
  AveBedrms: (r) => r[BEDROOMS] / r[HOUSEHOLDS],
  Population: (r) => r[POPULATION],
  AveOccup: (r) => r[POPULATION] / r[HOUSEHOLDS],
  Latitude: (r) => r[LAT],
  Longitude: (r) => r[LON],
};
const names = Object.keys(FEATURES);
const x = Float64Array.from(rows.flatMap((r) => names.map((name) => FEATURES[name](r))));
const y = Float64Array.from(rows, (r) => r[VALUE] / 100000);
const columnSum = (values, stride, j) => {
  let s = 0;
  for (let i = j; i < values.length; i += stride) s += values[i];
  return s;
};

const facts = {
  source: {
    file: 'cal_housing.data (StatLib cal_housing; Pace and Barry, 1997)',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  },
  rows: rows.length,
  raw: {
    columns: raw,
    float64Sha256: sha256(Float64Array.from(rows.flat())),
  },
  features: {
    names,
    sums: Object.fromEntries(names.map((name, j) => [name, columnSum(x, names.length, j)])),
    targetSum: columnSum(y, 1, 0),
    xFloat64Sha256: sha256(x),
    yFloat64Sha256: sha256(y),
  },
};

// Written whole or not at all.
const temporary = `${target}.${process.pid}.tmp`;
writeFileSync(temporary, `${JSON.stringify(facts, null, 2)}\n`);
renameSync(temporary, target);
console.log(`${rows.length} rows of ${source} -> ${target}`);

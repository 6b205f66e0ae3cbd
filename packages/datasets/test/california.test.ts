import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/index.js';
import { californiaHousing, californiaHousingFeatures, type CaliforniaHousingFeature } from '../src/node.js';

/**
 * Facts about the original StatLib cal_housing.data, computed from that file by
 * scripts/california-housing-facts.mjs, so that no test needs the raw file.
 */
interface Facts {
  rows: number;
  raw: { columns: { name: string; sumMillionths: string; min: number; max: number }[]; float64Sha256: string };
  features: { names: string[]; sums: Record<string, number>; targetSum: number; xFloat64Sha256: string; yFloat64Sha256: string };
}
const FACTS = JSON.parse(readFileSync(new URL('./fixtures/california-housing-facts.json', import.meta.url), 'utf8')) as Facts;
const SHIPPED = new URL('../data/cal_housing.data.gz', import.meta.url);

const sha256 = (a: Float64Array): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** Column j of a row-major matrix with `width` columns, summed in row order. */
function columnSum(values: Float64Array, width: number, j: number): number {
  let s = 0;
  for (let i = j; i < values.length; i += width) s += values[i]!;
  return s;
}

describe('the shipped cal_housing.data.gz', () => {
  // Read here with gunzip and split, not with the package's CSV reader.
  const rows = gunzipSync(readFileSync(SHIPPED)).toString('utf8').trimEnd().split('\n').map((line) => line.split(',').map(Number));

  it('holds every StatLib row, with each raw column summing to the same millionths and spanning the same range', () => {
    expect(rows.length).toBe(FACTS.rows);
    expect(rows.every((r) => r.length === 9)).toBe(true);
    FACTS.raw.columns.forEach(({ name, sumMillionths, min, max }, j) => {
      // Every StatLib number has six decimals, so millionths are integers and their sum is exact.
      let sum = 0n;
      for (const r of rows) sum += BigInt(Math.round(r[j]! * 1e6));
      expect(sum.toString(), name).toBe(sumMillionths);
      expect(Math.min(...rows.map((r) => r[j]!)), name).toBe(min);
      expect(Math.max(...rows.map((r) => r[j]!)), name).toBe(max);
    });
  });

  it('parses to the very doubles of the StatLib file, row by row', () => {
    expect(sha256(Float64Array.from(rows.flat()))).toBe(FACTS.raw.float64Sha256);
  });
});

describe('californiaHousing', () => {
  const ds = californiaHousing();

  it('has 20,640 rows of the eight scikit-learn features in float64', () => {
    expect(ds.shape).toEqual([20640, 8]);
    expect(ds.yShape).toEqual([20640, 1]);
    expect(ds.x).toBeInstanceOf(Float64Array);
    expect(ds.y).toBeInstanceOf(Float64Array);
    expect(ds.featureNames).toEqual(['MedInc', 'HouseAge', 'AveRooms', 'AveBedrms', 'Population', 'AveOccup', 'Latitude', 'Longitude']);
    expect(ds.featureNames).toEqual(FACTS.features.names);
  });

  it('gives each feature and the target exactly as derived from the StatLib file', () => {
    ds.featureNames.forEach((name, j) => expect(columnSum(ds.x, 8, j), name).toBe(FACTS.features.sums[name]));
    expect(columnSum(ds.y, 1, 0)).toBe(FACTS.features.targetSum);
    expect(sha256(ds.x)).toBe(FACTS.features.xFloat64Sha256);
    expect(sha256(ds.y)).toBe(FACTS.features.yFloat64Sha256);
    // Known values of the first block group (Berkeley hills), as scikit-learn shows them.
    expect(Array.from(ds.x.subarray(0, 8)).map((v) => Number(v.toFixed(4)))).toEqual([8.3252, 41, 6.9841, 1.0238, 322, 2.5556, 37.88, -122.23]);
    expect(ds.y[0]).toBe(4.526);
  });

  it('returns a chosen subset of features in the order asked', () => {
    const sub = californiaHousing({ features: ['Latitude', 'MedInc'] });
    expect(sub.shape).toEqual([20640, 2]);
    expect(sub.featureNames).toEqual(['Latitude', 'MedInc']);
    expect(columnSum(sub.x, 2, 0)).toBe(FACTS.features.sums['Latitude']);
    expect(columnSum(sub.x, 2, 1)).toBe(FACTS.features.sums['MedInc']);
    expect(() => californiaHousing({ features: ['Rooms' as CaliforniaHousingFeature] })).toThrow(ArgumentError);
    expect(() => californiaHousing({ features: ['Rooms' as CaliforniaHousingFeature] })).toThrow(/^californiaHousing: unknown feature "Rooms"/);
    expect(californiaHousingFeatures.length).toBe(8);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/index.js';
import { californiaHousing, californiaHousingFeatures, type CaliforniaHousingFeature } from '../src/node.js';

// The original StatLib file sits beside the repository (../shared), independent of the copy shipped in the package.
const RAW = fileURLToPath(new URL('../../../../shared/data/california_housing/cal_housing.data', import.meta.url));

/** Parses the raw file here, without the package's CSV reader, and derives the features by hand. */
function referenceFeatures(): { features: Record<CaliforniaHousingFeature, number[]>; target: number[] } {
  const rows = readFileSync(RAW, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(',').map(Number));
  const features: Record<CaliforniaHousingFeature, number[]> = {
    MedInc: [],
    HouseAge: [],
    AveRooms: [],
    AveBedrms: [],
    Population: [],
    AveOccup: [],
    Latitude: [],
    Longitude: [],
  };
  const target: number[] = [];
  for (const row of rows) {
    expect(row.length).toBe(9);
    const [lon, lat, age, rooms, bedrooms, pop, households, income, value] = row as [number, number, number, number, number, number, number, number, number];
    features.MedInc.push(income);
    features.HouseAge.push(age);
    features.AveRooms.push(rooms / households);
    features.AveBedrms.push(bedrooms / households);
    features.Population.push(pop);
    features.AveOccup.push(pop / households);
    features.Latitude.push(lat);
    features.Longitude.push(lon);
    target.push(value / 100000);
  }
  return { features, target };
}

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
};

describe('californiaHousing', () => {
  const ref = referenceFeatures();
  const ds = californiaHousing();

  it('has 20,640 rows of the eight scikit-learn features in float64', () => {
    expect(ref.target.length).toBe(20640);
    expect(ds.shape).toEqual([20640, 8]);
    expect(ds.yShape).toEqual([20640, 1]);
    expect(ds.x).toBeInstanceOf(Float64Array);
    expect(ds.y).toBeInstanceOf(Float64Array);
    expect(ds.featureNames).toEqual(['MedInc', 'HouseAge', 'AveRooms', 'AveBedrms', 'Population', 'AveOccup', 'Latitude', 'Longitude']);
  });

  it('matches feature and target means computed from the raw StatLib file', () => {
    ds.featureNames.forEach((name, j) => {
      const column = new Float64Array(20640);
      for (let i = 0; i < 20640; i++) column[i] = ds.x[i * 8 + j] as number;
      expect(mean(column)).toBeCloseTo(mean(ref.features[name]), 10);
    });
    expect(mean(ds.y)).toBeCloseTo(mean(ref.target), 12);
    // Known values of the first block group (Berkeley hills), as scikit-learn shows them.
    expect(Array.from(ds.x.subarray(0, 8)).map((v) => Number(v.toFixed(4)))).toEqual([8.3252, 41, 6.9841, 1.0238, 322, 2.5556, 37.88, -122.23]);
    expect(ds.y[0]).toBe(4.526);
  });

  it('matches the raw file row by row', () => {
    let worst = 0;
    ds.featureNames.forEach((name, j) => {
      const col = ref.features[name];
      for (let i = 0; i < 20640; i++) worst = Math.max(worst, Math.abs((ds.x[i * 8 + j] as number) - (col[i] as number)));
    });
    expect(worst).toBe(0);
  });

  it('returns a chosen subset of features in the order asked', () => {
    const sub = californiaHousing({ features: ['Latitude', 'MedInc'] });
    expect(sub.shape).toEqual([20640, 2]);
    expect(sub.featureNames).toEqual(['Latitude', 'MedInc']);
    expect([sub.x[0], sub.x[1]]).toEqual([37.88, 8.3252]);
    expect(() => californiaHousing({ features: ['Rooms' as CaliforniaHousingFeature] })).toThrow(ArgumentError);
    expect(() => californiaHousing({ features: ['Rooms' as CaliforniaHousingFeature] })).toThrow(/^californiaHousing: unknown feature "Rooms"/);
    expect(californiaHousingFeatures.length).toBe(8);
  });
});

import { ArgumentError, DataFileError, DataFormatError } from '../errors.js';
import type { RegressionDataset } from '../types.js';
import { readCsvFile } from './read-csv.js';
import { packageFile } from './locate.js';

const DATA_FILE = 'data/cal_housing.data.gz';
const ROWS = 20640;

// Raw StatLib columns, in file order.
const LONGITUDE = 0;
const LATITUDE = 1;
const HOUSE_AGE = 2;
const TOTAL_ROOMS = 3;
const TOTAL_BEDROOMS = 4;
const POPULATION = 5;
const HOUSEHOLDS = 6;
const MEDIAN_INCOME = 7;
const MEDIAN_VALUE = 8;
const RAW_COLUMNS = 9;

/** The eight features of scikit-learn's fetch_california_housing, in its order. */
export const californiaHousingFeatures = [
  'MedInc',
  'HouseAge',
  'AveRooms',
  'AveBedrms',
  'Population',
  'AveOccup',
  'Latitude',
  'Longitude',
] as const;

/** Name of one California housing feature. */
export type CaliforniaHousingFeature = (typeof californiaHousingFeatures)[number];

const NONE = -1;

/** Each feature as raw column [numerator, denominator]: ratios per household as scikit-learn derives them. */
const SOURCES: Record<CaliforniaHousingFeature, readonly [number, number]> = {
  MedInc: [MEDIAN_INCOME, NONE],
  HouseAge: [HOUSE_AGE, NONE],
  AveRooms: [TOTAL_ROOMS, HOUSEHOLDS],
  AveBedrms: [TOTAL_BEDROOMS, HOUSEHOLDS],
  Population: [POPULATION, NONE],
  AveOccup: [POPULATION, HOUSEHOLDS],
  Latitude: [LATITUDE, NONE],
  Longitude: [LONGITUDE, NONE],
};

/** Options of {@link californiaHousing}. */
export interface CaliforniaHousingOptions {
  /** Features to return, in this order. Default all eight (californiaHousingFeatures). */
  readonly features?: readonly CaliforniaHousingFeature[];
}

/** California housing: x [20640, d] float64, y [20640, 1] median house value in $100,000. */
export interface CaliforniaHousing extends RegressionDataset<Float64Array> {
  /** Names of the columns of x. */
  readonly featureNames: CaliforniaHousingFeature[];
}

let raw: Float64Array | undefined;

function loadRaw(): Float64Array {
  if (raw !== undefined) return raw;
  const path = packageFile(DATA_FILE);
  if (path === undefined) {
    throw new DataFileError(`californiaHousing: cannot find ${DATA_FILE} inside the @chainrule/datasets package`, DATA_FILE);
  }
  const table = readCsvFile('californiaHousing', path, { header: false });
  if (table.shape[0] !== ROWS || table.shape[1] !== RAW_COLUMNS) {
    throw new DataFormatError(
      `californiaHousing: ${path}: expected ${ROWS} rows of ${RAW_COLUMNS} numbers, got [${table.shape.join(',')}]`,
      { path },
    );
  }
  raw = table.data;
  return raw;
}

/**
 * The StatLib California housing data (1990 census, 20,640 block groups), shipped with the
 * package: the eight features of scikit-learn's fetch_california_housing and the median house
 * value in units of $100,000 (capped at 5.00001 in the data) as target, all float64.
 * @throws ArgumentError for an unknown feature name.
 * @throws DataFileError if the shipped data file is missing; DataFormatError if it is damaged.
 * @example const { x, shape, y, featureNames } = californiaHousing(); // shape [20640, 8]
 */
export function californiaHousing(options: CaliforniaHousingOptions = {}): CaliforniaHousing {
  const featureNames = [...(options.features ?? californiaHousingFeatures)];
  for (const name of featureNames) {
    if (!Object.hasOwn(SOURCES, name)) {
      throw new ArgumentError(
        `californiaHousing: unknown feature ${JSON.stringify(name)}; features are ${californiaHousingFeatures.join(', ')}`,
      );
    }
  }
  const data = loadRaw();
  const d = featureNames.length;
  const num = Int32Array.from(featureNames, (name) => SOURCES[name][0]);
  const den = Int32Array.from(featureNames, (name) => SOURCES[name][1]);
  const x = new Float64Array(ROWS * d);
  const y = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const r = i * RAW_COLUMNS;
    for (let j = 0; j < d; j++) {
      const v = data[r + (num[j] as number)] as number;
      x[i * d + j] = den[j] === NONE ? v : v / (data[r + (den[j] as number)] as number);
    }
    y[i] = (data[r + MEDIAN_VALUE] as number) / 100000;
  }
  return { x, shape: [ROWS, d], y, yShape: [ROWS, 1], featureNames };
}

/**
 * Datasets for notebooks and tests, read offline, and the small helpers that prepare them for
 * training (split, shuffle, standardise, one-hot, batch, records → matrices).
 *
 * Invariants: nothing here touches the network. vega-datasets files are read from the installed
 * package in node_modules; the digits come from `data/digits.csv.gz` inside this project, found by
 * walking up from this module to the package root (works from source and from dist/lib/*.mjs).
 * Missing values are `null`, never NaN or the string "NA". Every random choice takes a seed and is
 * reproducible across runs and machines.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { fromHost, type NxTensor } from "./host.ts";
import { mulberry32 } from "./random.ts";

/** One row of a tabular dataset: column name → number, string or null (missing). */
export type DataRecord = Record<string, number | string | null>;

/** A penguin from the Palmer archipelago (vega-datasets `penguins.json`). */
export interface Penguin extends DataRecord {
  species: string;
  island: string;
  beak_length_mm: number | null;
  beak_depth_mm: number | null;
  flipper_length_mm: number | null;
  body_mass_g: number | null;
  sex: string | null;
}

/** One day of Seattle weather (vega-datasets `seattle-weather.csv`). */
export interface SeattleWeather extends DataRecord {
  date: string;
  precipitation: number;
  temp_max: number;
  temp_min: number;
  wind: number;
  weather: string;
}

/** A features/labels pair as flat row-major arrays. */
export interface Matrix {
  data: Float32Array;
  shape: [number, number];
}

/** The handwritten digits: `images` is [n, 64] (pixel values 0–16), `labels` is [n] (0–9). */
export interface Digits {
  images: Matrix;
  labels: Int32Array;
}

let rootCache: string | undefined;

/** The tsnb package root: the nearest ancestor of this module with package.json named "tsnb". */
export function packageRoot(): string {
  if (rootCache !== undefined) return rootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "tsnb")
          return (rootCache = dir);
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        "datasets: cannot find the tsnb package root above " + fileURLToPath(import.meta.url),
      );
    dir = parent;
  }
}

/** Path of a file inside the installed vega-datasets package's `data/` folder. */
export function vegaDataPath(file: string): string {
  const require = createRequire(join(packageRoot(), "package.json"));
  const main = require.resolve("vega-datasets");
  // main is <pkg>/build/index.js; the data files live in <pkg>/data
  let dir = dirname(main);
  while (!existsSync(join(dir, "data", file))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`datasets: '${file}' not found in the vega-datasets package`);
    dir = parent;
  }
  return join(dir, "data", file);
}

/** Turn a column title like "Beak Length (mm)" into a key like "beak_length_mm". */
export function snakeCase(name: string): string {
  return name
    .replace(/[()]/g, " ")
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
}

/** A value as read from a file: numbers stay numbers, "", "NA", "NaN", "null", "." become null. */
function cleanValue(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean") return v ? 1 : 0;
  const s = String(v).trim();
  if (s === "" || s === "NA" || s === "NaN" || s === "null" || s === "." || s === "N/A")
    return null;
  return s;
}

/**
 * Parse CSV text (RFC 4180 quoting) into records. Fields that parse fully as numbers become
 * numbers; empty and NA-like fields become null.
 */
export function parseCsv(text: string): DataRecord[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  if (header === undefined) return [];
  return body.map((cells) => {
    const rec: DataRecord = {};
    header.forEach((h, j) => {
      const v = cleanValue(cells[j]);
      rec[h] =
        typeof v === "string" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) ? Number(v) : v;
    });
    return rec;
  });
}

function readJsonRecords(file: string, rename: boolean): DataRecord[] {
  const raw = JSON.parse(readFileSync(vegaDataPath(file), "utf8")) as Array<
    Record<string, unknown>
  >;
  return raw.map((r) => {
    const rec: DataRecord = {};
    for (const [k, v] of Object.entries(r)) rec[rename ? snakeCase(k) : k] = cleanValue(v);
    return rec;
  });
}

/**
 * The Palmer penguins (344 rows): species, island, beak length/depth (mm), flipper length (mm),
 * body mass (g), sex. Missing measurements are null. Keys are snake_case.
 */
export async function penguins(): Promise<Penguin[]> {
  return readJsonRecords("penguins.json", true) as Penguin[];
}

/** The cars dataset (406 rows) with vega-datasets' own column names; missing values are null. */
export async function cars(): Promise<DataRecord[]> {
  return readJsonRecords("cars.json", false);
}

/** Seattle daily weather 2012–2015 (1,461 rows). */
export async function seattleWeather(): Promise<SeattleWeather[]> {
  return parseCsv(readFileSync(vegaDataPath("seattle-weather.csv"), "utf8")) as SeattleWeather[];
}

/** Handwritten digits (UCI optdigits test set as scikit-learn ships it): 1,797 8×8 images. */
export async function digits(): Promise<Digits> {
  const text = gunzipSync(readFileSync(join(packageRoot(), "data", "digits.csv.gz"))).toString(
    "utf8",
  );
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const n = lines.length;
  const images = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  lines.forEach((line, i) => {
    const cells = line.split(",");
    if (cells.length !== 65)
      throw new Error(`digits: line ${i + 1} has ${cells.length} fields, expected 65`);
    for (let j = 0; j < 64; j++) images[i * 64 + j] = Number(cells[j]);
    labels[i] = Number(cells[64]);
  });
  return { images: { data: images, shape: [n, 64] }, labels };
}

/** The digits as records {p0..p63, label}, for tables and charts. */
export function digitsToRecords(d: Digits): DataRecord[] {
  const [n, f] = d.images.shape;
  const out: DataRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r: DataRecord = {};
    for (let j = 0; j < f; j++) r[`p${j}`] = d.images.data[i * f + j]!;
    r.label = d.labels[i]!;
    out.push(r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Preparation helpers

/** A permutation of 0..n-1, reproducible for a seed (Fisher–Yates over mulberry32). */
export function permutation(n: number, seed = 0): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

/** A shuffled copy of an array, reproducible for a seed. */
export function shuffle<T>(items: readonly T[], seed = 0): T[] {
  return Array.from(permutation(items.length, seed), (i) => items[i]!);
}

/** Options for {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction (0..1) or count of rows held out for the test set. Default 0.2. */
  testSize?: number;
  /** Seed of the shuffle before splitting. Default 0. */
  seed?: number;
  /** Shuffle before splitting. Default true. */
  shuffle?: boolean;
  /** Keep class proportions: a function giving each row's class. */
  stratify?: (row: number) => string | number;
}

/** The row indices of a train/test split. */
export interface Split {
  train: Int32Array;
  test: Int32Array;
}

/** Split row indices 0..n-1 into train and test, reproducibly. */
export function splitIndices(n: number, opts: SplitOptions = {}): Split {
  const testSize = opts.testSize ?? 0.2;
  if (!(testSize > 0) || (testSize >= 1 && !Number.isInteger(testSize)) || testSize >= n)
    throw new Error(
      `trainTestSplit: testSize must be a fraction in (0,1) or a count below ${n}, got ${testSize}`,
    );
  const order =
    opts.shuffle === false
      ? Int32Array.from({ length: n }, (_, i) => i)
      : permutation(n, opts.seed ?? 0);
  const nTest = testSize < 1 ? Math.round(n * testSize) : testSize;
  if (opts.stratify) {
    const groups = new Map<string | number, number[]>();
    for (const i of order) {
      const k = opts.stratify(i);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(i);
    }
    const test: number[] = [];
    const train: number[] = [];
    for (const g of groups.values()) {
      const k = Math.round((g.length * nTest) / n);
      test.push(...g.slice(0, k));
      train.push(...g.slice(k));
    }
    return { train: Int32Array.from(train), test: Int32Array.from(test) };
  }
  return { train: order.slice(nTest), test: order.slice(0, nTest) };
}

/** Split an array of rows into train and test (shuffled with a seed by default). */
export function trainTestSplit<T>(
  rows: readonly T[],
  opts: SplitOptions = {},
): { train: T[]; test: T[] } {
  const s = splitIndices(rows.length, opts);
  return { train: Array.from(s.train, (i) => rows[i]!), test: Array.from(s.test, (i) => rows[i]!) };
}

/** Rows of a row-major matrix, in the given order. */
export function takeRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const [, f] = m.shape;
  const out = new Float32Array(rows.length * f);
  for (let i = 0; i < rows.length; i++)
    out.set(m.data.subarray(rows[i]! * f, rows[i]! * f + f), i * f);
  return { data: out, shape: [rows.length, f] };
}

/** Elements of a typed array, in the given order. */
export function take<A extends Int32Array | Float32Array>(a: A, idx: ArrayLike<number>): A {
  const out = new (a.constructor as new (n: number) => A)(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

/** Records with no null in the given columns. */
export function dropMissing<T extends DataRecord>(
  rows: readonly T[],
  columns?: readonly string[],
): T[] {
  return rows.filter((r) =>
    (columns ?? Object.keys(r)).every((c) => r[c] !== null && r[c] !== undefined),
  );
}

/**
 * Numeric columns of records as a [rows, columns] f32 matrix. Throws on a missing or
 * non-numeric value, naming the row and column (drop or impute missing values first).
 */
export function recordsToMatrix(rows: readonly DataRecord[], columns: readonly string[]): Matrix {
  const data = new Float32Array(rows.length * columns.length);
  rows.forEach((r, i) =>
    columns.forEach((c, j) => {
      const v = r[c];
      if (typeof v !== "number")
        throw new Error(
          `recordsToMatrix: row ${i}, column '${c}' is ${v === null || v === undefined ? "missing" : JSON.stringify(v)}, expected a number`,
        );
      data[i * columns.length + j] = v;
    }),
  );
  return { data, shape: [rows.length, columns.length] };
}

/** A categorical encoding: the sorted distinct values and each row's index among them. */
export interface Categories {
  classes: Array<string | number>;
  indices: Int32Array;
}

/** Encode a categorical column as class indices (classes sorted, so the encoding is stable). */
export function labelEncode(
  values: ReadonlyArray<string | number | null>,
  classes?: ReadonlyArray<string | number>,
): Categories {
  const cls = classes
    ? [...classes]
    : [...new Set(values.filter((v): v is string | number => v !== null))].sort((a, b) =>
        a < b ? -1 : a > b ? 1 : 0,
      );
  const pos = new Map(cls.map((c, i) => [c, i]));
  const indices = new Int32Array(values.length);
  values.forEach((v, i) => {
    const k = v === null ? undefined : pos.get(v);
    if (k === undefined)
      throw new Error(
        `labelEncode: value ${JSON.stringify(v)} at row ${i} is not one of ${JSON.stringify(cls)}`,
      );
    indices[i] = k;
  });
  return { classes: cls, indices };
}

/** One-hot encode class indices into a [n, numClasses] f32 matrix. */
export function oneHot(indices: ArrayLike<number>, numClasses: number): Matrix {
  const data = new Float32Array(indices.length * numClasses);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!(k >= 0 && k < numClasses && Number.isInteger(k)))
      throw new Error(`oneHot: index ${k} at row ${i} is outside 0..${numClasses - 1}`);
    data[i * numClasses + k] = 1;
  }
  return { data, shape: [indices.length, numClasses] };
}

/** Per-column mean and standard deviation, to standardise other data the same way. */
export interface Standardizer {
  mean: Float32Array;
  std: Float32Array;
  /** (x - mean) / std column-wise, returning a new matrix. */
  transform(m: Matrix): Matrix;
}

/** Fit a standardiser on a matrix (columns with zero spread get std 1). */
export function fitStandardizer(m: Matrix): Standardizer {
  const [n, f] = m.shape;
  const mean = new Float32Array(f);
  const std = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += m.data[i * f + j]!;
    const mu = n > 0 ? s / n : 0;
    let v = 0;
    for (let i = 0; i < n; i++) v += (m.data[i * f + j]! - mu) ** 2;
    const sd = n > 0 ? Math.sqrt(v / n) : 0;
    mean[j] = mu;
    std[j] = sd > 1e-12 ? sd : 1;
  }
  return {
    mean,
    std,
    transform(x: Matrix): Matrix {
      if (x.shape[1] !== f)
        throw new Error(
          `standardize: the matrix has ${x.shape[1]} columns, the standardiser was fitted on ${f}`,
        );
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < x.data.length; i++) out[i] = (x.data[i]! - mean[i % f]!) / std[i % f]!;
      return { data: out, shape: [x.shape[0], f] };
    },
  };
}

/** Standardise the columns of a matrix to mean 0, std 1 (fit and transform in one). */
export function standardize(m: Matrix): Matrix {
  return fitStandardizer(m).transform(m);
}

/** Index ranges of consecutive batches over n rows (the last one may be smaller unless dropLast). */
export function batchRanges(
  n: number,
  batchSize: number,
  dropLast = false,
): Array<[number, number]> {
  if (!(batchSize >= 1)) throw new Error(`batch: batchSize must be at least 1, got ${batchSize}`);
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    if (dropLast && e - s < batchSize) break;
    out.push([s, e]);
  }
  return out;
}

/** Split an array into consecutive batches. */
export function batch<T>(items: readonly T[], batchSize: number, dropLast = false): T[][] {
  return batchRanges(items.length, batchSize, dropLast).map(([s, e]) => items.slice(s, e));
}

/** A matrix (or typed array with a shape) as a tsnb/nx tensor, sharing memory. */
export function toTensor(
  m: Matrix | { data: Float32Array | Int32Array; shape: readonly number[] },
): NxTensor {
  const dtype = m.data instanceof Int32Array ? "i32" : "f32";
  return fromHost({ dtype, shape: [...m.shape], data: m.data });
}

/** Numeric columns of records as an f32 tensor [rows, columns] (see {@link recordsToMatrix}). */
export function recordsToTensor(rows: readonly DataRecord[], columns: readonly string[]): NxTensor {
  return toTensor(recordsToMatrix(rows, columns));
}

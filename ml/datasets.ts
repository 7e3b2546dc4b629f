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
import * as nx from "../tensor/index.ts";
import type { NxTensor } from "./host.ts";
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

/** The handwritten digits: `images` is an f32 tensor [n, 64] (pixel values 0–16), `labels` an i32 tensor [n] (0–9). */
export interface Digits {
  images: NxTensor;
  labels: NxTensor;
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
  return {
    images: nx.tensor(images, { shape: [n, 64] }),
    labels: nx.tensor(labels),
  };
}

/** The digits as records {p0..p63, label}, for tables and charts. */
export function digitsToRecords(d: Digits): DataRecord[] {
  const [n, f] = d.images.shape as [number, number];
  const images = d.images.dataSync();
  const labels = d.labels.dataSync();
  const out: DataRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r: DataRecord = {};
    for (let j = 0; j < f; j++) r[`p${j}`] = Number(images[i * f + j]!);
    r.label = Number(labels[i]!);
    out.push(r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Preparation helpers

/** A permutation of 0..n-1 as an i32 tensor, reproducible for a seed (Fisher–Yates over mulberry32). */
export function permutation(n: number, seed = 0): NxTensor {
  return nx.tensor(permutedIndices(n, seed));
}

function permutedIndices(n: number, seed: number): Int32Array {
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
  return Array.from(permutedIndices(items.length, seed), (i) => items[i]!);
}

/** Options for {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction (0..1) or count of rows held out for the test set. Default 0.2. */
  testSize?: number;
  /** Seed of the shuffle before splitting. Default 0. */
  seed?: number;
  /** Shuffle before splitting. Default true. */
  shuffle?: boolean;
  /** Keep class proportions: each row's class, as a tensor or array of labels (as scikit-learn's `stratify=y`) or a function of the row index. */
  stratify?: ((row: number) => string | number) | NxTensor | ArrayLike<string | number>;
}

/** The row indices of a train/test split (i32 tensors, for `nx.take` or {@link takeRows}). */
export interface Split {
  train: NxTensor;
  test: NxTensor;
}

/** Split row indices 0..n-1 into train and test, reproducibly. */
export function splitIndices(n: number, opts: SplitOptions = {}): Split {
  const s = splitRows(n, opts);
  return { train: nx.tensor(s.train), test: nx.tensor(s.test) };
}

function splitRows(n: number, opts: SplitOptions): { train: Int32Array; test: Int32Array } {
  const testSize = opts.testSize ?? 0.2;
  if (!(testSize > 0) || (testSize >= 1 && !Number.isInteger(testSize)) || testSize >= n)
    throw new Error(
      `trainTestSplit: testSize must be a fraction in (0,1) or a count below ${n}, got ${testSize}`,
    );
  const order =
    opts.shuffle === false
      ? Int32Array.from({ length: n }, (_, i) => i)
      : permutedIndices(n, opts.seed ?? 0);
  const nTest = testSize < 1 ? Math.round(n * testSize) : testSize;
  if (opts.stratify) {
    const st = opts.stratify;
    const labels: ArrayLike<unknown> | undefined =
      st instanceof nx.Tensor ? st.dataSync() : typeof st === "function" ? undefined : st;
    if (labels && labels.length !== n)
      throw new Error(`trainTestSplit: stratify has ${labels.length} labels for ${n} rows`);
    const classOf = (i: number): unknown =>
      labels ? labels[i] : (st as (row: number) => string | number)(i);
    const groups = new Map<unknown, number[]>();
    for (const i of order) {
      const k = classOf(i);
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

/**
 * Split rows into train and test (shuffled with a seed by default): an array of records gives
 * arrays, a tensor gives tensors (rows are its first axis), and a list `[x, y, …]` of tensors with
 * the same number of rows is split with the same rows (`const {train: [xTr, yTr], test: [xTe,
 * yTe]} = trainTestSplit([x, y])`).
 */
export function trainTestSplit<T>(
  rows: readonly T[],
  opts?: SplitOptions,
): { train: T[]; test: T[] };
export function trainTestSplit(
  rows: NxTensor,
  opts?: SplitOptions,
): { train: NxTensor; test: NxTensor };
export function trainTestSplit(
  rows: unknown,
  opts: SplitOptions = {},
): { train: unknown; test: unknown } {
  if (rows instanceof nx.Tensor) {
    if (rows.rank === 0) throw new Error("trainTestSplit: a scalar tensor has no rows");
    const s = splitIndices(rows.shape[0]!, opts);
    return { train: nx.take(rows, s.train), test: nx.take(rows, s.test) };
  }
  const list = rows as readonly unknown[];
  if (list.length > 0 && list.every((r) => r instanceof nx.Tensor)) {
    const ts = list as NxTensor[];
    const n = ts[0]!.shape[0];
    ts.forEach((t, i) => {
      if (t.rank === 0 || t.shape[0] !== n)
        throw new Error(
          `trainTestSplit: tensor ${i} has shape [${t.shape.join(", ")}], expected ${n} rows like tensor 0`,
        );
    });
    const s = splitIndices(n!, opts);
    return { train: ts.map((t) => nx.take(t, s.train)), test: ts.map((t) => nx.take(t, s.test)) };
  }
  const s = splitRows(list.length, opts);
  return { train: Array.from(s.train, (i) => list[i]!), test: Array.from(s.test, (i) => list[i]!) };
}

/** Rows (first-axis entries) of a tensor in the given order: `nx.take(t, rows, {axis: 0})`. */
export function takeRows(t: NxTensor, rows: NxTensor | ArrayLike<number>): NxTensor {
  return nx.take(t, rows instanceof nx.Tensor ? rows : Array.from(rows));
}

/** Same as {@link takeRows}. */
export const take = takeRows;

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
 * Numeric columns of records as an f32 tensor [rows, columns]. Throws on a missing or
 * non-numeric value, naming the row and column (drop or impute missing values first).
 */
export function recordsToTensor(rows: readonly DataRecord[], columns: readonly string[]): NxTensor {
  const data = new Float32Array(rows.length * columns.length);
  rows.forEach((r, i) =>
    columns.forEach((c, j) => {
      const v = r[c];
      if (typeof v !== "number")
        throw new Error(
          `recordsToTensor: row ${i}, column '${c}' is ${v === null || v === undefined ? "missing" : JSON.stringify(v)}, expected a number`,
        );
      data[i * columns.length + j] = v;
    }),
  );
  return nx.tensor(data, { shape: [rows.length, columns.length] });
}

/**
 * The rows of a [rows, columns] tensor as records named by `columns` (the inverse of
 * recordsToTensor): what a chart of a tensor draws. Default names c0, c1, ….
 */
export function tensorToRecords(
  t: NxTensor,
  columns?: readonly string[],
): Array<Record<string, number>> {
  if (!(t instanceof nx.Tensor) || t.rank !== 2)
    throw new Error(
      `tensorToRecords: expected a [rows, columns] tensor, got ${t instanceof nx.Tensor ? `shape [${t.shape.join(", ")}]` : typeof t}`,
    );
  const [rows, width] = t.shape as [number, number];
  const names = columns ?? Array.from({ length: width }, (_, i) => `c${i}`);
  if (names.length !== width)
    throw new Error(
      `tensorToRecords: ${names.length} column name${names.length === 1 ? "" : "s"} for a tensor of ${width} columns (shape [${rows}, ${width}])`,
    );
  const data = t.dataSync() as ArrayLike<number | bigint>;
  const out: Array<Record<string, number>> = [];
  for (let i = 0; i < rows; i++) {
    const r: Record<string, number> = {};
    for (let j = 0; j < width; j++) r[names[j]!] = Number(data[i * width + j]!);
    out.push(r);
  }
  return out;
}

/** A categorical encoding: the sorted distinct values and each row's index among them (an i32 tensor). */
export interface Categories {
  classes: Array<string | number>;
  indices: NxTensor;
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
  return { classes: cls, indices: nx.tensor(indices) };
}

/** One-hot encode class indices (a tensor or numbers) into an f32 tensor [n, numClasses]. */
export function oneHot(indices: NxTensor | ArrayLike<number>, numClasses: number): NxTensor {
  const idx = indices instanceof nx.Tensor ? indices.dataSync() : indices;
  for (let i = 0; i < idx.length; i++) {
    const k = Number(idx[i]!);
    if (!(k >= 0 && k < numClasses && Number.isInteger(k)))
      throw new Error(`oneHot: index ${k} at row ${i} is outside 0..${numClasses - 1}`);
  }
  return nx.oneHot(
    indices instanceof nx.Tensor ? indices : Array.from(indices as ArrayLike<number>),
    numClasses,
  );
}

/** Per-column mean and standard deviation (f32 tensors [columns]), to standardise other data the same way. */
export interface Standardizer {
  mean: NxTensor;
  std: NxTensor;
  /** (x - mean) / std column-wise, a new f32 tensor. */
  transform(x: NxTensor): NxTensor;
}

/** Fit a standardiser on a [rows, columns] tensor (columns with zero spread get std 1). */
export function fitStandardizer(x: NxTensor): Standardizer {
  if (!(x instanceof nx.Tensor) || x.rank !== 2)
    throw new Error(
      `fitStandardizer: expected a [rows, columns] tensor, got ${x instanceof nx.Tensor ? `shape [${x.shape.join(", ")}]` : typeof x}`,
    );
  const f = x.shape[1]!;
  const xf = nx.cast(x, "f64");
  const mean = x.shape[0] === 0 ? nx.zeros([f], { dtype: "f64" }) : nx.mean(xf, 0);
  const sd = x.shape[0] === 0 ? nx.zeros([f], { dtype: "f64" }) : nx.standardDeviation(xf, 0);
  const std = nx.where(nx.greater(sd, 1e-12), sd, 1);
  const mean32 = nx.cast(mean, "f32");
  const std32 = nx.cast(std, "f32");
  return {
    mean: mean32,
    std: std32,
    transform(t: NxTensor): NxTensor {
      if (!(t instanceof nx.Tensor) || t.rank !== 2 || t.shape[1] !== f)
        throw new Error(
          `standardize: the tensor has shape [${t instanceof nx.Tensor ? t.shape.join(", ") : typeof t}], the standardiser was fitted on ${f} columns`,
        );
      return nx.divide(nx.subtract(nx.cast(t, "f32"), mean32), std32);
    },
  };
}

/** Standardise the columns of a [rows, columns] tensor to mean 0, std 1 (fit and transform in one). */
export function standardize(x: NxTensor): NxTensor {
  return fitStandardizer(x).transform(x);
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

/**
 * The chart smart cell (kino_vega_lite's Chart cell, with more marks, channels and options):
 * layers of a Vega-Lite chart over record bindings, generating `display.vegaLite({...})` with a
 * readable spec. Attrs version 0 is Livebook's own chart-cell attrs (`chart_type`,
 * `data_variable`, `x_field`, …) or the flat `{data, x, y}` shorthand: both migrate to version 1.
 */
import { FIELD_TYPES, type BindingInfo, type FieldType } from "../core/bindings.ts";
import { isRecord } from "../core/fields.ts";
import {
  arr,
  blank,
  call,
  exprStmt,
  id,
  importStmt,
  lit,
  obj,
  printStatements,
  type Expr,
} from "./printer.ts";
import type { Schema } from "./schema.ts";
import type {
  Attrs,
  FieldContext,
  FormField,
  Option,
  ScanContext,
  SmartCellDefinition,
} from "./types.ts";

export const MARKS = [
  "point",
  "line",
  "bar",
  "area",
  "boxplot",
  "rule",
  "rect",
  "arc",
  "tick",
] as const;
export const AGGREGATES = ["sum", "mean", "median", "min", "max", "count"] as const;
export const SCALES = ["linear", "log", "sqrt", "time"] as const;
/** The pseudo-field "count of records" (Livebook's `__count__`). */
export const COUNT_FIELD = "__count__";
const CHANNELS = ["x", "y", "theta", "color", "size"] as const;
type ChannelName = (typeof CHANNELS)[number];

export interface Channel {
  field: string | null;
  type: FieldType | null;
  aggregate: (typeof AGGREGATES)[number] | null;
  bin: boolean;
  scale: (typeof SCALES)[number] | null;
}

export interface ChartLayer {
  data: string | null;
  /**
   * Names of the columns when `data` is a 2-D tensor (comma-separated, one per column); null when
   * `data` is an array of records. The code turns the tensor into records with these names.
   */
  columns: string | null;
  mark: (typeof MARKS)[number];
  x: Channel;
  y: Channel;
  theta: Channel;
  color: Channel;
  size: Channel;
}

export interface ChartAttrs extends Attrs {
  version: 1;
  title: string | null;
  width: number | null;
  height: number | null;
  layers: ChartLayer[];
}

const channelSchema: Schema = {
  type: "object",
  fields: {
    field: { type: "string", nullable: true, maxLength: 1000 },
    type: { type: "string", enum: FIELD_TYPES, nullable: true },
    aggregate: { type: "string", enum: AGGREGATES, nullable: true },
    bin: { type: "boolean", default: false },
    scale: { type: "string", enum: SCALES, nullable: true },
  },
};

const schema: Schema = {
  type: "object",
  fields: {
    version: { type: "literal", value: 1 },
    title: { type: "string", nullable: true, maxLength: 1000 },
    width: { type: "number", integer: true, min: 10, max: 5000, nullable: true },
    height: { type: "number", integer: true, min: 10, max: 5000, nullable: true },
    layers: {
      type: "array",
      min: 1,
      max: 20,
      items: {
        type: "object",
        fields: {
          data: { type: "string", identifier: true, nullable: true },
          columns: { type: "string", nullable: true, maxLength: 10_000 },
          mark: { type: "string", enum: MARKS, default: "point" },
          ...Object.fromEntries(CHANNELS.map((c) => [c, channelSchema])),
        },
      },
    },
  },
};

const emptyChannel = (): Channel => ({
  field: null,
  type: null,
  aggregate: null,
  bin: false,
  scale: null,
});

function recordsOf(
  scan: ScanContext,
  name: string | null,
): Extract<BindingInfo, { kind: "records" }> | null {
  if (name === null) return null;
  const b = scan.bindings.find((x) => x.name === name && x.kind === "records");
  return b && b.kind === "records" ? b : null;
}

/** A 2-D tensor binding a chart can draw (rows × at most MAX_TENSOR_COLUMNS columns). */
function tableTensorOf(
  scan: ScanContext,
  name: string | null,
): Extract<BindingInfo, { kind: "tensor" }> | null {
  if (name === null) return null;
  const b = scan.bindings.find((x) => x.name === name && x.kind === "tensor");
  return b && b.kind === "tensor" && isTable(b) ? b : null;
}

export const MAX_TENSOR_COLUMNS = 100;
const isTable = (b: Extract<BindingInfo, { kind: "tensor" }>) =>
  b.shape.length === 2 && b.shape[1]! >= 1 && b.shape[1]! <= MAX_TENSOR_COLUMNS;

/** The column names of a tensor layer, in order ("a, b" → ["a", "b"]). */
export function columnNames(columns: string): string[] {
  return columns.split(",").map((c) => c.trim());
}

/** The fields a layer's channels can use: a records binding's, or a tensor's named columns (numbers). */
function fieldsOf(
  scan: ScanContext,
  layer: Pick<ChartLayer, "data" | "columns">,
): Array<{ name: string; type: FieldType }> {
  if (layer.columns !== null)
    return columnNames(layer.columns)
      .filter((c) => c !== "")
      .map((name) => ({ name, type: "quantitative" as const }));
  return recordsOf(scan, layer.data)?.fields ?? [];
}

/** A layer over `data` with its first two fields on x and y (Livebook's first choice). */
function layerFor(scan: ScanContext, data: string | null): ChartLayer {
  const tensor = tableTensorOf(scan, data);
  const columns = tensor
    ? Array.from({ length: tensor.shape[1]! }, (_, i) => `c${i}`).join(", ")
    : null;
  const fields = fieldsOf(scan, { data, columns });
  const pick = (i: number): Channel => {
    const f = fields[Math.min(i, fields.length - 1)];
    return f ? { ...emptyChannel(), field: f.name, type: f.type } : emptyChannel();
  };
  return {
    data,
    columns,
    mark: "point",
    x: pick(0),
    y: pick(1),
    theta: emptyChannel(),
    color: emptyChannel(),
    size: emptyChannel(),
  };
}

function defaultAttrs(scan: ScanContext): ChartAttrs {
  const first =
    scan.bindings.find((b) => b.kind === "records") ??
    scan.bindings.find((b) => b.kind === "tensor" && isTable(b));
  return {
    version: 1,
    title: null,
    width: null,
    height: null,
    layers: [layerFor(scan, first?.name ?? null)],
  };
}

function onChange(
  attrs: ChartAttrs,
  path: readonly (string | number)[],
  scan: ScanContext,
  previous: ChartAttrs,
): ChartAttrs {
  const [root, index, channel, key] = path;
  if (root !== "layers" || typeof index !== "number") return attrs;
  const layers = attrs.layers.slice();
  const layer = layers[index];
  if (!layer) return attrs;
  if (channel === "data") {
    layers[index] = { ...layerFor(scan, layer.data), mark: layer.mark };
  } else if (channel === "columns") {
    // Renamed columns: channels keep their column (by position) under its new name.
    const before = previous.layers[index]?.columns ?? null;
    const old = before === null ? [] : columnNames(before);
    // Emptied: the tensor's columns take their default names again.
    const tensor = tableTensorOf(scan, layer.data);
    const columns =
      layer.columns === null && tensor && before !== null
        ? Array.from({ length: tensor.shape[1]! }, (_, i) => `c${i}`).join(", ")
        : layer.columns;
    const now = columns === null ? [] : columnNames(columns);
    const rename = (ch: Channel): Channel => {
      const i = ch.field === null ? -1 : old.indexOf(ch.field);
      return i >= 0 && now[i] ? { ...ch, field: now[i]! } : ch;
    };
    layers[index] = {
      ...layer,
      columns,
      x: rename(layer.x),
      y: rename(layer.y),
      theta: rename(layer.theta),
      color: rename(layer.color),
      size: rename(layer.size),
    };
  } else if (
    key === "field" &&
    typeof channel === "string" &&
    CHANNELS.includes(channel as ChannelName)
  ) {
    const ch = layer[channel as ChannelName];
    const field = fieldsOf(scan, layer).find((f) => f.name === ch.field);
    const next: Channel =
      ch.field === COUNT_FIELD
        ? { ...ch, type: null, aggregate: null, bin: false }
        : { ...ch, type: field ? field.type : ch.type };
    layers[index] = { ...layer, [channel]: next };
  } else return attrs;
  return { ...attrs, layers };
}

// ---- code ----

function encodingOf(layer: ChartLayer): Expr | undefined {
  const channels =
    layer.mark === "arc"
      ? (["theta", "color", "size"] as const)
      : (["x", "y", "color", "size"] as const);
  const entries: Array<[string, Expr]> = [];
  for (const name of channels) {
    const ch = layer[name];
    if (ch.field === null) continue;
    if (ch.field === COUNT_FIELD) {
      entries.push([name, obj({ aggregate: lit("count"), type: lit("quantitative") })]);
      continue;
    }
    entries.push([
      name,
      obj({
        field: lit(ch.field),
        type: ch.type === null ? undefined : lit(ch.type),
        aggregate: ch.aggregate === null ? undefined : lit(ch.aggregate),
        bin: ch.bin ? lit(true) : undefined,
        scale: ch.scale === null ? undefined : obj({ type: lit(ch.scale) }),
      }),
    ]);
  }
  return entries.length > 0 ? obj(entries) : undefined;
}

const usable = (l: ChartLayer): boolean => l.data !== null && encodingOf(l) !== undefined;

function toSource(attrs: ChartAttrs): string[] {
  const layers = attrs.layers.filter(usable);
  if (layers.length === 0) return [];
  const sameData = (a: ChartLayer, b: ChartLayer) => a.data === b.data && a.columns === b.columns;
  const shared = layers.every((l) => sameData(l, layers[0]!)) ? layers[0]! : null;
  // A tensor's rows become records named by its columns (Vega-Lite draws records).
  const data = (l: ChartLayer | null) =>
    l === null || l.data === null
      ? undefined
      : obj({
          values:
            l.columns === null
              ? id(l.data)
              : call("datasets.tensorToRecords", id(l.data), arr(columnNames(l.columns).map(lit))),
        });
  const body = (l: ChartLayer): Array<[string, Expr | undefined]> => [
    ["data", shared === null ? data(l) : undefined],
    ["mark", lit(l.mark)],
    ["encoding", encodingOf(l)],
  ];
  const head: Array<[string, Expr | undefined]> = [
    ["$schema", lit("https://vega.github.io/schema/vega-lite/v6.json")],
    ["title", attrs.title ? lit(attrs.title) : undefined],
    ["width", attrs.width === null ? undefined : lit(attrs.width)],
    ["height", attrs.height === null ? undefined : lit(attrs.height)],
    ["data", data(shared)],
  ];
  const spec =
    layers.length === 1
      ? obj([...head, ...body(layers[0]!)])
      : obj([...head, ["layer", { t: "arr", items: layers.map((l) => obj(body(l))) }]]);
  return [
    printStatements([
      importStmt(
        layers.some((l) => l.columns !== null) ? ["datasets", "display"] : ["display"],
        "tsnb",
      ),
      blank,
      exprStmt(call("display.vegaLite", spec)),
    ]),
  ];
}

// ---- migration from version 0 (Livebook's attrs, or the flat shorthand) ----

function fromLivebookLayer(l: Record<string, unknown>): Record<string, unknown> {
  const ch = (prefix: string) => ({
    field: l[`${prefix}_field`] ?? null,
    type: l[`${prefix}_field_type`] ?? null,
    aggregate: l[`${prefix}_field_aggregate`] ?? null,
  });
  const mark = l["chart_type"] === "heatmap" ? "rect" : (l["chart_type"] ?? "point");
  return { data: l["data_variable"] ?? null, mark, x: ch("x"), y: ch("y"), color: ch("color") };
}

function fromShorthand(a: Record<string, unknown>): Record<string, unknown> {
  const ch = (v: unknown) => (typeof v === "string" ? { field: v } : (v ?? {}));
  const layer: Record<string, unknown> = { data: a["data"] ?? null, mark: a["mark"] ?? "point" };
  for (const c of CHANNELS) if (c in a) layer[c] = ch(a[c]);
  return layer;
}

function migrate0(a: Record<string, unknown>): Record<string, unknown> {
  const livebook = (l: unknown) =>
    isRecord(l) && ("chart_type" in l || "data_variable" in l || "x_field" in l);
  const layers = Array.isArray(a["layers"])
    ? a["layers"].map((l) => (livebook(l) ? fromLivebookLayer(l as Record<string, unknown>) : l))
    : [livebook(a) ? fromLivebookLayer(a) : fromShorthand(a)];
  return {
    version: 1,
    title: a["chart_title"] ?? a["title"] ?? null,
    width: a["width"] ?? null,
    height: a["height"] ?? null,
    layers,
  };
}

// ---- form ----

function dataOptions(ctx: FieldContext<ChartAttrs>): Option[] {
  const out: Option[] = [];
  for (const b of ctx.scan.bindings) {
    if (b.kind === "records") out.push({ value: b.name, label: `${b.name} (${b.rows} rows)` });
    else if (b.kind === "tensor" && isTable(b))
      out.push({ value: b.name, label: `${b.name} (tensor ${b.dtype} [${b.shape.join(", ")}])` });
  }
  return out;
}

function fieldOptions(ctx: FieldContext<ChartAttrs>): Option[] {
  const item = (ctx.item ?? {}) as Partial<ChartLayer>;
  const fields = fieldsOf(ctx.scan, { data: item.data ?? null, columns: item.columns ?? null });
  return [
    ...fields.map((f) => ({ value: f.name, label: `${f.name} (${f.type})` })),
    { value: COUNT_FIELD, label: "Count of records" },
  ];
}

const asOptions = (values: readonly string[]): Option[] =>
  values.map((v) => ({ value: v, label: v }));

const mark = (ctx: FieldContext<ChartAttrs>) => ctx.item?.["mark"] as string;
const hasField = (name: ChannelName) => (ctx: FieldContext<ChartAttrs>) => {
  const f = (ctx.item?.[name] as Channel | undefined)?.field;
  return f !== null && f !== undefined && f !== COUNT_FIELD;
};

function channelRow(
  name: ChannelName,
  label: string,
  show: (ctx: FieldContext<ChartAttrs>) => boolean,
): FormField<ChartAttrs> {
  const has = hasField(name);
  return {
    type: "row",
    showIf: show,
    fields: [
      {
        type: "select",
        key: `${name}.field`,
        label: `${label} field`,
        options: fieldOptions,
        empty: "None",
      },
      {
        type: "select",
        key: `${name}.type`,
        label: `${label} type`,
        options: asOptions(FIELD_TYPES),
        empty: "Auto",
        showIf: has,
      },
      {
        type: "select",
        key: `${name}.aggregate`,
        label: `${label} aggregate`,
        options: asOptions(AGGREGATES),
        empty: "None",
        showIf: has,
      },
      { type: "checkbox", key: `${name}.bin`, label: `${label} bin`, showIf: has },
      {
        type: "select",
        key: `${name}.scale`,
        label: `${label} scale`,
        options: asOptions(SCALES),
        empty: "Default",
        showIf: (ctx) => has(ctx) && (name === "x" || name === "y" || name === "size"),
      },
    ],
  };
}

const form: FormField<ChartAttrs>[] = [
  {
    type: "group",
    key: "layers",
    label: "Layers",
    itemLabel: "Layer",
    min: 1,
    max: 20,
    newItem: (ctx) => ({ ...layerFor(ctx.scan, ctx.attrs.layers[0]?.data ?? null) }),
    fields: [
      {
        type: "row",
        fields: [
          {
            type: "select",
            key: "data",
            label: "Data",
            options: dataOptions,
            empty: "Choose data",
          },
          { type: "select", key: "mark", label: "Mark", options: asOptions(MARKS) },
        ],
      },
      {
        type: "text",
        key: "columns",
        label: "Column names",
        placeholder: "one name per column, separated by commas",
        help: "The tensor's columns, in order, as the chart's fields (comma-separated)",
        showIf: (c) => (c.item?.["columns"] ?? null) !== null,
      },
      channelRow("x", "X", (c) => mark(c) !== "arc"),
      channelRow("y", "Y", (c) => mark(c) !== "arc"),
      channelRow("theta", "Angle", (c) => mark(c) === "arc"),
      channelRow("color", "Color", () => true),
      channelRow("size", "Size", (c) => mark(c) === "point" || mark(c) === "arc"),
    ],
  },
  {
    type: "row",
    fields: [
      { type: "text", key: "title", label: "Title", placeholder: "No title" },
      { type: "number", key: "width", label: "Width", min: 10, max: 5000, step: 10, empty: "auto" },
      {
        type: "number",
        key: "height",
        label: "Height",
        min: 10,
        max: 5000,
        step: 10,
        empty: "auto",
      },
    ],
  },
];

export const chart: SmartCellDefinition<ChartAttrs> = {
  kind: "chart",
  name: "Chart",
  description: "A Vega-Lite chart of a data binding: layers, marks, fields, aggregates",
  version: 1,
  migrate: { 0: migrate0 },
  schema,
  scan: ["records"],
  autoRun: true,
  defaultAttrs,
  onChange,
  uses: (attrs) => attrs.layers.map((l) => l.data).filter((d): d is string => d !== null),
  toSource,
  form,
};

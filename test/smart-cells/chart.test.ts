// Golden `toSource` tests of the chart smart cell (kino_vega_lite's chart_cell_test.exs is the
// model): attrs → the exact code a person would write; and attrs read from files (Livebook's
// own chart-cell attrs, the flat shorthand) migrate to the current version.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chart, type ChartAttrs, type ChartLayer } from "../../smart-cells/chart.ts";
import { editAttrs, generate, parseAttrs } from "../../smart-cells/index.ts";
import type { ScanContext } from "../../smart-cells/types.ts";
import { assertPrettierStable } from "./helpers.ts";

const ch = (field: string | null, more: Record<string, unknown> = {}) => ({
  field,
  type: null,
  aggregate: null,
  bin: false,
  scale: null,
  ...more,
});

function layer(more: Partial<ChartLayer> = {}): ChartLayer {
  return {
    data: "data",
    columns: null,
    mark: "bar",
    x: ch("a"),
    y: ch("b"),
    theta: ch(null),
    color: ch(null),
    size: ch(null),
    ...more,
  } as ChartLayer;
}

function attrs(root: Partial<ChartAttrs> = {}, ...layers: ChartLayer[]): ChartAttrs {
  return {
    version: 1,
    title: null,
    width: null,
    height: null,
    layers: layers.length ? layers : [layer()],
    ...root,
  };
}

const source = (a: ChartAttrs) => generate(chart, a).source;

const HEAD =
  'import { display } from "tsnb";\n\ndisplay.vegaLite({\n  $schema: "https://vega.github.io/schema/vega-lite/v6.json",\n';

describe("chart toSource", () => {
  test("no source while the form has no data or no field", () => {
    assert.equal(source(attrs({}, layer({ data: null }))), "");
    assert.equal(source(attrs({}, layer({ x: ch(null), y: ch(null) }))), "");
  });

  test("a basic bar chart", () => {
    assert.equal(
      source(attrs()),
      HEAD +
        '  data: { values: data },\n  mark: "bar",\n  encoding: { x: { field: "a" }, y: { field: "b" } },\n});',
    );
  });

  test("types, color, title and size; the count pseudo-field", () => {
    const a = attrs(
      { title: "Penguins", width: 600, height: 300 },
      layer({
        mark: "point",
        x: ch("a", { type: "nominal" }),
        y: ch("__count__"),
        color: ch("c", { type: "nominal" }),
      }),
    );
    assert.equal(
      source(a),
      HEAD +
        [
          '  title: "Penguins",',
          "  width: 600,",
          "  height: 300,",
          "  data: { values: data },",
          '  mark: "point",',
          "  encoding: {",
          '    x: { field: "a", type: "nominal" },',
          '    y: { aggregate: "count", type: "quantitative" },',
          '    color: { field: "c", type: "nominal" },',
          "  },",
          "});",
        ].join("\n"),
    );
  });

  test("aggregate, bin and scale", () => {
    const a = attrs(
      {},
      layer({
        x: ch("a", { type: "quantitative", bin: true }),
        y: ch("b", { type: "quantitative", aggregate: "mean", scale: "log" }),
      }),
    );
    assert.equal(
      source(a),
      HEAD +
        [
          "  data: { values: data },",
          '  mark: "bar",',
          "  encoding: {",
          '    x: { field: "a", type: "quantitative", bin: true },',
          '    y: { field: "b", type: "quantitative", aggregate: "mean", scale: { type: "log" } },',
          "  },",
          "});",
        ].join("\n"),
    );
  });

  test("an arc (pie) uses theta and color, not x and y", () => {
    const a = attrs(
      {},
      layer({ mark: "arc", theta: ch("n", { aggregate: "sum" }), color: ch("k") }),
    );
    assert.equal(
      source(a),
      HEAD +
        '  data: { values: data },\n  mark: "arc",\n  encoding: { theta: { field: "n", aggregate: "sum" }, color: { field: "k" } },\n});',
    );
  });

  test("two layers over the same data share it; a layer without fields is left out", () => {
    const a = attrs(
      {},
      layer(),
      layer({ mark: "rule", x: ch(null), y: ch("c"), color: ch("__count__") }),
      layer({ x: ch(null), y: ch(null) }),
    );
    assert.equal(
      source(a),
      HEAD +
        [
          "  data: { values: data },",
          "  layer: [",
          '    { mark: "bar", encoding: { x: { field: "a" }, y: { field: "b" } } },',
          "    {",
          '      mark: "rule",',
          '      encoding: { y: { field: "c" }, color: { aggregate: "count", type: "quantitative" } },',
          "    },",
          "  ],",
          "});",
        ].join("\n"),
    );
  });

  test("layers over different data carry their own", () => {
    const a = attrs({}, layer(), layer({ data: "cats", x: ch("c"), y: ch("d") }));
    assert.equal(
      source(a),
      HEAD +
        [
          "  layer: [",
          '    { data: { values: data }, mark: "bar", encoding: { x: { field: "a" }, y: { field: "b" } } },',
          '    { data: { values: cats }, mark: "bar", encoding: { x: { field: "c" }, y: { field: "d" } } },',
          "  ],",
          "});",
        ].join("\n"),
    );
  });

  test("field names with quotes, backslashes and newlines stay string literals", () => {
    const a = attrs({ title: 'It\'s "x"' }, layer({ x: ch('a"b\\c'), y: ch("line\nbreak") }));
    const src = source(a);
    assert.match(src, /title: 'It\\'s "x"',/);
    assert.match(src, /field: 'a"b\\\\c'/);
    assert.match(src, /field: "line\\nbreak"/);
  });

  test("every golden source is what prettier writes", async () => {
    for (const a of [
      attrs(),
      attrs({ title: 'It\'s "x"', width: 400 }, layer({ x: ch('a"b'), y: ch("__count__") })),
      attrs({}, layer(), layer({ data: "cats", x: ch("c"), y: ch("d") }), layer({ mark: "line" })),
      attrs(
        {},
        layer({
          x: ch("a", { type: "temporal", scale: "time" }),
          y: ch("b", { aggregate: "max" }),
        }),
      ),
    ])
      await assertPrettierStable(source(a));
  });
});

describe("chart attrs", () => {
  const scan: ScanContext = {
    bindings: [
      {
        name: "penguins",
        kind: "records",
        rows: 344,
        fields: [
          { name: "species", type: "nominal" },
          { name: "beak_length_mm", type: "quantitative" },
          { name: "year", type: "temporal" },
        ],
      },
      {
        name: "cars",
        kind: "records",
        rows: 406,
        fields: [{ name: "Horsepower", type: "quantitative" }],
      },
    ],
  };

  test("default attrs: the first data binding, its first two fields with their types", () => {
    const a = chart.defaultAttrs(scan);
    assert.equal(a.layers[0]!.data, "penguins");
    assert.deepEqual([a.layers[0]!.x.field, a.layers[0]!.x.type], ["species", "nominal"]);
    assert.deepEqual(
      [a.layers[0]!.y.field, a.layers[0]!.y.type],
      ["beak_length_mm", "quantitative"],
    );
    assert.equal(chart.defaultAttrs({ bindings: [] }).layers[0]!.data, null);
  });

  test("choosing other data picks its fields; choosing a field takes its inferred type", () => {
    let a = chart.defaultAttrs(scan);
    a = editAttrs(chart, a, ["layers", 0, "data"], "cars", scan) as ChartAttrs;
    assert.deepEqual([a.layers[0]!.x.field, a.layers[0]!.y.field], ["Horsepower", "Horsepower"]);
    a = editAttrs(chart, a, ["layers", 0, "data"], "penguins", scan) as ChartAttrs;
    a = editAttrs(chart, a, ["layers", 0, "x", "field"], "year", scan) as ChartAttrs;
    assert.equal(a.layers[0]!.x.type, "temporal");
  });

  test("Livebook's chart-cell attrs (kino_vega_lite) migrate and generate the same chart", () => {
    const livebook = {
      chart_title: "Cars",
      width: 600,
      height: null,
      vl_alias: "Elixir.VegaLite",
      layers: [
        {
          chart_type: "point",
          data_variable: "cars",
          x_field: "Horsepower",
          y_field: "Miles_per_Gallon",
          color_field: "Origin",
          x_field_type: "quantitative",
          y_field_type: "quantitative",
          color_field_type: "nominal",
          x_field_aggregate: null,
          y_field_aggregate: null,
          color_field_aggregate: null,
        },
      ],
    };
    const r = parseAttrs(chart, livebook);
    assert.ok(r.ok, r.ok ? "" : r.error);
    const a = r.attrs as ChartAttrs;
    assert.equal(a.version, 1);
    assert.equal(a.title, "Cars");
    assert.deepEqual(a.layers[0]!.color, ch("Origin", { type: "nominal" }));
    assert.match(source(a), /color: \{ field: "Origin", type: "nominal" \}/);
  });

  test("the flat shorthand of the docs migrates", () => {
    const r = parseAttrs(chart, { data: "penguins", x: "beak_length_mm" });
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.equal((r.attrs as ChartAttrs).layers[0]!.x.field, "beak_length_mm");
  });

  test("bad attrs say what is wrong and where", () => {
    const bad = (a: unknown) => {
      const r = parseAttrs(chart, a);
      assert.equal(r.ok, false);
      return r.ok ? "" : r.error;
    };
    assert.match(
      bad({ ...attrs(), layers: [layer({ mark: "pie" as never })] }),
      /layers\[0\]\.mark: must be one of point, line/,
    );
    assert.match(
      bad({ ...attrs(), layers: [layer({ data: "x; process.exit()" })] }),
      /layers\[0\]\.data: must be a variable name/,
    );
    assert.match(
      bad({ ...attrs(), width: "wide" }),
      /attrs\.width: must be a number or null; got "wide"/,
    );
    assert.match(bad({ ...attrs(), version: 7 }), /version 7, written by a newer tsnb/);
    assert.match(bad({ ...attrs(), colour: 1 }), /unknown key 'colour'/);
  });

  test("a 2-D tensor: offered as data, its columns named in the form and turned into records", async () => {
    const scan: ScanContext = {
      bindings: [
        { name: "logits", kind: "tensor", dtype: "f32", shape: [10] },
        { name: "iris", kind: "tensor", dtype: "f32", shape: [150, 4] },
      ],
    };
    let a = chart.defaultAttrs(scan);
    assert.equal(a.layers[0]!.data, "iris", "a 2-D tensor is data when no records binding is");
    assert.equal(a.layers[0]!.columns, "c0, c1, c2, c3");
    assert.equal(a.layers[0]!.x.field, "c0");
    assert.equal(a.layers[0]!.y.type, "quantitative");
    // Naming the columns renames the fields the channels use (by position).
    a = editAttrs(
      chart,
      a,
      ["layers", 0, "columns"],
      "sepal_length, sepal_width, petal_length, petal_width",
      scan,
    ) as ChartAttrs;
    assert.equal(a.layers[0]!.x.field, "sepal_length");
    assert.equal(a.layers[0]!.y.field, "sepal_width");
    a = editAttrs(chart, a, ["layers", 0, "color", "field"], "petal_width", scan) as ChartAttrs;
    const src = source(a);
    assert.equal(
      src,
      [
        'import { datasets, display } from "tsnb";',
        "",
        "display.vegaLite({",
        '  $schema: "https://vega.github.io/schema/vega-lite/v6.json",',
        "  data: {",
        "    values: datasets.tensorToRecords(iris, [",
        '      "sepal_length",',
        '      "sepal_width",',
        '      "petal_length",',
        '      "petal_width",',
        "    ]),",
        "  },",
        '  mark: "point",',
        "  encoding: {",
        '    x: { field: "sepal_length", type: "quantitative" },',
        '    y: { field: "sepal_width", type: "quantitative" },',
        '    color: { field: "petal_width", type: "quantitative" },',
        "  },",
        "});",
      ].join("\n"),
    );
    await assertPrettierStable(src);
    // Emptied, the names come back as c0, c1, …; a 1-D tensor is not offered.
    a = editAttrs(chart, a, ["layers", 0, "columns"], null, scan) as ChartAttrs;
    assert.equal(a.layers[0]!.columns, "c0, c1, c2, c3");
    assert.equal(a.layers[0]!.x.field, "c0");
    const group = chart.form[0]!;
    const row = group.type === "group" ? group.fields[0] : undefined;
    assert.ok(row?.type === "row");
    const dataField = row.fields[0]!;
    assert.ok(dataField.type === "select" && typeof dataField.options === "function");
    assert.deepEqual(
      dataField.options({ attrs: a, item: { ...a.layers[0]! }, scan }).map((o) => o.label),
      ["iris (tensor f32 [150, 4])"],
    );
  });
});

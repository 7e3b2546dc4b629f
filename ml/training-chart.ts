/**
 * The training chart (the live chart of `fit` and a `History`'s display): Vega-Lite, one panel
 * per quantity (loss first, then each metric), training and validation overlaid in each panel.
 *
 * Rows are long form, `{step|epoch, metric, value}` with Keras's names (`loss`, `accuracy`,
 * `val_loss`, `val_accuracy`): the spec itself derives `split` ("train" / "validation", from the
 * `val_` prefix) and `kind` (the name without it), so pushed rows need no extra fields and a saved
 * chart keeps working with the data pushed to it.
 *
 * The panels are an `hconcat`, which Vega-Lite cannot size to its container (`width:
 * "container"` works for single and layered views only), so the spec says
 * `usermeta.tsnb.width = "container"` and the app's renderer sets the panels' width to fill the
 * output (renderer/outputs.ts `fitChartWidth`); elsewhere each panel is `width` px wide.
 */

/** What the chart shows. */
export interface TrainingChartOptions {
  /** The x field: "step" for the live chart, "epoch" for a finished history. */
  x: "step" | "epoch";
  /** One panel each, in this order (names without the `val_` prefix; "loss" first). */
  kinds: readonly string[];
  /** Whether validation rows come (the legend then lists "validation" after "train"). */
  validation: boolean;
  /** The rows, or the named dataset that rows are pushed into. */
  data: { name: string } | { values: unknown[] };
  /** Width of one panel where the renderer does not fit the chart to its container. */
  width?: number;
  /** Height of each panel. */
  height?: number;
}

const VAL = "val_";

/** The Vega-Lite spec of a training chart. */
export function trainingChartSpec(o: TrainingChartOptions): Record<string, unknown> {
  const splits = o.validation ? ["train", "validation"] : ["train"];
  const x = o.x;
  // The live chart's loss comes every few steps (a line); per-epoch values get a point each, so
  // one epoch already shows something.
  const pointFilter =
    x === "epoch" ? "true" : "datum.split === 'validation' || datum.kind !== 'loss'";
  const panel = (kind: string) => ({
    width: o.width ?? 300,
    height: o.height ?? 180,
    transform: [{ filter: { field: "kind", equal: kind } }],
    encoding: {
      x: {
        field: x,
        type: "quantitative",
        title: x,
        axis: { tickMinStep: 1, format: "d" },
        scale: { nice: false, zero: false, padding: 6 },
      },
      y: { field: "value", type: "quantitative", title: kind, scale: { zero: false } },
      color: {
        field: "split",
        type: "nominal",
        title: null,
        scale: { domain: splits },
        // Above the panels, labels never shortened (labelLimit 0); "train" alone says what the
        // line is when there is no validation data.
        legend: { orient: "top", direction: "horizontal", labelLimit: 0 },
      },
      tooltip: [
        { field: "metric", type: "nominal" },
        { field: x, type: "quantitative" },
        { field: "value", type: "quantitative", format: ".4f" },
      ],
    },
    layer: [
      { mark: { type: "line", strokeWidth: 1.5 } },
      { transform: [{ filter: pointFilter }], mark: { type: "point", filled: true, size: 36 } },
    ],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    usermeta: { tsnb: { width: "container" } },
    data: o.data,
    transform: [
      {
        calculate: `indexof(datum.metric, '${VAL}') === 0 ? 'validation' : 'train'`,
        as: "split",
      },
      {
        calculate: `indexof(datum.metric, '${VAL}') === 0 ? substring(datum.metric, ${VAL.length}) : datum.metric`,
        as: "kind",
      },
    ],
    hconcat: o.kinds.map(panel),
    // One x domain for all panels (the same steps), a y scale each, one legend.
    resolve: { scale: { x: "shared", color: "shared" }, legend: { color: "shared" } },
  };
}

/** The panels of a record's keys: "loss" first, then the other names without `val_`, in order. */
export function chartKinds(names: Iterable<string>): string[] {
  const kinds: string[] = ["loss"];
  for (const n of names) {
    const k = n.startsWith(VAL) ? n.slice(VAL.length) : n;
    if (k !== "epoch" && k !== "seconds" && k !== "step" && !kinds.includes(k)) kinds.push(k);
  }
  return kinds;
}

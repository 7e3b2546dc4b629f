/**
 * tsnb outputs as Jupyter mime bundles (`display_data`, `execute_result`, `update_display_data`).
 *
 * Every bundle has `text/plain` (what a terminal client such as jupyter console shows), plus the
 * richest type Jupyter front ends know for that output: text/markdown, text/html, image/png and
 * friends, Vega-Lite's mime type (charts with pushed rows inlined as values). Outputs that can
 * change later (frames, live charts, progress, tables) carry their id as Jupyter's
 * `transient.display_id`, so updates replace them in place in JupyterLab and nbconvert.
 *
 * Invariants: pure; no Node or DOM imports besides the shared text rendering.
 */

import type { Output } from "../core/outputs.ts";
import { outputToText } from "../cli/run.ts";

/** JupyterLab's built-in Vega renderer takes this type (Vega-Lite 5 and later specs render). */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

export interface MimeBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Set for outputs that are updated later. */
  displayId?: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The bundle of one output; `terminal` and `error` outputs are not bundles (see streams and errors). */
export function outputToBundle(o: Output): MimeBundle {
  const plain = outputToText(o);
  switch (o.type) {
    case "markdown":
      return { data: { "text/markdown": o.text, "text/plain": plain }, metadata: {} };
    case "html":
      return { data: { "text/html": o.html, "text/plain": plain }, metadata: {} };
    case "image": {
      // SVG travels as text in Jupyter; raster images as base64.
      const value =
        o.mime === "image/svg+xml" ? Buffer.from(o.data, "base64").toString("utf8") : o.data;
      return { data: { [o.mime]: value, "text/plain": plain }, metadata: {} };
    }
    case "vega-lite": {
      const b: MimeBundle = {
        data: { [VEGA_LITE_MIME]: o.spec, "text/plain": plain },
        metadata: {},
      };
      if (o.id) b.displayId = o.id;
      return b;
    }
    case "table": {
      const head = o.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
      const rows = o.rows
        .map(
          (r) =>
            `<tr>${r.map((c) => `<td>${escapeHtml(c === null ? "" : String(c))}</td>`).join("")}</tr>`,
        )
        .join("");
      const more =
        o.totalRows > o.rows.length ? `<p>${o.rows.length} of ${o.totalRows} rows</p>` : "";
      return {
        data: {
          "text/html": `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>${more}`,
          "text/plain": plain,
        },
        metadata: {},
        displayId: o.id,
      };
    }
    case "frame": {
      // A frame shows its outputs one after another; the richest common form is HTML only when
      // every part has one, else text.
      const parts = o.outputs.map((x) =>
        x.type === "terminal" || x.type === "error" ? null : outputToBundle(x),
      );
      const allHtml = parts.every((p) => p && typeof p.data["text/html"] === "string");
      const data: Record<string, unknown> = { "text/plain": plain };
      if (o.outputs.length === 1 && parts[0]) Object.assign(data, parts[0].data);
      else if (o.outputs.length > 1 && allHtml)
        data["text/html"] = parts.map((p) => p!.data["text/html"]).join("\n");
      return { data, metadata: {}, displayId: o.id };
    }
    case "progress":
      return { data: { "text/plain": plain }, metadata: {}, displayId: o.id };
    case "terminal":
    case "tensor":
    case "value":
    case "error":
    case "input":
    case "control":
    case "layout":
      return { data: { "text/plain": plain }, metadata: {} };
  }
}

/** A Vega-Lite spec with rows pushed into its named dataset inlined (at most `window` rows kept). */
export function withPushedRows(
  spec: unknown,
  dataset: string | undefined,
  rows: unknown[],
): unknown {
  if (!spec || typeof spec !== "object") return spec;
  const s = structuredClone(spec) as Record<string, unknown>;
  const name = dataset ?? (s["data"] as { name?: string } | undefined)?.name;
  if (!name) return s;
  const datasets = { ...((s["datasets"] as Record<string, unknown>) ?? {}) };
  datasets[name] = rows;
  s["datasets"] = datasets;
  // A top-level `data: {name}` keeps pointing at the dataset, which Vega-Lite resolves.
  return s;
}

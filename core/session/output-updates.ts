/**
 * Applying `OutputUpdate`s to stored outputs, and converting between live outputs and the
 * outputs a notebook may persist.
 *
 * Owns: how an update addressed by output id finds its output (including outputs nested in
 * frames and layouts) and changes it, without mutating its input. Invariant: functions here are pure and
 * return the same array (===) when nothing matched, so callers can tell "not found".
 */
import { assertNever, type PersistedOutput } from "../notebook.ts";
import type { Output, OutputUpdate } from "../outputs.ts";
import { isRecord } from "../fields.ts";

/** Apply `update` to the output with its id in `outputs` (searching inside frames); `found` false when no output has that id. */
export function applyOutputUpdate(
  outputs: readonly Output[],
  update: OutputUpdate,
): { outputs: Output[]; found: boolean } {
  let found = false;
  const next = outputs.map((out): Output => {
    if (found) return out;
    if ("id" in out && out.id === update.id) {
      const changed = updateOne(out, update);
      if (changed) {
        found = true;
        return changed;
      }
    }
    if (out.type === "frame") {
      const inner = applyOutputUpdate(out.outputs, update);
      if (inner.found) {
        found = true;
        return { ...out, outputs: inner.outputs };
      }
    }
    if (out.type === "layout") {
      for (let i = 0; i < out.items.length; i++) {
        const inner = applyOutputUpdate(out.items[i]!.outputs, update);
        if (inner.found) {
          found = true;
          const items = out.items.slice();
          items[i] = { ...out.items[i]!, outputs: inner.outputs };
          return { ...out, items };
        }
      }
    }
    return out;
  });
  return { outputs: found ? next : (outputs as Output[]), found };
}

/** The updated output, or null when the update does not apply to this kind of output. */
function updateOne(out: Output, update: OutputUpdate): Output | null {
  switch (update.type) {
    case "frame-replace":
      return out.type === "frame" ? { ...out, outputs: update.outputs } : null;
    case "frame-append":
      return out.type === "frame" ? { ...out, outputs: [...out.outputs, ...update.outputs] } : null;
    case "vega-lite-push":
      return out.type === "vega-lite"
        ? { ...out, spec: pushRows(out.spec, out.dataset, update.rows, update.window) }
        : null;
    case "progress-set":
      return out.type === "progress"
        ? { ...out, fraction: update.fraction, label: update.label }
        : null;
    case "table-page":
      return out.type === "table" ? { ...out, offset: update.offset, rows: update.rows } : null;
    case "input-value":
      return out.type === "input" ? { ...out, value: update.value } : null;
    default:
      return assertNever(update, "output update");
  }
}

/**
 * Pushed rows are stored in the spec itself so a renderer that connects later draws the same
 * chart: in `spec.datasets[dataset]` when the output names a dataset, else in `spec.data.values`.
 */
function pushRows(
  spec: unknown,
  dataset: string | undefined,
  rows: unknown[],
  window: number | undefined,
): unknown {
  const base = isRecord(spec) ? spec : {};
  const keep = (old: unknown): unknown[] => {
    const all = [...(Array.isArray(old) ? old : []), ...rows];
    return window !== undefined && window >= 0 && all.length > window
      ? all.slice(all.length - window)
      : all;
  };
  if (dataset !== undefined) {
    const datasets = isRecord(base["datasets"]) ? base["datasets"] : {};
    return { ...base, datasets: { ...datasets, [dataset]: keep(datasets[dataset]) } };
  }
  const data = isRecord(base["data"]) ? base["data"] : {};
  return { ...base, data: { ...data, values: keep(data["values"]) } };
}

/** Outputs saved in a file, shown as live outputs when the notebook opens. */
export function outputsFromPersisted(persisted: readonly PersistedOutput[] | undefined): Output[] {
  return (persisted ?? []).map((p): Output => {
    switch (p.type) {
      case "text":
        return { type: "terminal", stream: "stdout", text: p.text };
      case "vega-lite":
        return { type: "vega-lite", spec: p.spec };
      default:
        return assertNever(p, "persisted output");
    }
  });
}

/** What of a cell's live outputs can be saved in the file: text-like outputs as text, charts as their spec; the rest is dropped. */
export function outputsToPersisted(outputs: readonly Output[]): PersistedOutput[] {
  const out: PersistedOutput[] = [];
  const text = (t: string) => {
    const last = out[out.length - 1];
    if (last && last.type === "text") out[out.length - 1] = { type: "text", text: last.text + t };
    else out.push({ type: "text", text: t });
  };
  for (const o of outputs) {
    switch (o.type) {
      case "terminal":
        text(o.text);
        break;
      case "vega-lite":
        out.push({ type: "vega-lite", spec: o.spec });
        break;
      case "tensor":
        text(o.text.endsWith("\n") ? o.text : o.text + "\n");
        break;
      case "value":
        if (o.preview.kind === "primitive") text(o.preview.text + "\n");
        break;
      case "error":
        text(`${o.name}: ${o.message}\n`);
        break;
      case "markdown":
        text(o.text.endsWith("\n") ? o.text : o.text + "\n");
        break;
      case "frame":
        out.push(...outputsToPersisted(o.outputs));
        break;
      case "layout":
        for (const item of o.items) out.push(...outputsToPersisted(item.outputs));
        break;
      case "html":
      case "image":
      case "table":
      case "progress":
      case "input":
      case "control":
        break;
      default:
        assertNever(o, "output");
    }
  }
  return out;
}

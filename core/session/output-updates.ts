/**
 * Applying `OutputUpdate`s to stored outputs, and converting between live outputs and the
 * outputs a notebook may persist.
 *
 * Owns: how an update addressed by output id finds its output (including outputs nested in
 * frames and layouts) and changes it, without mutating its input. Invariant: functions here are pure and
 * return the same array (===) when nothing matched, so callers can tell "not found".
 */
import { assertNever, type PersistedOutput } from "../notebook.ts";
import { terminalText, type ErrorOutput, type Output, type OutputUpdate } from "../outputs.ts";
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
      if (out.type !== "table") return null;
      {
        const { sort: _old, ...rest } = out;
        return update.sort
          ? { ...rest, offset: update.offset, rows: update.rows, sort: update.sort }
          : { ...rest, offset: update.offset, rows: update.rows };
      }
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
      case "markdown":
        return { type: "markdown", text: p.text };
      case "table":
        // No kernel holds a saved table: id "" marks it static (the rows saved, no paging).
        return {
          type: "table",
          id: "",
          columns: p.columns,
          rows: p.rows,
          offset: p.offset ?? 0,
          totalRows: p.totalRows,
        };
      default:
        return assertNever(p, "persisted output");
    }
  });
}

/** How an error reads in text (a saved output, a terminal): `Uncaught ` for a callback's. */
export function errorSummary(e: ErrorOutput): string {
  const prefix =
    e.uncaught === "rejection"
      ? "Uncaught (in promise) "
      : e.uncaught === "exception"
        ? "Uncaught "
        : "";
  return `${prefix}${e.name}: ${e.message}`;
}

/**
 * What of a cell's live outputs can be saved in the file, each as what it is: console text as
 * text (consecutive console writes in one block), Markdown as Markdown, tables as the rows shown,
 * charts as their spec with the data pushed to them, a display's frame as its last state; a
 * tensor, a primitive value and an error as their text. HTML, images, progress bars and inputs
 * are dropped.
 */
export function outputsToPersisted(outputs: readonly Output[]): PersistedOutput[] {
  const out: PersistedOutput[] = [];
  let consoleBlock = false;
  const text = (t: string, fromConsole = false) => {
    const last = out[out.length - 1];
    if (fromConsole && consoleBlock && last && last.type === "text")
      out[out.length - 1] = { type: "text", text: last.text + t };
    else out.push({ type: "text", text: t });
    consoleBlock = fromConsole;
  };
  for (const o of outputs) {
    if (o.type !== "terminal") consoleBlock = false;
    switch (o.type) {
      case "terminal":
        text(terminalText(o), true);
        break;
      case "vega-lite":
        out.push({ type: "vega-lite", spec: o.spec });
        break;
      case "tensor":
        text(o.text);
        break;
      case "value":
        if (o.preview.kind === "primitive") text(o.preview.text);
        break;
      case "error":
        text(errorSummary(o));
        break;
      case "markdown":
        out.push({ type: "markdown", text: o.text });
        break;
      case "table": {
        const t: PersistedOutput = {
          type: "table",
          columns: o.columns,
          rows: o.rows,
          totalRows: o.totalRows,
        };
        if (o.offset) t.offset = o.offset;
        out.push(t);
        break;
      }
      case "frame":
        out.push(...outputsToPersisted(o.outputs));
        break;
      case "layout":
        for (const item of o.items) out.push(...outputsToPersisted(item.outputs));
        break;
      case "html":
      case "image":
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

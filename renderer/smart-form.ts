/**
 * The one form renderer for every smart cell: draws a form declared as data
 * (smart-cells/types.ts `FormField`) for the current attrs and scan, and reports each edit as
 * `(path, value)`. It never changes attrs itself; the smart-cell view turns an edit into new
 * attrs and sends them. Every control has an accessible name (`aria-label`, prefixed inside
 * groups: "Layer 2: X field"), so screen readers and tests find fields by name.
 */
import { getIn } from "../smart-cells/index.ts";
import type { Attrs, FieldContext, FormField, Option, ScanContext } from "../smart-cells/types.ts";
import { button, h } from "./dom.ts";

export type Path = ReadonlyArray<string | number>;

export interface FormOptions {
  attrs: Attrs;
  scan: ScanContext;
  /** Read-only (bad attrs, code edited by hand): controls shown disabled. */
  disabled: boolean;
  onEdit(path: Path, value: unknown): void;
}

export function renderForm(fields: readonly FormField[], o: FormOptions): HTMLElement {
  const root = h("div", { class: "smart-form" });
  const ctx: FieldContext = { attrs: o.attrs, item: null, scan: o.scan };
  for (const f of fields) {
    const el = renderField(f, ctx, [], "", o);
    if (el) root.append(el);
  }
  return root;
}

const dyn = <T>(v: T | ((ctx: FieldContext) => T), ctx: FieldContext): T =>
  typeof v === "function" ? (v as (ctx: FieldContext) => T)(ctx) : v;

function renderField(
  f: FormField,
  ctx: FieldContext,
  base: Path,
  prefix: string,
  o: FormOptions,
): HTMLElement | null {
  if (f.showIf && !f.showIf(ctx)) return null;
  if (f.type === "row") {
    const row = h("div", { class: "smart-row" });
    for (const inner of f.fields) {
      const el = renderField(inner, ctx, base, prefix, o);
      if (el) row.append(el);
    }
    return row.children.length > 0 ? row : null;
  }
  const name = prefix + f.label;
  if (f.type === "info") {
    const content = f.content(ctx);
    if (content === null) return null;
    const box = h("div", { class: "smart-info", role: "group", "aria-label": name });
    box.append(h("div", { class: "smart-label" }, f.label));
    if (typeof content === "string") box.append(h("div", { class: "smart-info-text" }, content));
    else {
      const table = h("table", { class: "smart-table", "aria-label": name });
      table.append(
        h("thead", {}, h("tr", {}, ...content.columns.map((c) => h("th", {}, c)))),
        h("tbody", {}, ...content.rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
      );
      box.append(table);
    }
    return box;
  }
  const path = [...base, ...f.key.split(".")];
  const source = ctx.item ?? ctx.attrs;
  const value = getIn(source, f.key.split("."));
  const common = {
    "aria-label": name,
    "data-path": JSON.stringify(path),
    title: f.help ?? name,
    disabled: o.disabled,
  };
  const wrap = (control: HTMLElement, cls = "") =>
    h(
      "label",
      { class: `smart-field ${cls}`.trim() },
      h("span", { class: "smart-label" }, f.label),
      control,
    );
  switch (f.type) {
    case "select": {
      const options: Option[] = [...dyn(f.options, ctx)];
      const sel = h("select", common);
      if (f.empty !== undefined) sel.append(h("option", { value: "" }, f.empty));
      const current = typeof value === "string" ? value : null;
      if (current !== null && !options.some((x) => x.value === current))
        options.unshift({ value: current, label: `${current} (not found yet)` });
      for (const opt of options) sel.append(h("option", { value: opt.value }, opt.label));
      sel.value = current ?? "";
      sel.addEventListener("change", () =>
        o.onEdit(path, sel.value === "" && f.empty !== undefined ? null : sel.value),
      );
      return wrap(sel);
    }
    case "text": {
      const input = h("input", { ...common, type: "text", placeholder: f.placeholder ?? "" });
      input.value = typeof value === "string" ? value : "";
      input.addEventListener("change", () =>
        o.onEdit(path, input.value === "" ? null : input.value),
      );
      return wrap(input);
    }
    case "number": {
      const input = h("input", {
        ...common,
        type: "number",
        min: f.min,
        max: f.max,
        step: f.step ?? "any",
        placeholder: f.empty ?? "",
      });
      input.value = typeof value === "number" ? String(value) : "";
      input.addEventListener("change", () => {
        if (input.value === "") {
          if (f.empty !== undefined) o.onEdit(path, null);
          else input.value = typeof value === "number" ? String(value) : "";
          return;
        }
        const n = Number(input.value);
        if (Number.isFinite(n)) o.onEdit(path, n);
      });
      return wrap(input, "number");
    }
    case "checkbox": {
      const input = h("input", { ...common, type: "checkbox" });
      input.checked = value === true;
      input.addEventListener("change", () => o.onEdit(path, input.checked));
      return wrap(input, "checkbox");
    }
    case "group": {
      const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
      const set = h("fieldset", {
        class: f.fixed ? "smart-group fixed" : "smart-group",
        "aria-label": name,
      });
      set.append(h("legend", {}, f.label));
      const edit = (next: unknown[]) => o.onEdit(path, next);
      items.forEach((item, i) => {
        const itemName = f.itemTitle ? f.itemTitle(item, i) : `${f.itemLabel} ${i + 1}`;
        const box = h("fieldset", { class: "smart-item", "aria-label": `${prefix}${itemName}` });
        const tools = h(
          "span",
          { class: "smart-item-tools" },
          button(`Move ${itemName.toLowerCase()} up`, () => edit(swap(items, i, i - 1)), {
            icon: "↑",
          }),
          button(`Move ${itemName.toLowerCase()} down`, () => edit(swap(items, i, i + 1)), {
            icon: "↓",
          }),
          button(`Remove ${itemName.toLowerCase()}`, () => edit(items.filter((_, j) => j !== i)), {
            icon: "✕",
            cls: "danger",
          }),
        );
        for (const b of tools.querySelectorAll("button")) {
          const label = b.getAttribute("aria-label") ?? "";
          b.disabled =
            o.disabled ||
            (label.includes(" up") && i === 0) ||
            (label.includes(" down") && i === items.length - 1) ||
            (label.startsWith("Remove") && items.length <= (f.min ?? 0));
        }
        box.append(f.fixed ? h("legend", {}, itemName) : h("legend", {}, itemName, tools));
        const itemCtx: FieldContext = { ...ctx, item };
        for (const inner of f.fields) {
          const el = renderField(inner, itemCtx, [...path, i], `${prefix}${itemName}: `, o);
          if (el) box.append(el);
        }
        set.append(box);
      });
      const add = button(
        `Add ${f.itemLabel.toLowerCase()}`,
        () => edit([...items, f.newItem(ctx)]),
        { icon: "+", text: true, cls: "ghost" },
      );
      add.disabled = o.disabled || (f.max !== undefined && items.length >= f.max);
      if (!f.fixed) set.append(add);
      return set;
    }
  }
}

function swap<T>(items: readonly T[], i: number, j: number): T[] {
  if (j < 0 || j >= items.length) return items.slice();
  const out = items.slice();
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

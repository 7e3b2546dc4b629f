/**
 * The body of a smart cell: its form (drawn by the one form renderer from the definition's
 * declared fields), warnings, "Reevaluate automatically", the generated code (read-only, behind
 * "Show code") and "Convert to code" (after a confirmation).
 *
 * - Unknown kind or attrs that fail the schema: no form, the code shown read-only, a warning
 *   saying what is wrong; nothing is changed or lost.
 * - Saved code that differs from what the attrs generate (edited by hand in a text editor): a
 *   warning offering "Keep the form" (regenerate the code from the attrs) or "Convert to code"
 *   (keep the code as an ordinary cell); the form is read-only until then.
 * Every change goes out as an operation; the view redraws when the server's broadcast returns.
 */
import type { SmartCell } from "../core/notebook.ts";
import { checkSmartCell, editAttrs, generate, type SmartCellCheck } from "../smart-cells/index.ts";
import type { Attrs, ScanContext } from "../smart-cells/types.ts";
import { button, h } from "./dom.ts";
import { renderForm, type Path } from "./smart-form.ts";

export interface SmartCellActions {
  setSmartAttrs(cellId: string, attrs: Attrs, source: string): void;
  setAutoRun(cellId: string, autoRun: boolean): void;
  convertSmartCell(cellId: string): void;
}

export class SmartCellPanel {
  readonly element: HTMLElement;
  private readonly header: HTMLElement;
  private readonly warning: HTMLElement;
  private readonly formHost: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly confirmEl: HTMLElement;
  private readonly codeEl: HTMLElement;
  private readonly autoRunBox: HTMLInputElement;
  private readonly showCodeButton: HTMLButtonElement;
  private codeShown = false;
  private check: SmartCellCheck;
  private drawn: { attrs: unknown; scan: ScanContext | null; ok: boolean } | null = null;

  constructor(
    private cell: SmartCell,
    private scan: ScanContext,
    private readonly actions: SmartCellActions,
  ) {
    this.check = checkSmartCell(cell);
    this.header = h("div", { class: "cell-kind smart-kind" });
    this.warning = h("div", { class: "smart-warning", role: "alert", hidden: true });
    this.formHost = h("div", { class: "smart-form-host" });
    this.autoRunBox = h("input", { type: "checkbox", "aria-label": "Reevaluate automatically" });
    this.autoRunBox.addEventListener("change", () =>
      this.actions.setAutoRun(this.cell.id, this.autoRunBox.checked),
    );
    this.showCodeButton = button("Show code", () => this.toggleCode(), {
      text: true,
      cls: "ghost",
    });
    this.confirmEl = h("div", {
      class: "smart-confirm",
      hidden: true,
      role: "group",
      "aria-label": "Confirm convert to code",
    });
    this.controls = h(
      "div",
      { class: "smart-controls" },
      h(
        "label",
        { class: "smart-field checkbox" },
        this.autoRunBox,
        h("span", {}, "Reevaluate automatically"),
      ),
      this.showCodeButton,
      button("Convert to code", () => this.askConvert(), { text: true, cls: "ghost" }),
    );
    this.codeEl = h("pre", {
      class: "smart-code",
      "aria-label": "Generated code",
      tabindex: "0",
      hidden: true,
    });
    this.element = h(
      "div",
      { class: "smart-cell" },
      this.header,
      this.warning,
      this.formHost,
      this.controls,
      this.confirmEl,
      this.codeEl,
    );
    this.draw();
  }

  update(cell: SmartCell, scan: ScanContext): void {
    if (cell === this.cell && scan === this.scan) return;
    if (
      cell.attrs !== this.cell.attrs ||
      cell.source !== this.cell.source ||
      cell.kind !== this.cell.kind
    )
      this.check = checkSmartCell(cell);
    this.cell = cell;
    this.scan = scan;
    this.draw();
  }

  private draw(): void {
    const c = this.check;
    const def = c.def;
    this.header.textContent = `Smart cell · ${def ? def.name : this.cell.kind}`;
    if (def) this.header.title = def.description;
    this.autoRunBox.checked = this.cell.options?.autoRun ?? def?.autoRun ?? false;
    this.autoRunBox.disabled = !c.ok;
    this.codeEl.textContent = this.cell.source || "// (no code yet: fill in the form)";
    // Without a form, the code is what there is to see.
    if ((!c.ok || !c.matches) && !this.codeShown) this.setCodeShown(true);
    this.warning.replaceChildren();
    if (!c.ok) {
      this.warning.hidden = false;
      this.warning.append(h("span", {}, c.error));
    } else if (!c.matches) {
      this.warning.hidden = false;
      this.warning.append(
        h(
          "span",
          {},
          "The saved code differs from what this form generates (it was edited outside the form).",
        ),
        button(
          "Keep the form",
          () => this.actions.setSmartAttrs(this.cell.id, c.attrs, c.generated),
          {
            text: true,
            title: "Regenerate the code from the form (the edited code is replaced)",
          },
        ),
        button("Convert to code", () => this.askConvert(), {
          text: true,
          title: "Keep the edited code as an ordinary code cell",
        }),
      );
    } else this.warning.hidden = true;
    const key = { attrs: c.ok ? c.attrs : null, scan: this.scan, ok: c.ok && c.matches };
    if (
      this.drawn &&
      this.drawn.ok === key.ok &&
      this.drawn.scan === key.scan &&
      JSON.stringify(this.drawn.attrs) === JSON.stringify(key.attrs)
    )
      return;
    this.drawn = key;
    if (!c.ok) {
      this.formHost.replaceChildren();
      return;
    }
    const focused = document.activeElement;
    const focusPath =
      focused instanceof HTMLElement && this.formHost.contains(focused)
        ? focused.dataset["path"]
        : undefined;
    const form = renderForm(c.def.form, {
      attrs: c.attrs,
      scan: this.scan,
      disabled: !c.matches,
      onEdit: (path, value) => this.edit(path, value),
    });
    this.formHost.replaceChildren(form);
    if (focusPath) {
      const again = [...form.querySelectorAll<HTMLElement>("[data-path]")].find(
        (e) => e.dataset["path"] === focusPath,
      );
      again?.focus({ preventScroll: true });
    }
  }

  private edit(path: Path, value: unknown): void {
    const c = this.check;
    if (!c.ok) return;
    const attrs = editAttrs(c.def, c.attrs, path, value, this.scan);
    this.actions.setSmartAttrs(this.cell.id, attrs, generate(c.def, attrs).source);
  }

  private toggleCode(): void {
    this.setCodeShown(!this.codeShown);
  }

  private setCodeShown(shown: boolean): void {
    this.codeShown = shown;
    this.codeEl.hidden = !shown;
    this.showCodeButton.setAttribute("aria-pressed", String(shown));
    const label = shown ? "Hide code" : "Show code";
    this.showCodeButton.setAttribute("aria-label", label);
    this.showCodeButton.title = label;
    const text = this.showCodeButton.querySelector(".btn-text");
    if (text) text.textContent = label;
  }

  private askConvert(): void {
    const chunks = this.check.ok && this.check.matches ? Math.max(1, this.check.chunks.length) : 1;
    this.confirmEl.hidden = false;
    this.confirmEl.replaceChildren(
      h(
        "span",
        {},
        `Convert this smart cell to ${chunks === 1 ? "an ordinary code cell" : `${chunks} ordinary code cells`}? The form is gone afterwards; the code stays.`,
      ),
      button("Convert", () => this.actions.convertSmartCell(this.cell.id), {
        text: true,
        cls: "danger",
      }),
      button("Cancel", () => (this.confirmEl.hidden = true), { text: true }),
    );
    this.confirmEl.querySelector<HTMLButtonElement>("button")?.focus();
  }
}

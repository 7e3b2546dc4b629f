/**
 * Small modal dialogs built on `<dialog>` (window.prompt/confirm do not exist in Electron and
 * block the page): a line of text, a yes/no question. Escape and "Cancel" answer no.
 */
import { button, h, type Child } from "./dom.ts";

/** Ask for one line of text; null when cancelled. */
export function askText(title: string, label: string, value: string): Promise<string | null> {
  return new Promise((resolve) => {
    const input = h("input", { type: "text", value, "aria-label": label, class: "dialog-input" });
    const dialog = h("dialog", { class: "dialog", "aria-label": title });
    const done = (v: string | null) => {
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    dialog.append(
      h("h3", {}, title),
      h("label", {}, h("span", {}, label), input),
      h(
        "div",
        { class: "dialog-buttons" },
        button("Cancel", () => done(null), { text: true }),
        button("OK", () => done(input.value.trim() || null), { text: true, cls: "primary" }),
      ),
    );
    input.addEventListener("keydown", (ev) => {
      // preventDefault: the focus goes back to the button that opened the dialog, and the same
      // Enter would press it again (Save → the dialog opens a second time).
      if (ev.key === "Enter") {
        ev.preventDefault();
        done(input.value.trim() || null);
      }
      if (ev.key === "Escape") {
        ev.preventDefault();
        done(null);
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

/**
 * Ask a yes/no question; true when the user pressed `confirm`. The confirming button has the
 * focus, so Enter confirms and Escape cancels.
 */
export function confirmDialog(
  text: Child,
  confirm = "OK",
  opts: { title?: string; danger?: boolean } = {},
): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog", "aria-label": opts.title ?? confirm });
    let answered = false;
    const done = (v: boolean) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    const yes = button(confirm, () => done(true), {
      text: true,
      cls: opts.danger ? "primary danger-fill" : "primary",
    });
    dialog.append(
      ...(opts.title ? [h("h3", {}, opts.title)] : []),
      h("p", {}, text),
      h(
        "div",
        { class: "dialog-buttons" },
        button("Cancel", () => done(false), { text: true }),
        yes,
      ),
    );
    // Escape closes a modal <dialog> by itself: answer no.
    dialog.addEventListener("close", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
    yes.focus();
  });
}

/** What the keyboard does in a notebook (the "Keyboard shortcuts" dialog; docs/ui.md "Shortcuts"). */
export const SHORTCUTS: ReadonlyArray<readonly [keys: string, action: string]> = [
  ["Shift+Enter", "Run the cell (in its editor, or the selected cell)"],
  ["Ctrl/Cmd+Shift+Enter", "Run all cells"],
  ["Ctrl/Cmd+S", "Save"],
  ["Enter / Escape", "Edit the selected cell / stop editing it"],
  ["↑ / ↓, K / J", "Select the previous / next cell"],
  ["B", "Insert a code cell below"],
  ["M", "Insert a Markdown cell below"],
  ["D D", "Delete the cell (restorable from the Bin)"],
  ["Alt+↑ / Alt+↓", "Move the cell up / down"],
  ["I I", "Interrupt the running cell"],
  ["0 0", "Restart the kernel (asks first)"],
  ["?", "Show these shortcuts"],
];

/** The keyboard shortcuts, in a dialog that Escape or "Close" closes. */
export function showShortcuts(): void {
  if (document.querySelector("dialog.shortcuts-dialog")) return;
  const dialog = h("dialog", {
    class: "dialog shortcuts-dialog",
    "aria-label": "Keyboard shortcuts",
  });
  const close = button("Close", () => dialog.close(), { text: true, cls: "primary" });
  dialog.append(
    h("h3", {}, "Keyboard shortcuts"),
    h(
      "p",
      { class: "muted" },
      "Single keys act on the selected cell while nothing is being edited (press Escape to stop editing).",
    ),
    h(
      "table",
      { class: "shortcuts" },
      h(
        "tbody",
        {},
        ...SHORTCUTS.map(([keys, action]) =>
          h("tr", {}, h("td", {}, h("kbd", {}, keys)), h("td", {}, action)),
        ),
      ),
    ),
    h("div", { class: "dialog-buttons" }, close),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/**
 * The runtime picker: where the notebook's kernel runs — this machine, or a Jupyter server of the
 * user's runtimes (docs/jupyter.md). A header button shows the current runtime ("Local",
 * "gpu-box"); it opens a dialog listing the runtimes, to choose one (the kernel restarts there,
 * for every window: `set-runtime`), add one (name, URL as Jupyter prints it, token; the server
 * checks it before keeping it) or remove one.
 *
 * The token is typed into a password field and sent once, with `add-runtime`; the page never
 * gets it back (runtimes are listed without tokens).
 */
import type { ClientMessage, ServerMessage } from "../core/app-protocol.ts";
import type { RuntimeSummary } from "../core/session/operations.ts";
import { button, h, setText } from "./dom.ts";

export interface RuntimeHost {
  request(msg: ClientMessage): Promise<ServerMessage>;
  sessionId(): string | null;
}

export class RuntimePicker {
  readonly element: HTMLButtonElement;
  private current: RuntimeSummary | null = null;

  constructor(private readonly host: RuntimeHost) {
    this.element = button("Runtime", () => void this.open(), {
      icon: "⛁",
      title: "Where the kernel runs",
      text: true,
      cls: "ghost runtime-button",
    });
    this.update(null);
  }

  update(runtime: RuntimeSummary | null): void {
    this.current = runtime;
    const label = runtime ? runtime.name : "Local";
    const text = this.element.querySelector(".btn-text");
    if (text) setText(text, label);
    this.element.title = runtime
      ? `The kernel runs on ${runtime.name} (${runtime.url}); click to change`
      : "The kernel runs on this machine; click to run it on a Jupyter server";
    this.element.setAttribute("aria-label", `Runtime: ${label}`);
    this.element.dataset["runtime"] = runtime?.id ?? "local";
  }

  private async list(): Promise<RuntimeSummary[]> {
    const m = await this.host.request({ type: "list-runtimes" });
    return m.type === "runtimes" ? m.runtimes : [];
  }

  private async open(): Promise<void> {
    const dialog = h("dialog", { class: "dialog runtime-dialog", "aria-label": "Runtime" });
    const listEl = h("div", {
      class: "runtime-list",
      role: "radiogroup",
      "aria-label": "Runtimes",
    });
    const errorEl = h("p", { class: "runtime-error", role: "alert", hidden: true });
    const close = () => {
      dialog.close();
      dialog.remove();
    };
    const showError = (text: string | null) => {
      errorEl.hidden = text === null;
      errorEl.textContent = text ?? "";
    };
    let chosen: string | null = this.current?.id ?? null;
    const render = (runtimes: RuntimeSummary[]) => {
      if (chosen !== null && !runtimes.some((r) => r.id === chosen)) chosen = null;
      const option = (id: string | null, name: string, detail: string, r?: RuntimeSummary) => {
        const radio = h("input", {
          type: "radio",
          name: "runtime",
          value: id ?? "local",
          checked: chosen === id,
          "aria-label": name,
        });
        radio.addEventListener("change", () => (chosen = id));
        return h(
          "div",
          { class: "runtime-option" },
          h(
            "label",
            {},
            radio,
            h("span", { class: "runtime-name" }, name),
            h("span", { class: "runtime-url" }, detail),
          ),
          r ? button(`Remove ${r.name}`, () => void remove(r), { icon: "✕", cls: "ghost" }) : null,
        );
      };
      listEl.replaceChildren(
        option(null, "This machine", "a kernel process next to the app"),
        ...runtimes.map((r) => option(r.id, r.name, r.url, r)),
      );
    };
    const remove = async (r: RuntimeSummary) => {
      try {
        const m = await this.host.request({ type: "remove-runtime", id: r.id });
        if (m.type === "runtimes") render(m.runtimes);
      } catch (e) {
        showError((e as Error).message);
      }
    };

    const name = h("input", { type: "text", class: "dialog-input", "aria-label": "Name" });
    const url = h("input", {
      type: "url",
      class: "dialog-input",
      "aria-label": "Server URL",
      placeholder: "http://gpu-box:8888/lab?token=…",
    });
    const token = h("input", {
      type: "password",
      class: "dialog-input",
      "aria-label": "Token",
      autocomplete: "off",
      placeholder: "if not in the URL",
    });
    const add = button(
      "Add server",
      () =>
        void (async () => {
          showError(null);
          const u = url.value.trim();
          if (!u) return showError("Give the Jupyter server's URL.");
          const label = name.value.trim() || hostOf(u);
          add.disabled = true;
          try {
            const m = await this.host.request({
              type: "add-runtime",
              name: label,
              url: u,
              ...(token.value ? { token: token.value } : {}),
            });
            if (m.type === "runtimes") {
              chosen = m.runtimes.find((r) => r.name === label)?.id ?? chosen;
              render(m.runtimes);
            }
            name.value = url.value = token.value = "";
          } catch (e) {
            showError((e as Error).message);
          } finally {
            add.disabled = false;
          }
        })(),
      { text: true },
    );
    const use = button(
      "Use",
      () =>
        void (async () => {
          const sessionId = this.host.sessionId();
          if (!sessionId) return close();
          if (chosen === (this.current?.id ?? null)) return close();
          try {
            await this.host.request({ type: "set-runtime", sessionId, runtimeId: chosen });
            close();
          } catch (e) {
            showError((e as Error).message);
          }
        })(),
      { text: true, cls: "primary" },
    );
    dialog.append(
      h("h3", {}, "Where the kernel runs"),
      h(
        "p",
        { class: "runtime-note" },
        "Changing it restarts the kernel: variables are lost, cells become stale. The notebook file stays here.",
      ),
      listEl,
      h(
        "details",
        { class: "runtime-add" },
        h("summary", {}, "Add a Jupyter server"),
        h(
          "p",
          { class: "runtime-note" },
          "A Jupyter Server, Kernel Gateway or Enterprise Gateway with tsnb's kernel installed (tsnb kernelspec install).",
        ),
        h("label", {}, h("span", {}, "Name"), name),
        h("label", {}, h("span", {}, "URL"), url),
        h("label", {}, h("span", {}, "Token"), token),
        h("div", { class: "dialog-buttons" }, add),
      ),
      errorEl,
      h("div", { class: "dialog-buttons" }, button("Cancel", close, { text: true }), use),
    );
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      close();
    });
    render([]);
    document.body.append(dialog);
    dialog.showModal();
    try {
      render(await this.list());
    } catch (e) {
      showError((e as Error).message);
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 40);
  }
}

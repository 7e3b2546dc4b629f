/**
 * The notebook standard library, imported by cells as `"tsnb"` (bundled to dist/lib/tsnb.mjs).
 *
 *   import { display, md, html, progress } from "tsnb";   // and nn, optim, train, … (ml/index.ts)
 *   display(value)                  // show any value the way a cell result is shown
 *   display(md`# Total: ${n}`)      // Markdown
 *   display.markdown(text) / display.text(text) / display.html(html)
 *   display.image(bytes, "image/png") / display.vegaLite(spec)
 *   const h = display(x); h.update(y)   // replace what was shown (a frame)
 *   const p = progress("Training"); p.set(0.5, "epoch 5/10"); p.done()
 *   input.range("Size", {min: 1, max: 10}), control.form({…}), frame(), layout.grid([…]),
 *   listen(source, handler)      // stdlib/inputs.ts, docs/inputs.md
 *
 * It talks to the kernel through `globalThis[Symbol.for("tsnb.kernel")]` (see KernelBridge in
 * kernel/main.ts), so separately bundled modules (tsnb/nx, user code) share one kernel. Outside
 * a kernel (plain Node), display falls back to console.log.
 *
 * Values with a `[Symbol.for("tsnb.display")]()` method returning an Output (sync or async) are
 * shown as that output: this is the display protocol (docs/kernel.md).
 */

import type { Output } from "../core/outputs.ts";
// Type only (erased): the bridge's contract is declared once, by the kernel that provides it.
import type { KernelBridge } from "../kernel/main.ts";

// The machine-learning namespaces (nn, optim, train, onnx, datasets, audio, vad, losses) are part
// of "tsnb" too; they live in ml/ (docs/ml.md).
export * from "../ml/index.ts";

/** The display protocol's symbol: implement `[displaySymbol]()` returning an Output. */
export const displaySymbol: unique symbol = Symbol.for("tsnb.display") as never;

function kernel(): KernelBridge | undefined {
  return (globalThis as unknown as Record<symbol, KernelBridge | undefined>)[
    Symbol.for("tsnb.kernel")
  ];
}

/** A piece of Markdown; shown rendered when it is a cell's result or passed to display(). */
export class Markdown {
  constructor(readonly text: string) {}
  [Symbol.for("tsnb.display")](): Output {
    return { type: "markdown", text: this.text };
  }
  toString(): string {
    return this.text;
  }
}

/** A piece of HTML, shown in a sandboxed frame. */
export class Html {
  constructor(readonly html: string) {}
  [Symbol.for("tsnb.display")](): Output {
    return { type: "html", html: this.html };
  }
  toString(): string {
    return this.html;
  }
}

function interpolate(strings: TemplateStringsArray, values: unknown[]): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += String(v) + (strings[i + 1] ?? "");
  });
  return out;
}

/** Markdown from a template literal: md`# Hello ${name}`. */
export function md(strings: TemplateStringsArray | string, ...values: unknown[]): Markdown {
  return new Markdown(typeof strings === "string" ? strings : interpolate(strings, values));
}

/** HTML from a template literal (values are not escaped). */
export function html(strings: TemplateStringsArray | string, ...values: unknown[]): Html {
  return new Html(typeof strings === "string" ? strings : interpolate(strings, values));
}

/** What display() returns: replace the shown output later. */
export interface DisplayHandle {
  /** The frame's output id. */
  readonly id: string;
  /** Replace what this display shows with another value. */
  update(value: unknown): Promise<void>;
  /** Append another value under it. */
  append(value: unknown): Promise<void>;
}

function base64(bytes: Uint8Array | ArrayBuffer | string): string {
  if (typeof bytes === "string") return bytes;
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("base64");
}

async function outputOf(value: unknown): Promise<Output> {
  const k = kernel();
  if (k) return k.toOutput(value);
  return { type: "terminal", stream: "stdout", text: String(value) + "\n" };
}

function show(output: Output): void {
  const k = kernel();
  if (k) k.emit(output);
  else
    console.log(
      output.type === "markdown" ? output.text : output.type === "html" ? output.html : output,
    );
}

/**
 * Show a value in the running cell now (not only as its result). Returns a handle to replace it.
 * The output appears in order with the cell's console output.
 */
export function display(value: unknown): DisplayHandle {
  const k = kernel();
  const id = k ? k.newId("frame") : `frame-${Math.random().toString(36).slice(2)}`;
  // Emit the frame synchronously (keeps order with console output); its content is filled in
  // once the value is formatted (a display-protocol method may be async).
  let ready: Promise<void>;
  const direct = syncOutput(value);
  if (direct) {
    show({ type: "frame", id, outputs: [direct] });
    ready = Promise.resolve();
  } else {
    show({ type: "frame", id, outputs: [] });
    ready = outputOf(value).then(
      (o) => k?.update({ type: "frame-replace", id, outputs: [o] }),
      (err) =>
        k?.update({
          type: "frame-replace",
          id,
          outputs: [
            { type: "terminal", stream: "stderr", text: `display failed: ${String(err)}\n` },
          ],
        }),
    );
  }
  return {
    id,
    async update(next: unknown) {
      await ready;
      k?.update({ type: "frame-replace", id, outputs: [await outputOf(next)] });
    },
    async append(next: unknown) {
      await ready;
      k?.update({ type: "frame-append", id, outputs: [await outputOf(next)] });
    },
  };
}

/** The output of values that can be formatted without awaiting anything. */
function syncOutput(value: unknown): Output | null {
  if (value instanceof Markdown) return { type: "markdown", text: value.text };
  if (value instanceof Html) return { type: "html", html: value.html };
  if (typeof value === "string")
    return {
      type: "terminal",
      stream: "stdout",
      text: value.endsWith("\n") ? value : value + "\n",
    };
  // A display method that answers synchronously keeps the output in order with console text.
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const method = (value as Record<symbol, unknown>)[displaySymbol];
    if (typeof method === "function") {
      const out = (method as () => unknown).call(value);
      if (
        out &&
        typeof out === "object" &&
        typeof (out as PromiseLike<unknown>).then !== "function"
      )
        return out as Output;
    }
  }
  return null;
}

/** Show Markdown text. */
display.markdown = (text: string): DisplayHandle => display(new Markdown(text));
/** Show plain text (monospace). */
display.text = (text: string): DisplayHandle => display(String(text));
/** Show HTML (in a sandboxed frame). */
display.html = (markup: string): DisplayHandle => display(new Html(markup));
/** Show an image from bytes (or base64 text) of the given MIME type. */
display.image = (
  data: Uint8Array | ArrayBuffer | string,
  mime = "image/png",
  alt?: string,
): DisplayHandle =>
  display({
    [Symbol.for("tsnb.display")]: (): Output => ({
      type: "image",
      mime,
      data: base64(data),
      ...(alt ? { alt } : {}),
    }),
  });
/** Show a Vega-Lite chart. */
display.vegaLite = (spec: unknown): DisplayHandle =>
  display({ [Symbol.for("tsnb.display")]: (): Output => ({ type: "vega-lite", spec }) });

// Machine learning (datasets, nn, optim, losses, train, onnx, audio, vad): ml/index.ts, docs/ml.md.
export * from "../ml/index.ts";

// Inputs, controls, frames and layouts (docs/inputs.md).
export {
  input,
  control,
  frame,
  layout,
  listen,
  Input,
  Control,
  Frame,
  type PickedFile,
  type ButtonEvent,
  type FormEvent,
  type KeyEvent,
  type IntervalEvent,
  type EventOrigin,
} from "./inputs.ts";

/** A progress bar in the running cell; `set` moves it (fraction 0..1, or null: indeterminate). */
export interface Progress {
  readonly id: string;
  set(fraction: number | null, label?: string): void;
  /** Mark it complete (fraction 1). */
  done(label?: string): void;
}

/** Show a progress bar now and return a handle to update it. */
export function progress(label = "", fraction: number | null = 0): Progress {
  const k = kernel();
  const id = k ? k.newId("progress") : `progress-${Math.random().toString(36).slice(2)}`;
  let current = label;
  const clamp = (f: number | null) => (f === null ? null : Math.max(0, Math.min(1, f)));
  if (k) k.emit({ type: "progress", id, fraction: clamp(fraction), label });
  else console.log(label);
  return {
    id,
    set(f, l) {
      if (l !== undefined) current = l;
      if (k) k.update({ type: "progress-set", id, fraction: clamp(f), label: current });
      else console.log(`${current} ${f === null ? "…" : `${Math.round((clamp(f) ?? 0) * 100)}%`}`);
    },
    done(l) {
      this.set(1, l);
    },
  };
}

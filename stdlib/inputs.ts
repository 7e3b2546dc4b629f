/**
 * Inputs, controls, frames and layouts for cells (what Kino.Input, Kino.Control, Kino.Frame and
 * Kino.Layout are to Livebook), part of `"tsnb"`:
 *
 *   import { input, control, frame, layout, listen } from "tsnb";
 *   const size = input.range("Size", { min: 1, max: 10, default: 3 });
 *   size                          // shows the slider (a cell result, or display(size))
 *   size.value                    // in any cell: the value now; the cell is bound to the input
 *   const f = frame();
 *   const form = control.form({ name: input.text("Name") }, { submit: "Greet" });
 *   listen(form, (e) => f.render(md`Hello **${e.data.name}**`));
 *   layout.grid([form, f], { columns: 2 })
 *
 * The values live in the kernel (kernel/inputs.ts) and are reached through the kernel bridge
 * (`globalThis[Symbol.for("tsnb.kernel")]`); the wire values (core/inputs.ts) are turned into
 * what a cell wants here: a file's bytes, an image as an nx `u8[h][w][3]` tensor, audio as
 * an f32 nx tensor of samples at the requested rate (decoded with ml/audio.ts). Outside a kernel an
 * input reads its default and controls never fire. docs/inputs.md has the decisions.
 */
import type {
  AudioValue,
  ControlSpec,
  FileValue,
  ImageValue,
  InputSpec,
  InputValue,
} from "../core/inputs.ts";
import type { Output } from "../core/outputs.ts";
import type { KernelBridge } from "../kernel/main.ts";
import { decodeWav, resample } from "../ml/audio.ts";
import { tensor } from "../tensor/ops.ts";
import type { Tensor } from "../tensor/tensor.ts";

const DISPLAY = Symbol.for("tsnb.display");

function kernel(): KernelBridge | undefined {
  return (globalThis as unknown as Record<symbol, KernelBridge | undefined>)[
    Symbol.for("tsnb.kernel")
  ];
}

function fail(where: string, message: string): never {
  throw new TypeError(`${where}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// inputs

/** A picked file: its name, MIME type and bytes. */
export interface PickedFile {
  name: string;
  type: string;
  size: number;
  bytes: Uint8Array;
  /** The bytes as UTF-8 text. */
  text(): string;
}

/** An input: show it (as a cell's result or with display()), read `value` in any cell. */
export class Input<T> implements AsyncIterable<{ type: "change"; value: T }> {
  /** Stable across re-runs of the cell that made it (a hash of the cell and the options). */
  readonly id: string;
  readonly spec: InputSpec;
  #initial: InputValue;
  readonly #convert: (v: InputValue) => T;
  #cache: { wire: InputValue; value: T } | null = null;

  /** @internal use input.text(…), input.range(…), … */
  constructor(spec: InputSpec, convert: (v: InputValue) => T) {
    this.spec = spec;
    this.#convert = convert;
    const k = kernel();
    const made = k
      ? k.createInput(spec)
      : { id: `input-${Math.random().toString(36).slice(2)}`, value: spec.default };
    this.id = made.id;
    this.#initial = made.value;
  }

  /** The value now. Read by a running cell, it binds that cell: it goes stale when the value changes. */
  get value(): T {
    return this.#from(this.#wire(true));
  }

  #wire(bind: boolean): InputValue {
    const k = kernel();
    return k ? k.readInput(this.id, bind) : this.#initial;
  }

  #from(wire: InputValue): T {
    if (this.#cache && this.#cache.wire === wire) return this.#cache.value;
    const value = this.#convert(wire);
    this.#cache = { wire, value };
    return value;
  }

  /** @internal the wire value converted the way `value` is (form data). */
  convert(wire: InputValue): T {
    return this.#convert(wire);
  }

  [DISPLAY](): Output {
    return { type: "input", id: this.id, input: this.spec, value: this.#wire(false) };
  }

  /** Changes of the value, as events: `for await (const { value } of slider)` or listen(slider, …). */
  [Symbol.asyncIterator](): AsyncIterator<{ type: "change"; value: T }> {
    return events<{ type: "change"; value: InputValue }, { type: "change"; value: T }>(
      this.id,
      (e) => ({ type: "change", value: this.#from(e.value) }),
    );
  }

  toString(): string {
    return `Input(${this.spec.kind} ${JSON.stringify(this.spec.label)})`;
  }
}

function label(where: string, l: unknown): string {
  if (typeof l !== "string") fail(where, `the label must be text, got ${typeof l}`);
  return l;
}

function finite(where: string, name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    fail(where, `${name} must be a finite number, got ${String(v)}`);
  return v;
}

const same = <T>(v: InputValue): T => v as T;

function fileOf(v: InputValue): PickedFile | null {
  if (v === null) return null;
  const f = v as FileValue;
  const bytes = new Uint8Array(Buffer.from(f.data, "base64"));
  return {
    name: f.name,
    type: f.type,
    size: bytes.length,
    bytes,
    text: () => new TextDecoder().decode(bytes),
  };
}

function imageOf(v: InputValue): Tensor | null {
  if (v === null) return null;
  const img = v as ImageValue;
  const bytes = new Uint8Array(Buffer.from(img.data, "base64"));
  return tensor(bytes, { dtype: "u8", shape: [img.height, img.width, 3] });
}

function audioOf(rate: number): (v: InputValue) => Tensor | null {
  return (v) => {
    if (v === null) return null;
    const a = decodeWav(new Uint8Array(Buffer.from((v as AudioValue).wav, "base64")));
    return resample(a.samples, a.sampleRate, rate);
  };
}

export const input = {
  /** One line of text (sent when the field loses focus or Enter is pressed). */
  text(l: string, opts: { default?: string } = {}): Input<string> {
    return new Input(
      { kind: "text", label: label("input.text", l), default: opts.default ?? "" },
      same<any>,
    );
  },
  /** Several lines of text. */
  textarea(l: string, opts: { default?: string; monospace?: boolean } = {}): Input<string> {
    const spec: InputSpec = {
      kind: "textarea",
      label: label("input.textarea", l),
      default: opts.default ?? "",
    };
    if (opts.monospace) spec.monospace = true;
    return new Input(spec, same<any>);
  },
  /** Text shown as dots. */
  password(l: string, opts: { default?: string } = {}): Input<string> {
    return new Input(
      { kind: "password", label: label("input.password", l), default: opts.default ?? "" },
      same<any>,
    );
  },
  /** A number (null while the field is empty). */
  number(
    l: string,
    opts: { min?: number; max?: number; step?: number; default?: number | null } = {},
  ): Input<number | null> {
    const w = "input.number";
    const spec: Extract<InputSpec, { kind: "number" }> = {
      kind: "number",
      label: label(w, l),
      default: opts.default === null ? null : (finite(w, "default", opts.default) ?? null),
    };
    const min = finite(w, "min", opts.min);
    const max = finite(w, "max", opts.max);
    const step = finite(w, "step", opts.step);
    if (min !== undefined) spec.min = min;
    if (max !== undefined) spec.max = max;
    if (step !== undefined) spec.step = step;
    if (min !== undefined && max !== undefined && min > max)
      fail(w, `min ${min} is above max ${max}`);
    if (
      spec.default !== null &&
      ((min !== undefined && spec.default < min) || (max !== undefined && spec.default > max))
    )
      fail(w, `default ${spec.default} is outside [${min ?? "-∞"}, ${max ?? "∞"}]`);
    return new Input(spec, same<any>);
  },
  /**
   * A slider. `debounceMs` (default 100): while it moves, the page sends the value at most that
   * often, so bound cells and charts follow the slider without a flood of evaluations.
   */
  range(
    l: string,
    opts: { min?: number; max?: number; step?: number; default?: number; debounceMs?: number } = {},
  ): Input<number> {
    const w = "input.range";
    const min = finite(w, "min", opts.min) ?? 0;
    const max = finite(w, "max", opts.max) ?? 100;
    const step = finite(w, "step", opts.step) ?? 1;
    const def = finite(w, "default", opts.default) ?? min;
    const debounceMs = finite(w, "debounceMs", opts.debounceMs) ?? 100;
    if (!(min < max)) fail(w, `min (${min}) must be below max (${max})`);
    if (!(step > 0)) fail(w, `step must be positive, got ${step}`);
    if (def < min || def > max) fail(w, `default ${def} is outside [${min}, ${max}]`);
    if (debounceMs < 0) fail(w, `debounceMs must be 0 or more, got ${debounceMs}`);
    return new Input(
      { kind: "range", label: label(w, l), default: def, min, max, step, debounceMs },
      same<any>,
    );
  },
  /**
   * A choice among options: values (`["a", "b"]`), `[value, label]` pairs or `{value, label}`
   * objects. The value is the option's value; the default is the first option.
   */
  select(
    l: string,
    options: ReadonlyArray<string | readonly [string, string] | { value: string; label: string }>,
    opts: { default?: string } = {},
  ): Input<string> {
    const w = "input.select";
    if (!Array.isArray(options) || options.length === 0) fail(w, "needs at least one option");
    const list = options.map((o) =>
      typeof o === "string"
        ? { value: o, label: o }
        : Array.isArray(o)
          ? { value: String(o[0]), label: String(o[1]) }
          : {
              value: String((o as { value: string }).value),
              label: String((o as { label: string }).label),
            },
    );
    const def = opts.default ?? list[0]!.value;
    if (!list.some((o) => o.value === def))
      fail(w, `default ${JSON.stringify(def)} is not one of the options`);
    return new Input(
      { kind: "select", label: label(w, l), default: def, options: list },
      same<any>,
    );
  },
  /** A checkbox (true or false). */
  checkbox(l: string, opts: { default?: boolean } = {}): Input<boolean> {
    return new Input(
      { kind: "checkbox", label: label("input.checkbox", l), default: opts.default === true },
      same<any>,
    );
  },
  /** A colour, as "#rrggbb". */
  color(l: string, opts: { default?: string } = {}): Input<string> {
    const def = opts.default ?? "#000000";
    if (!/^#[0-9a-fA-F]{6}$/.test(def))
      fail("input.color", `default must look like "#ff8800", got ${JSON.stringify(def)}`);
    return new Input(
      { kind: "color", label: label("input.color", l), default: def.toLowerCase() },
      same<any>,
    );
  },
  /** A date, as "YYYY-MM-DD" (null while empty). */
  date(
    l: string,
    opts: { default?: string | null; min?: string; max?: string } = {},
  ): Input<string | null> {
    const spec: Extract<InputSpec, { kind: "date" }> = {
      kind: "date",
      label: label("input.date", l),
      default: opts.default ?? null,
    };
    if (opts.min !== undefined) spec.min = opts.min;
    if (opts.max !== undefined) spec.max = opts.max;
    return new Input(spec, same<any>);
  },
  /** A file from the user's disk (at most 10 MB); null until one is picked. */
  file(l: string, opts: { accept?: string[] } = {}): Input<PickedFile | null> {
    const spec: Extract<InputSpec, { kind: "file" }> = {
      kind: "file",
      label: label("input.file", l),
      default: null,
    };
    if (opts.accept) spec.accept = opts.accept.map(String);
    return new Input(spec, fileOf);
  },
  /**
   * An image, as an nx tensor `u8[h][w][3]` (RGB). With `size: [h, w]` the page resizes the
   * picked image to it (stretching, as Kino's); without, the image keeps its own size. Null until
   * one is picked. With `draw: true` the page also shows a drawing pad: black ink on white,
   * sent (resized to `size`, or at the pad's 160×160) each time a stroke ends; Clear sets null.
   */
  image(l: string, opts: { size?: [number, number]; draw?: boolean } = {}): Input<Tensor | null> {
    const spec: Extract<InputSpec, { kind: "image" }> = {
      kind: "image",
      label: label("input.image", l),
      default: null,
    };
    if (opts.size !== undefined) {
      const [h, w] = opts.size;
      if (
        !Number.isInteger(h) ||
        !Number.isInteger(w) ||
        h! < 1 ||
        w! < 1 ||
        h! * w! * 3 > 10 * 1024 * 1024
      )
        fail(
          "input.image",
          `size must be [height, width] of positive integers (at most 10 MB of RGB), got ${JSON.stringify(opts.size)}`,
        );
      spec.size = [h!, w!];
    }
    if (opts.draw !== undefined) {
      if (typeof opts.draw !== "boolean")
        fail("input.image", `draw must be true or false, got ${JSON.stringify(opts.draw)}`);
      if (opts.draw) spec.draw = true;
    }
    return new Input(spec, imageOf);
  },
  /**
   * Audio: upload a WAV file or record from the microphone in the page. The value is mono
   * an f32 nx tensor `[n]` of samples at `sampleRate` (default 16000), or null until there is a recording.
   */
  audio(l: string, opts: { sampleRate?: number } = {}): Input<Tensor | null> {
    const rate = finite("input.audio", "sampleRate", opts.sampleRate) ?? 16000;
    if (!Number.isInteger(rate) || rate < 1000 || rate > 192000)
      fail("input.audio", `sampleRate must be an integer between 1000 and 192000, got ${rate}`);
    return new Input(
      { kind: "audio", label: label("input.audio", l), default: null, sampleRate: rate },
      audioOf(rate),
    );
  },
};

// ---------------------------------------------------------------------------------------------
// events: async iterables over a control's or an input's events

/**
 * An iterator over the events of `sourceId`, buffered, ending when the cell that iterates runs
 * again or is interrupted (or when the loop breaks).
 */
function events<W, E>(sourceId: string, convert: (w: W) => E): AsyncIterator<E> {
  const k = kernel();
  const buffered: E[] = [];
  let wake: ((r: IteratorResult<E>) => void) | null = null;
  let done = !k;
  const end = () => {
    done = true;
    unsubscribe();
    wake?.({ value: undefined, done: true });
    wake = null;
  };
  const unsubscribe = k
    ? k.subscribe(sourceId, (w) => {
        const e = convert(w as W);
        if (wake) {
          const r = wake;
          wake = null;
          r({ value: e, done: false });
        } else buffered.push(e);
      })
    : () => {};
  const lifetime = k?.lifetime;
  if (lifetime?.aborted) end();
  else lifetime?.addEventListener("abort", end, { once: true });
  return {
    next() {
      if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((r) => (wake = r));
    },
    return() {
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}

/** Who sent an event: the id of the window (client) that used the control. */
export interface EventOrigin {
  origin: string;
}
export type ButtonEvent = { type: "click" } & EventOrigin;
export type FormEvent<F> = { type: "submit" | "change"; data: F } & EventOrigin;
export type KeyEvent = { type: "keydown" | "keyup"; key: string } & EventOrigin;
export type IntervalEvent = { type: "interval"; iteration: number };

/** A control: show it, then handle its events with `for await` or listen(). */
export class Control<E> implements AsyncIterable<E> {
  readonly id: string;
  readonly spec: ControlSpec;
  readonly #convert: (w: Record<string, unknown>) => E;

  /** @internal use control.button(…), control.form(…), control.keyboard(…) */
  constructor(spec: ControlSpec, convert: (w: Record<string, unknown>) => E) {
    this.spec = spec;
    this.#convert = convert;
    this.id = kernel()?.newId("control") ?? `control-${Math.random().toString(36).slice(2)}`;
  }

  [DISPLAY](): Output {
    return { type: "control", id: this.id, control: this.spec };
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    return events(this.id, this.#convert);
  }
}

type FieldValues<F extends Record<string, Input<unknown>>> = {
  [K in keyof F]: F[K] extends Input<infer T> ? T : never;
};

/** A source of events an interval makes in the kernel (not shown). */
class Interval implements AsyncIterable<IntervalEvent> {
  constructor(readonly ms: number) {}
  [Symbol.asyncIterator](): AsyncIterator<IntervalEvent> {
    const lifetime = kernel()?.lifetime;
    let iteration = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let wake: ((r: IteratorResult<IntervalEvent>) => void) | null = null;
    let done = false;
    const end = () => {
      done = true;
      if (timer) clearTimeout(timer);
      wake?.({ value: undefined, done: true });
    };
    lifetime?.addEventListener("abort", end, { once: true });
    return {
      next: () => {
        if (done || lifetime?.aborted) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => {
          wake = r;
          timer = setTimeout(() => {
            timer = null;
            wake = null;
            r({ value: { type: "interval", iteration: iteration++ }, done: false });
          }, this.ms);
        });
      },
      return: () => {
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export const control = {
  /** A button; each click is an event `{type: "click", origin}`. */
  button(l: string): Control<ButtonEvent> {
    return new Control(
      { kind: "button", label: label("control.button", l) },
      (w) => w as unknown as ButtonEvent,
    );
  },
  /**
   * A form of inputs (each window fills it in for itself, as Kino's form). `submit` (default
   * "Submit"; null for none) sends `{type: "submit", data: {field: value}, origin}`; with
   * `reportChanges`, every field change sends `{type: "change", data, origin}`. The values are
   * what each field's `value` would be (an image field gives a tensor).
   */
  form<F extends Record<string, Input<any>>>(
    fields: F,
    opts: { submit?: string | null; reportChanges?: boolean } = {},
  ): Control<FormEvent<FieldValues<F>>> {
    const w = "control.form";
    if (typeof fields !== "object" || fields === null || Object.keys(fields).length === 0)
      fail(w, "needs at least one field: control.form({ name: input.text('Name') })");
    const specs: Record<string, InputSpec> = {};
    for (const [name, f] of Object.entries(fields)) {
      if (!(f instanceof Input))
        fail(w, `field ${JSON.stringify(name)} must be an input (input.text(…), …)`);
      specs[name] = f.spec;
    }
    const submit = opts.submit === undefined ? "Submit" : opts.submit;
    const reportChanges = opts.reportChanges === true;
    if (submit === null && !reportChanges)
      fail(w, "a form without a submit button needs reportChanges: true");
    return new Control({ kind: "form", fields: specs, submit, reportChanges }, (e) => {
      const wire = (e.data ?? {}) as Record<string, InputValue>;
      const data: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(fields)) data[name] = f.convert(wire[name] ?? null);
      return { type: e.type, data, origin: e.origin } as FormEvent<FieldValues<F>>;
    });
  },
  /** Events `{type: "interval", iteration}` every `ms` milliseconds (nothing is shown). */
  interval(ms: number): AsyncIterable<IntervalEvent> {
    if (typeof ms !== "number" || !(ms >= 10))
      fail("control.interval", `ms must be at least 10, got ${String(ms)}`);
    return new Interval(ms);
  },
  /**
   * Keys pressed while the user has switched the control on in the page (a toggle button:
   * keys then go to the notebook's code, not the page). `events`: "keydown" and/or "keyup".
   */
  keyboard(
    events: Array<"keydown" | "keyup"> = ["keydown"],
    opts: { label?: string } = {},
  ): Control<KeyEvent> {
    if (!Array.isArray(events) || events.length === 0)
      fail("control.keyboard", 'needs at least one event: control.keyboard(["keydown"])');
    for (const e of events)
      if (e !== "keydown" && e !== "keyup")
        fail("control.keyboard", `unknown event ${JSON.stringify(e)} (keydown, keyup)`);
    return new Control(
      { kind: "keyboard", label: opts.label ?? "Keyboard", events: [...new Set(events)] },
      (w) => w as unknown as KeyEvent,
    );
  },
};

/**
 * Handle each event of a control, an input (its changes) or any async iterable in the
 * background of the cell: the cell finishes, the handler keeps running (one event at a time; a
 * failing handler is reported on the cell's stderr and the next event is handled) until the cell
 * runs again, is interrupted, an interrupt arrives while no cell runs, or the kernel restarts.
 * In `tsnb run` nothing waits for listeners: the run ends after the last cell.
 */
export function listen<E>(source: AsyncIterable<E>, handler: (event: E) => unknown): void {
  if (!source || typeof (source as AsyncIterable<E>)[Symbol.asyncIterator] !== "function")
    fail("listen", "the source must be a control, an input or an async iterable");
  if (typeof handler !== "function") fail("listen", "the handler must be a function");
  const lifetime = kernel()?.lifetime;
  const it = source[Symbol.asyncIterator]();
  lifetime?.addEventListener("abort", () => void it.return?.(), { once: true });
  void (async () => {
    for (;;) {
      const r = await it.next();
      if (r.done || lifetime?.aborted) return;
      try {
        await handler(r.value);
      } catch (err) {
        process.stderr.write(
          `listen: the handler failed: ${(err as Error)?.stack ?? String(err)}\n`,
        );
      }
    }
  })();
}

// ---------------------------------------------------------------------------------------------
// frames and layouts

async function outputOf(value: unknown): Promise<Output> {
  const k = kernel();
  if (k) return k.toOutput(value);
  return { type: "terminal", stream: "stdout", text: String(value) + "\n" };
}

/** A region whose content is replaced or extended later, in every window (Kino.Frame). */
export class Frame {
  readonly id: string;
  #outputs: Output[] = [];

  constructor() {
    this.id = kernel()?.newId("frame") ?? `frame-${Math.random().toString(36).slice(2)}`;
  }

  /** Replace what the frame shows with `value` (shown as a cell result would be). */
  async render(value: unknown): Promise<void> {
    const out = await outputOf(value);
    this.#outputs = [out];
    this.#send({ type: "frame-replace", id: this.id, outputs: [out] });
  }

  /** Add `value` under what the frame shows. */
  async append(value: unknown): Promise<void> {
    const out = await outputOf(value);
    this.#outputs = [...this.#outputs, out];
    this.#send({ type: "frame-append", id: this.id, outputs: [out] });
  }

  /** Show nothing. */
  clear(): void {
    this.#outputs = [];
    this.#send({ type: "frame-replace", id: this.id, outputs: [] });
  }

  #send(update: Parameters<KernelBridge["update"]>[0]): void {
    const k = kernel();
    if (k) k.update(update);
    else
      for (const o of update.type === "frame-replace" || update.type === "frame-append"
        ? update.outputs
        : [])
        console.log(o);
  }

  [DISPLAY](): Output {
    return { type: "frame", id: this.id, outputs: this.#outputs };
  }
}

/** A frame to show now (as a cell's result, with display(), or inside a layout) and fill later. */
export function frame(): Frame {
  return new Frame();
}

class Layout {
  constructor(
    readonly kind: "grid" | "tabs",
    readonly items: Array<{ title?: string; value: unknown }>,
    readonly columns?: number,
  ) {}
  async [DISPLAY](): Promise<Output> {
    const items = await Promise.all(
      this.items.map(async (it) => {
        const outputs = [await outputOf(it.value)];
        return it.title === undefined ? { outputs } : { title: it.title, outputs };
      }),
    );
    return this.kind === "grid"
      ? { type: "layout", layout: "grid", columns: this.columns ?? 2, items }
      : { type: "layout", layout: "tabs", items };
  }
}

export const layout = {
  /** Items side by side, `columns` per row (default 2). */
  grid(items: unknown[], opts: { columns?: number } = {}): Layout {
    if (!Array.isArray(items)) fail("layout.grid", "items must be an array");
    const columns = opts.columns ?? 2;
    if (!Number.isInteger(columns) || columns < 1 || columns > 12)
      fail("layout.grid", `columns must be an integer from 1 to 12, got ${String(columns)}`);
    return new Layout(
      "grid",
      items.map((value) => ({ value })),
      columns,
    );
  },
  /** Items in tabs: `{title: item}`, in the object's order. */
  tabs(tabs: Record<string, unknown>): Layout {
    if (typeof tabs !== "object" || tabs === null || Array.isArray(tabs))
      fail("layout.tabs", "takes an object {title: item}");
    return new Layout(
      "tabs",
      Object.entries(tabs).map(([title, value]) => ({ title, value })),
    );
  },
};

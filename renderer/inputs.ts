/**
 * Draws inputs, controls and layouts (core/inputs.ts) in cell outputs, and keeps every drawn
 * input showing the session's value (`SessionData.inputs`, the same in every window).
 *
 * Owns: one labelled, keyboard-usable native element per input kind; turning what the user
 * picked into the wire value — files as base64, images decoded and resized to RGB of the
 * requested size on a canvas (the browser decodes every image format), audio as a WAV file
 * (uploaded as is, or recorded from the microphone and encoded as 16-bit WAV here); the kernel
 * decodes WAV and resamples with ml/audio.ts. Sliders send at most once per `debounceMs`
 * while they move. Invariant: the page never changes a value itself — it sends
 * `set-input-value` and draws the value when the server's broadcast comes back.
 */
import type {
  AudioValue,
  ControlEvent,
  ControlSpec,
  FileValue,
  ImageValue,
  InputSpec,
  InputValue,
} from "../core/inputs.ts";
import { MAX_INPUT_BYTES, base64Bytes } from "../core/inputs.ts";
import type { InputState } from "../core/session/data.ts";
import type { ControlOutput, InputOutput, LayoutOutput, Output } from "../core/outputs.ts";
import { h } from "./dom.ts";

/** What input and control views ask of the app. */
export interface InputHost {
  setInputValue(inputId: string, value: unknown): void;
  sendControlEvent(controlId: string, event: ControlEvent): void;
}

/** A drawn field: show a value, read what the user set. */
interface Field {
  el: HTMLElement;
  show(value: InputValue): void;
}

/** The session's inputs as last seen, and the drawn elements of each input id. */
let current: Record<string, InputState> = {};
const drawn = new Map<string, Set<Field>>();

/** New session data: redraw every shown input whose value changed (another window, a reload). */
export function syncInputs(inputs: Record<string, InputState>): void {
  if (inputs === current) return;
  const before = current;
  current = inputs;
  for (const [id, fields] of drawn) {
    const now = inputs[id];
    for (const f of fields) if (!f.el.isConnected) fields.delete(f);
    if (fields.size === 0) {
      drawn.delete(id);
      continue;
    }
    if (now && now.value !== before[id]?.value) for (const f of fields) f.show(now.value);
  }
}

let seq = 0;
const MB = `${MAX_INPUT_BYTES / 1024 / 1024} MB`;

/** A shared input (its value is the session's). */
export function renderInputOutput(output: InputOutput, host: InputHost): HTMLElement {
  const value = current[output.id]?.value ?? output.value;
  const field = renderField(output.input, value, (v) => host.setInputValue(output.id, v));
  let set = drawn.get(output.id);
  if (!set) drawn.set(output.id, (set = new Set()));
  set.add(field);
  return h("div", { class: "output output-input", "data-input": output.id }, field.el);
}

/** One field of any kind, labelled; `send` gets the wire value when the user changes it. */
function renderField(spec: InputSpec, initial: InputValue, send: (v: InputValue) => void): Field {
  const id = `tsnb-input-${++seq}`;
  const label = h("label", { class: "input-label", for: id }, spec.label);
  const row = h("div", { class: `input-field input-${spec.kind}` }, label);
  const hint = h("span", { class: "input-hint muted", "aria-live": "polite" });
  switch (spec.kind) {
    case "text":
    case "password": {
      const el = h("input", { id, type: spec.kind, value: String(initial ?? "") });
      el.addEventListener("change", () => send(el.value));
      row.append(el);
      return { el: row, show: (v) => (el.value = String(v ?? "")) };
    }
    case "textarea": {
      const el = h("textarea", { id, rows: 4, class: spec.monospace ? "mono" : null });
      el.value = String(initial ?? "");
      el.addEventListener("change", () => send(el.value));
      row.append(el);
      return { el: row, show: (v) => (el.value = String(v ?? "")) };
    }
    case "number": {
      const el = h("input", {
        id,
        type: "number",
        value: initial === null ? "" : String(initial),
        min: spec.min,
        max: spec.max,
        step: spec.step ?? "any",
      });
      el.addEventListener("change", () => {
        if (el.value.trim() === "") return send(null);
        const n = Number(el.value);
        if (!el.checkValidity() || !Number.isFinite(n)) {
          hint.textContent = el.validationMessage || "not a number";
          return;
        }
        hint.textContent = "";
        send(n);
      });
      row.append(el, hint);
      return { el: row, show: (v) => (el.value = v === null ? "" : String(v)) };
    }
    case "range": {
      const el = h("input", {
        id,
        type: "range",
        min: spec.min,
        max: spec.max,
        step: spec.step,
        value: String(initial),
      });
      const out = h("output", { for: id }, String(initial));
      // While it moves: at most one value per debounceMs (the first at once, the last always).
      let last = 0;
      let timer: number | null = null;
      const emit = () => {
        timer = null;
        last = performance.now();
        send(Number(el.value));
      };
      el.addEventListener("input", () => {
        out.textContent = el.value;
        const wait = spec.debounceMs - (performance.now() - last);
        if (wait <= 0) emit();
        else if (timer === null) timer = window.setTimeout(emit, wait);
      });
      el.addEventListener("change", () => {
        if (timer !== null) clearTimeout(timer);
        emit();
      });
      row.append(el, out);
      return {
        el: row,
        show: (v) => {
          // The user's own drag is ahead of the echo: leave the thumb where the user has it.
          if (document.activeElement === el && timer !== null) return;
          el.value = String(v);
          out.textContent = String(v);
        },
      };
    }
    case "select": {
      const el = h("select", { id });
      for (const o of spec.options)
        el.append(h("option", { value: o.value, selected: o.value === initial }, o.label));
      el.addEventListener("change", () => send(el.value));
      row.append(el);
      return { el: row, show: (v) => (el.value = String(v)) };
    }
    case "checkbox": {
      const el = h("input", { id, type: "checkbox", checked: initial === true });
      el.addEventListener("change", () => send(el.checked));
      row.prepend(el);
      return { el: row, show: (v) => (el.checked = v === true) };
    }
    case "color": {
      const el = h("input", { id, type: "color", value: String(initial) });
      el.addEventListener("change", () => send(el.value.toLowerCase()));
      row.append(el);
      return { el: row, show: (v) => (el.value = String(v)) };
    }
    case "date": {
      const el = h("input", {
        id,
        type: "date",
        value: initial === null ? "" : String(initial),
        min: spec.min,
        max: spec.max,
      });
      el.addEventListener("change", () => send(el.value === "" ? null : el.value));
      row.append(el);
      return { el: row, show: (v) => (el.value = v === null ? "" : String(v)) };
    }
    case "file":
    case "image":
    case "audio":
      return renderUpload(spec, id, row, hint, initial, send);
  }
}

function renderUpload(
  spec: Extract<InputSpec, { kind: "file" | "image" | "audio" }>,
  id: string,
  row: HTMLElement,
  hint: HTMLElement,
  initial: InputValue,
  send: (v: InputValue) => void,
): Field {
  const accept =
    spec.kind === "image"
      ? "image/*"
      : spec.kind === "audio"
        ? ".wav,audio/wav,audio/x-wav"
        : spec.accept?.join(",");
  const el = h("input", { id, type: "file", accept });
  const summary = h("span", { class: "input-summary" });
  const limit =
    spec.kind === "image"
      ? spec.size
        ? `resized to ${spec.size[1]}×${spec.size[0]}; files up to ${MB}`
        : `up to ${MB} of RGB`
      : spec.kind === "audio"
        ? `WAV up to ${MB}, ${spec.sampleRate} Hz mono for the code`
        : `up to ${MB}`;
  const preview =
    spec.kind === "image" ? h("canvas", { class: "input-preview", "aria-hidden": "true" }) : null;
  const show = (v: InputValue): void => {
    hint.textContent = "";
    if (v === null) {
      summary.textContent = "none";
      if (preview) preview.hidden = true;
      return;
    }
    if (spec.kind === "file") {
      const f = v as FileValue;
      summary.textContent = `${f.name} (${formatBytes(base64Bytes(f.data))})`;
    } else if (spec.kind === "image") {
      const img = v as ImageValue;
      summary.textContent = `${img.name ? img.name + ": " : ""}${img.width}×${img.height} RGB`;
      if (preview) drawPreview(preview, img);
    } else {
      const a = v as AudioValue;
      summary.textContent = `${a.name ?? "recording"} (${formatBytes(base64Bytes(a.wav))})`;
    }
  };
  el.addEventListener("change", () => {
    const file = el.files?.[0];
    if (!file) return;
    hint.textContent = "reading…";
    toWireValue(spec, file)
      .then((v) => {
        hint.textContent = "";
        send(v);
      })
      .catch((e: Error) => (hint.textContent = e.message));
  });
  row.append(el);
  if (spec.kind === "audio") row.append(recordButton(hint, send));
  const pad = spec.kind === "image" && spec.draw ? drawingPad(spec, send) : null;
  row.append(h("span", { class: "input-limit muted" }, limit), summary, hint);
  if (preview) row.append(preview);
  if (pad) row.append(pad.el);
  show(initial);
  return {
    el: row,
    show: (v) => {
      show(v);
      if (v === null) pad?.clear();
    },
  };
}

/** The pad's size in CSS pixels (and its own pixels when the input has no size). */
const PAD = 160;

/**
 * A pad to draw an image input with the mouse, a pen or a finger (pointer events): black ink,
 * round strokes a sixth of the pad wide (at 8×8 a stroke is about two pixels wide, as in the
 * handwritten digits of scikit-learn), on white.
 * Each finished stroke sends the whole drawing, resized to the input's size as an upload is.
 * Clear empties the pad and sets the input to null.
 */
function drawingPad(
  spec: Extract<InputSpec, { kind: "image" }>,
  send: (v: InputValue) => void,
): { el: HTMLElement; clear(): void } {
  const canvas = h("canvas", {
    class: "input-draw",
    width: String(PAD),
    height: String(PAD),
    role: "img",
    "aria-label": `Drawing pad for ${spec.label}`,
  });
  const ctx = canvas.getContext("2d")!;
  const clear = (): void => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, PAD, PAD);
  };
  clear();
  let drawn = false;
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
  };
  const line = (to: [number, number]): void => {
    const from = last ?? to;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = PAD / 6;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0] + (from === to ? 0.01 : 0), to[1]);
    ctx.stroke();
    last = to;
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = null;
    line(at(e));
    drawn = true;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (last) line(at(e));
  });
  const finish = (): void => {
    if (!last) return;
    last = null;
    if (drawn) send(padImage(canvas, spec.size));
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  const button = h("button", { type: "button", class: "btn btn-text-only" }, "Clear");
  button.addEventListener("click", () => {
    clear();
    drawn = false;
    send(null);
  });
  return { el: h("div", { class: "input-draw-pad" }, canvas, button), clear };
}

/** The pad's drawing as an image value, resized (smoothly) to `size` when the input has one. */
function padImage(pad: HTMLCanvasElement, size: [number, number] | undefined): ImageValue {
  const [height, width] = size ?? [PAD, PAD];
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d")!;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(pad, 0, 0, width, height);
  return { ...rgbOf(ctx, width, height), name: "drawing" };
}

/** The RGB bytes of a canvas (alpha dropped), base64 as on the wire. */
function rgbOf(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
): { height: number; width: number; data: string } {
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { height, width, data: toBase64(rgb) };
}

async function toWireValue(spec: InputSpec, file: File): Promise<InputValue> {
  if (file.size > MAX_INPUT_BYTES)
    throw new Error(`${file.name} is ${formatBytes(file.size)}: the limit is ${MB}`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (spec.kind === "image") return decodeImage(file, spec.size);
  if (spec.kind === "audio") {
    if (String.fromCharCode(...bytes.subarray(0, 4)) !== "RIFF")
      throw new Error(`${file.name} is not a WAV file`);
    return { wav: toBase64(bytes), name: file.name };
  }
  return { name: file.name, type: file.type, data: toBase64(bytes) };
}

/** Decode any image the browser reads, resize it (stretching) and keep its RGB bytes. */
async function decodeImage(file: File, size: [number, number] | undefined): Promise<ImageValue> {
  const bitmap = await createImageBitmap(file).catch(() => {
    throw new Error(`${file.name} is not an image this browser can read`);
  });
  const [height, width] = size ?? [bitmap.height, bitmap.width];
  if (height * width * 3 > MAX_INPUT_BYTES)
    throw new Error(`${width}×${height} is more than ${MB} of RGB: give the input a size`);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0, width, height);
  return { ...rgbOf(ctx, width, height), name: file.name };
}

function drawPreview(canvas: HTMLCanvasElement, img: ImageValue): void {
  const rgb = fromBase64(img.data);
  canvas.width = img.width;
  canvas.height = img.height;
  const data = new ImageData(img.width, img.height);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    data.data[i] = rgb[j]!;
    data.data[i + 1] = rgb[j + 1]!;
    data.data[i + 2] = rgb[j + 2]!;
    data.data[i + 3] = 255;
  }
  canvas.getContext("2d")!.putImageData(data, 0, 0);
  canvas.hidden = false;
}

/** Record from the microphone; Stop encodes what was heard as a 16-bit mono WAV. */
function recordButton(hint: HTMLElement, send: (v: InputValue) => void): HTMLButtonElement {
  const b = h(
    "button",
    { type: "button", class: "btn btn-text-only", "aria-pressed": "false" },
    "Record",
  );
  let stop: (() => void) | null = null;
  b.addEventListener("click", () => {
    if (stop) {
      stop();
      return;
    }
    navigator.mediaDevices
      ?.getUserMedia({ audio: true })
      .then((stream) => {
        const ctx = new AudioContext();
        const source = ctx.createMediaStreamSource(stream);
        const proc = ctx.createScriptProcessor(4096, 1, 1);
        const chunks: Float32Array[] = [];
        let total = 0;
        proc.onaudioprocess = (e) => {
          const c = new Float32Array(e.inputBuffer.getChannelData(0));
          total += c.length;
          if (total * 2 + 44 <= MAX_INPUT_BYTES) chunks.push(c);
          else stop?.();
        };
        source.connect(proc);
        proc.connect(ctx.destination);
        b.textContent = "Stop";
        b.setAttribute("aria-pressed", "true");
        hint.textContent = "recording…";
        stop = () => {
          stop = null;
          proc.disconnect();
          source.disconnect();
          for (const t of stream.getTracks()) t.stop();
          const rate = ctx.sampleRate;
          void ctx.close();
          b.textContent = "Record";
          b.setAttribute("aria-pressed", "false");
          hint.textContent = "";
          const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
          let o = 0;
          for (const c of chunks) samples.set(c, (o += c.length) - c.length);
          send({ wav: toBase64(encodeWav(samples, rate)), name: "recording.wav" });
        };
      })
      .catch((e: Error) => (hint.textContent = `cannot record: ${e.message}`));
    if (!navigator.mediaDevices) hint.textContent = "cannot record: no microphone access here";
  });
  return b;
}

/** 16-bit PCM mono WAV (the same layout as ml/audio.ts encodeWav, which is Node-side). */
function encodeWav(samples: Float32Array, rate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const tag = (o: number, s: string) => {
    for (let i = 0; i < 4; i++) v.setUint8(o + i, s.charCodeAt(i));
  };
  tag(0, "RIFF");
  v.setUint32(4, 36 + samples.length * 2, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  tag(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++)
    v.setInt16(
      44 + i * 2,
      Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768))),
      true,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// controls

export function renderControl(output: ControlOutput, host: InputHost): HTMLElement {
  const box = h("div", { class: "output output-control", "data-control": output.id });
  const spec: ControlSpec = output.control;
  const send = (e: ControlEvent) => host.sendControlEvent(output.id, e);
  switch (spec.kind) {
    case "button": {
      const b = h("button", { type: "button", class: "btn control-button" }, spec.label);
      b.addEventListener("click", () => send({ type: "click" }));
      box.append(b);
      break;
    }
    case "keyboard": {
      const b = h(
        "button",
        { type: "button", class: "btn control-keyboard", "aria-pressed": "false" },
        `${spec.label}: off`,
      );
      let on = false;
      const onKey = (ev: KeyboardEvent) => {
        if (ev.target === b) return;
        if (!spec.events.includes(ev.type as "keydown" | "keyup")) return;
        ev.preventDefault();
        ev.stopPropagation();
        send({ type: ev.type as "keydown" | "keyup", key: ev.key.slice(0, 32) });
      };
      b.addEventListener("click", () => {
        on = !on;
        b.setAttribute("aria-pressed", String(on));
        b.textContent = `${spec.label}: ${on ? "on (keys go to the code; click to stop)" : "off"}`;
        for (const t of ["keydown", "keyup"])
          if (on) window.addEventListener(t, onKey as EventListener, true);
          else window.removeEventListener(t, onKey as EventListener, true);
      });
      box.append(b);
      break;
    }
    case "form": {
      // Each window fills the form in for itself (as Kino's forms); the values go with the event.
      const form = h("form", { class: "control-form" });
      const data: Record<string, InputValue> = {};
      for (const [name, field] of Object.entries(spec.fields)) {
        data[name] = field.default;
        const f = renderField(field, field.default, (v) => {
          data[name] = v;
          if (spec.reportChanges) send({ type: "change", data: { ...data } });
        });
        form.append(f.el);
      }
      if (spec.submit !== null)
        form.append(h("button", { type: "submit", class: "btn control-submit" }, spec.submit));
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        // A field changed by typing but not yet blurred (Enter in a text field) counts.
        for (const el of form.querySelectorAll("input, textarea"))
          el.dispatchEvent(new Event("change"));
        if (spec.submit !== null) send({ type: "submit", data: { ...data } });
      });
      box.append(form);
      break;
    }
  }
  return box;
}

// ---------------------------------------------------------------------------------------------
// layouts

export function renderLayout(
  output: LayoutOutput,
  draw: (outputs: readonly Output[]) => HTMLElement,
): HTMLElement {
  if (output.layout === "grid") {
    const grid = h("div", { class: "output output-grid" });
    grid.style.gridTemplateColumns = `repeat(${output.columns ?? 2}, minmax(0, 1fr))`;
    for (const item of output.items)
      grid.append(h("div", { class: "grid-item" }, draw(item.outputs)));
    return grid;
  }
  const box = h("div", { class: "output output-tabs" });
  const list = h("div", { role: "tablist", class: "tab-list" });
  const panels: HTMLElement[] = [];
  const tabs: HTMLButtonElement[] = [];
  const base = `tsnb-tabs-${++seq}`;
  const select = (i: number, focus: boolean) => {
    tabs.forEach((t, j) => {
      t.setAttribute("aria-selected", String(i === j));
      t.tabIndex = i === j ? 0 : -1;
      panels[j]!.hidden = i !== j;
    });
    if (focus) tabs[i]!.focus();
  };
  output.items.forEach((item, i) => {
    const tab = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `${base}-t${i}`,
        "aria-controls": `${base}-p${i}`,
        class: "tab",
      },
      item.title ?? `Tab ${i + 1}`,
    );
    tab.addEventListener("click", () => select(i, false));
    tab.addEventListener("keydown", (ev) => {
      const n = output.items.length;
      if (ev.key === "ArrowRight") select((i + 1) % n, true);
      else if (ev.key === "ArrowLeft") select((i + n - 1) % n, true);
      else return;
      ev.preventDefault();
      ev.stopPropagation();
    });
    tabs.push(tab);
    list.append(tab);
    panels.push(
      h(
        "div",
        {
          role: "tabpanel",
          id: `${base}-p${i}`,
          "aria-labelledby": `${base}-t${i}`,
          class: "tab-panel",
        },
        draw(item.outputs),
      ),
    );
  });
  box.append(list, ...panels);
  if (tabs.length > 0) select(0, false);
  return box;
}

// ---------------------------------------------------------------------------------------------

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

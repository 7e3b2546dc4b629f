// Inputs, controls, frames and listeners in the real kernel (dist/kernel.mjs + dist/lib/tsnb.mjs):
// reading values, identity across re-runs, the reads an evaluation reports, listeners stopped
// on re-run and interrupt, form → frame, images as tensors, WAV as samples.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KernelProcess } from "../../kernel/client.ts";
import type { KernelEvent } from "../../core/kernel-protocol.ts";
import type { InputOutput, Output } from "../../core/outputs.ts";
import { newKernel, root, run, value } from "./helpers.ts";

let k: KernelProcess;
const seen: KernelEvent[] = [];
before(async () => {
  k = newKernel();
  k.onEvent((e) => seen.push(e));
  await k.start();
});
after(() => k.stop());

async function waitFor<T>(what: string, find: () => T | undefined, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function resultInput(out: Output | undefined): InputOutput {
  assert.equal(out?.type, "input", JSON.stringify(out));
  return out as InputOutput;
}

/** Console text of every event of a cell seen so far (late listener output included). */
function textOf(cellId: string): string {
  return seen
    .map((e) =>
      e.type === "output" && e.cellId === cellId && e.output.type === "terminal"
        ? e.output.text
        : "",
    )
    .join("");
}

test("x.value reads the value synchronously; re-running the creating cell keeps the value set", async () => {
  const make =
    "import { input } from 'tsnb';\nconst size = input.range('Size', { min: 0, max: 10, default: 3 });\nsize";
  const first = await run(k, make, { cellId: "make" });
  assert.equal(first.fin.status, "ok", JSON.stringify(first.fin.error));
  const inp = resultInput(first.fin.result);
  assert.equal(inp.value, 3);
  assert.deepEqual(inp.input, {
    kind: "range",
    label: "Size",
    default: 3,
    min: 0,
    max: 10,
    step: 1,
    debounceMs: 100,
  });
  // Showing the input does not bind the cell to it.
  assert.deepEqual(first.fin.inputs, []);

  const read = await run(k, "size.value * 2", { cellId: "read" });
  assert.equal(read.fin.resultText, "6");
  assert.deepEqual(read.fin.inputs, [inp.id]);

  k.setInput(inp.id, 7);
  assert.equal((await run(k, "size.value", { cellId: "read" })).fin.resultText, "7");

  // The same cell run again makes the same input (same id) and keeps the value the user set.
  const again = resultInput((await run(k, make, { cellId: "make" })).fin.result);
  assert.equal(again.id, inp.id);
  assert.equal(again.value, 7);
  assert.equal(await value(k, "size.value"), "7");

  // Another cell, or other options, make another input with its default.
  const other = resultInput((await run(k, make, { cellId: "other" })).fin.result);
  assert.notEqual(other.id, inp.id);
  assert.equal(other.value, 3);
  const changed = resultInput(
    (await run(k, make.replace("default: 3", "default: 4"), { cellId: "make" })).fin.result,
  );
  assert.notEqual(changed.id, inp.id);
  assert.equal(changed.value, 4);
});

test("a value set before the input exists (a fresh kernel gets the session's values) is used", async () => {
  const make = "import { input } from 'tsnb';\nconst nm = input.text('Name');\nnm";
  const id = resultInput((await run(k, make, { cellId: "pre" })).fin.result).id;
  const k2 = newKernel();
  try {
    await k2.start();
    k2.setInput(id, "Ada");
    const out = resultInput((await run(k2, make, { cellId: "pre" })).fin.result);
    assert.equal(out.id, id);
    assert.equal(out.value, "Ada");
    assert.equal((await run(k2, "nm.value")).fin.resultText, "'Ada'");
  } finally {
    await k2.stop();
  }
});

test("every kind reads its default; bad options fail the cell with a clear message", async () => {
  const r = await run(
    k,
    [
      "import { input } from 'tsnb';",
      "[input.text('a', { default: 'x' }).value, input.textarea('b').value, input.password('c').value,",
      " input.number('d').value, input.number('e', { default: 2 }).value, input.select('f', ['u', 'v']).value,",
      " input.select('g', [['1', 'one'], ['2', 'two']], { default: '2' }).value, input.checkbox('h').value,",
      " input.color('i', { default: '#FF8800' }).value, input.date('j').value, input.file('k').value,",
      " input.image('l', { size: [2, 2] }).value, input.audio('m').value]",
    ].join("\n"),
  );
  assert.equal(
    r.fin.resultText,
    "[\n  'x',       '',\n  '',        null,\n  2,         'u',\n  '2',       false,\n  '#ff8800', null,\n  null,      null,\n  null\n]",
  );
  const bad = await run(k, "import { input } from 'tsnb';\ninput.range('r', { min: 5, max: 1 })");
  assert.equal(bad.fin.status, "error");
  assert.match(bad.fin.error!.message, /input\.range: min \(5\) must be below max \(1\)/);
  const sel = await run(
    k,
    "import { input } from 'tsnb';\ninput.select('s', ['a'], { default: 'b' })",
  );
  assert.match(sel.fin.error!.message, /input\.select: default "b" is not one of the options/);
  const draw = await run(
    k,
    "import { input } from 'tsnb';\ninput.image('d', { draw: 'yes' as unknown as boolean })",
  );
  assert.match(draw.fin.error!.message, /input\.image: draw must be true or false, got "yes"/);
});

test("listen: a button's clicks reach the handler in the background until the cell runs again", async () => {
  const code = [
    "import { control, listen } from 'tsnb';",
    "const go = control.button('Go');",
    "let clicks = 0;",
    "listen(go, (e) => { clicks++; console.log(`click ${clicks} from ${e.origin}`); });",
    "go",
  ].join("\n");
  const first = await run(k, code, { cellId: "btn" });
  assert.equal(first.fin.result?.type, "control");
  const id = (first.fin.result as { id: string }).id;
  k.controlEvent(id, { type: "click" }, "window-1");
  await waitFor("the click", () =>
    textOf("btn").includes("click 1 from window-1") ? true : undefined,
  );

  // Run again: the old listener stops (a click on the old button reaches nobody).
  const second = await run(k, code, { cellId: "btn" });
  const id2 = (second.fin.result as { id: string }).id;
  assert.notEqual(id2, id);
  const before = textOf("btn");
  k.controlEvent(id, { type: "click" }, "window-1");
  k.controlEvent(id2, { type: "click" }, "window-2");
  await waitFor("the new click", () =>
    textOf("btn").includes("click 1 from window-2") ? true : undefined,
  );
  assert.equal(textOf("btn").slice(before.length), "click 1 from window-2\n");
});

test("listen: an interrupt while no cell runs stops every listener; a listener read does not bind", async () => {
  const code = [
    "import { control, listen, input } from 'tsnb';",
    "const knob = input.number('Knob', { default: 1 });",
    "const ping = control.button('Ping');",
    "listen(ping, () => console.log('pong', knob.value));",
    "ping",
  ].join("\n");
  const r = await run(k, code, { cellId: "ping" });
  assert.deepEqual(r.fin.inputs, []);
  const id = (r.fin.result as { id: string }).id;
  k.controlEvent(id, { type: "click" }, "w");
  await waitFor("pong", () => (textOf("ping").includes("pong 1") ? true : undefined));
  k.interrupt();
  // The interrupt is handled by the watchdog round trip: give it time, then click again.
  await new Promise((r2) => setTimeout(r2, 500));
  const before = textOf("ping");
  k.controlEvent(id, { type: "click" }, "w");
  // Evaluate something so the click has certainly been handled before we look.
  await value(k, "1");
  await new Promise((r2) => setTimeout(r2, 200));
  assert.equal(textOf("ping"), before);
});

test("for await over a control ends when the cell is interrupted", async () => {
  const code = [
    "import { control } from 'tsnb';",
    "const b = control.button('Wait');",
    "display(b);",
    "for await (const e of b) console.log('got', e.type);",
  ].join("\n");
  const p = run(k, "import { display } from 'tsnb';\n" + code, { cellId: "loop" });
  const ctl = await waitFor("the button", () => {
    for (const e of seen)
      if (e.type === "output" && e.cellId === "loop" && e.output.type === "frame") {
        const inner = e.output.outputs[0];
        if (inner?.type === "control") return inner.id;
      }
    return undefined;
  });
  k.controlEvent(ctl, { type: "click" }, "w");
  await waitFor("got click", () => (textOf("loop").includes("got click") ? true : undefined));
  k.interrupt();
  const r = await p;
  assert.equal(r.fin.status, "interrupted");
});

test("a form's submit renders into a frame, with the values converted per field", async () => {
  const code = [
    "import { control, input, frame, listen, md, layout } from 'tsnb';",
    "const out = frame();",
    "const form = control.form({ name: input.text('Name'), n: input.number('Count', { default: 1 }) }, { submit: 'Greet' });",
    "listen(form, async (e) => { await out.render(md`Hello **${e.data.name}** x${e.data.n} (${e.origin})`); });",
    "layout.grid([form, out], { columns: 2 })",
  ].join("\n");
  const r = await run(k, code, { cellId: "form" });
  assert.equal(r.fin.status, "ok", JSON.stringify(r.fin.error));
  const lay = r.fin.result;
  assert.equal(lay?.type, "layout");
  if (lay?.type !== "layout") return;
  assert.equal(lay.columns, 2);
  const formOut = lay.items[0]!.outputs[0]!;
  const frameOut = lay.items[1]!.outputs[0]!;
  assert.equal(formOut.type, "control");
  assert.equal(frameOut.type, "frame");
  if (formOut.type !== "control" || frameOut.type !== "frame") return;
  assert.deepEqual(formOut.control, {
    kind: "form",
    fields: {
      name: { kind: "text", label: "Name", default: "" },
      n: { kind: "number", label: "Count", default: 1 },
    },
    submit: "Greet",
    reportChanges: false,
  });
  k.controlEvent(formOut.id, { type: "submit", data: { name: "Ada", n: 3 } }, "win-7");
  const update = await waitFor("the frame update", () => {
    for (const e of seen)
      if (
        e.type === "output-update" &&
        e.update.type === "frame-replace" &&
        e.update.id === frameOut.id
      )
        return e;
    return undefined;
  });
  assert.equal(update.cellId, "form");
  assert.deepEqual(update.update.type === "frame-replace" && update.update.outputs, [
    { type: "markdown", text: "Hello **Ada** x3 (win-7)" },
  ]);
});

test("an image input's value is an nx u8 tensor [h, w, 3]; an audio input's is samples at its rate", async () => {
  const img = resultInput(
    (
      await run(
        k,
        "import { input } from 'tsnb';\nconst photo = input.image('Photo', { size: [2, 3] });\nphoto",
        {
          cellId: "img",
        },
      )
    ).fin.result,
  );
  const rgb = Buffer.from(Array.from({ length: 18 }, (_, i) => i * 10));
  k.setInput(img.id, { height: 2, width: 3, data: rgb.toString("base64") });
  const t = await run(
    k,
    "const px = photo.value!;\n[px.dtype, px.shape, Array.from(px.dataSync()).slice(0, 4)]",
  );
  assert.equal(t.fin.status, "ok", JSON.stringify(t.fin.error));
  assert.equal(t.fin.resultText, "[ 'u8', [ 2, 3, 3 ], [ 0, 10, 20, 30 ] ]");

  const wav = readFileSync(join(root, "data", "speech.wav"));
  const au = resultInput(
    (
      await run(
        k,
        "import { input, audio } from 'tsnb';\nconst voice = input.audio('Voice', { sampleRate: 8000 });\nvoice",
        {
          cellId: "au",
        },
      )
    ).fin.result,
  );
  k.setInput(au.id, { wav: wav.toString("base64"), name: "speech.wav" });
  const src = await run(
    k,
    "const orig = audio.decodeWav(new Uint8Array(require('node:fs').readFileSync(" +
      JSON.stringify(join(root, "data", "speech.wav")) +
      ")));\nconst s = voice.value!;\n[s.dtype, s.shape.length, s.shape[0] === Math.floor(orig.samples.shape[0] * 8000 / orig.sampleRate), orig.sampleRate]",
  );
  assert.equal(src.fin.status, "ok", JSON.stringify(src.fin.error));
  assert.equal(src.fin.resultText, "[ 'f32', 1, true, 16000 ]");
});

test("input.overrides (tsnb run --input): converted and validated per kind", async () => {
  const k3 = newKernel();
  try {
    await k3.start();
    k3.setInputOverrides({ Size: "8", On: "true", Bad: "abc" });
    const ok = await run(
      k3,
      "import { input } from 'tsnb';\n[input.range('Size', { max: 10 }).value, input.checkbox('On').value, input.text('Other').value]",
    );
    assert.equal(ok.fin.resultText, "[ 8, true, '' ]");
    const bad = await run(k3, "input.number('Bad')");
    assert.equal(bad.fin.status, "error");
    assert.match(bad.fin.error!.message, /--input Bad=abc: "Bad" takes a finite number, got NaN/);
  } finally {
    await k3.stop();
  }
});

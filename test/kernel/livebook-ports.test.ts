// Livebook's own notebooks on inputs, controls and frames (test/fixtures/livebook/, ported from
// livebook-dev/livebook's learn notebooks) run cell by cell in the real kernel and used as their
// readers would; then what kino's own tests (livebook-dev/kino test/kino/control_test.exs,
// frame_test.exs) ask of Kino.Control and Kino.Frame, asked of tsnb's API.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importNotebook } from "../../core/format/index.ts";
import { allCells, isEvaluable } from "../../core/notebook.ts";
import type { KernelEvent } from "../../core/kernel-protocol.ts";
import type { Output } from "../../core/outputs.ts";
import type { KernelProcess } from "../../kernel/client.ts";
import { newKernel, root, run } from "./helpers.ts";

function cellsOf(name: string): string[] {
  const r = importNotebook(readFileSync(join(root, "test/fixtures/livebook", name), "utf8"));
  if (!r.ok) throw new Error(`${name} does not parse`);
  return allCells(r.notebook)
    .filter(isEvaluable)
    .map((c) => c.source);
}

async function waitFor<T>(what: string, find: () => T | undefined, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let k: KernelProcess;
const seen: KernelEvent[] = [];
before(async () => {
  k = newKernel();
  k.onEvent((e) => seen.push(e));
  await k.start();
});
after(() => k.stop());

/** Console text of a cell so far (its listeners' output included). */
const textOf = (cellId: string) =>
  seen
    .map((e) =>
      e.type === "output" && e.cellId === cellId && e.output.type === "terminal"
        ? e.output.text
        : "",
    )
    .join("");

/** Evaluate a cell as `id`; it must succeed. */
async function ok(id: string, code: string) {
  const r = await run(k, code, { cellId: id });
  assert.equal(r.fin.status, "ok", `${id}: ${JSON.stringify(r.fin.error)}`);
  return r.fin;
}

const idOf = (o: Output | undefined): string => {
  assert.ok(o && (o.type === "input" || o.type === "control" || o.type === "frame"), String(o));
  return (o as { id: string }).id;
};

describe("Livebook's chat app (chat_app.livemd), ported", () => {
  const cells = cellsOf("chat-app.tsnb");

  test("an input read in the next cell; set it and run again", async () => {
    const nameId = idOf((await ok("chat-0", cells[0]!)).result);
    await ok("chat-1", cells[1]!);
    assert.equal(textOf("chat-1"), "Hello, !\n");
    k.setInput(nameId, "Ada");
    await ok("chat-1", cells[1]!);
    assert.equal(textOf("chat-1"), "Hello, !\nHello, Ada!\n");
  });

  test("a button's clicks reach the listener with the window that clicked", async () => {
    const buttonId = idOf((await ok("chat-2", cells[2]!)).result);
    await ok("chat-3", cells[3]!);
    k.controlEvent(buttonId, { type: "click" }, "client1");
    await waitFor("the click", () => (textOf("chat-3").includes("client1") ? true : undefined));
    assert.equal(textOf("chat-3"), "{ type: 'click', origin: 'client1' }\n");
  });

  test("for await over a form prints each submit until the cell is interrupted", async () => {
    const formId = idOf((await ok("chat-4", cells[4]!)).result);
    const loop = run(k, cells[5]!, { cellId: "chat-5" });
    // The loop is waiting: submit twice, then stop it as the notebook says (the Stop button).
    await new Promise((r) => setTimeout(r, 200));
    k.controlEvent(
      formId,
      { type: "submit", data: { first_name: "Ada", last_name: "Lovelace" } },
      "client1",
    );
    k.controlEvent(
      formId,
      { type: "submit", data: { first_name: "Alan", last_name: "Turing" } },
      "client2",
    );
    await waitFor("two events", () => (textOf("chat-5").includes("Turing") ? true : undefined));
    k.interrupt();
    assert.equal((await loop).fin.status, "interrupted");
    assert.equal(
      textOf("chat-5"),
      [
        "{",
        "  type: 'submit',",
        "  data: { first_name: 'Ada', last_name: 'Lovelace' },",
        "  origin: 'client1'",
        "}",
        "{",
        "  type: 'submit',",
        "  data: { first_name: 'Alan', last_name: 'Turing' },",
        "  origin: 'client2'",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("the chat: messages sent from two windows are appended to the frame, in order", async () => {
    const frameId = idOf((await ok("chat-6", cells[6]!)).result);
    const formId = idOf((await ok("chat-7", cells[7]!)).result);
    await ok("chat-8", cells[8]!);
    k.controlEvent(formId, { type: "submit", data: { name: "Alice", message: "hi" } }, "w-alice");
    k.controlEvent(formId, { type: "submit", data: { name: "Bob", message: "hello" } }, "w-bob");
    const appends = () =>
      seen.flatMap((e) =>
        e.type === "output-update" && e.update.type === "frame-append" && e.update.id === frameId
          ? e.update.outputs
          : [],
      );
    await waitFor("two messages", () => (appends().length >= 2 ? true : undefined));
    assert.deepEqual(appends(), [
      { type: "markdown", text: "**Alice**: hi" },
      { type: "markdown", text: "**Bob**: hello" },
    ]);
  });
});

describe("Livebook's intro to Kino (intro_to_kino.livemd), ported", () => {
  const cells = cellsOf("intro-to-kino.tsnb");

  test("input, button, a frame replaced on each run, tabs and (nested) grids", async () => {
    const nameId = idOf((await ok("kino-0", cells[0]!)).result);
    k.setInput(nameId, "Grace");
    await ok("kino-1", cells[1]!);
    assert.equal(textOf("kino-1"), "Hello, Grace!\n");

    const buttonId = idOf((await ok("kino-2", cells[2]!)).result);
    await ok("kino-3", cells[3]!);
    k.controlEvent(buttonId, { type: "click" }, "c9");
    await waitFor("click", () => (textOf("kino-3").includes("c9") ? true : undefined));

    // "By default, a frame will update in place. Try running the cell below several times."
    const frameId = idOf((await ok("kino-4", cells[4]!)).result);
    for (let i = 0; i < 3; i++) await ok("kino-5", cells[5]!);
    const updates = seen.filter(
      (e) => e.type === "output-update" && "id" in e.update && e.update.id === frameId,
    );
    assert.equal(updates.length, 3);
    for (const u of updates) {
      assert.ok(u.type === "output-update" && u.update.type === "frame-replace");
      assert.equal(u.update.outputs.length, 1, "replaced, not appended");
      const o = u.update.outputs[0]!;
      assert.ok(
        o.type === "value" &&
          /^'Got: \d+'$/.test(o.preview.kind === "primitive" ? o.preview.text : ""),
        JSON.stringify(o),
      );
    }

    const tabs = (await ok("kino-6", cells[6]!)).result;
    assert.ok(tabs?.type === "layout" && tabs.layout === "tabs");
    assert.deepEqual(
      tabs.items.map((i) => [i.title, i.outputs[0]!.type]),
      [
        ["Table", "table"],
        ["Raw", "value"],
      ],
    );

    const grid = (await ok("kino-7", cells[7]!)).result;
    assert.ok(grid?.type === "layout" && grid.layout === "grid");
    assert.equal(grid.columns, 2);
    assert.equal(grid.items.length, 4);

    const nested = (await ok("kino-8", cells[8]!)).result;
    assert.ok(nested?.type === "layout" && nested.layout === "grid");
    assert.equal(nested.columns, 3);
    const inner = nested.items.map((i) => i.outputs[0]!);
    assert.ok(inner.every((o) => o.type === "layout" && o.layout === "grid"));
    const first = inner[0]!;
    assert.ok(first.type === "layout");
    assert.deepEqual(
      first.items.map((i) => i.outputs[0]),
      [
        {
          type: "markdown",
          text: "![](https://images.unsplash.com/photo-1603203040743-24aced6793b4?w=580&h=580)",
        },
        { type: "markdown", text: "**Image 1**" },
      ],
    );
  });
});

describe("what kino's own tests ask of controls and frames (control_test.exs, frame_test.exs)", () => {
  const fails = async (code: string, message: RegExp) => {
    const r = await run(k, `import { control, input, frame } from 'tsnb';\n${code}`);
    assert.equal(r.fin.status, "error", code);
    assert.match(r.fin.error!.message, message);
  };

  test("form/1: no fields, a field that is not an input, neither submit nor change trigger", async () => {
    await fails("control.form({}, { submit: 'Send' })", /control\.form: needs at least one field/);
    await fails(
      "control.form({ name: { id: 1 } as never }, { submit: 'Send' })",
      /control\.form: field "name" must be an input/,
    );
    await fails(
      "control.form({ name: input.text('Name') }, { submit: null })",
      /control\.form: a form without a submit button needs reportChanges: true/,
    );
    const r = await run(
      k,
      "import { control, input } from 'tsnb';\ncontrol.form({ name: input.text('Name') }, { submit: null, reportChanges: true })",
    );
    assert.equal(r.fin.status, "ok");
    assert.ok(r.fin.result?.type === "control" && r.fin.result.control.kind === "form");
    assert.equal(r.fin.result.control.reportChanges, true);
  });

  test("keyboard/1: no events, an unknown event", async () => {
    await fails("control.keyboard([])", /control\.keyboard: needs at least one event/);
    await fails(
      "control.keyboard(['keyword' as never])",
      /control\.keyboard: unknown event "keyword"/,
    );
  });

  test("stream/1 supports interval: events {type: interval, iteration: 0, 1, …}", async () => {
    const r = await run(
      k,
      [
        "import { control } from 'tsnb';",
        "const seen = [];",
        "for await (const e of control.interval(10)) { seen.push(e); if (seen.length === 2) break; }",
        "JSON.stringify(seen)",
      ].join("\n"),
    );
    assert.equal(r.fin.status, "ok", JSON.stringify(r.fin.error));
    assert.equal(
      r.fin.resultText,
      `'[{"type":"interval","iteration":0},{"type":"interval","iteration":1}]'`,
    );
  });

  test("render/2 replaces with the value as a cell shows it; append/2 appends", async () => {
    const fin = await ok(
      "frame-t",
      "import { frame, md } from 'tsnb';\nconst f = frame();\nawait f.render(1);\nawait f.render(md`_hey_`);\nawait f.append(1);\nf",
    );
    const frameId = idOf(fin.result);
    const updates = seen.flatMap((e) =>
      e.type === "output-update" && "id" in e.update && e.update.id === frameId ? [e.update] : [],
    );
    assert.deepEqual(
      updates.map((u) => [
        u.type,
        u.type === "frame-replace" || u.type === "frame-append" ? u.outputs.map((o) => o.type) : [],
      ]),
      [
        ["frame-replace", ["value"]],
        ["frame-replace", ["markdown"]],
        ["frame-append", ["value"]],
      ],
    );
    // The frame shown as the cell's result holds what was rendered and appended.
    assert.ok(fin.result?.type === "frame");
    assert.deepEqual(
      fin.result.outputs.map((o) => o.type),
      ["markdown", "value"],
    );
  });
});

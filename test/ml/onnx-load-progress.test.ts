// A large model shows a progress bar in the cell while onnx.load reads it and ONNX Runtime
// prepares it (through a real kernel); a small one shows none, unless asked.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newKernel, run } from "../kernel/helpers.ts";

const k = newKernel();
const dir = mkdtempSync(join(tmpdir(), "tsnb-onnx-progress-"));
after(() => {
  k.stop();
  rmSync(dir, { recursive: true, force: true });
});

function progressOf(events: Awaited<ReturnType<typeof run>>["events"]) {
  const shown = events.flatMap((e) =>
    e.type === "output" && e.output.type === "progress" ? [e.output] : [],
  );
  const updates = events.flatMap((e) =>
    e.type === "output-update" && e.update.type === "progress-set" ? [e.update] : [],
  );
  return { shown, updates };
}

test(
  "onnx.load of a 17 MB model shows its progress; a small model does not",
  { timeout: 120_000 },
  async () => {
    const big = join(dir, "big.onnx");
    const small = join(dir, "small.onnx");
    const made = await run(
      k,
      [
        'import { nn, train } from "tsnb";',
        // 1024 × 4096 weights: 16 MB of f32.
        "const wide = nn.sequential([nn.dense(4096)], { inputShape: [1024], seed: 0 });",
        `train.saveOnnx(wide, ${JSON.stringify(big)});`,
        "const tiny = nn.sequential([nn.dense(2)], { inputShape: [3], seed: 0 });",
        `train.saveOnnx(tiny, ${JSON.stringify(small)});`,
      ].join("\n"),
    );
    assert.equal(made.fin.status, "ok", JSON.stringify(made.fin.error));
    assert.ok(statSync(big).size > 16 * 1024 * 1024);

    const loaded = await run(
      k,
      `import { onnx } from "tsnb";\nconst m = await onnx.load(${JSON.stringify(big)});`,
    );
    assert.equal(loaded.fin.status, "ok", JSON.stringify(loaded.fin.error));
    const p = progressOf(loaded.events);
    assert.equal(p.shown.length, 1);
    assert.match(p.shown[0]!.label, /^Loading .*big\.onnx \(16\.\d MB\)$/);
    const fractions = p.updates.map((u) => u.fraction);
    assert.ok(
      fractions.some((f) => f !== null && f > 0 && f < 1),
      "the bar moves while reading",
    );
    assert.ok(fractions.includes(null), "session creation is shown as indeterminate");
    assert.equal(fractions.at(-1), 1);
    assert.match(p.updates.at(-1)!.label, /^Loaded .*big\.onnx \(16\.\d MB\)$/);

    const quiet = await run(k, `const s = await onnx.load(${JSON.stringify(small)});`);
    assert.equal(progressOf(quiet.events).shown.length, 0);
    const asked = await run(
      k,
      `const s2 = await onnx.load(${JSON.stringify(small)}, { progress: true });`,
    );
    assert.equal(progressOf(asked.events).shown.length, 1);
  },
);

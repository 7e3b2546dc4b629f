// Interrupting a cell aborts the kernel's per-evaluation AbortSignal, so library code that runs
// in the background of an awaited cell (a training loop) stops between steps and keeps its work.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KernelProcess } from "../../kernel/client.ts";
import { newKernel, run, value } from "./helpers.ts";

let k: KernelProcess;
before(async () => {
  k = newKernel();
  await k.start();
});
after(() => k.stop());

function interruptWhenPrinted(marker: string): () => void {
  let sent = false;
  return k.onEvent((e) => {
    if (
      !sent &&
      e.type === "output" &&
      e.output.type === "terminal" &&
      e.output.text.includes(marker)
    ) {
      sent = true;
      setTimeout(() => k.interrupt(), 150);
    }
  });
}

test("the bridge's signal is aborted when its evaluation is interrupted, not before", async () => {
  const off = interruptWhenPrinted("ready");
  const r = await run(
    k,
    [
      "const bridge = (globalThis as any)[Symbol.for('tsnb.kernel')];",
      "const sig: AbortSignal = bridge.signal;",
      "const seen = { abortedAtStart: sig.aborted, abortedAfter: false };",
      "sig.addEventListener('abort', () => { seen.abortedAfter = true; });",
      "console.log('ready');",
      "await new Promise(() => {});",
    ].join("\n"),
  ).finally(off);
  assert.equal(r.fin.status, "interrupted");
  assert.equal(
    await value(k, "JSON.stringify(seen)"),
    `'{"abortedAtStart":false,"abortedAfter":true}'`,
  );
  // A later evaluation gets a fresh signal.
  assert.equal(
    await value(k, "(globalThis as any)[Symbol.for('tsnb.kernel')].signal.aborted"),
    "false",
  );
});

test("interrupting a training cell stops fit between steps and keeps the weights trained so far", async () => {
  await value(
    k,
    [
      'import { nn, optim, train } from "tsnb";',
      "const n = 256;",
      "const xs = Array.from({ length: n }, (_, i) => [Math.sin(i), Math.cos(i)]);",
      "const ys = xs.map(([a, b]) => (a * b > 0 ? 1 : 0));",
      "const model = nn.sequential([nn.dense(16, { activation: 'relu' }), nn.dense(2)], { inputShape: [2], seed: 3 });",
      "const trainer = train.trainer(model, { loss: 'categoricalCrossEntropy', optimizer: optim.sgd({ learningRate: 0.01 }), seed: 3 });",
      "let steps = 0;",
      "trainer.on('iterationCompleted', () => { steps++; if (steps === 5) console.log('ready'); });",
      "0",
    ].join("\n"),
  );
  const off = interruptWhenPrinted("ready");
  const r = await run(
    k,
    "await trainer.fit(xs, ys, { epochs: 100000, batchSize: 8, verbose: false });",
  ).finally(off);
  assert.equal(r.fin.status, "interrupted");
  const stepsAtInterrupt = Number(await value(k, "steps"));
  assert.ok(stepsAtInterrupt >= 5, `trained ${stepsAtInterrupt} steps before the interrupt`);
  // Training has stopped: the step count no longer moves.
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(Number(await value(k, "steps")), stepsAtInterrupt);
  assert.match(String(await value(k, "trainer.history.stopped")), /interrupt|abort/i);
  // The weights are usable: the model still predicts.
  assert.equal(await value(k, "(await trainer.predict(xs.slice(0, 3))).shape.join('x')"), "'3x2'");
});

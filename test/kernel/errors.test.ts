// Errors, interrupts, kernel death and the protocol handshake.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { KernelProcess, type KernelDeath } from "../../kernel/client.ts";
import { fixtures, newKernel, run, value } from "./helpers.ts";

let k: KernelProcess;
before(async () => {
  k = newKernel();
  await k.start();
});
after(() => k.stop());

test("a thrown error fails the cell with its name, message and the .tsnb line and column", async () => {
  const code =
    "type N = number;\nfunction boom(n: N): never {\n  throw new RangeError(`bad ${n}`);\n}\nboom(3)";
  const r = await run(k, code, { line: 40, cellId: "boom" });
  assert.equal(r.fin.status, "error");
  const e = r.fin.error!;
  assert.equal(e.name, "RangeError");
  assert.equal(e.message, "bad 3");
  // `throw` is on the cell's 3rd line (file line 42), `new` at column 9.
  assert.deepEqual(e.location, { line: 42, column: 9 });
  assert.deepEqual(e.cell, { cellId: "boom", line: 3, column: 9 });
  assert.match(e.stack, /at boom \(nb\.tsnb:42:9\)/);
  assert.match(e.stack, /nb\.tsnb:44:1/);
  assert.doesNotMatch(e.stack, /tsnbcell|kernel\.mjs/);
});

test("a rejected promise fails the cell; a syntax error points at its position", async () => {
  const rej = await run(
    k,
    "const p: Promise<void> = Promise.reject(new Error('nope'));\nawait p;",
    { line: 7 },
  );
  assert.equal(rej.fin.status, "error");
  assert.equal(rej.fin.error!.message, "nope");
  assert.deepEqual(rej.fin.error!.location, { line: 7, column: 41 });
  const syn = await run(k, "const ok = 1;\nconst bad: number = ;", { line: 20, cellId: "syn" });
  assert.equal(syn.fin.status, "error");
  assert.equal(syn.fin.error!.name, "SyntaxError");
  assert.deepEqual(syn.fin.error!.location, { line: 21, column: 21 });
  assert.deepEqual(syn.fin.error!.cell, { cellId: "syn", line: 2, column: 21 });
  // A non-Error thrown value is reported too.
  const str = await run(k, "throw 'plain string'");
  assert.equal(str.fin.status, "error");
  assert.match(str.fin.error!.message, /plain string/);
});

test("an error thrown by a function of an earlier cell names that cell and its line", async () => {
  await run(
    k,
    "// helpers\nfunction failLater(): never {\n  throw new Error('from the helper');\n}",
    {
      line: 10,
      cellId: "helpers",
    },
  );
  const r = await run(k, "const a = 1;\nfailLater();", { line: 30, cellId: "user" });
  assert.equal(r.fin.status, "error");
  assert.deepEqual(r.fin.error!.location, { line: 12, column: 9 });
  assert.deepEqual(r.fin.error!.cell, { cellId: "helpers", line: 3, column: 9 });
});

test("errors printed or shown as values point at the notebook too", async () => {
  const r = await run(
    k,
    "try {\n  null!.x;\n} catch (err) {\n  console.error(err);\n}\nnew Error('as a value')",
    { line: 100 },
  );
  assert.match(r.text(), /TypeError: Cannot read properties of null[^]*at nb\.tsnb:101:/);
  assert.doesNotMatch(r.text(), /tsnbcell|kernel\.mjs/);
  assert.match(r.fin.resultText!, /Error: as a value\n\s+at nb\.tsnb:105:1/);
});

test("interrupt stops a synchronous infinite loop; earlier state survives", async () => {
  await value(k, "const keep = { n: 41 };");
  const r = await runAndInterrupt(
    k,
    "let spins = 0;\nconsole.log('ready');\nwhile (true) { spins++ }",
  );
  assert.equal(r.fin.status, "interrupted");
  assert.equal(r.fin.error?.interrupted, true);
  assert.equal(await value(k, "keep.n + 1"), "42");
});

test("interrupt stops a never-resolving await; the kernel keeps working", async () => {
  const r = await runAndInterrupt(k, "console.log('ready');\nawait new Promise(() => {});");
  assert.equal(r.fin.status, "interrupted");
  assert.equal(r.text(), "ready\n");
  assert.equal(await value(k, "keep.n"), "41");
});

test("interrupt stops a loop that runs after an await or in a timer; state survives", async () => {
  const r = await runAndInterrupt(
    k,
    "await new Promise((r) => setTimeout(r, 10));\nconsole.log('ready');\nfor (;;) {}",
  );
  assert.equal(r.fin.status, "interrupted");
  assert.equal(await value(k, "keep.n + 2"), "43");
  // A timer spinning while no cell runs: the interrupt stops it too.
  await value(k, "setTimeout(() => { console.log('ready'); for (;;) {} }, 10);");
  await new Promise((r) => setTimeout(r, 100));
  k.interrupt();
  assert.equal(await value(k, "keep.n + 3"), "44");
});

test("with Node async_hooks enabled, a loop in a callback ends the kernel, reported as interrupted", async () => {
  const kk = newKernel();
  await kk.start();
  const died = new Promise<KernelDeath>((resolve) => kk.onDeath(resolve));
  await value(
    kk,
    "import { AsyncLocalStorage } from 'node:async_hooks';\nnew AsyncLocalStorage().enterWith(1);",
  );
  const r = await runAndInterrupt(
    kk,
    "await new Promise((r) => setTimeout(r, 10));\nconsole.log('ready');\nfor (;;) {}",
  );
  assert.equal(r.fin.status, "aborted");
  const death = await died;
  assert.equal(death.reason, "interrupted");
  assert.match(death.message, /state is lost/);
  await kk.restart();
  assert.equal(await value(kk, "1 + 1"), "2");
  await kk.stop();
});

test("an interrupt while idle does not disturb the next evaluation", async () => {
  k.interrupt();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(
    await value(k, "await new Promise((r) => setTimeout(() => r('fine'), 50))"),
    "'fine'",
  );
});

test("malformed requests get a protocol error and are ignored", async () => {
  const errors: string[] = [];
  const off = k.onEvent((e) => {
    if (e.type === "protocol-error") errors.push(e.message);
  });
  (k as unknown as { write(x: unknown): void }).write({ type: "evaluate", evalId: 3 });
  (k as unknown as { write(x: unknown): void }).write({ type: "dance" });
  assert.equal(await value(k, "'still alive'"), "'still alive'");
  off();
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /evalId/);
  assert.match(errors[1]!, /unknown request type "dance"/);
});

/** Evaluate `code` and interrupt once it printed "ready" (so the interrupt hits the part under test). */
function runAndInterrupt(kk: KernelProcess, code: string) {
  let sent = false;
  const off = kk.onEvent((e) => {
    if (
      !sent &&
      e.type === "output" &&
      e.output.type === "terminal" &&
      e.output.text.includes("ready")
    ) {
      sent = true;
      setTimeout(() => kk.interrupt(), 100);
    }
  });
  return run(kk, code).finally(off);
}

async function deathOf(
  code: string,
  options = {},
): Promise<{ death: KernelDeath; status: string[] }> {
  const kk = newKernel(options);
  await kk.start();
  const died = new Promise<KernelDeath>((resolve) => kk.onDeath(resolve));
  const first = run(kk, code);
  const queued = run(kk, "'never runs'");
  const results = await Promise.all([first, queued]);
  const death = await died;
  assert.equal(kk.running, false);
  return { death, status: results.map((r) => r.fin.status) };
}

test("a kernel that calls process.exit is reported dead; pending evaluations are aborted", async () => {
  const { death, status } = await deathOf("console.log('bye');\nprocess.exit(3)");
  assert.equal(death.reason, "exit");
  assert.equal(death.code, 3);
  assert.deepEqual(status, ["aborted", "aborted"]);
});

// An uncaught exception in a timer no longer ends the kernel: test/kernel/error-reports.test.ts.

test("running out of memory is reported as such", async () => {
  const { death, status } = await deathOf(
    "const hoard: number[][] = [];\nwhile (true) hoard.push(new Array(100000).fill(1));",
    {
      execArgv: ["--max-old-space-size=32"],
    },
  );
  assert.equal(death.reason, "out-of-memory");
  assert.deepEqual(status, ["aborted", "aborted"]);
});

test("a killed kernel (SIGKILL) is reported dead; restart gives a fresh kernel", async () => {
  const kk = newKernel();
  await kk.start();
  await value(kk, "const before = 1;");
  const died = new Promise<KernelDeath>((resolve) => kk.onDeath(resolve));
  const p = run(kk, "await new Promise(() => {})");
  setTimeout(() => process.kill(kk.info!.pid, "SIGKILL"), 100);
  assert.equal((await p).fin.status, "aborted");
  const death = await died;
  assert.equal(death.reason, "signal");
  assert.equal(death.signal, "SIGKILL");
  // Evaluating on a dead kernel does not hang.
  assert.equal((await run(kk, "1")).fin.status, "aborted");
  await kk.restart();
  assert.equal(await value(kk, "typeof before"), "'undefined'");
  await kk.stop();
});

test("the client refuses a kernel that speaks another protocol version", async () => {
  const kk = new KernelProcess({ kernelPath: join(fixtures, "bad-version.mjs") });
  await assert.rejects(kk.start(), /protocol version 999/);
});

test("evaluate before start starts the kernel; a kernel that cannot start aborts, never hangs", async () => {
  const kk = newKernel();
  assert.equal((await run(kk, "6 * 7")).fin.resultText, "42");
  await kk.stop();
  const broken = new KernelProcess({ kernelPath: join(fixtures, "no-such-kernel.mjs") });
  const deaths: KernelDeath[] = [];
  broken.onDeath((d) => deaths.push(d));
  const r = await run(broken, "1");
  assert.equal(r.fin.status, "aborted");
  assert.equal(deaths[0]?.reason, "exit");
  assert.match(deaths[0]!.stderr, /Cannot find module/);
});

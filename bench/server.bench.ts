// Benchmark: the notebook server's operation path, against references measured in the same run.
//   1. Round trip of an edit (apply set-cell-source → applied) on a 1,000-cell notebook, against
//      a bare `ws` echo server (the floor: WebSocket + JSON on this machine).
//   2. The reducer alone (applyOperation) on that notebook.
//   3. Run all of 200 trivial cells through the server with the real kernel, against the same
//      cells sent straight to a KernelProcess (the floor: the kernel itself).
// Run: node scripts/build.js && npx tsx bench/server.bench.ts
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { APP_PROTOCOL_VERSION, type ServerMessage } from "../core/app-protocol.ts";
import { exportNotebook } from "../core/format/index.ts";
import type { Notebook } from "../core/notebook.ts";
import { applyOperation, createSessionData } from "../core/session/data.ts";
import { KernelProcess } from "../kernel/client.ts";
import { kernelProcessFactory } from "../server/kernel-adapter.ts";
import { startServer } from "../server/server.ts";

function notebook(cells: number, code = (i: number) => `const v${i} = ${i};`): Notebook {
  return {
    title: "Bench",
    metadata: { version: 1 },
    sections: [
      {
        id: "s",
        title: "",
        cells: Array.from({ length: cells }, (_, i) => ({
          type: "code" as const,
          id: `c${i}`,
          source: code(i),
        })),
      },
    ],
  };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

class Conn {
  private handlers: Array<(m: any) => void> = [];
  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      for (const h of this.handlers.slice()) h(m);
    });
  }
  static async open(url: string, headers: Record<string, string> = {}): Promise<Conn> {
    const ws = new WebSocket(url, { headers });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    return new Conn(ws);
  }
  until(pred: (m: any) => boolean): Promise<any> {
    return new Promise((resolve) => {
      const h = (m: any) => {
        if (pred(m)) {
          this.handlers.splice(this.handlers.indexOf(h), 1);
          resolve(m);
        }
      };
      this.handlers.push(h);
    });
  }
  send(m: unknown) {
    this.ws.send(JSON.stringify(m));
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "tsnb-bench-"));
  try {
    // ---- 1. edit round trip vs ws echo ----
    const echo = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    echo.on("connection", (ws) =>
      ws.on("message", (d) => ws.send(JSON.stringify({ echo: JSON.parse(d.toString()) }))),
    );
    await new Promise((r) => echo.once("listening", r));
    const echoConn = await Conn.open(`ws://127.0.0.1:${(echo.address() as { port: number }).port}`);

    await writeFile(join(dir, "big.tsnb"), exportNotebook(notebook(1000)));
    const server = await startServer({
      root: dir,
      dataDir: join(dir, "data"),
      autosaveMs: 60_000,
      kernelFactory: kernelProcessFactory,
    });
    const c = await Conn.open(`ws://127.0.0.1:${server.port}/ws`, {
      Authorization: `Bearer ${server.token}`,
    });
    c.send({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION });
    await c.until((m) => m.type === "welcome");
    c.send({ type: "open-file", path: "big.tsnb" });
    const joined = (await c.until((m) => m.type === "joined")) as Extract<
      ServerMessage,
      { type: "joined" }
    >;
    const sessionId = joined.sessionId;
    const cellId = joined.snapshot.notebook.sections[0]!.cells[500]!.id;

    const N = 500;
    const rtEcho: number[] = [];
    const rtServer: number[] = [];
    for (let i = 0; i < N; i++) {
      const source = `const v = ${i}; // ${"x".repeat(200)}`;
      let t = performance.now();
      echoConn.send({ type: "apply", sessionId, op: { type: "set-cell-source", cellId, source } });
      await echoConn.until(() => true);
      rtEcho.push(performance.now() - t);
      t = performance.now();
      c.send({ type: "apply", sessionId, op: { type: "set-cell-source", cellId, source } });
      await c.until((m) => m.type === "applied");
      rtServer.push(performance.now() - t);
    }
    console.log(`edit round trip, 1,000-cell notebook (n=${N}):`);
    console.log(`  server  p50 ${fmt(pct(rtServer, 0.5))}  p95 ${fmt(pct(rtServer, 0.95))}`);
    console.log(
      `  ws echo p50 ${fmt(pct(rtEcho, 0.5))}  p95 ${fmt(pct(rtEcho, 0.95))}  (reference)`,
    );
    console.log(`  ratio p50 ${(pct(rtServer, 0.5) / pct(rtEcho, 0.5)).toFixed(2)}×`);

    // ---- 2. reducer alone ----
    let d = createSessionData(notebook(1000));
    const M = 2000;
    let t0 = performance.now();
    for (let i = 0; i < M; i++) {
      const r = applyOperation(d, {
        type: "set-cell-source",
        clientId: "b",
        at: i,
        cellId: `c${i % 1000}`,
        source: `const v = ${i};`,
      });
      if (r.ok) d = r.data;
    }
    console.log(
      `reducer set-cell-source, 1,000 cells: ${fmt((performance.now() - t0) / M)} per op`,
    );

    // ---- 3. run all through the server vs straight to the kernel ----
    const cells = 200;
    await writeFile(
      join(dir, "run.tsnb"),
      exportNotebook(notebook(cells, (i) => `const w${i} = ${i} + 1;\nw${i}`)),
    );
    c.send({ type: "open-file", path: "run.tsnb" });
    const j2 = (await c.until((m) => m.type === "joined")) as Extract<
      ServerMessage,
      { type: "joined" }
    >;
    const lastId = j2.snapshot.notebook.sections[0]!.cells[cells - 1]!.id;
    // Warm the kernel up with one cell, then time run-all.
    c.send({
      type: "apply",
      sessionId: j2.sessionId,
      op: { type: "evaluate-cell", cellId: j2.snapshot.notebook.sections[0]!.cells[0]!.id },
    });
    await c.until((m) => m.type === "applied" && m.op.type === "evaluation-finished");
    t0 = performance.now();
    c.send({ type: "apply", sessionId: j2.sessionId, op: { type: "evaluate-all" } });
    await c.until(
      (m) => m.type === "applied" && m.op.type === "evaluation-finished" && m.op.cellId === lastId,
    );
    const viaServer = performance.now() - t0;

    const k = new KernelProcess({ cwd: dir });
    await k.start();
    await k.evaluate({ evalId: "w", cellId: "w", code: "1" });
    t0 = performance.now();
    for (let i = 0; i < cells; i++)
      await k.evaluate({
        evalId: `e${i}`,
        cellId: `c${i}`,
        code: `const w${i} = ${i} + 1;\nw${i}`,
      });
    const direct = performance.now() - t0;
    await k.stop();
    console.log(`run all, ${cells} trivial cells, real kernel:`);
    console.log(`  through the server ${fmt(viaServer)} (${fmt(viaServer / cells)} per cell)`);
    console.log(
      `  KernelProcess direct ${fmt(direct)} (${fmt(direct / cells)} per cell)  (reference)`,
    );
    console.log(`  ratio ${(viaServer / direct).toFixed(2)}×`);

    c.ws.close();
    echoConn.ws.close();
    echo.close();
    await server.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

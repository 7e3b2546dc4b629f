import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { APP_PROTOCOL_VERSION } from "../../core/app-protocol.ts";
import { exportNotebook, importNotebook } from "../../core/format/index.ts";
import type { Notebook } from "../../core/notebook.ts";
import { tempDir } from "./helpers.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

function bigNotebook(cells: number): Notebook {
  return {
    title: "v0",
    metadata: { version: 1 },
    sections: [
      {
        id: "s",
        title: "Data",
        cells: Array.from({ length: cells }, (_, i) => ({
          type: "code" as const,
          id: `c${i}`,
          source: `// cell ${i}\nconst v${i} = ${"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]".repeat(3)};`,
        })),
      },
    ],
  };
}

test("killing the server (SIGKILL) in the middle of autosaves leaves the notebook whole: old or new, never torn", async () => {
  const t = await tempDir();
  try {
    const root = join(t.dir, "root");
    await mkdir(root);
    const file = join(root, "big.tsnb");
    const cells = 1500;
    await writeFile(file, exportNotebook(bigNotebook(cells)));
    const titles = new Set<string>();
    let version = 0;
    for (let round = 0; round < 5; round++) {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(here, "server-child.ts"), root, join(t.dir, "data"), "1"],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const exited = new Promise((r) => child.on("exit", r));
      const info = await new Promise<{ port: number; token: string }>((resolve) => {
        let buf = "";
        child.stdout.on("data", (d) => {
          buf += d;
          if (buf.includes("\n")) resolve(JSON.parse(buf.split("\n")[0]!));
        });
      });
      const ws = new WebSocket(`ws://127.0.0.1:${info.port}/ws`, {
        headers: { Authorization: `Bearer ${info.token}` },
      });
      await new Promise((r) => ws.once("open", r));
      let sessionId = "";
      let saves = 0;
      ws.on("message", (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === "joined") sessionId = m.sessionId;
        if (m.type === "applied" && m.op.type === "notebook-saved") saves++;
      });
      ws.send(JSON.stringify({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION }));
      ws.send(JSON.stringify({ type: "open-file", path: "big.tsnb" }));
      while (!sessionId) await new Promise((r) => setTimeout(r, 5));
      // Keep changing the title (each change schedules an autosave 1 ms later) until a few saves happened, then kill.
      const killAfter = 2 + round;
      while (saves < killAfter) {
        version++;
        ws.send(
          JSON.stringify({
            type: "apply",
            sessionId,
            op: { type: "set-title", title: `v${version}` },
          }),
        );
        await new Promise((r) => setTimeout(r, 3));
      }
      child.kill("SIGKILL");
      await exited;
      ws.terminate();
      const text = await readFile(file, "utf8");
      const r = importNotebook(text);
      assert.ok(r.ok, `round ${round}: the file must import`);
      const all = r.notebook.sections.flatMap((s) => s.cells);
      assert.equal(all.length, cells, `round ${round}: every cell is there`);
      assert.equal(
        all[cells - 1]!.source,
        bigNotebook(cells).sections[0]!.cells[cells - 1]!.source,
      );
      assert.match(r.notebook.title, /^v\d+$/);
      assert.ok(Number(r.notebook.title.slice(1)) <= version);
      titles.add(r.notebook.title);
    }
    assert.ok(titles.size >= 2, "autosave wrote new versions between the kills");
    // Leftover temp files are hidden dot files; the notebook itself is never replaced by one.
    assert.ok((await readdir(root)).includes("big.tsnb"));
  } finally {
    await t.cleanup();
  }
});

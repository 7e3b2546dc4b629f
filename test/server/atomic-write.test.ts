// writeFileAtomic: a save either fully happens or not at all, even when the process is killed.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  symlinkSync,
  lstatSync,
  mkdirSync,
  chmodSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAtomicWriteTemp, writeFileAtomic } from "../../server/atomic-write.ts";

const moduleUrl = new URL("../../server/atomic-write.ts", import.meta.url).href;
const tempDirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-atomic-"));
  tempDirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

test("writes strings and bytes, replaces the old content, leaves no temp files", async () => {
  const dir = tempDir();
  const file = join(dir, "a.tsnb");
  await writeFileAtomic(file, "first ✓\n");
  assert.equal(readFileSync(file, "utf8"), "first ✓\n");
  for (let i = 0; i < 20; i++) await writeFileAtomic(file, `version ${i}\n`);
  await writeFileAtomic(file, new Uint8Array([104, 105]));
  assert.equal(readFileSync(file, "utf8"), "hi");
  assert.deepEqual(readdirSync(dir), ["a.tsnb"]);
});

test("keeps the permission bits of an existing file", async () => {
  const dir = tempDir();
  for (const mode of [0o600, 0o755, 0o640]) {
    const file = join(dir, `m${mode.toString(8)}`);
    writeFileSync(file, "old");
    chmodSync(file, mode);
    await writeFileAtomic(file, "new");
    assert.equal(statSync(file).mode & 0o777, mode);
    assert.equal(readFileSync(file, "utf8"), "new");
  }
});

test("follows a symlink: the file it points to is replaced and the link stays", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "real"));
  const real = join(dir, "real", "nb.tsnb");
  writeFileSync(real, "old");
  const link = join(dir, "link.tsnb");
  symlinkSync(real, link);
  await writeFileAtomic(link, "new");
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(real, "utf8"), "new");
  assert.deepEqual(readdirSync(join(dir, "real")), ["nb.tsnb"]);
});

test("a failed write rejects, removes its temp file and leaves the target alone", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "taken"));
  await assert.rejects(
    writeFileAtomic(join(dir, "taken"), "data"),
    (e: NodeJS.ErrnoException) => typeof e.code === "string",
  );
  assert.deepEqual(readdirSync(dir), ["taken"]);
  assert.ok(statSync(join(dir, "taken")).isDirectory());
  await assert.rejects(writeFileAtomic(join(dir, "missing-dir", "x.tsnb"), "data"), {
    code: "ENOENT",
  });
});

/**
 * A child process that writes `size`-byte files of one repeated letter to `file` in a loop
 * (A, B, A, …), printing "start" before each write, with writeFileAtomic or plain writeFile.
 */
function startWriter(file: string, size: number, atomic: boolean): ReturnType<typeof spawn> {
  const code = `
    import { writeFile } from "node:fs/promises";
    import { writeFileAtomic } from ${JSON.stringify(moduleUrl)};
    const write = ${atomic} ? writeFileAtomic : (p, d) => writeFile(p, d);
    for (let i = 0; ; i++) {
      const data = Buffer.alloc(${size} + (i % 2) * 1000, i % 2 ? "B" : "A");
      process.stdout.write("start\\n");
      await write(${JSON.stringify(file)}, data);
    }`;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** Start a writer, SIGKILL it `delayMs` after its `startsBeforeKill`-th "start", wait for it to die. */
async function killDuringWrite(
  file: string,
  size: number,
  atomic: boolean,
  startsBeforeKill: number,
  delayMs: number,
): Promise<void> {
  const child = startWriter(file, size, atomic);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let starts = 0;
  child.stdout!.on("data", (chunk: Buffer) => {
    starts += chunk.toString().split("start").length - 1;
    if (starts >= startsBeforeKill && !child.killed)
      setTimeout(() => child.kill("SIGKILL"), delayMs);
  });
  await exited;
}

/** The file is complete: all A (SIZE bytes) or all B (SIZE + 1000 bytes). */
function isComplete(file: string, size: number): boolean {
  const data = readFileSync(file);
  if (data.length === size) return data.every((b) => b === 65);
  if (data.length === size + 1000) return data.every((b) => b === 66);
  return false;
}

test(
  "a writer SIGKILLed mid-write never leaves the target truncated",
  { timeout: 120_000 },
  async () => {
    const size = 48 * 1024 * 1024;
    const dir = tempDir();
    const file = join(dir, "big.tsnb");
    writeFileSync(file, Buffer.alloc(size, "A"));

    // Control: the same kill lands mid-write often enough to truncate a plain writeFile.
    const plainFile = join(dir, "plain.tsnb");
    let truncated = 0;
    for (let i = 0; i < 8 && truncated === 0; i++) {
      writeFileSync(plainFile, Buffer.alloc(size, "A"));
      await killDuringWrite(plainFile, size, false, 2, i * 3);
      if (!isComplete(plainFile, size)) truncated++;
    }
    assert.ok(truncated > 0, "the kill never landed mid-write (test harness too slow?)");

    for (let i = 0; i < 6; i++) {
      await killDuringWrite(file, size, true, 1 + (i % 3), i * 7);
      assert.ok(
        isComplete(file, size),
        `round ${i}: target is truncated or mixed (${statSync(file).size} bytes)`,
      );
    }
    // Leftovers from killed writers are recognisable temp files, never the target.
    const leftovers = readdirSync(dir).filter(
      (name) => name !== "big.tsnb" && name !== "plain.tsnb",
    );
    for (const name of leftovers) assert.ok(isAtomicWriteTemp(name), name);
    assert.ok(
      leftovers.length > 0,
      "no kill landed inside an atomic write, so this test proved nothing",
    );
  },
);

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ForbiddenPathError, listFolder, resolveInRoot } from "../../server/paths.ts";
import { tempDir } from "./helpers.ts";

describe("resolveInRoot", () => {
  let base: string;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    const t = await tempDir("tsnb-paths-");
    cleanup = t.cleanup;
    base = await realpath(t.dir);
    root = join(base, "root");
    await mkdir(join(root, "sub"), { recursive: true });
    await mkdir(join(base, "outside"));
    await writeFile(join(base, "outside", "secret.tsnb"), "# secret\n");
    await writeFile(join(root, "sub", "ok.tsnb"), "# ok\n");
    await symlink(join(base, "outside"), join(root, "link-out"));
    await symlink(join(base, "outside", "secret.tsnb"), join(root, "secret-link.tsnb"));
    await symlink(join(root, "sub"), join(root, "link-in"));
  });
  after(async () => cleanup());

  test("paths inside the root resolve", async () => {
    assert.equal(await resolveInRoot(root, "sub/ok.tsnb"), join(root, "sub", "ok.tsnb"));
    assert.equal(await resolveInRoot(root, ""), root);
    assert.equal(await resolveInRoot(root, "./sub/new.tsnb"), join(root, "sub", "new.tsnb"));
    assert.equal(await resolveInRoot(root, "link-in/ok.tsnb"), join(root, "link-in", "ok.tsnb"));
  });

  test("'..', absolute paths, NUL bytes and backslashes are refused", async () => {
    for (const p of [
      "..",
      "../outside/secret.tsnb",
      "sub/../../outside",
      "/etc/passwd",
      join(base, "outside"),
      "a\0b",
      "..\\outside",
      "C:/x",
    ]) {
      await assert.rejects(resolveInRoot(root, p), ForbiddenPathError, p);
    }
  });

  test("symbolic links that lead outside the root are refused, for existing and new files", async () => {
    await assert.rejects(resolveInRoot(root, "link-out/secret.tsnb"), ForbiddenPathError);
    await assert.rejects(resolveInRoot(root, "secret-link.tsnb"), ForbiddenPathError);
    await assert.rejects(resolveInRoot(root, "link-out/new-file.tsnb"), ForbiddenPathError);
    await assert.rejects(resolveInRoot(root, "link-out/deeper/new.tsnb"), ForbiddenPathError);
  });

  test("the listing leaves out links that lead outside", async () => {
    const names = (await listFolder(root, "")).map((e) => e.name);
    assert.deepEqual(names, ["link-in", "sub"]);
  });
});

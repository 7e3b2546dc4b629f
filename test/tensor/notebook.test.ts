// The newer nx ops through the user's path: a notebook (test/fixtures/nx/ops.tsnb) run by
// `tsnb run` with the real kernel, importing "tsnb/nx" (the bundled library); each printed value
// is compared with NumPy evaluating the same expression.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import * as nx from "../../tensor/index.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

test("indexing, updates, einsum, det, median, jit(vmap(cumprod)) in a notebook run by tsnb run", () => {
  const res = spawnSync(
    process.execPath,
    [join(root, "bin", "tsnb.js"), "run", join("test", "fixtures", "nx", "ops.tsnb")],
    { cwd: root, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stderr, "");
  const lines = res.stdout.trim().split("\n");
  const expr = [
    "x[::-1, 1:3]",
    "x[[0, 2], [1, 3]]",
    "x[x > 8]",
    "(lambda y: (np.add.at(y, np.s_[0:2, [0, 0]], 100), y.__setitem__(-1, -1), y)[2])(x.copy())",
    "a @ a",
    "np.array([np.linalg.det(a), np.median(x)])",
    "np.cumprod(x[:2] + 1, axis=1)",
  ];
  assert.equal(lines.length, expr.length, res.stdout);
  const x = nx.reshape(nx.arange(12), [3, 4]);
  const a = nx.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: "f64" },
  );
  const ref = numpy(expr.map((e) => ({ expr: e, args: { x, a } })));
  lines.forEach((line, i) =>
    assertLikeNumpy(nx.tensor(JSON.parse(line), { dtype: "f64" }), ref[i]!, 1e-12, expr[i]),
  );
});

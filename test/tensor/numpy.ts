/**
 * NumPy as a test oracle: evaluates NumPy expressions in Debian's python3-numpy (`/usr/bin/python3`,
 * installed by `.ci/run`) on the same inputs the nx test uses, and compares nx's result with
 * NumPy's (shape, values, NaN positions). One Python process per batch of cases.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as nx from "../../tensor/index.ts";

const PYTHON = "/usr/bin/python3";

const NP_DTYPE: Record<nx.DType, string> = {
  f32: "float32",
  f64: "float64",
  i32: "int32",
  i64: "int64",
  u8: "uint8",
  bool: "bool_",
};

/** One NumPy evaluation: `expr` may use `np` and the named arguments. */
export interface NumpyCase {
  expr: string;
  args?: Record<string, nx.Tensor>;
}

/** NumPy's answer: a flat row-major array (NaN/±Infinity kept), or the error it raised. */
export interface NumpyResult {
  dtype: string;
  shape: number[];
  data: number[];
  /** Integer results exactly (int64 beyond 2^53). */
  ints?: bigint[];
  error?: string;
}

const SCRIPT = `
import json, sys, math
import numpy as np
np.seterr(all="ignore")
def enc(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v
out = []
for case in json.load(sys.stdin):
    env = {"np": np}
    for name, a in case["args"].items():
        data = [(int(x) if a["dtype"] == "int64" else float(x)) if isinstance(x, str) else x for x in a["data"]]
        env[name] = np.array(data, dtype=a["dtype"]).reshape(a["shape"])
    try:
        r = np.asarray(eval(case["expr"], env))
        flat = r.reshape(-1)
        vals = [enc(float(x)) if r.dtype.kind == "f" else (bool(x) if r.dtype.kind == "b" else str(int(x))) for x in flat]
        out.append({"dtype": str(r.dtype), "shape": list(r.shape), "data": vals})
    except Exception as e:
        out.append({"dtype": "", "shape": [], "data": [], "error": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout)
`;

function encodeValue(v: number | bigint | boolean): number | string | boolean {
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (Object.is(v, -0)) return "-0"; // JSON would drop the sign
  return v;
}

/** Evaluates the cases in one python3 process; throws if python3-numpy is missing. */
export function numpy(cases: readonly NumpyCase[]): NumpyResult[] {
  const payload = cases.map((c) => ({
    expr: c.expr,
    args: Object.fromEntries(
      Object.entries(c.args ?? {}).map(([k, t]) => [
        k,
        {
          dtype: NP_DTYPE[t.dtype],
          shape: t.shape,
          data: Array.from(t.dataSync() as ArrayLike<number | bigint>, (v) =>
            encodeValue(t.dtype === "bool" ? v !== 0 : v),
          ),
        },
      ]),
    ),
  }));
  const res = spawnSync(PYTHON, ["-c", SCRIPT], {
    input: JSON.stringify(payload),
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: { PATH: process.env.PATH ?? "/usr/bin", OPENBLAS_NUM_THREADS: "1" },
  });
  if (res.status !== 0)
    throw new Error(
      `numpy oracle failed (is python3-numpy installed?): ${res.stderr || res.error}`,
    );
  return (JSON.parse(res.stdout) as Array<NumpyResult & { data: unknown[] }>).map((r) => {
    const isInt = /int/.test(r.dtype);
    return {
      ...r,
      data: r.data.map((v) => Number(v)),
      ints: isInt ? r.data.map((v) => BigInt(String(v))) : undefined,
    };
  });
}

/** Asserts nx's tensor has NumPy's shape and values (within `tol`, relative for large values). */
export function assertLikeNumpy(
  actual: nx.Tensor,
  expected: NumpyResult,
  tol = 0,
  what = "",
): void {
  const label = what ? `${what}: ` : "";
  assert.equal(expected.error, undefined, `${label}NumPy raised ${expected.error}`);
  assert.deepEqual(actual.shape, expected.shape, `${label}shape`);
  const got = Array.from(actual.dataSync() as ArrayLike<number | bigint>, Number);
  assert.equal(got.length, expected.data.length, `${label}size`);
  if (expected.ints && actual.dtype !== "f32" && actual.dtype !== "f64") {
    const exact = Array.from(actual.dataSync() as ArrayLike<number | bigint>, (v) => BigInt(v));
    assert.deepEqual(exact, expected.ints, `${label}values`);
    return;
  }
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const e = expected.data[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${label}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (a === e) continue;
    const err = Math.abs(a - e);
    assert.ok(
      err <= tol * Math.max(1, Math.abs(e)),
      `${label}[${i}]: got ${a}, NumPy ${e} (tolerance ${tol})`,
    );
  }
}

/**
 * Summarises ONNX Runtime profiles (Chrome trace JSON) by operator type: where a compiled step
 * spends its time. Record one with TSNB_ORT_PROFILE (tensor/runtime.ts), e.g.
 *
 *   TSNB_ORT_PROFILE=/tmp/prof/cnn node --import tsx bench/learn.ts --quick --only=cnn
 *   node --import tsx bench/ort-profile.ts /tmp/prof/cnn_*.json
 *
 * Per file (one session): runs, mean run time, then each op type's share of kernel time, its
 * count per run and mean time per call, and the largest nodes.
 */
import { readFileSync } from "node:fs";

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown };
}

for (const file of process.argv.slice(2)) {
  const events = JSON.parse(readFileSync(file, "utf8")) as TraceEvent[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  if (runs.length < 2) continue;
  // The first run includes allocation planning; leave it out.
  const steady = runs.slice(1);
  const runTime = steady.reduce((a, e) => a + e.dur, 0) / steady.length;
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  const firstRunEnd = nodes.length ? nodes.length / runs.length : 0;
  const later = nodes.slice(Math.round(firstRunEnd));
  const byOp = new Map<string, { total: number; calls: number }>();
  const byNode = new Map<string, { total: number; op: string; shape: string }>();
  for (const e of later) {
    const op = e.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { total: 0, calls: 0 };
    o.total += e.dur;
    o.calls++;
    byOp.set(op, o);
    const n = byNode.get(e.name) ?? {
      total: 0,
      op,
      shape: JSON.stringify(e.args?.input_type_shape ?? "").slice(0, 120),
    };
    n.total += e.dur;
    byNode.set(e.name, n);
  }
  const kernel = [...byOp.values()].reduce((a, o) => a + o.total, 0);
  const perRun = kernel / steady.length;
  console.log(
    `\n${file}: ${runs.length} runs, ${(runTime / 1000).toFixed(2)} ms per run, kernels ${(perRun / 1000).toFixed(2)} ms (${((100 * perRun) / runTime).toFixed(0)}%)`,
  );
  console.log("| op | share | calls/run | µs/call |");
  console.log("| --- | --- | --- | --- |");
  for (const [op, o] of [...byOp].sort((a, b) => b[1].total - a[1].total).slice(0, 15))
    console.log(
      `| ${op} | ${((100 * o.total) / kernel).toFixed(1)}% | ${(o.calls / steady.length).toFixed(0)} | ${(o.total / o.calls).toFixed(1)} |`,
    );
  console.log("largest nodes:");
  for (const [name, n] of [...byNode].sort((a, b) => b[1].total - a[1].total).slice(0, 8))
    console.log(
      `  ${((100 * n.total) / kernel).toFixed(1)}% ${n.op} ${name.replace(/_kernel_time$/, "")} ${n.shape}`,
    );
}

"""Drives the tsnb kernel with jupyter_client (Jupyter's own client library), the way JupyterLab,
nbconvert and Jupyter servers do: starts it from its kernelspec, then checks execute (state kept
between cells, streams, results, rich display, errors located in the cell), completion,
inspection, is_complete, an interrupted infinite loop that keeps state, and restart.

Prints one line per check, "ok NAME" or "FAIL NAME: why", and exits 1 when any failed.
Run by test/jupyter/jupyter.test.ts with JUPYTER_PATH pointing at a temporary kernelspec.
"""
import os
import queue
import re
import sys
import time

from jupyter_client.manager import start_new_kernel

failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print(f"ok {name}", flush=True)
    else:
        failures += 1
        print(f"FAIL {name}: {why}", flush=True)


def run(kc, code, timeout=60):
    """Execute code; return (reply content, list of iopub messages of this request)."""
    msg_id = kc.execute(code)
    msgs = []
    deadline = time.time() + timeout
    while True:
        try:
            m = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            raise TimeoutError(f"no idle status for {code!r}")
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    # Replies to earlier requests can still be queued (wait_for_ready sends kernel_info until one
    # is answered, so a slow start leaves extra replies): skip to ours, as clients do.
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"]["msg_id"] == msg_id:
            return reply["content"], msgs


def of_type(msgs, t):
    return [m["content"] for m in msgs if m["msg_type"] == t]


km, kc = start_new_kernel(kernel_name="tsnb", startup_timeout=60)
try:
    info = kc.kernel_info(reply=True)["content"]
    check("kernel_info", info["language_info"]["name"] == "typescript" and info["status"] == "ok", info)

    reply, msgs = run(kc, "const x: number = 20;\nconsole.log('hello', x)")
    streams = "".join(c["text"] for c in of_type(msgs, "stream") if c["name"] == "stdout")
    check("stream", reply["status"] == "ok" and "hello 20" in streams, (reply, streams))
    check("execute_input", of_type(msgs, "execute_input")[0]["execution_count"] == reply["execution_count"])

    reply, msgs = run(kc, "x + 22")
    results = of_type(msgs, "execute_result")
    check("result keeps state", results and results[0]["data"]["text/plain"] == "42", results)

    reply, msgs = run(kc, "const x = 'redeclared'; x")
    results = of_type(msgs, "execute_result")
    check("redeclare const", results and "redeclared" in results[0]["data"]["text/plain"], (reply, results))

    reply, msgs = run(kc, "import { md } from 'tsnb';\nmd`# Title`")
    results = of_type(msgs, "execute_result")
    check("markdown mime", results and results[0]["data"].get("text/markdown", "").startswith("# Title"), results)

    reply, msgs = run(kc, "import * as nx from 'tsnb/nx';\nnx.add(nx.tensor([1, 2]), nx.tensor([3, 4]))")
    results = of_type(msgs, "execute_result")
    check("tensor", results and re.search(r"\[4(\.0)?, 6(\.0)?\]", results[0]["data"]["text/plain"]), (reply, results))

    reply, msgs = run(kc, "const y = 1;\nthrow new Error('boom here')")
    errors = of_type(msgs, "error")
    tb = "\n".join(errors[0]["traceback"]) if errors else ""
    check(
        "error located in cell",
        reply["status"] == "error" and reply["evalue"] == "boom here" and ":2:" in tb,
        (reply, tb),
    )

    kc.complete("const s = 'abc'; s.toUpp", 24)
    comp = kc.get_shell_msg(timeout=60)["content"]
    check("complete string method", "toUpperCase" in comp["matches"] and comp["cursor_start"] == 19, comp)

    kc.complete("import { nn } from 'tsnb';\nnn.den", 33)
    comp = kc.get_shell_msg(timeout=60)["content"]
    check("complete tsnb library", "dense" in comp["matches"], comp)

    kc.inspect("Math.max", 6)
    insp = kc.get_shell_msg(timeout=60)["content"]
    check("inspect", insp["found"] and "max" in insp["data"]["text/plain"], insp)

    kc.is_complete("function f() {")
    ic = kc.get_shell_msg(timeout=60)["content"]
    kc.is_complete("1 + 1")
    ic2 = kc.get_shell_msg(timeout=60)["content"]
    check("is_complete", ic["status"] == "incomplete" and ic2["status"] == "complete", (ic, ic2))

    run(kc, "let counter = 7;")
    msg_id = kc.execute("while (true) {}")
    time.sleep(1.5)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=60)
    while reply["parent_header"]["msg_id"] != msg_id:
        reply = kc.get_shell_msg(timeout=60)
    check("interrupt stops the loop", reply["content"]["status"] == "error", reply["content"])
    reply, msgs = run(kc, "counter * 6")
    results = of_type(msgs, "execute_result")
    check("state kept after interrupt", results and results[0]["data"]["text/plain"] == "42", results)

    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    reply, msgs = run(kc, "typeof counter")
    results = of_type(msgs, "execute_result")
    check("restart clears state", results and "undefined" in results[0]["data"]["text/plain"], results)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)

check("shut down", not km.is_alive())
sys.stdout.flush()
# os._exit: jupyter_client's destructors log during interpreter shutdown and print noise.
os._exit(1 if failures else 0)

// Shared set-up for kernel tests: a kernel process on the built dist/kernel.mjs and a helper that
// evaluates one cell and collects its events.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KernelProcess, type KernelOptions } from "../../kernel/client.ts";
import type { EvaluationFinishedEvent, KernelEvent } from "../../core/kernel-protocol.ts";

export const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const kernelPath = join(root, "dist", "kernel.mjs");
export const fixtures = join(root, "test", "fixtures", "kernel");

export function newKernel(options: KernelOptions = {}): KernelProcess {
  return new KernelProcess({ kernelPath, cwd: join(fixtures, "nbdir"), ...options });
}

let counter = 0;

export interface Evaluated {
  fin: EvaluationFinishedEvent;
  events: KernelEvent[];
  /** All stdout/stderr text of the evaluation (so far). */
  text(): string;
}

export async function run(
  k: KernelProcess,
  code: string,
  opts: { line?: number; cellId?: string } = {},
): Promise<Evaluated> {
  const n = ++counter;
  const events: KernelEvent[] = [];
  const fin = await k.evaluate(
    {
      evalId: `e${n}`,
      cellId: opts.cellId ?? `c${n}`,
      code,
      file: "nb.tsnb",
      line: opts.line ?? 1,
    },
    (e) => events.push(e),
  );
  return {
    fin,
    events,
    text: () =>
      events
        .map((e) => (e.type === "output" && e.output.type === "terminal" ? e.output.text : ""))
        .join(""),
  };
}

/** The result's text as a REPL shows it, failing loudly when the cell did not succeed. */
export async function value(k: KernelProcess, code: string): Promise<string | undefined> {
  const r = await run(k, code);
  if (r.fin.status !== "ok")
    throw new Error(
      `cell failed: ${JSON.stringify(r.fin.error ?? r.fin.status)} ${k.death ? JSON.stringify(k.death) : ""}`,
    );
  return r.fin.resultText;
}

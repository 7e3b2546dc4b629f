/**
 * The default `KernelFactory`: kernel processes from `kernel/client.ts`.
 * (Placeholder until the kernel client lands: every evaluation reports a dead kernel.)
 */
import type { KernelFactory, SessionKernel } from "./kernel-runner.ts";

export const kernelProcessFactory: KernelFactory = (sink): SessionKernel => ({
  evaluate() {
    sink.status("dead", "the kernel is not available in this build");
  },
  interrupt() {},
  async restart() {},
  async stop() {},
  setInputValue() {},
  async tablePage() {
    throw new Error("the kernel is not available in this build");
  },
});

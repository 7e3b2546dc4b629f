/**
 * `tsnb kernel --jupyter CONNECTION_FILE` (the tsnb kernel behind Jupyter's protocol) and
 * `tsnb kernelspec install [--user | --prefix DIR | --name NAME]` (registers it with Jupyter).
 *
 * The kernelspec names this Node and this checkout's `bin/tsnb.js` by absolute path, so Jupyter
 * starts the same tsnb that installed it. `interrupt_mode` is "signal" (SIGINT), which the
 * bridge turns into tsnb's interrupt; interrupt_request messages work too.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export async function kernel(args: string[]): Promise<number> {
  const i = args.indexOf("--jupyter");
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) {
    process.stderr.write("usage: tsnb kernel --jupyter CONNECTION_FILE\n");
    return 2;
  }
  const { runJupyterKernel } = await import("../kernel/jupyter.ts");
  return runJupyterKernel(file);
}

/** Where `jupyter kernelspec list` looks: the user's data folder, or PREFIX/share/jupyter. */
export function kernelspecDir(opts: { prefix?: string; name: string }): string {
  const base = opts.prefix
    ? join(resolve(opts.prefix), "share", "jupyter")
    : process.env["JUPYTER_DATA_DIR"] ||
      (process.platform === "darwin"
        ? join(homedir(), "Library", "Jupyter")
        : join(process.env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"), "jupyter"));
  return join(base, "kernels", opts.name);
}

export function kernelSpec(tsnbBin: string): Record<string, unknown> {
  return {
    argv: [process.execPath, tsnbBin, "kernel", "--jupyter", "{connection_file}"],
    display_name: "TypeScript (tsnb)",
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

export async function kernelspec(args: string[]): Promise<number> {
  if (args[0] !== "install") {
    process.stderr.write("usage: tsnb kernelspec install [--user | --prefix DIR] [--name NAME]\n");
    return 2;
  }
  const opt = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const prefix = opt("--prefix");
  if (args.includes("--prefix") && !prefix) {
    process.stderr.write("tsnb kernelspec install: --prefix needs a folder\n");
    return 2;
  }
  const name = opt("--name") ?? "tsnb";
  if (!/^[a-z0-9._-]+$/i.test(name)) {
    process.stderr.write(
      `tsnb kernelspec install: a kernel name is letters, digits, '.', '_' or '-', got '${name}'\n`,
    );
    return 2;
  }
  // dist/cli.mjs → ../bin/tsnb.js
  const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "tsnb.js");
  const dir = kernelspecDir({ prefix, name });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelSpec(resolve(bin)), null, 1) + "\n");
  process.stdout.write(`Installed the tsnb kernelspec '${name}' in ${dir}\n`);
  return 0;
}

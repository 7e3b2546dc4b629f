/**
 * `tsnb import NB.ipynb [-o OUT.tsnb] [--force]`: a Jupyter notebook (nbformat 4, from Deno,
 * tslab, IJavaScript…) → a `.tsnb` file. What the `.tsnb` cannot carry is printed as warnings
 * with cell numbers (docs/format.md, "Jupyter notebooks").
 *
 * Exit status: 0 written (warnings or not); 2 the file cannot be read or is not an nbformat 4
 * notebook, or OUT exists (an existing notebook is never replaced without --force).
 */

import { existsSync } from "node:fs";
import { exportNotebook, notebookFileKind } from "../core/format/index.ts";
import { writeFileAtomic } from "../server/atomic-write.ts";
import { readNotebookFile } from "./notebook-file.ts";

const USAGE = "usage: tsnb import NB.ipynb [-o OUT.tsnb] [--force]\n";

export async function importCommand(args: string[]): Promise<number> {
  let input: string | null = null;
  let out: string | null = null;
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-o" || a === "--output") {
      const v = args[++i];
      if (v === undefined) return usage(`${a} needs a file name`);
      out = v;
    } else if (a === "--force") force = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith("-") && a !== "-") return usage(`unknown option '${a}'`);
    else if (input === null) input = a;
    else return usage(`one notebook at a time (got '${input}' and '${a}')`);
  }
  if (input === null) return usage("expected a .ipynb file");
  if (notebookFileKind(input) !== "ipynb")
    return usage(`${input} is not a .ipynb file (tsnb opens .tsnb files as they are)`);
  const target = out ?? input.replace(/\.ipynb$/i, ".tsnb");
  if (existsSync(target) && !force) {
    process.stderr.write(
      `tsnb import: ${target} exists; choose another with -o, or --force to replace it\n`,
    );
    return 2;
  }
  const nb = readNotebookFile(input);
  if (!nb.ok) {
    process.stderr.write(`tsnb import: ${nb.error}\n`);
    return 2;
  }
  for (const w of nb.warnings) process.stderr.write(`${w} (warning)\n`);
  try {
    await writeFileAtomic(target, exportNotebook(nb.notebook));
  } catch (err) {
    process.stderr.write(`tsnb import: cannot write ${target}: ${(err as Error).message}\n`);
    return 2;
  }
  const cells = nb.notebook.sections.reduce((n, s) => n + s.cells.length, 0);
  process.stderr.write(`wrote ${target} (${cells} cells, ${nb.warnings.length} warnings)\n`);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`tsnb import: ${message}\n${USAGE}`);
  return 2;
}

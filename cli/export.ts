/**
 * `tsnb export FILE --ipynb [-o OUT] [--force]`: a notebook (`.tsnb`, or `.ipynb` read through
 * the importer) written in another format. `--ipynb` writes nbformat 4.5 with the outputs the
 * file holds (docs/format.md, "Jupyter notebooks").
 *
 * Exit status: 0 written; 2 bad arguments, the file cannot be read or parsed, or OUT would be
 * the input file itself.
 */

import { resolve } from "node:path";
import { exportIpynb } from "../core/format/index.ts";
import { writeFileAtomic } from "../server/atomic-write.ts";
import { readNotebookFile } from "./notebook-file.ts";

const USAGE = "usage: tsnb export FILE.tsnb --ipynb [-o OUT]\n";

type Format = "ipynb";

const EXTENSIONS: Record<Format, string> = { ipynb: ".ipynb" };

export async function exportCommand(args: string[]): Promise<number> {
  let input: string | null = null;
  let out: string | null = null;
  let format: Format | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-o" || a === "--output") {
      const v = args[++i];
      if (v === undefined) return usage(`${a} needs a file name`);
      out = v;
    } else if (a === "--ipynb") format = "ipynb";
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith("-")) return usage(`unknown option '${a}'`);
    else if (input === null) input = a;
    else return usage(`one notebook at a time (got '${input}' and '${a}')`);
  }
  if (input === null) return usage("expected a notebook file");
  if (format === null) return usage("choose a format: --ipynb");
  const target = out ?? input.replace(/\.(tsnb|ipynb|md)$/i, "") + EXTENSIONS[format];
  if (resolve(target) === resolve(input))
    return usage(`the output ${target} would replace the notebook itself; choose another with -o`);
  const nb = readNotebookFile(input);
  if (!nb.ok) {
    process.stderr.write(`tsnb export: ${nb.error}\n`);
    return 2;
  }
  for (const w of nb.warnings) process.stderr.write(`${w} (warning)\n`);
  const text = exportIpynb(nb.notebook, nb.kind === "ipynb" ? { outputs: nb.outputs } : {});
  try {
    await writeFileAtomic(target, text);
  } catch (err) {
    process.stderr.write(`tsnb export: cannot write ${target}: ${(err as Error).message}\n`);
    return 2;
  }
  process.stderr.write(`wrote ${target}\n`);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`tsnb export: ${message}\n${USAGE}`);
  return 2;
}

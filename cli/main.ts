/**
 * The `tsnb` command line: dispatches to the subcommands and documents them in `--help`.
 * Each subcommand module exports one async function that returns the process exit status.
 */

const HELP = `tsnb — a notebook for TypeScript and machine learning

Usage:
  tsnb run FILE.tsnb... [--check] [--continue-on-error] [--write] [--verbose] [--input LABEL=VALUE]...
           [--runtime URL [--runtime-kernel NAME]] [--allow-scripts NAME,...]
      Evaluate every code cell top to bottom in a fresh kernel and print, per cell, its
      console output and its result. Several files run in turn, each in its own kernel.
        --check              type-check the cells first (as tsnb check); on an error, run nothing
        --continue-on-error  keep going after a failing cell (the exit status is still 1)
        --write              save the outputs into the notebook (atomically)
        --verbose            print errors with every stack frame (tsnb's, packages', Node's)
        --input LABEL=VALUE  the value of the inputs labelled LABEL (others take their defaults;
                             file and audio inputs take a path from the notebook's folder)
        --allow-scripts NAMES  npm packages (comma-separated, or *) whose install scripts may run
                             when a cell imports them with npm: (refused by default)
        --runtime URL        run the cells on a kernel of the Jupyter server at URL (as Jupyter
                             prints it, e.g. http://host:8888/lab?token=…; or the token in
                             TSNB_RUNTIME_TOKEN) with the tsnb kernelspec installed there
        --runtime-kernel NAME  that server's kernelspec name (default tsnb)
      Exit status: 0 all cells succeeded, 1 a cell failed, 2 the file cannot be read or parsed.

  tsnb check FILE.tsnb...
      Report TypeScript's diagnostics for every cell, as the editor shows them, as
      FILE.tsnb:LINE:COL, without running anything. Cells see the names other cells define.
      Exit status: 0 no errors, 1 a type error, 2 the file cannot be read or parsed.

  tsnb serve [DIR | FILE.tsnb] [--port N] [--host H] [--no-open] [--allow-scripts NAME,...]
      Serve the notebooks under DIR (default: the current folder) to a browser. Prints the
      URL with its access token on a line of its own. Given a notebook file, serves its
      folder and the URL opens that notebook. Ctrl+C stops it. --allow-scripts lets the named
      npm packages (or *) run their install scripts when a cell imports them with npm:.

  tsnb kernel --jupyter CONNECTION_FILE
      Run the tsnb kernel behind Jupyter's messaging protocol (ZeroMQ), as Jupyter clients
      start it from the kernelspec: JupyterLab, nbconvert, jupyter_client, Jupyter servers.

  tsnb kernelspec install [--user | --prefix DIR] [--name NAME]
      Register the kernel with Jupyter (default: the user's Jupyter data folder);
      \`jupyter kernelspec list\` then shows it as "TypeScript (tsnb)".

  tsnb import NB.ipynb [-o OUT.tsnb] [--force]
      Convert a Jupyter notebook (nbformat 4; Deno, tslab, IJavaScript kernels) to a .tsnb
      file (default: NB.tsnb beside it; an existing file is kept unless --force). What the
      .tsnb cannot carry (magics, other languages, widgets, raw cells…) is listed as warnings.

  tsnb export FILE.tsnb (--html | --ipynb | --format html|md|ipynb) [-o OUT] [--run] [--no-code]
      Write the notebook in another format, with the outputs the file holds (or, with --run,
      those of a fresh run; the notebook itself is not changed). FILE may also be a .ipynb.
        --html        one self-contained page that opens offline: Markdown, KaTeX, highlighted
                      code, outputs and Vega-Lite charts drawn as the app draws them
        --format md   Markdown with the outputs (charts as SVG files in NAME_files/ beside it)
        --ipynb       a Jupyter notebook (nbformat 4.5)
        --no-code     leave the code out (HTML and Markdown)
      Exit status: 0 written, 1 --run and a cell failed (still written), 2 bad arguments or file.

  tsnb help | --help | -h
      Show this help.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    case "run": {
      const { run } = await import("./run.ts");
      return run(rest);
    }
    case "check": {
      const { check } = await import("./check.ts");
      return check(rest);
    }
    case "import": {
      const { importCommand } = await import("./import.ts");
      return importCommand(rest);
    }
    case "export": {
      const { exportCommand } = await import("./export.ts");
      return exportCommand(rest);
    }
    case "serve": {
      const { serve } = await import("./serve.ts");
      return serve(rest);
    }
    case "kernel": {
      const { kernel } = await import("./kernel.ts");
      return kernel(rest);
    }
    case "kernelspec": {
      const { kernelspec } = await import("./kernel.ts");
      return kernelspec(rest);
    }
    default:
      process.stderr.write(`tsnb: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

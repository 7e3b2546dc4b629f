// nbformat's own validator (Debian's python3-nbformat, installed by .ci/run), for the tests that
// check exported .ipynb files: one Python process validates every file given.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Debian's python3 (where python3-nbformat lives), ahead of a pyenv or venv python3 on PATH. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const SCRIPT = `
import sys, json, nbformat
bad = {}
for path in sys.argv[1:]:
    try:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
        if nb.nbformat != 4:
            raise ValueError("nbformat %r" % nb.nbformat)
    except Exception as e:
        bad[path] = "%s: %s" % (type(e).__name__, str(e)[:500])
print(json.dumps(bad))
`;

/** File → validation error, for the files nbformat refuses (an empty object: all valid). */
export function nbformatErrors(files: string[]): Record<string, string> {
  const r = spawnSync(PYTHON, ["-c", SCRIPT, ...files], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(
      `nbformat validator did not run (apt-get install python3-nbformat): ${r.stderr}`,
    );
  return JSON.parse(r.stdout) as Record<string, string>;
}

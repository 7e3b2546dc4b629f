// Dependencies declared in the notebook, through `tsnb run` and the real kernel against the real
// npm registry (small pure-JS packages: is-odd with its dependency is-number, ms; bufferutil for
// a package with an install script), and with the registry unreachable (a port nobody listens
// on). Each test has its own npm cache folder (TSNB_NPM_CACHE).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importNotebook } from "../../core/format/index.ts";
import { parseNpmSpecifier } from "../../kernel/npm.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const OFFLINE = "http://127.0.0.1:9/";

function tsnb(cwd: string, env: Record<string, string>, ...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), ...args], {
    cwd,
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, ...env },
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function withDirs(fn: (dir: string, cache: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-npm-"));
  try {
    fn(join(dir), join(dir, ".cache"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const notebook = (...cells: string[]) =>
  ["# Deps", "", ...cells.flatMap((c) => ["```ts", c, "```", ""])].join("\n");

/** What the cache holds: complete entries only, no temporary folders. */
const cacheEntries = (cache: string) => (existsSync(cache) ? readdirSync(cache).sort() : []);

test("npm: specifiers parse as Deno's do: scoped names, ranges, subpaths", () => {
  assert.deepEqual(parseNpmSpecifier("npm:ms"), { name: "ms", range: "", subpath: "" });
  assert.deepEqual(parseNpmSpecifier("npm:ms@^2.1"), { name: "ms", range: "^2.1", subpath: "" });
  assert.deepEqual(parseNpmSpecifier("npm:@std/path@1/posix"), {
    name: "@std/path",
    range: "1",
    subpath: "/posix",
  });
  assert.deepEqual(parseNpmSpecifier("npm:lodash-es/fp"), {
    name: "lodash-es",
    range: "",
    subpath: "/fp",
  });
  assert.equal(typeof parseNpmSpecifier("npm:@scope"), "string");
  assert.equal(typeof parseNpmSpecifier("npm:Bad Name"), "string");
});

test("an npm: import installs from the registry on first use, records the version with --write, and reruns offline", () => {
  withDirs((dir, cache) => {
    const file = join(dir, "deps.tsnb");
    writeFileSync(
      file,
      notebook(
        'import isOdd from "npm:is-odd@^3";\nimport ms from "npm:ms@2.1";\n[isOdd(3), isOdd(4), ms("2 days")]',
        'import isNumber from "npm:is-number@7/index.js";\nisNumber("12")',
      ),
    );
    const first = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "deps.tsnb");
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Installing npm:is-odd@3\.0\.1/);
    assert.match(
      first.stdout,
      /\[ true, false, 172800000 \]\nInstalling npm:is-number@7\.0\.0 …\ntrue\n$/,
    );
    assert.match(
      first.stderr,
      /resolved npm:is-odd@3\.0\.1, npm:ms@2\.1\.3, npm:is-number@7\.0\.0; not recorded in deps\.tsnb/,
    );
    assert.deepEqual(cacheEntries(cache), ["is-number@7.0.0", "is-odd@3.0.1", "ms@2.1.3"]);
    // is-odd's own dependency came with it (npm's resolution, inside its cache entry).
    assert.ok(existsSync(join(cache, "is-odd@3.0.1/node_modules/is-number/package.json")));

    const written = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "deps.tsnb", "--write");
    assert.equal(written.status, 0, written.stderr);
    const text = readFileSync(file, "utf8");
    assert.match(
      text,
      /^<!-- tsnb:notebook \{"version":1,"dependencies":\{"is-number":"7\.0\.0","is-odd":"3\.0\.1","ms":"2\.1\.3"\},"persistOutputs":true\} -->\n/,
    );
    const back = importNotebook(text);
    assert.ok(back.ok);
    assert.deepEqual(back.notebook.metadata.dependencies, {
      "is-number": "7.0.0",
      "is-odd": "3.0.1",
      ms: "2.1.3",
    });

    // The registry unreachable: the recorded versions are in the cache, nothing is asked.
    const offline = tsnb(
      dir,
      { TSNB_NPM_CACHE: cache, TSNB_NPM_REGISTRY: OFFLINE },
      "run",
      "deps.tsnb",
    );
    assert.equal(offline.status, 0, offline.stderr);
    assert.match(offline.stdout, /\[ true, false, 172800000 \]/);
    assert.doesNotMatch(offline.stdout, /Installing/);
  });
});

test("a recorded version is what the next machine installs, even when a newer one matches", () => {
  withDirs((dir, cache) => {
    writeFileSync(
      join(dir, "pinned.tsnb"),
      '<!-- tsnb:notebook {"version":1,"dependencies":{"ms":"2.1.1"}} -->\n' +
        notebook('import ms from "npm:ms@^2";\nms(60000)'),
    );
    const r = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "pinned.tsnb");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Installing npm:ms@2\.1\.1\b/);
    assert.match(r.stdout, /'1m'/);
    assert.deepEqual(cacheEntries(cache), ["ms@2.1.1"]);
    assert.doesNotMatch(r.stderr, /not recorded/);
  });
});

test("offline, an unknown package, a bad version: the error names the package at the cell's import; nothing is left in the cache", () => {
  withDirs((dir, cache) => {
    writeFileSync(join(dir, "off.tsnb"), notebook('import isOdd from "npm:is-odd@^3";\nisOdd(1)'));
    const off = tsnb(dir, { TSNB_NPM_CACHE: cache, TSNB_NPM_REGISTRY: OFFLINE }, "run", "off.tsnb");
    assert.equal(off.status, 1);
    assert.match(
      off.stderr,
      /^off\.tsnb:4:1: NpmError: npm:is-odd@\^3: cannot reach the npm registry http:\/\/127\.0\.0\.1:9\/ \(ECONNREFUSED\); 'is-odd' is not installed in .*, so it needs the network once$/m,
    );
    assert.deepEqual(
      cacheEntries(cache).filter((e) => !e.startsWith(".")),
      [],
    );

    writeFileSync(
      join(dir, "bad.tsnb"),
      notebook(
        'import x from "npm:tsnb-no-such-package-4a1b9";',
        'import ms from "npm:ms@^99";',
        'import ms2 from "npm:ms@not a range";',
      ),
    );
    const bad = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "bad.tsnb", "--continue-on-error");
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /^bad\.tsnb:4:1: NpmError: npm:tsnb-no-such-package-4a1b9: no package 'tsnb-no-such-package-4a1b9' on the registry https:\/\/registry\.npmjs\.org\/$/m,
    );
    assert.match(
      bad.stderr,
      /^bad\.tsnb:8:1: NpmError: npm:ms@\^99: no version of 'ms' matches '\^99'$/m,
    );
    assert.match(
      bad.stderr,
      /^bad\.tsnb:12:1: NpmError: npm:ms@not a range: 'not a range' is not a version, range or tag$/m,
    );
    assert.deepEqual(cacheEntries(cache), []);
  });
});

test("a package with an install script is refused unless allowed; --allow-scripts runs it", () => {
  withDirs((dir, cache) => {
    writeFileSync(
      join(dir, "native.tsnb"),
      notebook('import bufferutil from "npm:bufferutil@4.1.0";\ntypeof bufferutil.mask'),
    );
    const refused = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "native.tsnb");
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /NpmError: npm:bufferutil@4\.1\.0 needs install scripts, which tsnb does not run unless you allow them: bufferutil@4\.1\.0 \(install: node-gyp-build\)\. .*TSNB_NPM_ALLOW_SCRIPTS=bufferutil/,
    );
    assert.deepEqual(cacheEntries(cache), [], "the refused install left nothing");

    const allowed = tsnb(
      dir,
      { TSNB_NPM_CACHE: cache },
      "run",
      "native.tsnb",
      "--allow-scripts",
      "bufferutil",
    );
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /'function'/);
    assert.deepEqual(cacheEntries(cache), ["bufferutil@4.1.0"]);
  });
});

test("a plain import of a package the folder's package.json lists (not installed) comes from the npm cache", () => {
  withDirs((dir, cache) => {
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ dependencies: { "is-odd": "^3.0.0" } }),
    );
    writeFileSync(join(dir, "plain.tsnb"), notebook('import isOdd from "is-odd";\nisOdd(7)'));
    // What a kernel killed in the middle of installing would leave (its pid no longer runs).
    const abandoned = join(cache, "is-odd@3.0.1.tmp-2147483646-abc");
    mkdirSync(join(abandoned, "node_modules"), { recursive: true });
    const r = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "plain.tsnb");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /true\n$/);
    assert.deepEqual(cacheEntries(cache), ["is-odd@3.0.1"], "the abandoned install is gone");
    assert.ok(!existsSync(join(dir, "node_modules")), "nothing written into the notebook's folder");
  });
});

test("a real Deno notebook's npm: import (rgbkrk/denotebooks 01_Intro, moment@2.29.4) runs unchanged", () => {
  withDirs((dir, cache) => {
    const nb = JSON.parse(
      readFileSync(join(root, "test/fixtures/ipynb/deno-intro.ipynb"), "utf8"),
    ) as { cells: Array<{ cell_type: string; source: string[] | string }> };
    const source = nb.cells
      .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source))
      .find((s) => s.includes('from "npm:moment@2.29.4"'));
    assert.ok(source, "the fixture's cell");
    // Its `moment.version;` ends in ";", which hides a result in tsnb (as in Jupyter's IPython):
    // a second cell shows the value.
    writeFileSync(join(dir, "moment.tsnb"), notebook(source.trimEnd(), "moment.version"));
    const r = tsnb(dir, { TSNB_NPM_CACHE: cache }, "run", "moment.tsnb");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /'2\.29\.4'\n$/);
    assert.deepEqual(cacheEntries(cache), ["moment@2.29.4"]);
  });
});

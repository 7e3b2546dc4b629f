/**
 * npm packages declared in the notebook (docs/sharing.md, "Dependencies"): `import x from
 * "npm:NAME@RANGE/SUBPATH"` (the convention of Deno and Observable's Notebook Kit), and a plain
 * `import x from "NAME"` that the notebook folder's package.json lists but nobody installed.
 *
 * Resolution and installation are npm's own: pacote reads the registry (the range → an exact
 * version), @npmcli/arborist installs the package with its dependencies. Each exact version is
 * installed once into a cache shared by notebooks, `<cache>/NAME@VERSION/node_modules/…` (cache:
 * $TSNB_NPM_CACHE, else $XDG_CACHE_HOME/tsnb/npm, else ~/.cache/tsnb/npm), and imported from there.
 *
 * Invariants:
 * - The notebook's recorded versions (`metadata.dependencies`, name → version, sent with every
 *   evaluation) win: a recorded version that satisfies the import's range is used without asking
 *   the registry, so a cached notebook runs offline and every machine gets the same version.
 *   What an evaluation resolved that was not recorded is reported back (`resolvedThisEvaluation`)
 *   for the host to record.
 * - Nothing half-installed is left in the cache: an install goes into a temporary folder beside
 *   the cache entry, which is renamed into place only when complete (a marker file inside says
 *   so), and removed on any failure.
 * - Install scripts (preinstall, install, postinstall, a binding.gyp) never run unless the user
 *   allowed that package ($TSNB_NPM_ALLOW_SCRIPTS, a comma-separated list of names, or `*`; the
 *   notebook cannot allow itself): a package that needs them is refused with a message that says
 *   which package, which script, and how to allow it.
 * - Errors name the package and say what happened (no such package, no matching version, a bad
 *   range, the registry unreachable) with the registry's URL.
 */

import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";

/** An `npm:` specifier, parsed: `npm:@scope/name@^1.2/sub/path`. */
export interface NpmSpecifier {
  name: string;
  /** The range or tag after `@` ("" when none: the recorded version, else `latest`). */
  range: string;
  /** "" or "/sub/path". */
  subpath: string;
}

const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;

/** Parse `npm:NAME[@RANGE][/SUBPATH]`; an error message when it is not one. */
export function parseNpmSpecifier(specifier: string): NpmSpecifier | string {
  const rest = specifier.slice("npm:".length).replace(/^\/+/, "");
  const scoped = rest.startsWith("@");
  // The name ends at the first "@" after the scope, or at the first "/" after the scope.
  const afterScope = scoped ? rest.indexOf("/") + 1 : 0;
  if (scoped && afterScope === 0)
    return `'${specifier}': a scoped package needs a name after the scope`;
  let end = rest.length;
  for (let i = afterScope; i < rest.length; i++) {
    if (rest[i] === "@" || rest[i] === "/") {
      end = i;
      break;
    }
  }
  const name = rest.slice(0, end);
  if (!NAME.test(name)) return `'${specifier}': '${name}' is not an npm package name`;
  let range = "";
  let subpath = "";
  if (rest[end] === "@") {
    // A range may contain "/"? No: npm ranges and tags never do, so "/" starts the subpath.
    const slash = rest.indexOf("/", end + 1);
    range = rest.slice(end + 1, slash < 0 ? rest.length : slash);
    subpath = slash < 0 ? "" : rest.slice(slash);
  } else subpath = rest.slice(end);
  return { name, range, subpath };
}

export function npmCacheDir(): string {
  const env = process.env["TSNB_NPM_CACHE"];
  if (env) return env;
  const xdg = process.env["XDG_CACHE_HOME"];
  return join(xdg || join(homedir(), ".cache"), "tsnb", "npm");
}

function registryUrl(): string {
  return (
    process.env["TSNB_NPM_REGISTRY"] ||
    process.env["npm_config_registry"] ||
    "https://registry.npmjs.org/"
  );
}

function allowedScripts(): Set<string> {
  return new Set(
    (process.env["TSNB_NPM_ALLOW_SCRIPTS"] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** The notebook's recorded versions (set per evaluation) and what this evaluation added. */
let recorded: Record<string, string> = {};
let resolvedNow: Record<string, string> = {};

/** Start of an evaluation: the versions the notebook records. */
export function setRecordedDependencies(deps: Record<string, string> | undefined): void {
  recorded = { ...(deps ?? {}) };
  resolvedNow = {};
}

/** Versions resolved during the evaluation that the notebook did not record (name → version). */
export function resolvedThisEvaluation(): Record<string, string> {
  return { ...resolvedNow };
}

/** What installing reports to the cell (a progress line). */
export interface InstallProgress {
  start(label: string): void;
  done(label: string): void;
}

let progressFor: () => InstallProgress = () => ({ start: () => undefined, done: () => undefined });

/** How an install reports to the cell that imports (set by the kernel's main module). */
export function setInstallProgress(factory: () => InstallProgress): void {
  progressFor = factory;
}

/** A failure that names the package; its message is what the cell shows. */
export class NpmError extends Error {
  override name = "NpmError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The parts of npm's libraries used here (they ship no type declarations). */
interface PacoteApi {
  manifest(spec: string, options: object): Promise<{ name: string; version: string }>;
}
interface ArboristTree {
  inventory: Map<string, NodeLike>;
}
interface ArboristApi {
  reify(options: object): Promise<ArboristTree>;
  rebuild(options: { nodes: NodeLike[] }): Promise<unknown>;
}
type ArboristClass = new (options: object) => ArboristApi;
interface SemverApi {
  validRange(range: string): string | null;
  satisfies(version: string, range: string): boolean;
}

let libraries: { pacote: PacoteApi; Arborist: ArboristClass; semver: SemverApi } | null = null;

/** pacote, Arborist and the semver they use, loaded on the first `npm:` import (CommonJS). */
function npmLibraries(): { pacote: PacoteApi; Arborist: ArboristClass; semver: SemverApi } {
  if (!libraries) {
    const require = createRequire(import.meta.url);
    const fromPacote = createRequire(require.resolve("pacote"));
    libraries = {
      pacote: require("pacote") as PacoteApi,
      Arborist: require("@npmcli/arborist") as ArboristClass,
      semver: fromPacote("semver") as SemverApi,
    };
  }
  return libraries;
}

function semverSatisfies(version: string, range: string): boolean {
  const { semver } = npmLibraries();
  return semver.validRange(range) !== null && semver.satisfies(version, range);
}

/** The registry's answer as a message that names the package. */
function registryError(err: unknown, name: string, range: string): NpmError {
  const e = err as { code?: string; message?: string; statusCode?: number };
  const code = e.code ?? "";
  const wanted = range ? `${name}@${range}` : name;
  const registry = registryUrl();
  if (code === "E404")
    return new NpmError(`npm:${name}: no package '${name}' on the registry ${registry}`, "E404");
  if (code === "ETARGET")
    return new NpmError(`npm:${wanted}: no version of '${name}' matches '${range}'`, "ETARGET");
  if (code === "EINVALIDTAGNAME" || code === "EINVALIDPACKAGENAME")
    return new NpmError(`npm:${wanted}: '${range}' is not a version, range or tag`, code);
  if (
    /^(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|FETCH_ERROR)$/.test(
      code,
    ) ||
    /network|socket|timed? ?out/i.test(e.message ?? "")
  )
    return new NpmError(
      `npm:${wanted}: cannot reach the npm registry ${registry} (${code || e.message}); ` +
        `'${name}' is not installed in ${npmCacheDir()}, so it needs the network once`,
      "ENETWORK",
    );
  return new NpmError(`npm:${wanted}: ${e.message ?? String(err)}`, code || "ENPM");
}

const COMPLETE = ".tsnb-complete";

function entryDir(name: string, version: string): string {
  return join(npmCacheDir(), `${name.replace("/", "+")}@${version}`);
}

/** Scripts npm would run when installing this package (its own, or the implicit node-gyp build). */
function installScripts(pkg: { scripts?: Record<string, string> }, dir: string): string[] {
  const found: string[] = [];
  for (const s of ["preinstall", "install", "postinstall"])
    if (pkg.scripts?.[s]) found.push(`${s}: ${pkg.scripts[s]}`);
  if (found.length === 0 && existsSync(join(dir, "binding.gyp")))
    found.push("install: node-gyp rebuild");
  return found;
}

/**
 * Install NAME@VERSION (exact) into the cache unless it is there; returns its cache folder.
 * Concurrent installs of the same version (two kernels) both succeed: the second rename loses and
 * its copy is removed.
 */
async function install(name: string, version: string, progress: InstallProgress): Promise<string> {
  const dir = entryDir(name, version);
  if (existsSync(join(dir, COMPLETE))) return dir;
  const { Arborist } = npmLibraries();
  mkdirSync(npmCacheDir(), { recursive: true });
  // A folder left by a crashed install (no marker) is not a cache entry; nor are the temporary
  // folders of installs whose process is gone (a kernel killed mid-install).
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  removeAbandonedInstalls(dir);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  progress.start(`Installing npm:${name}@${version}`);
  try {
    writeFileSync(
      join(tmp, "package.json"),
      JSON.stringify({ private: true, dependencies: { [name]: version } }),
    );
    const arb = new Arborist({
      path: tmp,
      registry: registryUrl(),
      ignoreScripts: true,
      audit: false,
      fund: false,
      fetchRetries: 1,
      fetchRetryMintimeout: 500,
      fetchRetryMaxtimeout: 2000,
      timeout: 60_000,
    });
    const tree = await arb.reify({ save: false });
    // Which installed packages would want to run scripts (npm itself would run them).
    const allowed = allowedScripts();
    const scripted: string[] = [];
    const toRun: NodeLike[] = [];
    const refusedNames: string[] = [];
    for (const node of (
      tree as unknown as { inventory: Map<string, NodeLike> }
    ).inventory.values()) {
      if (node.isProjectRoot) continue;
      const scripts = installScripts(node.package, node.path);
      if (scripts.length === 0) continue;
      const pkgName = node.package.name ?? node.name;
      if (allowed.has("*") || allowed.has(pkgName)) toRun.push(node);
      else {
        refusedNames.push(pkgName);
        scripted.push(`${pkgName}@${node.package.version ?? "?"} (${scripts.join("; ")})`);
      }
    }
    if (scripted.length)
      throw new NpmError(
        `npm:${name}@${version} needs install scripts, which tsnb does not run unless you allow them: ` +
          `${scripted.join(", ")}. Native packages build or download code when installed; to allow ` +
          `it, start tsnb with TSNB_NPM_ALLOW_SCRIPTS=${refusedNames.join(",")} ` +
          `(or tsnb run/serve --allow-scripts NAME)`,
        "ESCRIPTS",
      );
    if (toRun.length) await arb.rebuild({ nodes: toRun });
    let count = 0;
    try {
      count = countPackages(join(tmp, "node_modules"));
    } catch {
      count = 0;
    }
    writeFileSync(
      join(tmp, COMPLETE),
      JSON.stringify({ name, version, installedAt: new Date().toISOString() }),
    );
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another kernel installed it meanwhile: keep theirs.
      if (!existsSync(join(dir, COMPLETE))) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
    progress.done(
      `Installed npm:${name}@${version} (${count} package${count === 1 ? "" : "s"}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return dir;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    progress.done(`Installing npm:${name}@${version} failed`);
    if (err instanceof NpmError) throw err;
    throw registryError(err, name, version);
  }
}

/** Remove `DIR.tmp-PID-…` folders whose process no longer runs. */
function removeAbandonedInstalls(dir: string): void {
  const base = dir.slice(npmCacheDir().length + 1);
  for (const entry of readdirSync(npmCacheDir())) {
    if (!entry.startsWith(`${base}.tmp-`)) continue;
    const pid = Number(entry.slice(base.length + 5).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH")
        rmSync(join(npmCacheDir(), entry), { recursive: true, force: true });
    }
  }
}

interface NodeLike {
  isProjectRoot?: boolean;
  name: string;
  path: string;
  package: { name?: string; version?: string; scripts?: Record<string, string> };
}

function countPackages(nodeModules: string): number {
  let n = 0;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith(".")) continue;
    const p = join(nodeModules, entry);
    if (!statSync(p).isDirectory()) continue;
    if (entry.startsWith("@")) n += readdirSync(p).length;
    else n++;
  }
  return n;
}

/**
 * The folder holding `node_modules/NAME` for this specifier, installed when needed: the recorded
 * version when it satisfies the range (no registry), else the registry's best match.
 */
export async function ensurePackage(
  spec: NpmSpecifier,
  progress: InstallProgress = progressFor(),
): Promise<string> {
  const { name, range } = spec;
  const pinned = recorded[name] ?? resolvedNow[name];
  let version: string | null = null;
  if (pinned && (range === "" || range === pinned || semverSatisfies(pinned, range)))
    version = pinned;
  if (version === null) {
    const { pacote } = npmLibraries();
    let manifest: { version: string };
    try {
      manifest = await pacote.manifest(range ? `${name}@${range}` : name, {
        registry: registryUrl(),
        fetchRetries: 1,
        fetchRetryMintimeout: 500,
        fetchRetryMaxtimeout: 2000,
        timeout: 30_000,
      });
    } catch (err) {
      throw registryError(err, name, range);
    }
    version = manifest.version;
  }
  const dir = await install(name, version, progress);
  if (recorded[name] !== version) resolvedNow[name] = version;
  return dir;
}

/** The package's name and the dependency range the notebook folder's package.json gives it. */
export function packageJsonRange(dir: string, name: string): string | null {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return null;
  try {
    const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    for (const key of ["dependencies", "devDependencies", "optionalDependencies"]) {
      const deps = pkg[key] as Record<string, unknown> | undefined;
      const range = deps?.[name];
      if (typeof range === "string") return range;
    }
  } catch {
    return null;
  }
  return null;
}

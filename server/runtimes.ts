/**
 * The user's runtimes: Jupyter servers a notebook's kernel can run on (kernel/remote.ts), kept in
 * `<app data>/runtimes.json` — the user's configuration, never a notebook. A runtime is added
 * from the page (name, URL as Jupyter prints it, token), checked first (the server answers, the
 * token is accepted, it has the tsnb kernelspec), then chosen per session (`set-runtime`).
 *
 * Invariants: the file is created with mode 0600 and written atomically; tokens leave this module
 * only inside a `Runtime` for `jupyterChild` — summaries for the page (`RuntimeSummary`) carry
 * none, and no message or log line contains one. A file that cannot be read or parsed is reported
 * and left as it is (never overwritten with an empty list).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RuntimeSummary } from "../core/session/operations.ts";
import { parseRuntime, type Runtime } from "../kernel/remote.ts";
import { writeFileAtomic } from "./atomic-write.ts";

interface StoredRuntime {
  id: string;
  name: string;
  url: string;
  token: string | null;
}

/** At most this many runtimes are kept (the file stays small, the menu usable). */
const MAX_RUNTIMES = 50;

export class RuntimeError extends Error {}

export class RuntimeStore {
  readonly file: string;
  /** Serialises read-modify-write of the file. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly probe: (rt: Runtime) => Promise<void> = probeRuntime,
  ) {
    this.file = join(dataDir, "runtimes.json");
  }

  private async read(): Promise<StoredRuntime[]> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new RuntimeError(`cannot read ${this.file}: ${(e as Error).message}`);
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new RuntimeError(`${this.file} is not JSON; fix or remove it`);
    }
    const list = (v as { runtimes?: unknown })?.runtimes;
    if (!Array.isArray(list)) throw new RuntimeError(`${this.file} has no "runtimes" list`);
    return list.filter(
      (r): r is StoredRuntime =>
        typeof r?.id === "string" &&
        typeof r?.name === "string" &&
        typeof r?.url === "string" &&
        (r.token === null || typeof r.token === "string"),
    );
  }

  private async write(list: StoredRuntime[]): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    // Created owner-only before the first write; writeFileAtomic keeps an existing file's mode.
    await open(this.file, "a", 0o600).then((h) => h.close());
    await writeFileAtomic(this.file, JSON.stringify({ runtimes: list }, null, 2) + "\n");
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.tail.then(f, f);
    this.tail = next.catch(() => {});
    return next;
  }

  async list(): Promise<RuntimeSummary[]> {
    return (await this.read()).map(summary);
  }

  /** The runtime to connect to (with its token), or null when there is no such id. */
  async get(id: string): Promise<{ summary: RuntimeSummary; runtime: Runtime } | null> {
    const r = (await this.read()).find((x) => x.id === id);
    return r ? { summary: summary(r), runtime: toRuntime(r) } : null;
  }

  /** Check and remember a runtime; refuses with what is wrong (never echoing the token). */
  add(name: string, urlText: string, token?: string): Promise<RuntimeSummary> {
    return this.serial(async () => {
      let rt: Runtime;
      try {
        rt = parseRuntime(urlText, { env: {} });
      } catch (e) {
        throw new RuntimeError((e as Error).message);
      }
      if (token) rt = { ...rt, token };
      await this.probe(rt);
      const list = await this.read();
      if (list.length >= MAX_RUNTIMES)
        throw new RuntimeError(`at most ${MAX_RUNTIMES} runtimes are kept; remove one first`);
      const stored: StoredRuntime = {
        id: randomBytes(6).toString("hex"),
        name: name.trim(),
        url: rt.url,
        token: rt.token,
      };
      // The same server again replaces the old entry (a new token, a new name).
      await this.write([...list.filter((x) => x.url !== stored.url), stored]);
      return summary(stored);
    });
  }

  remove(id: string): Promise<void> {
    return this.serial(async () => {
      const list = await this.read();
      if (!list.some((x) => x.id === id)) throw new RuntimeError(`there is no runtime ${id}`);
      await this.write(list.filter((x) => x.id !== id));
    });
  }
}

function summary(r: StoredRuntime): RuntimeSummary {
  return { id: r.id, name: r.name, url: r.url };
}

function toRuntime(r: StoredRuntime): Runtime {
  return { url: r.url, token: r.token, kernelName: "tsnb", display: r.url };
}

/** The server answers, accepts the token and has the tsnb kernelspec. */
export async function probeRuntime(rt: Runtime): Promise<void> {
  const at = `the Jupyter server at ${rt.display}`;
  let res: Response;
  try {
    res = await fetch(`${rt.url}api/kernelspecs`, {
      headers: rt.token ? { Authorization: `token ${rt.token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new RuntimeError(`cannot reach ${at}: ${cause?.code ?? (e as Error).message}`);
  }
  if (res.status === 401 || res.status === 403)
    throw new RuntimeError(
      `${at} refused the token (${res.status})${rt.token ? "" : "; give its token"}`,
    );
  if (!res.ok) throw new RuntimeError(`${at} answered ${res.status}: is it a Jupyter server?`);
  let specs: string[];
  try {
    specs = Object.keys(((await res.json()) as { kernelspecs: object }).kernelspecs ?? {});
  } catch {
    throw new RuntimeError(`${at} did not answer as a Jupyter server does (api/kernelspecs)`);
  }
  if (!specs.includes(rt.kernelName))
    throw new RuntimeError(
      `${at} has no '${rt.kernelName}' kernel (it has: ${specs.sort().join(", ") || "none"}): run \`tsnb kernelspec install\` on that machine`,
    );
}

/**
 * `tsnb serve [DIR | FILE.tsnb] [--port N] [--host H] [--no-open] [--allow-scripts NAMES]`: serve the notebooks under DIR
 * (or a notebook's folder, the URL then opening that notebook) to a browser. Prints the URL with its token on a line of its own, opens the system browser unless
 * `--no-open` (never failing when there is none), and stops cleanly on Ctrl+C / SIGTERM
 * (pending autosaves are flushed, kernels stopped).
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { basename, delimiter, dirname, join } from "node:path";
import { startServer } from "../server/server.ts";

/** Port tried first when none is given; a free one is picked if it is taken. */
export const DEFAULT_PORT = 4747;

export interface ServeArgs {
  dir: string;
  port: number | null;
  host: string;
  open: boolean;
  /** `--allow-scripts a,b`: npm packages whose install scripts `npm:` imports may run (kernel/npm.ts). */
  allowScripts?: string;
}

export function parseServeArgs(argv: string[]): ServeArgs | string {
  const args: ServeArgs = { dir: process.cwd(), port: null, host: "127.0.0.1", open: true };
  let dirSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const eq = a.indexOf("=");
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === "--no-open") args.open = false;
      else if (a === "--port" || a.startsWith("--port=")) {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          return `--port must be a port number (0-65535), not '${v}'`;
        args.port = n;
      } else if (a === "--host" || a.startsWith("--host=")) args.host = value();
      else if (a === "--allow-scripts" || a.startsWith("--allow-scripts=")) {
        const v = value();
        if (!v.trim()) return "--allow-scripts takes package names (a,b or *)";
        args.allowScripts = args.allowScripts ? `${args.allowScripts},${v}` : v;
      } else if (a.startsWith("-")) return `unknown option '${a}'`;
      else if (dirSeen) return `only one folder can be served (got '${args.dir}' and '${a}')`;
      else {
        args.dir = a;
        dirSeen = true;
      }
    } catch (e) {
      return (e as Error).message;
    }
  }
  return args;
}

/** Open `url` in the system browser if there is a way to; never throws. */
export function openBrowser(url: string): boolean {
  const candidates =
    process.platform === "darwin"
      ? ["open"]
      : process.platform === "win32"
        ? []
        : ["xdg-open", "sensible-browser", "x-www-browser"];
  if (process.platform === "win32") {
    try {
      spawn("cmd", ["/c", "start", "", url], { stdio: "ignore", detached: true })
        .on("error", () => undefined)
        .unref();
      return true;
    } catch {
      return false;
    }
  }
  const paths = (process.env["PATH"] ?? "").split(delimiter);
  for (const cmd of candidates) {
    if (!paths.some((p) => p && existsSync(join(p, cmd)))) continue;
    try {
      spawn(cmd, [url], { stdio: "ignore", detached: true })
        .on("error", () => undefined)
        .unref();
      return true;
    } catch {
      continue;
    }
  }
  return false;
}

export async function serve(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`tsnb serve: ${args}\n`);
    return 2;
  }
  // The kernels inherit the environment: kernel/npm.ts reads the list there.
  if (args.allowScripts) {
    const before = process.env["TSNB_NPM_ALLOW_SCRIPTS"];
    process.env["TSNB_NPM_ALLOW_SCRIPTS"] = before
      ? `${before},${args.allowScripts}`
      : args.allowScripts;
  }
  if (!existsSync(args.dir)) {
    process.stderr.write(`tsnb serve: no such folder: ${args.dir}\n`);
    return 2;
  }
  // A notebook file (`npm start -- FILE.tsnb` in browser mode): serve its folder, open it.
  let root = args.dir;
  let fragment = "";
  if (statSync(args.dir).isFile()) {
    root = dirname(args.dir);
    fragment = `#open=${encodeURIComponent(basename(args.dir))}`;
  }
  const start = (port: number) =>
    startServer({
      root,
      port,
      host: args.host,
      log: process.env["TSNB_DEBUG"] ? (m) => process.stderr.write(`${m}\n`) : undefined,
    });
  let server;
  try {
    try {
      server = await start(args.port ?? DEFAULT_PORT);
    } catch (e) {
      if (args.port !== null || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      server = await start(0);
    }
  } catch (e) {
    process.stderr.write(`tsnb serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const url = server.url + fragment;
  process.stdout.write(
    `tsnb is serving ${server.root}\nOpen this URL (it contains the access token):\n\n${url}\n\nPress Ctrl+C to stop.\n`,
  );
  if (args.open && !openBrowser(url))
    process.stdout.write("(no browser found to open: copy the URL above)\n");
  const running = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write("tsnb serve: forced exit\n");
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`\n${signal}: saving and stopping…\n`);
      void running.close().then(
        () => resolve(0),
        (e: Error) => {
          process.stderr.write(`tsnb serve: error while stopping: ${e.message}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
}

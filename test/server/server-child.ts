/**
 * A server in its own process for crash tests: prints `{"port":…,"token":…}` on one line once
 * listening. argv: ROOT DATA_DIR AUTOSAVE_MS [real-kernel]
 */
import { startServer } from "../../server/server.ts";
import { fakeKernelFactory } from "./fake-kernel.ts";

const [root, dataDir, autosaveMs, kernel] = process.argv.slice(2);
const server = await startServer({
  root: root!,
  dataDir: dataDir!,
  autosaveMs: Number(autosaveMs),
  ...(kernel === "real-kernel" ? {} : { kernelFactory: fakeKernelFactory() }),
});
process.stdout.write(
  JSON.stringify({ port: server.port, token: server.token, root: server.root }) + "\n",
);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));

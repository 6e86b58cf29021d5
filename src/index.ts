/**
 * Starts Realmgate: parse the config (or exit with one line naming the bad variable), build the
 * services, listen. SIGTERM/SIGINT shut down gracefully: rooms close, every profile is saved.
 */
import { createServer } from "node:net";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createApp, createServices, serve } from "./app.config.js";
import { createLogger } from "./log.js";

let cfg: Config;
try {
  cfg = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

// A busy port stops start-up before anything opens, with one line: Colyseus would print the
// listen error's stack and leave a process that neither listens nor exits.
const portError = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
  const probe = createServer()
    .once("error", resolve)
    .listen(cfg.port, () => probe.close(() => resolve(undefined)));
});
if (portError) {
  const why = portError.code === "EADDRINUSE" ? "is already in use" : `cannot be used (${portError.code})`;
  process.stderr.write(`PORT ${cfg.port} ${why}; stop the other server or set PORT to a free port\n`);
  process.exit(1);
}

const log = createLogger(cfg);

// A failed promise nobody awaited (a dependency going down mid-call, say) is logged, not fatal:
// one bad call must not take every room of the process down with it.
process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));
const services = await createServices(cfg, log);
await serve(createApp(services), cfg.port);
log.info(
  { port: cfg.port, env: cfg.env, store: services.store.kind, monitor: cfg.admin ? "on" : "off" },
  "Realmgate is listening",
);

/**
 * Starts Realmgate: parse the config (or exit with one line naming the bad variable), build the
 * services, listen. SIGTERM/SIGINT shut down gracefully: rooms close, every profile is saved.
 */
import { createServer } from "node:net";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createApp, createServices, serve } from "./app.config.js";
import { createLogger } from "./log.js";
import { StoreUnavailableError } from "./persistence/store.js";

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
// A store still unreachable once start-up has retried for STORE_STARTUP_SECONDS is one line and
// exit 1, for the supervisor to restart later: no stack, no process that never listens.
const services = await createServices(cfg, log).catch((err: unknown) => {
  if (!(err instanceof StoreUnavailableError)) throw err;
  const which = cfg.databaseUrl ? "DATABASE_URL" : cfg.mongoUrl ? "MONGO_URL" : "DATA_DIR";
  process.stderr.write(
    `the store at ${which} is unreachable after ${cfg.storeStartupSec} s (${err.message}); start it or fix ${which}\n`,
  );
  process.exit(1);
});
await serve(createApp(services), cfg.port);
log.info(
  { port: cfg.port, env: cfg.env, store: services.store.kind, monitor: cfg.admin ? "on" : "off" },
  "Realmgate is listening",
);

import { join } from "node:path";
import { redactUrl, type Config } from "../config.js";
import type { Logger } from "../log.js";
import { SqliteStore } from "./sqlite.js";
import { StoreUnavailableError, type Store } from "./store.js";

/**
 * The store the configuration asks for: PostgreSQL when DATABASE_URL is set, MongoDB when
 * MONGO_URL is (the config refuses both at once), else SQLite in DATA_DIR. The PostgreSQL and
 * MongoDB adapters are loaded only when chosen: mongoose alone adds about 0.4 s to every start.
 */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.databaseUrl) {
    log.info({ url: redactUrl(config.databaseUrl) }, "using the PostgreSQL store");
    const { PostgresStore } = await import("./postgres.js");
    return PostgresStore.connect(
      config.databaseUrl,
      { startupTimeoutMs: config.storeStartupSec * 1000 },
      log.child({ component: "postgres" }),
    );
  }
  if (config.mongoUrl) {
    log.info({ url: redactUrl(config.mongoUrl) }, "using the MongoDB store");
    const { MongoStore } = await import("./mongo.js");
    return MongoStore.connect(
      config.mongoUrl,
      { eventTtlMs: config.eventTtlSec * 1000 },
      log.child({ component: "mongodb" }),
    );
  }
  const file = join(config.dataDir, "realmgate.db");
  log.info({ file }, "using the embedded SQLite store");
  const store = new SqliteStore(file);
  // A store that cannot be written now (locked, read-only) does not stop the start: /health
  // reports it and writes are retried. Anything else (a corrupt file, say) does.
  await store.ping().catch((err: unknown) => {
    if (!(err instanceof StoreUnavailableError)) throw err;
    log.error({ err, file }, "the SQLite store is unavailable at start-up; serving on, /health reports it");
  });
  return store;
}

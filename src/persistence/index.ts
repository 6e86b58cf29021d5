import { join } from "node:path";
import { redactUrl, type Config } from "../config.js";
import type { Logger } from "../log.js";
import { MongoStore } from "./mongo.js";
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./store.js";

/**
 * The store the configuration asks for: PostgreSQL when DATABASE_URL is set, MongoDB when
 * MONGO_URL is (the config refuses both at once), else SQLite in DATA_DIR.
 */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.databaseUrl) {
    log.info({ url: redactUrl(config.databaseUrl) }, "using the PostgreSQL store");
    return PostgresStore.connect(config.databaseUrl, {}, log.child({ component: "postgres" }));
  }
  if (config.mongoUrl) {
    log.info({ url: redactUrl(config.mongoUrl) }, "using the MongoDB store");
    return MongoStore.connect(
      config.mongoUrl,
      { eventTtlMs: config.eventTtlSec * 1000 },
      log.child({ component: "mongodb" }),
    );
  }
  const file = join(config.dataDir, "realmgate.db");
  log.info({ file }, "using the embedded SQLite store");
  return new SqliteStore(file);
}

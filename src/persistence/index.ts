import { join } from "node:path";
import { redactUrl, type Config } from "../config.js";
import type { Logger } from "../log.js";
import { MongoStore } from "./mongo.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./store.js";

/** The store the configuration asks for: MongoDB when MONGO_URL is set, else SQLite in DATA_DIR. */
export async function openStore(config: Config, log: Logger): Promise<Store> {
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

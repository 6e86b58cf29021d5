import { join } from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./store.js";

/** The store the configuration asks for: MongoDB when MONGO_URL is set, else SQLite in DATA_DIR. */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.mongoUrl) throw new Error("MONGO_URL is set, but the MongoDB adapter is not built yet");
  const file = join(config.dataDir, "realmgate.db");
  log.info({ file }, "using the embedded SQLite store");
  return new SqliteStore(file);
}

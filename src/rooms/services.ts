import type { Tokens } from "../auth/tokens.js";
import type { Config } from "../config.js";
import type { Content } from "../content/index.js";
import type { Logger } from "../log.js";
import type { ProfileCache } from "../persistence/profiles.js";
import type { Store } from "../persistence/store.js";

/** The outside world as rooms and routes see it; built once in app.config.ts. */
export interface Services {
  config: Config;
  log: Logger;
  store: Store;
  profiles: ProfileCache;
  tokens: Tokens;
  content: Content;
}

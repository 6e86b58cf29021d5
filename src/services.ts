import type { matchMaker, Presence } from "@colyseus/core";
import type { RedisCluster, Sequences } from "./cluster/redis.js";
import type { Users } from "./cluster/users.js";
import type { ProfileChanges } from "./cluster/profile-changes.js";
import type { UserLimits } from "./cluster/limits.js";

type MatchMakerDriver = matchMaker.MatchMakerDriver;
import type { MatchSigner } from "./auth/match-key.js";
import type { Tokens } from "./auth/tokens.js";
import type { AccountGuard } from "./auth/guard.js";
import type { FairQueue } from "./auth/queue.js";
import type { SharedState } from "./cluster/shared.js";
import type { Config } from "./config.js";
import type { Content } from "./content/index.js";
import type { Logger } from "./log.js";
import type { EventLog } from "./persistence/events.js";
import type { StoreHealth } from "./persistence/health.js";
import type { Spill } from "./persistence/spill.js";
import type { ProfileCache } from "./persistence/profiles.js";
import type { Store } from "./persistence/store.js";
import type { Metrics } from "./telemetry/metrics.js";
import type { Trades } from "./trade/trades.js";
import type { SecuritySignals } from "./telemetry/security.js";
import type { HttpSessions } from "./sessions/hub.js";

/** The outside world as rooms and routes see it; built once in app.config.ts. */
export interface Services {
  config: Config;
  log: Logger;
  store: Store;
  /** The store's probed health: what /health reports. */
  storeHealth: StoreHealth;
  /** Where a stopping server puts what the store would not take (replayed at the next start). */
  spill: Spill;
  profiles: ProfileCache;
  events: EventLog;
  presence: Presence;
  driver: MatchMakerDriver;
  /** Set when REDIS_URL is: rooms span processes. */
  redis: RedisCluster | undefined;
  sequences: Sequences;
  /** Where users sit across the cluster, and delivery to their seats (offers, whispers, bans). */
  users: Users;
  /** Per-user limits on room joins and creations (cluster-wide with Redis). */
  limits: UserLimits;
  /** HTTP sessions (PROTOCOL §6) held on this process. */
  sessions: HttpSessions;
  tokens: Tokens;
  /** Cluster-wide small state: Redis with TTLs, or this process's memory without Redis. */
  shared: SharedState;
  /** Revocations, bans, device pinning, failed logins (PROTOCOL §8). */
  guard: AccountGuard;
  /** Every scrypt run goes through it, fairly across addresses. */
  passwordQueue: FairQueue;
  /** Signs match transactions (MATCH_SIGNING_KEY). */
  matchSigner: MatchSigner;
  content: Content;
  metrics: Metrics;
  /** Trade between players: offers and their two-phase commit (src/trade/). */
  trades: Trades;
  /** Changes addressed to a player's profile wherever it is held (a rating after a forfeit). */
  profileChanges: ProfileChanges;
  security: SecuritySignals;
}

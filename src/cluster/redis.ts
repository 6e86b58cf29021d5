/**
 * Redis for scale-out: Colyseus's own RedisPresence and RedisDriver (rooms on many processes),
 * plus one client of ours for health and the global event sequence. ioredis reconnects by itself
 * with the backoff below; while it is down, commands fail after a few attempts instead of hanging,
 * so joins are refused quickly with a clear error and running rooms are left alone.
 */
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

/** Connection options; `reconnectMaxMs` caps the pause between reconnection attempts. */
function options(reconnectMaxMs: number): RedisOptions {
  return {
    // Fail a command after three reconnection attempts rather than twenty (about a second early in
    // an outage; up to three pauses of `reconnectMaxMs` once the backoff has reached its cap).
    maxRetriesPerRequest: 3,
    // Reconnect forever: 100 ms, 200 ms, 400 ms, ... up to `reconnectMaxMs` between attempts.
    retryStrategy: (attempt) => Math.min(100 * 2 ** (attempt - 1), reconnectMaxMs),
    connectTimeout: 5000,
  };
}

export class RedisCluster {
  readonly client: Redis;
  readonly presence: RedisPresence;
  readonly driver: RedisDriver;
  private downSince: number | null = null;

  constructor(url: string, log: Logger, reconnectMaxMs = 5000) {
    this.client = new Redis(url, options(reconnectMaxMs));
    this.presence = new RedisPresence(new Redis(url, options(reconnectMaxMs)));
    this.driver = new RedisDriver(new Redis(url, options(reconnectMaxMs)));
    let errors = 0;
    this.client.on("ready", () => {
      if (this.downSince !== null) log.info({ downForMs: Date.now() - this.downSince }, "Redis is back");
      this.downSince = null;
      errors = 0;
    });
    this.client.on("error", (err) => {
      this.downSince ??= Date.now();
      // ioredis reports every failed attempt; log the first and then every tenth.
      if (errors++ % 10 === 0)
        log.error({ err: err.message, attempts: errors }, "Redis unreachable; reconnecting with backoff");
    });
  }

  /** Whether our connection is up (the presence and driver connections share its fate). */
  get up(): boolean {
    return this.client.status === "ready";
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** The next number of a cluster-wide sequence. */
  next(name: string): Promise<number> {
    return this.client.incr(`realmgate:seq:${name}`);
  }

  close(): Promise<void> {
    this.client.disconnect();
    return Promise.resolve();
  }
}

/** Cluster-wide sequences: Redis INCR when Redis is configured, a local counter otherwise. */
export class Sequences {
  private readonly local = new Map<string, number>();

  constructor(private readonly redis?: RedisCluster) {}

  async next(name: string): Promise<number> {
    if (this.redis) return this.redis.next(name);
    const n = (this.local.get(name) ?? 0) + 1;
    this.local.set(name, n);
    return n;
  }
}

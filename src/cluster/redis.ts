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
    const driverConnection = new Redis(url, options(reconnectMaxMs));
    // Its failures are ours (logged below, once per ten attempts), not ioredis's "unhandled error" on stderr.
    driverConnection.on("error", () => undefined);
    this.driver = new RedisDriver(driverConnection);
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

  /**
   * For readiness: false at once while the connection is down (a ping would wait out the
   * reconnection attempts, 10-20 s once the backoff is at its cap), else whether a ping answers
   * within `timeoutMs`.
   */
  async check(timeoutMs = 1500): Promise<boolean> {
    if (!this.up) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const answered = this.client.ping().then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
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

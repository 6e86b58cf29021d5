/**
 * Small keyed state that must hold on every process of a cluster: token revocations, bans, rate
 * limits, failed-login counts, recent security signals of a user. Redis when REDIS_URL is set (each
 * key with a TTL, so nothing outlives its use); one process's memory otherwise, which is the whole
 * cluster then. Both implementations keep the same semantics; test/accounts.test.ts runs both.
 */
import type { Redis } from "ioredis";
import { StoreUnavailableError } from "../persistence/store.js";

/**
 * Redis did not answer: the caller answers 503 `dependency/down` (HTTP) or refuses the join,
 * rather than letting a check pass unchecked.
 */
export class SharedStateUnavailableError extends StoreUnavailableError {
  override name = "SharedStateUnavailableError";
}

/** A token bucket's verdict: allowed, or refused until `retryAfterMs` has passed. */
export interface Taken {
  allowed: boolean;
  retryAfterMs: number;
}

export interface SharedState {
  get(key: string): Promise<string | null>;
  /** Sets `key` to `value`, forgotten after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Milliseconds until `key` is forgotten; 0 when it is not set. */
  ttl(key: string): Promise<number>;
  /** Adds one to a counter that starts at 0 and is forgotten `windowMs` after its first count. */
  count(key: string, windowMs: number): Promise<number>;
  /**
   * One token from the bucket `key` that holds `burst` tokens and gains one every `intervalMs`
   * (GCRA: the bucket is one timestamp, the time it will be full again).
   */
  take(key: string, intervalMs: number, burst: number, now: number): Promise<Taken>;
  /** Prepends `value` to the list `key`, keeping the newest `max`, forgotten `ttlMs` after the last push. */
  push(key: string, value: string, max: number, ttlMs: number): Promise<void>;
  /** The list `key`, newest first. */
  list(key: string): Promise<string[]>;
}

/** GCRA in one round trip: the bucket's "full again at" time, moved by one interval per token. */
const TAKE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat + interval - burst * interval
if now < allowAt then return allowAt - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now))
return -1`;

export class RedisShared implements SharedState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "realmgate:",
  ) {}

  /** Every command failure reads as the dependency being down, whichever method ran it. */
  private async answer<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (err) {
      throw new SharedStateUnavailableError(`redis: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  get(key: string): Promise<string | null> {
    return this.answer(this.redis.get(this.prefix + key));
  }
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.answer(this.redis.set(this.prefix + key, value, "PX", Math.max(1, Math.ceil(ttlMs))));
  }
  async del(key: string): Promise<void> {
    await this.answer(this.redis.del(this.prefix + key));
  }
  async ttl(key: string): Promise<number> {
    return Math.max(0, await this.answer(this.redis.pttl(this.prefix + key)));
  }
  async count(key: string, windowMs: number): Promise<number> {
    const k = this.prefix + key;
    const replies = await this.answer(this.redis.multi().incr(k).pexpire(k, windowMs, "NX").exec());
    return Number(replies?.[0]?.[1]);
  }
  async take(key: string, intervalMs: number, burst: number, now: number): Promise<Taken> {
    const wait = Number(await this.answer(this.redis.eval(TAKE, 1, this.prefix + key, now, intervalMs, burst)));
    return wait < 0 ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs: wait };
  }
  async push(key: string, value: string, max: number, ttlMs: number): Promise<void> {
    const k = this.prefix + key;
    await this.answer(
      this.redis
        .multi()
        .lpush(k, value)
        .ltrim(k, 0, max - 1)
        .pexpire(k, ttlMs)
        .exec(),
    );
  }
  list(key: string): Promise<string[]> {
    return this.answer(this.redis.lrange(this.prefix + key, 0, -1));
  }
}

interface Entry {
  value: string | number | string[];
  expiresAt: number;
}

/** One process's memory. Expired keys are dropped when read, and all at once past `sweepAt` keys. */
export class MemoryShared implements SharedState {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly sweepAt = 50_000,
  ) {}

  private read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(key: string, value: Entry["value"], ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: this.clock() + ttlMs });
    if (this.entries.size > this.sweepAt) {
      const now = this.clock();
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    }
  }

  get(key: string): Promise<string | null> {
    const value = this.read(key)?.value;
    return Promise.resolve(typeof value === "string" ? value : value === undefined ? null : String(value));
  }
  set(key: string, value: string, ttlMs: number): Promise<void> {
    this.write(key, value, ttlMs);
    return Promise.resolve();
  }
  del(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }
  ttl(key: string): Promise<number> {
    const entry = this.read(key);
    return Promise.resolve(entry ? entry.expiresAt - this.clock() : 0);
  }
  count(key: string, windowMs: number): Promise<number> {
    const entry = this.read(key);
    if (!entry) {
      this.write(key, 1, windowMs);
      return Promise.resolve(1);
    }
    entry.value = Number(entry.value) + 1;
    return Promise.resolve(entry.value);
  }
  take(key: string, intervalMs: number, burst: number, now: number): Promise<Taken> {
    const tat = Math.max(Number(this.read(key)?.value ?? 0), now);
    const allowAt = tat + intervalMs - burst * intervalMs;
    if (now < allowAt) return Promise.resolve({ allowed: false, retryAfterMs: allowAt - now });
    this.write(key, tat + intervalMs, tat + intervalMs - now);
    return Promise.resolve({ allowed: true, retryAfterMs: 0 });
  }
  push(key: string, value: string, max: number, ttlMs: number): Promise<void> {
    const list = (this.read(key)?.value as string[] | undefined) ?? [];
    this.write(key, [value, ...list].slice(0, max), ttlMs);
    return Promise.resolve();
  }
  list(key: string): Promise<string[]> {
    return Promise.resolve([...((this.read(key)?.value as string[] | undefined) ?? [])]);
  }
}

/**
 * Per-user limits on room joins and room creations: a fixed-window counter per user and action.
 * With Redis the counter lives there (one INCR and a TTL set on the first hit, in one script), so
 * the limit holds across every process of the cluster; without Redis it is kept in this process.
 */
import type { RedisCluster } from "./redis.js";

/** What a client's join costs: every join is a `join`; one that makes a room is a `create` as well. */
export type LimitedAction = "join" | "create";

/** At most `limit` actions per user within each window of `windowMs`. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export type LimitVerdict = { ok: true } | { ok: false; retryAfterMs: number };

/** The verdict for the `count`-th action of a window that ends in `msLeft` (pure). */
export function judgeWindow(count: number, msLeft: number, spec: WindowLimit): LimitVerdict {
  return count <= spec.limit ? { ok: true } : { ok: false, retryAfterMs: Math.max(1, msLeft) };
}

/** INCR, and PEXPIRE on the window's first hit; answers the count and the window's time left. */
const WINDOW_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export class UserLimits {
  private readonly local = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly limits: Readonly<Record<LimitedAction, WindowLimit>>,
    private readonly redis?: RedisCluster,
  ) {}

  spec(action: LimitedAction): WindowLimit {
    return this.limits[action];
  }

  /** Counts one `action` of `userId` and says whether it is within the limit. */
  async take(userId: string, action: LimitedAction, now = Date.now()): Promise<LimitVerdict> {
    const spec = this.limits[action];
    const key = `realmgate:limit:${action}:${userId}`;
    if (this.redis) {
      const [count, msLeft] = (await this.redis.client.eval(WINDOW_SCRIPT, 1, key, spec.windowMs)) as [number, number];
      return judgeWindow(count, msLeft, spec);
    }
    let window = this.local.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + spec.windowMs };
      this.local.set(key, window);
      // Forget windows that have ended, so the map holds only the users of the last window.
      if (this.local.size > 10_000) for (const [k, w] of this.local) if (w.endsAt <= now) this.local.delete(k);
    }
    window.count++;
    return judgeWindow(window.count, window.endsAt - now, spec);
  }
}

/**
 * Token buckets, as plain data and pure functions: a bucket holds up to `burst` tokens and
 * refills at `perSecond`; each message takes one. Used for room messages and HTTP routes.
 */
export interface RateSpec {
  /** Sustained rate. */
  perSecond: number;
  /** Messages allowed back to back. */
  burst: number;
}

export interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A new bucket, full at `now`. For a first message handled while a stall's backlog drains, pass the
 * stall's start: the message may have been sent then, and the bucket earns the stall's credit.
 */
export const fullBucket = (spec: RateSpec, now: number): Bucket => ({ tokens: spec.burst, updatedAt: now });

/**
 * A time the server's event loop stood still (ms, on the clock `now` is read on): from `start`, the
 * last moment it turned, to `end`, when it turned again (or now, while it is still catching up).
 */
export interface Stall {
  start: number;
  end: number;
}

/**
 * How long after a stall its backlog is still forgiven: messages sent during the stall arrive in a
 * burst as the loop wakes, over a time that grows with the backlog.
 */
export const drainMs = (stall: Stall) => 250 + Math.min(2000, (stall.end - stall.start) / 4);

/**
 * Takes one token if there is one. Returns the bucket's next value and whether it was allowed.
 *
 * `stall`: the latest stall of the server's event loop, if any. A client that sent at the allowed
 * rate while the server stood still has its messages delivered all at once when it wakes; they are
 * not a flood. So while that backlog drains (`drainMs` after the stall) the bucket may hold, on top
 * of `burst`, what the stall's length earns at `perSecond`: exactly what a client within the rate
 * could have sent meanwhile, and not a message more. A real flood still runs dry and is refused.
 */
export function take(
  bucket: Bucket,
  spec: RateSpec,
  now: number,
  stall?: Stall | null,
): { allowed: boolean; bucket: Bucket } {
  const forgiven = stall && now <= stall.end + drainMs(stall) ? ((stall.end - stall.start) / 1000) * spec.perSecond : 0;
  const refilled = Math.min(
    spec.burst + forgiven,
    bucket.tokens + (Math.max(0, now - bucket.updatedAt) / 1000) * spec.perSecond,
  );
  if (refilled < 1) return { allowed: false, bucket: { tokens: refilled, updatedAt: now } };
  return { allowed: true, bucket: { tokens: refilled - 1, updatedAt: now } };
}

/**
 * Counts strikes (refused or malformed messages) in a sliding window, to tell a client that
 * slips now and then from one that keeps going: past `limit` strikes within `windowMs`, it is out.
 */
export interface StrikePolicy {
  limit: number;
  windowMs: number;
}

export function strike(times: readonly number[], policy: StrikePolicy, now: number): { out: boolean; times: number[] } {
  const recent = times.filter((t) => now - t < policy.windowMs);
  recent.push(now);
  return { out: recent.length > policy.limit, times: recent };
}

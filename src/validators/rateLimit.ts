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

export const fullBucket = (spec: RateSpec, now: number): Bucket => ({ tokens: spec.burst, updatedAt: now });

/** Takes one token if there is one. Returns the bucket's next value and whether it was allowed. */
export function take(bucket: Bucket, spec: RateSpec, now: number): { allowed: boolean; bucket: Bucket } {
  const refilled = Math.min(spec.burst, bucket.tokens + (Math.max(0, now - bucket.updatedAt) / 1000) * spec.perSecond);
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

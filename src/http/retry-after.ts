/**
 * Retry-After for answers written by Colyseus's matchmaking router, which sets no header of its own:
 * the request gate runs each request in a context, a refusal deep inside (a room's static `onAuth`)
 * notes the wait there, and the gate adds `Retry-After` to the 429 that follows.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const waits = new AsyncLocalStorage<{ seconds?: number }>();

/** Runs `fn` (one request's handling) in a context that `noteRetryAfter` can write to. */
export function withRetryAfter<T>(fn: (wait: { seconds?: number }) => T): T {
  const wait: { seconds?: number } = {};
  return waits.run(wait, () => fn(wait));
}

/** Notes, for the request being handled, how long its client should wait before it tries again. */
export function noteRetryAfter(ms: number): number {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const wait = waits.getStore();
  if (wait) wait.seconds = seconds;
  return seconds;
}

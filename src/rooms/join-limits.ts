/**
 * The per-user join and creation limits (src/cluster/limits.ts), applied in a room kind's static
 * `onAuth`: Colyseus runs it before it finds or creates a room for `create`, `joinOrCreate`,
 * `join` and `joinById`, so a refused client never makes a room. Reconnections, and seats the
 * server reserves itself (a portal hand-over), skip `onAuth` and cost nothing.
 */
import { matchMaker, ServerError } from "@colyseus/core";
import type { AnyKind } from "../engine/kind.js";
import { noteRetryAfter } from "../http/retry-after.js";
import { JoinErrorCode } from "../protocol/codes.js";
import type { Services } from "../services.js";

/** The matchmaking method of an HTTP join (`/matchmake/<method>/<room>`), if the request is one. */
export function matchmakeMethod(context: unknown): string | undefined {
  const url = (context as { req?: { url?: unknown } } | undefined)?.req?.url;
  if (typeof url !== "string") return undefined;
  return /\/matchmake\/(\w+)\//.exec(new URL(url, "http://server").pathname)?.[1];
}

/** Whether a `joinOrCreate` with these (filled-in) options would have to make a room. */
async function wouldCreate(kind: AnyKind, options: Record<string, unknown>): Promise<boolean> {
  const filter = Object.fromEntries(kind.filterBy.map((field) => [field, options[field]]));
  const rooms = await matchMaker.query({ name: kind.name, locked: false, private: false, ...filter });
  return !rooms.some((room) => room.clients < room.maxClients);
}

/** Counts this join (and the room it makes) against the user's limits; throws the refusal past them. */
export async function chargeJoin(
  services: Services,
  kind: AnyKind,
  userId: string,
  options: Record<string, unknown>,
  context: unknown,
): Promise<void> {
  const method = matchmakeMethod(context);
  const creates = method === "create" || (method === "joinOrCreate" && (await wouldCreate(kind, options)));
  for (const action of creates ? (["join", "create"] as const) : (["join"] as const)) {
    const verdict = await services.limits.take(userId, action);
    if (verdict.ok) continue;
    const seconds = noteRetryAfter(verdict.retryAfterMs);
    services.security.signal("rate_limited", { room: kind.name, world: "-", userId, action });
    const spec = services.limits.spec(action);
    throw new ServerError(
      429,
      `${JoinErrorCode.RateLimited}: at most ${spec.limit} room ${action === "create" ? "creations" : "joins"} ` +
        `per ${spec.windowMs / 1000} s; try again in ${seconds} s`,
    );
  }
}

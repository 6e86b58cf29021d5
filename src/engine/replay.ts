/**
 * Replays of any room kind. A room logs its seed, content version, options and clock base when it
 * starts, then every join, leave and accepted command with the tick and time it was applied at.
 * `replay` re-runs that log through the same pure simulation and returns the state it reaches:
 * the same, field by field, as the room's. No Colyseus, express or store here.
 */
import type { Content } from "../content/index.js";
import type { Policy } from "../content/policy.js";
import { createRng } from "../domain/rng.js";
import type { Actor, AnyKind, Ctx } from "./kind.js";

/**
 * One entry of a room's command log. `tick` is the number of steps run before it was applied.
 * Leaves and commands name their actor by session id; the join before them names it in full.
 */
export type ReplayEntry =
  | { op: "join"; tick: number; at: number; actor: Actor; join: unknown }
  | { op: "leave"; tick: number; at: number; session: string }
  | { op: "cmd"; tick: number; at: number; session: string; command: unknown }
  /** A connection dropped or came back within the reconnection window. */
  | { op: "drop" | "reconnect"; tick: number; at: number; actor: Actor }
  /** An operator's command from an admin route. */
  | { op: "op"; tick: number; at: number; name: string; payload: unknown }
  /** The room's clock forgave steps after a stall: the base moved forward by `jump` ms. */
  | { op: "clock"; tick: number; jump: number };

/** What starts a room: enough, with the content, to re-create its simulation. */
export interface ReplayHeader {
  kind: string;
  /** Unique to the instance (see `RoomKind.create`). */
  instanceId: string;
  seed: number;
  contentVersion: string;
  options: Record<string, unknown>;
  /** Epoch ms of step 0. */
  base: number;
  dtMs: number;
}

/** The export of `GET /api/rooms/:roomId/replay`. */
export interface ReplayLog extends ReplayHeader {
  roomId: string;
  /** Steps the room had run when the log was exported. */
  tick: number;
  entries: ReplayEntry[];
}

/** Re-runs a room's log and returns its simulation at `log.tick`, with the random generator's position. */
export function replay(
  kind: AnyKind,
  log: ReplayLog,
  content: Content,
  policy: Policy,
): { sim: unknown; rngState: number } {
  if (kind.name !== log.kind) throw new Error(`a ${log.kind} log cannot replay as ${kind.name}`);
  if (content.version !== log.contentVersion)
    throw new Error(`the log was recorded with content ${log.contentVersion}; this is ${content.version}`);
  const rng = createRng(log.seed);
  let base = log.base;
  let tick = 0;
  const ctx = (now: number): Ctx => ({ now, tick, rng, content, policy });
  const sim: unknown = kind.create(log.options, ctx(base), log.instanceId);
  const actors = new Map<string, Actor>();
  const actor = (session: string) => {
    const found = actors.get(session);
    if (!found) throw new Error(`the log names session ${session} before its join`);
    return found;
  };
  const runTo = (target: number) => {
    while (tick < target) {
      tick++;
      kind.step?.(sim, ctx(base + tick * log.dtMs));
    }
  };
  for (const entry of log.entries) {
    runTo(entry.tick);
    switch (entry.op) {
      case "clock":
        base += entry.jump;
        break;
      case "join":
        actors.set(entry.actor.sessionId, entry.actor);
        kind.join(sim, entry.actor, entry.join, ctx(entry.at));
        break;
      case "leave":
        kind.leave(sim, actor(entry.session), ctx(entry.at));
        break;
      case "cmd":
        kind.apply(sim, actor(entry.session), entry.command, ctx(entry.at));
        break;
      case "drop":
      case "reconnect":
        kind[entry.op]?.(sim, entry.actor, ctx(entry.at));
        break;
      case "op":
        kind.operate?.(sim, entry.name, entry.payload, ctx(entry.at));
        break;
    }
  }
  runTo(log.tick);
  return { sim, rngState: rng.state };
}

/**
 * An open world as a pure simulation (PROTOCOL §2.1): bodies that walk, talk, gather and leave
 * through portals, and resources that regrow. Time and randomness come in through `ctx`; the room
 * turns the events into messages and saves, and interest management decides who sees whom.
 */
import type { Content, World } from "../content/index.js";
import type { Policy } from "../content/policy.js";
import { refuse, type Verdict } from "../domain/result.js";
import { spawnPoint } from "../domain/tilemap.js";
import type { Point } from "../domain/geometry.js";
import type { Rng } from "../domain/rng.js";
import { RejectCode } from "../protocol/codes.js";
import { checkChat } from "./chat.js";
import { checkGather } from "./gather.js";
import { checkMove } from "./movement.js";
import { arrivalPoint, checkTravel } from "./travel.js";

export type Device = "mobile" | "tablet" | "desktop" | "high_end";

export interface WalkerSim extends Point {
  sessionId: string;
  userId: string;
  name: string;
  hp: number;
  maxHp: number;
  level: number;
  device: Device;
  moveBudget: number;
  lastMoveAt: number;
  lastGatherAt: number;
  /** Time of the arrival through a portal; 0 for a plain join. */
  arrivedAt: number;
}

export interface ResourceSim extends Point {
  id: string;
  kind: string;
  item: string;
  amount: number;
  /** Full amount, and the time one unit grows back. */
  max: number;
  regrowMs: number;
  /** When the next unit grows back; null while full. */
  regrowAt: number | null;
}

export interface WorldSim {
  world: World;
  players: Map<string, WalkerSim>;
  resources: Map<string, ResourceSim>;
  /** Departure times through each portal, while their seat reservations may still be used. */
  departures: Map<string, number[]>;
}

/** What a joining player brings: its saved place in this world, if any, and its profile numbers. */
export interface WorldJoin {
  at: Point | null;
  hp: number;
  level: number;
  device: Device;
  /** Came through a portal: the travel cooldown starts now. */
  arrived: boolean;
  /** The last arrival through a portal, from the profile (0 = never): its cooldown still runs. */
  lastArrivalAt: number;
}

export type WorldCommand =
  | { type: "move"; x: number; y: number }
  | { type: "chat"; text: string }
  | { type: "gather"; resource: string }
  | { type: "travel"; portal: string }
  /** The room could not hand the traveller over: it stays, and the portal's place is freed. */
  | { type: "travel_failed"; portal: string };

export type WorldEvent =
  | { type: "moved"; sessionId: string; x: number; y: number }
  | { type: "chat"; from: string; name: string; text: string; at: number }
  | {
      type: "gathered";
      sessionId: string;
      userId: string;
      resource: string;
      item: string;
      qty: number;
      x: number;
      y: number;
    }
  | {
      type: "departed";
      sessionId: string;
      portal: string;
      to: string;
      arrival: Point;
      device: Device;
      /** When the portal was taken: the arrival's cooldown counts from it, however the player arrives. */
      at: number;
    };

export interface WorldCtx {
  now: number;
  rng: Rng;
  content: Content;
  policy: Policy;
}

export function createWorld(world: World): WorldSim {
  const resources = new Map<string, ResourceSim>();
  for (const r of world.template.resources) {
    resources.set(r.id, {
      id: r.id,
      kind: r.kind,
      item: r.item,
      x: r.x,
      y: r.y,
      amount: r.amount,
      max: r.amount,
      regrowMs: r.regrowMs,
      regrowAt: null,
    });
  }
  return { world, players: new Map(), resources, departures: new Map() };
}

/** Places a body: where the profile left it in this world, else at a random open spawn point. */
export function addWalker(
  sim: WorldSim,
  actor: { sessionId: string; userId: string; name: string },
  join: WorldJoin,
  ctx: WorldCtx,
): WalkerSim {
  const at = join.at ?? spawnPoint(sim.world.map, sim.world.template.spawn, ctx.rng);
  const walker: WalkerSim = {
    ...actor,
    x: at.x,
    y: at.y,
    hp: join.hp,
    maxHp: ctx.policy.startingHp,
    level: join.level,
    device: join.device,
    moveBudget: 0,
    lastMoveAt: ctx.now,
    lastGatherAt: -Infinity,
    arrivedAt: join.arrived ? ctx.now : join.lastArrivalAt,
  };
  sim.players.set(actor.sessionId, walker);
  return walker;
}

export function removeWalker(sim: WorldSim, sessionId: string): void {
  sim.players.delete(sessionId);
}

/** Applies one player's command. A refusal changes nothing. */
export function applyWorld(
  sim: WorldSim,
  sessionId: string,
  command: WorldCommand,
  ctx: WorldCtx,
): { verdict: Verdict; events: WorldEvent[] } {
  const walker = sim.players.get(sessionId);
  if (!walker) return { verdict: refuse(RejectCode.ActorDead, "you have no body here"), events: [] };
  switch (command.type) {
    case "move":
      return move(sim, walker, command, ctx);
    case "chat": {
      const verdict = checkChat(command.text, ctx.policy.chat.maxChars);
      if (!verdict.ok) return { verdict, events: [] };
      return {
        verdict,
        events: [{ type: "chat", from: sessionId, name: walker.name, text: verdict.text, at: ctx.now }],
      };
    }
    case "gather":
      return gather(sim, walker, command.resource, ctx);
    case "travel":
      return travel(sim, walker, command.portal, ctx);
    case "travel_failed": {
      const times = sim.departures.get(command.portal) ?? [];
      times.splice(times.length - 1, 1);
      return { verdict: { ok: true }, events: [] };
    }
  }
}

function move(sim: WorldSim, walker: WalkerSim, to: Point, ctx: WorldCtx) {
  const verdict = checkMove(walker, to, {
    now: ctx.now,
    map: sim.world.map,
    policy: { speed: sim.world.template.speed, ...ctx.policy.move },
  });
  if (!verdict.ok) return { verdict, events: [] };
  Object.assign(walker, {
    x: verdict.x,
    y: verdict.y,
    moveBudget: verdict.moveBudget,
    lastMoveAt: verdict.lastMoveAt,
  });
  return { verdict, events: [{ type: "moved", sessionId: walker.sessionId, x: walker.x, y: walker.y } as const] };
}

function gather(sim: WorldSim, walker: WalkerSim, resourceId: string, ctx: WorldCtx) {
  const resource = sim.resources.get(resourceId);
  if (!resource)
    return { verdict: refuse(RejectCode.GatherOutOfRange, `there is no resource "${resourceId}" here`), events: [] };
  const verdict = checkGather(
    walker,
    { ...resource, yield: ctx.policy.gather.yield },
    { now: ctx.now, policy: ctx.policy.gather },
  );
  if (!verdict.ok) return { verdict, events: [] };
  walker.lastGatherAt = ctx.now;
  if (resource.amount === resource.max) resource.regrowAt = ctx.now + resource.regrowMs;
  resource.amount -= verdict.qty;
  const event: WorldEvent = {
    type: "gathered",
    sessionId: walker.sessionId,
    userId: walker.userId,
    resource: resourceId,
    item: verdict.item,
    qty: verdict.qty,
    // Where it happened: who may read the logged event depends on it (src/rules/visibility.ts).
    x: resource.x,
    y: resource.y,
  };
  return { verdict, events: [event] };
}

/**
 * The checks of a portal: range, the arrival cooldown, and the portal's capacity, counted over the
 * departures whose seat reservations may still be in use. The hand-over itself is the room's.
 */
function travel(sim: WorldSim, walker: WalkerSim, portalId: string, ctx: WorldCtx) {
  const portal = sim.world.template.portals.find((p) => p.id === portalId);
  const recent = (sim.departures.get(portalId) ?? []).filter((t) => ctx.now - t < ctx.policy.travel.reservationMs);
  const verdict = checkTravel(walker, portal, { now: ctx.now, inFlight: recent.length, policy: ctx.policy.travel });
  if (!verdict.ok) return { verdict, events: [] };
  sim.departures.set(portalId, [...recent, ctx.now]);
  const target = ctx.content.worlds.get(verdict.portal.to)!.template;
  const exit = target.portals.find((p) => p.id === verdict.portal.exit)!;
  const event: WorldEvent = {
    type: "departed",
    sessionId: walker.sessionId,
    portal: portalId,
    to: target.id,
    arrival: arrivalPoint(target, exit, ctx.policy.travel.arrivalOffset),
    device: walker.device,
    at: ctx.now,
  };
  return { verdict, events: [event] };
}

/** Advances the world: depleted resources grow back one unit per `regrowMs`. */
export function stepWorld(sim: WorldSim, ctx: Pick<WorldCtx, "now">): void {
  for (const resource of sim.resources.values()) {
    if (resource.regrowAt === null || ctx.now < resource.regrowAt) continue;
    resource.amount = Math.min(resource.max, resource.amount + 1);
    resource.regrowAt = resource.amount < resource.max ? ctx.now + resource.regrowMs : null;
  }
}

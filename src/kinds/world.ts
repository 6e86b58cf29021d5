/**
 * The `world` room kind (PROTOCOL §2.1): the world simulation, its message table, and how it
 * shows in `WorldState`.
 */
import type { Content } from "../content/index.js";
import { addItem } from "../domain/profile.js";
import { message, type RoomKind } from "../engine/kind.js";
import { mirror, walkingWelcome } from "./common.js";
import {
  addWalker,
  applyWorld,
  createWorld,
  removeWalker,
  stepWorld,
  type WorldCommand,
  type WorldEvent,
  type WorldJoin,
  type WorldSim,
} from "../rules/world.js";
import { placeQuietly, Player, Portal, Resource, WorldState } from "../schema/WorldState.js";
import { Chat, Gather, Move, TradeAnswer, TradeOffer, Travel, WorldJoinOptions } from "../validators/messages.js";
import type { TradeCommand } from "../domain/trade.js";

/** Trade messages pass the world's simulation untouched and go to the trade service (src/trade/). */
type Command = WorldCommand | { type: "trade_request"; request: TradeCommand };
type Event = WorldEvent | { type: "trade_request"; sessionId: string; request: TradeCommand };

const joinOptions = (content: Content) =>
  WorldJoinOptions.refine((o) => content.worlds.has(o.world), { message: "is not a known world", path: ["world"] });

export const worldKind: RoomKind<WorldSim, Command, Event, WorldState, WorldJoin, WorldJoinOptions> = {
  name: "world",
  joinOptions,
  filterBy: ["world"],
  label: (options) => options.world,
  tickRate: (policy) => policy.worldTickRate,
  maxClients: (options, content) => content.worlds.get(options.world)!.template.maxPlayers,

  create: (options, ctx) => createWorld(ctx.content.worlds.get(options.world)!),
  joinData: (profile, options, arrived) => ({
    at: profile.location?.world === options.world ? { x: profile.location.x, y: profile.location.y } : null,
    hp: profile.hp,
    level: profile.level,
    device: options.device,
    arrived,
    lastArrivalAt: profile.arrivedAt ?? 0,
  }),
  join: (sim, actor, join, ctx) => {
    addWalker(sim, actor, join, ctx);
    return [];
  },
  leave: (sim, actor) => {
    removeWalker(sim, actor.sessionId);
    return [];
  },
  apply: (sim, actor, command, ctx) =>
    command.type === "trade_request"
      ? {
          verdict: { ok: true },
          events: [{ type: "trade_request", sessionId: actor.sessionId, request: command.request }],
        }
      : applyWorld(sim, actor.sessionId, command, ctx),
  step: (sim, ctx) => {
    stepWorld(sim, ctx);
    return [];
  },
  persist: (sim, sessionId) => {
    const walker = sim.players.get(sessionId);
    return walker
      ? {
          location: { world: sim.world.template.id, x: walker.x, y: walker.y },
          hp: walker.hp,
          arrivedAt: walker.arrivedAt,
        }
      : {};
  },

  messages: {
    move: message(Move, "move", ({ x, y }) => ({ type: "move", x, y })),
    chat: message(Chat, "chat", ({ text }) => ({ type: "chat", text })),
    gather: message(Gather, "gather", ({ resource }) => ({ type: "gather", resource })),
    travel: message(Travel, "travel", ({ portal }) => ({ type: "travel", portal })),
    trade: message(TradeOffer, "trade", (offer) => ({ type: "trade_request", request: { type: "trade", ...offer } })),
    trade_accept: message(TradeAnswer, "trade", ({ seq, tradeId }) => ({
      type: "trade_request",
      request: { type: "trade_accept", seq, tradeId },
    })),
    trade_decline: message(TradeAnswer, "trade", ({ seq, tradeId }) => ({
      type: "trade_request",
      request: { type: "trade_decline", seq, tradeId },
    })),
    trade_cancel: message(TradeAnswer, "trade", ({ seq, tradeId }) => ({
      type: "trade_request",
      request: { type: "trade_cancel", seq, tradeId },
    })),
  },

  state: {
    create(sim) {
      const state = new WorldState();
      const t = sim.world.template;
      state.world = t.id;
      for (const p of t.portals) state.portals.set(p.id, new Portal({ id: p.id, x: p.x, y: p.y, to: p.to }));
      for (const r of sim.resources.values())
        state.resources.set(r.id, new Resource({ id: r.id, kind: r.kind, x: r.x, y: r.y, amount: r.amount }));
      return state;
    },
    sync(sim, state, tick) {
      state.tick = tick;
      mirror(
        state.players,
        sim.players,
        ({ sessionId, userId, name, x, y, hp, maxHp, level }) =>
          new Player({ sessionId, userId, name, x, y, hp, maxHp, level }),
        (player, w) => {
          placeQuietly(player, w.x, w.y);
          if (player.hp !== w.hp) player.hp = w.hp;
        },
      );
      for (const r of sim.resources.values()) {
        const resource = state.resources.get(r.id)!;
        if (resource.amount !== r.amount) resource.amount = r.amount;
      }
    },
    bodyOf: (state, sessionId) => state.players.get(sessionId),
  },

  welcome: (sim, _actor, ctx) => ({
    ...walkingWelcome(sim.world.template, ctx.policy),
    world: sim.world.template.id,
    aoiRadius: sim.world.template.aoiRadius,
    gatherRange: ctx.policy.gather.range,
    gatherCooldownMs: ctx.policy.gather.cooldownMs,
    travelRange: ctx.policy.travel.range,
    travelCooldownMs: ctx.policy.travel.cooldownMs,
  }),

  interest: {
    radius: (sim) => sim.world.template.aoiRadius,
    cap: (join, policy) => policy.deviceCaps[join.device],
    slowdown: (join, policy) => policy.deviceSlowdown[join.device],
  },

  react(event, out, sim) {
    switch (event.type) {
      case "moved":
        out.moved(event.sessionId, event.x, event.y);
        break;
      case "chat": {
        const { type: _, ...chat } = event;
        out.broadcast("chat", chat);
        break;
      }
      case "gathered": {
        const { type, sessionId, resource, item, qty } = event;
        out.profile(sessionId, (p) => (p.inventory = addItem(p.inventory, item, qty)));
        out.send(sessionId, "gathered", { resource, item, qty });
        const { type: _, ...data } = event;
        out.record(type, data);
        break;
      }
      case "trade_request":
        out.trade(event.sessionId, event.request);
        break;
      case "departed":
        out.depart(event.sessionId, {
          options: { world: event.to, device: event.device },
          // The arrival's time goes with it: a player who joins the target afresh (an HTTP session,
          // or a reservation left unused) is held by the same cooldown as one who used the seat.
          profile: { location: { world: event.to, ...event.arrival }, arrivedAt: event.at },
          failed: { type: "travel_failed", portal: event.portal } satisfies WorldCommand,
          message: { world: event.to },
          log: { portal: event.portal, to: event.to, ...portalAt(sim, event.portal) },
        });
        break;
    }
  },
};

/** Where a portal stands (the place of a logged travel event). */
function portalAt(sim: WorldSim, portalId: string): { x?: number; y?: number } {
  const portal = sim.world.template.portals.find((p) => p.id === portalId);
  return portal ? { x: portal.x, y: portal.y } : {};
}

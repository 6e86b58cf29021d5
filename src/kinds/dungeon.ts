/**
 * The `dungeon` room kind (PROTOCOL §2.2): the dungeon simulation, its message table, and how it
 * shows in `DungeonState`.
 */
import { randomUUID } from "node:crypto";
import type { Content } from "../content/index.js";
import { addItem } from "../domain/profile.js";
import { message, type RoomKind } from "../engine/kind.js";
import { mirror, walkingWelcome } from "./common.js";
import {
  addHero,
  applyCommand,
  createDungeon,
  removeHero,
  stepDungeon,
  type DungeonCommand,
  type DungeonEvent,
  type DungeonSim,
} from "../rules/dungeon.js";
import { levelForXp } from "../rules/progression.js";
import { Door, DungeonState, Enemy, Hero, Loot } from "../schema/DungeonState.js";
import { Attack, DungeonJoinOptions, Move, Pickup } from "../validators/messages.js";

type Options = DungeonJoinOptions & { party: string };

const joinOptions = (content: Content) =>
  DungeonJoinOptions.refine((o) => content.dungeons.has(o.dungeon), {
    message: "is not a known dungeon",
    path: ["dungeon"],
  }).transform((o): Options => ({ ...o, party: o.party ?? `solo-${randomUUID()}` }));

export const dungeonKind: RoomKind<DungeonSim, DungeonCommand, DungeonEvent, DungeonState, null, Options> = {
  name: "dungeon",
  joinOptions,
  filterBy: ["dungeon", "party"],
  membership: "party",
  label: (options) => options.dungeon,
  tickRate: (policy) => policy.dungeonTickRate,
  maxClients: (options, content) => content.dungeons.get(options.dungeon)!.template.maxHeroes,
  lingerSec: (settings) => settings.dungeonGraceSec,

  create: (options, ctx) => createDungeon(ctx.content.dungeons.get(options.dungeon)!, ctx.content, options.party),
  joinData: () => null,
  join: (sim, actor, _join, ctx) => {
    addHero(sim, actor, ctx);
    return [];
  },
  leave: (sim, actor) => removeHero(sim, actor.sessionId),
  apply: (sim, actor, command, ctx) => applyCommand(sim, actor.sessionId, command, ctx),
  step: (sim, ctx) => stepDungeon(sim, { ...ctx, dtMs: 1000 / ctx.policy.dungeonTickRate }),

  messages: {
    move: message(Move, "move", ({ x, y }) => ({ type: "move", x, y })),
    attack: message(Attack, "attack", ({ target, ability }) => ({ type: "attack", target, ability })),
    pickup: message(Pickup, "pickup", ({ loot }) => ({ type: "pickup", loot })),
  },

  state: {
    create(sim) {
      const state = new DungeonState();
      state.dungeon = sim.dungeon.template.id;
      for (const door of sim.dungeon.template.doors) state.doors.set(door.id, new Door({ id: door.id, open: false }));
      for (const e of sim.enemies.values()) {
        const { id, x, y, hp, alive } = e;
        state.enemies.set(id, new Enemy({ id, kind: e.type.id, x, y, hp, maxHp: e.stats.maxHp, alive }));
      }
      return state;
    },
    sync(sim, s, tick) {
      s.status = sim.status;
      s.bossPhase = sim.bossPhase;
      s.tick = tick;
      mirror(
        s.heroes,
        sim.heroes,
        ({ id, userId, name, x, y, hp, mana, alive, stats }) =>
          new Hero({ sessionId: id, userId, name, x, y, hp, maxHp: stats.maxHp, mana, maxMana: stats.maxMana, alive }),
        (hero, h) => {
          hero.x = h.x;
          hero.y = h.y;
          hero.hp = h.hp;
          hero.mana = Math.floor(h.mana);
          hero.alive = h.alive;
        },
      );
      for (const e of sim.enemies.values()) {
        const enemy = s.enemies.get(e.id)!;
        // Whole units, as players' are: a chasing enemy's fraction of a unit would cost 9 bytes
        // per coordinate per patch (a float64) for a difference no client can show.
        enemy.x = Math.round(e.x);
        enemy.y = Math.round(e.y);
        enemy.hp = e.hp;
        enemy.alive = e.alive;
      }
      mirror(
        s.loot,
        sim.loot,
        ({ id, item, qty, x, y }) => new Loot({ id, item, qty, x, y }),
        () => undefined, // loot never changes; it only comes and goes
      );
      if (sim.doorsOpen) for (const door of s.doors.values()) door.open = true;
    },
  },

  welcome: (sim, _actor, ctx) => ({
    ...walkingWelcome(sim.dungeon.template, ctx.policy),
    dungeon: sim.dungeon.template.id,
    party: sim.party,
    pickupRange: ctx.policy.dungeon.pickupRange,
  }),

  react(event, out, _sim, ctx) {
    const { type, ...data } = event;
    out.record(type, data);
    switch (event.type) {
      case "combat":
        out.broadcast("combat", data);
        break;
      case "phase":
        out.broadcast("phase", { bossPhase: event.bossPhase });
        break;
      case "picked": {
        const { item, qty } = event;
        // Loot is what players care about most: written now rather than at the next flush.
        out.profile(event.hero, (p) => (p.inventory = addItem(p.inventory, item, qty)), { urgent: true });
        out.send(event.hero, "picked", { loot: event.loot, item, qty });
        break;
      }
      case "cleared":
        out.everyProfile((p) => {
          p.xp += event.xp;
          p.level = levelForXp(p.xp);
        });
        out.broadcast("cleared", { at: ctx.now, xp: event.xp });
        out.lock();
        break;
      case "failed":
        out.broadcast("failed", { at: ctx.now });
        out.lock();
        break;
      case "dropped":
      case "died":
      case "revived":
        break;
    }
  },
};

/**
 * A co-op dungeon instance (PROTOCOL §2.2). The simulation lives in rules/dungeon.ts; this room
 * turns messages into commands, events into broadcasts and saves, and mirrors the simulation
 * into the synchronized state.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Delayed } from "@colyseus/core";
import { policy } from "../content/policy.js";
import type { Dungeon } from "../content/index.js";
import {
  addHero,
  applyCommand,
  createDungeon,
  PICKUP_RANGE,
  removeHero,
  stepDungeon,
  type DungeonCommand,
  type DungeonEvent,
  type DungeonSim,
} from "../rules/dungeon.js";
import { addItem } from "../domain/profile.js";
import { levelForXp } from "../rules/progression.js";
import { createRng, type Rng } from "../domain/rng.js";
import { Door, DungeonState, Enemy, Hero, Loot } from "../schema/DungeonState.js";
import { Attack, DungeonJoinOptions, Move, Pickup } from "../validators/messages.js";
import { GameRoom, type Seat } from "./GameRoom.js";
import type { Services } from "../services.js";

export class DungeonRoom extends GameRoom<DungeonState> {
  static override joinOptions(services: Services) {
    return DungeonJoinOptions.refine((o) => services.content.dungeons.has(o.dungeon), {
      message: "is not a known dungeon",
      path: ["dungeon"],
    }).transform((o) => ({ ...o, party: o.party ?? `solo-${randomUUID()}` }));
  }
  readonly kind = "dungeon";

  override state = new DungeonState();
  private dungeon!: Dungeon;
  private sim!: DungeonSim;
  private rng!: Rng;
  private closing: Delayed | undefined;

  get world() {
    return this.dungeon.template.id;
  }
  protected get speed() {
    return this.dungeon.template.speed;
  }
  protected get bounds() {
    return { width: this.dungeon.template.width, height: this.dungeon.template.height };
  }
  protected get tickRate() {
    return policy.dungeonTickRate;
  }

  protected create(options: { dungeon?: string }): void {
    this.dungeon = this.services.content.dungeons.get(options.dungeon ?? "crypt")!;
    if (!this.dungeon) throw new Error(`unknown dungeon "${options.dungeon}"`);
    // The seed is the server's secret (a known seed would let a client predict crits and drops);
    // it is logged so that a run can be replayed.
    const seed = randomBytes(4).readUInt32LE();
    this.rng = createRng(seed);
    this.maxClients = this.dungeon.template.maxHeroes;
    this.autoDispose = false;

    this.sim = createDungeon(this.dungeon, this.services.content);
    this.state.dungeon = this.dungeon.template.id;
    for (const door of this.dungeon.template.doors)
      this.state.doors.set(door.id, new Door({ id: door.id, open: false }));
    for (const e of this.sim.enemies.values()) {
      this.state.enemies.set(
        e.id,
        new Enemy({ id: e.id, kind: e.type.id, x: e.x, y: e.y, hp: e.hp, maxHp: e.stats.maxHp, alive: true }),
      );
    }
    this.sync();

    this.action("move", Move, (seat, { x, y }) => this.command(seat, { type: "move", x, y }));
    this.action("attack", Attack, (seat, { target, ability }) =>
      this.command(seat, { type: "attack", target, ability }),
    );
    this.action("pickup", Pickup, (seat, { loot }) => this.command(seat, { type: "pickup", loot }));

    const dtMs = 1000 / policy.dungeonTickRate;
    this.simulate(() => {
      this.handle(stepDungeon(this.sim, { ...this.ctx, dtMs }));
      this.sync();
    }, policy.dungeonTickRate);
    this.onEmpty(); // nobody may ever arrive
    this.services.log.info({ roomId: this.roomId, dungeon: this.dungeon.template.id, seed }, "dungeon seed");
  }

  private get ctx() {
    return { now: this.now, rng: this.rng, content: this.services.content };
  }

  private command(seat: Seat, command: DungeonCommand) {
    const { verdict, events } = applyCommand(this.sim, seat.sessionId, command, this.ctx);
    this.handle(events);
    this.sync();
    return verdict;
  }

  /** Turns simulation events into messages, saves and the event log. */
  private handle(events: DungeonEvent[]): void {
    for (const event of events) {
      const { type, ...data } = event;
      this.record(type, data);
      switch (event.type) {
        case "combat":
          this.broadcast("combat", data);
          break;
        case "phase":
          this.broadcast("phase", { bossPhase: event.bossPhase });
          break;
        case "picked": {
          const seat = this.seats.get(event.hero)!;
          seat.profile.inventory = addItem(seat.profile.inventory, event.item, event.qty);
          this.services.profiles.touch(seat.userId);
          // Loot is what players care about most: write it now rather than at the next flush.
          void this.services.profiles.flush(seat.userId);
          seat.client.send("picked", { loot: event.loot, item: event.item, qty: event.qty });
          break;
        }
        case "cleared":
          for (const seat of this.seats.values()) {
            seat.profile.xp += event.xp;
            seat.profile.level = levelForXp(seat.profile.xp);
            this.services.profiles.touch(seat.userId);
          }
          this.broadcast("cleared", { at: Date.now(), xp: event.xp });
          this.log.info({ tick: this.tick }, "dungeon cleared");
          void this.lock();
          break;
        case "failed":
          this.broadcast("failed", { at: Date.now() });
          this.log.info({ tick: this.tick }, "every hero died; the run failed");
          void this.lock();
          break;
        case "dropped":
        case "died":
        case "revived":
          break;
      }
    }
  }

  /** Mirrors the simulation into the synchronized state; schema sends only what changed. */
  private sync(): void {
    const s = this.state;
    s.status = this.sim.status;
    s.bossPhase = this.sim.bossPhase;
    s.tick = this.tick;
    for (const h of this.sim.heroes.values()) {
      const hero = s.heroes.get(h.id);
      if (!hero) continue;
      hero.x = h.x;
      hero.y = h.y;
      hero.hp = h.hp;
      hero.mana = Math.floor(h.mana);
      hero.alive = h.alive;
    }
    for (const e of this.sim.enemies.values()) {
      const enemy = s.enemies.get(e.id)!;
      enemy.x = e.x;
      enemy.y = e.y;
      enemy.hp = e.hp;
      enemy.alive = e.alive;
    }
    for (const id of s.loot.keys()) if (!this.sim.loot.has(id)) s.loot.delete(id);
    for (const l of this.sim.loot.values())
      if (!s.loot.has(l.id)) s.loot.set(l.id, new Loot({ id: l.id, item: l.item, qty: l.qty, x: l.x, y: l.y }));
    if (this.sim.doorsOpen) for (const door of s.doors.values()) door.open = true;
  }

  protected placeBody(seat: Seat): void {
    this.closing?.clear();
    this.closing = undefined;
    const h = addHero(this.sim, seat.sessionId, this.ctx);
    this.state.heroes.set(
      seat.sessionId,
      new Hero({
        sessionId: seat.sessionId,
        userId: seat.userId,
        name: seat.name,
        x: h.x,
        y: h.y,
        hp: h.hp,
        maxHp: h.stats.maxHp,
        mana: h.mana,
        maxMana: h.stats.maxMana,
        alive: true,
      }),
    );
  }

  protected removeBody(seat: Seat): void {
    this.handle(removeHero(this.sim, seat.sessionId));
    this.state.heroes.delete(seat.sessionId);
    this.sync();
  }

  /** An empty instance waits a grace time for its heroes, then closes. */
  protected override onEmpty(): void {
    this.closing?.clear();
    this.closing = this.clock.setTimeout(() => {
      if (this.seats.size === 0) void this.disconnect();
    }, this.services.config.dungeonGraceSec * 1000);
  }

  protected welcomeExtras() {
    return { dungeon: this.dungeon.template.id, party: this.metadata?.party ?? null, pickupRange: PICKUP_RANGE };
  }
}

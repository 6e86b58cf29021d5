/**
 * Bot brains shared by the @colyseus/loadtest scripts (loadtest/world.ts, loadtest/dungeon.ts)
 * and the headless benchmark (bench/). They play by the rules, at legal speed, so a correct
 * server refuses none of their actions; every refusal they get is counted.
 */
import type { DungeonState, MoveRules, WorldState } from "../client/types.js";
import type { Client, Room } from "@colyseus/sdk";
import { buildTileMap, isBlockedAt, segmentBlocked, type TileMap } from "../src/domain/tilemap.js";
import type { WorldTemplate } from "../src/content/worlds.js";
import type { DungeonTemplate } from "../src/content/dungeons.js";

export interface BotStats {
  /** Round trips from an action to the patch (or message) that acknowledges it, in ms. */
  rtt: number[];
  /** Refusals received, by code. */
  rejects: Record<string, number>;
}

export const newStats = (): BotStats => ({ rtt: [], rejects: {} });

/** A guest account on `httpUrl`; throws on failure. */
export async function guestToken(httpUrl: string, name: string): Promise<string> {
  const res = await fetch(`${httpUrl}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`guest login: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function fetchMap(httpUrl: string, kind: "worlds" | "dungeons", id: string): Promise<TileMap> {
  const t = (await (await fetch(`${httpUrl}/api/${kind}/${id}`)).json()) as WorldTemplate | DungeonTemplate;
  const doors = "doors" in t ? t.doors : [];
  return buildTileMap(t.width, t.height, t.tileSize, [...t.blocked, ...doors]);
}

const dist = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
const near = (a: { x: number; y: number }, b: { x: number; y: number }) =>
  Math.abs(a.x - b.x) < 1e-3 && Math.abs(a.y - b.y) < 1e-3;

/** Joins `roomName` with a fresh guest and waits for the welcome and the own body. */
/** A bot's view of a room's state: a world's or a dungeon's (bots read what their room has). */
export type BotState = Partial<WorldState> & Partial<DungeonState>;
export type BotRoom = Room<unknown, BotState>;

export async function joinAsGuest(
  client: Client,
  httpUrl: string,
  roomName: string,
  options: Record<string, unknown>,
  name: string,
) {
  client.auth.token ||= await guestToken(httpUrl, name);
  const room: BotRoom = await client.joinOrCreate<BotState>(roomName, options);
  // Broadcasts may arrive before a brain takes over; they are fine to drop.
  for (const type of ["chat", "combat", "pong", "phase", "cleared", "failed", "reject"])
    room.onMessage(type, () => undefined);
  const welcome = await new Promise<MoveRules>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no welcome within 10 s")), 10_000);
    room.onMessage("welcome", (w: MoveRules) => {
      clearTimeout(timer);
      resolve(w);
    });
  });
  return { room, welcome };
}

/**
 * A walker's next waypoint: a random open point 100-400 units away that a straight walk reaches,
 * or null after ten misses (the bot tries again next time).
 */
export function pickWaypoint(map: TileMap, me: { x: number; y: number }): { x: number; y: number } | null {
  for (let tries = 0; tries < 10; tries++) {
    const angle = Math.random() * 2 * Math.PI;
    const r = 100 + Math.random() * 300;
    const p = { x: Math.round(me.x + r * Math.cos(angle)), y: Math.round(me.y + r * Math.sin(angle)) };
    const inside = p.x > 0 && p.y > 0 && p.x < map.width && p.y < map.height;
    if (inside && !isBlockedAt(map, p) && !segmentBlocked(map, me, p)) return p;
  }
  return null;
}

abstract class Brain {
  protected seq = 0;
  protected lastStep = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly room: BotRoom,
    protected readonly welcome: { speed: number },
    protected readonly map: TileMap,
    protected readonly stats: BotStats,
  ) {
    room.onMessage("reject", (r: { code: string }) => (stats.rejects[r.code] = (stats.rejects[r.code] ?? 0) + 1));
    for (const type of ["pong", "chat", "gathered", "phase", "picked", "travel"]) room.onMessage(type, () => undefined);
  }

  /** Acts `hz` times a second until stopped. */
  start(hz = 10): void {
    this.timer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - this.lastStep, 250);
      this.lastStep = now;
      this.act(elapsed);
    }, 1000 / hz);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  protected send(type: string, payload: Record<string, unknown>): void {
    this.room.send(type, { seq: ++this.seq, ...payload });
  }

  /** A legal step toward `to`: 80 % of what the time since the last step earned. */
  protected stepToward(
    from: { x: number; y: number },
    to: { x: number; y: number },
    elapsedMs: number,
    stopShort = 0,
  ): { x: number; y: number } | null {
    const d = dist(from, to) - stopShort;
    if (d <= 0.5) return null;
    // 80 % of the allowance, less a unit for the server's rounding to whole units.
    const len = Math.min(d, (this.welcome.speed * elapsedMs * 0.8) / 1000 - 1);
    if (len < 1) return null;
    const f = len / dist(from, to);
    const candidates = [
      { x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f },
      { x: from.x + Math.sign(to.x - from.x) * len, y: from.y },
      { x: from.x, y: from.y + Math.sign(to.y - from.y) * len },
    ].map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) }));
    return (
      candidates.find(
        (p) =>
          p.x >= 0 && p.y >= 0 && p.x <= this.map.width && p.y <= this.map.height && !segmentBlocked(this.map, from, p),
      ) ?? null
    );
  }

  protected abstract act(elapsedMs: number): void;
}

/** Walks a world between random reachable waypoints, chatting now and then. */
export class WorldWalker extends Brain {
  private waypoint: { x: number; y: number } | null = null;
  /** Moves sent and not yet seen in a patch, oldest first. */
  private readonly unacked: Array<{ x: number; y: number; at: number }> = [];

  constructor(
    room: BotRoom,
    welcome: { speed: number },
    map: TileMap,
    stats: BotStats,
    private readonly chatEveryMs = 60_000,
  ) {
    super(room, welcome, map, stats);
    // A patch that shows move k acknowledges every move before it too.
    room.onStateChange(() => {
      const me = this.me;
      if (!me) return;
      const k = this.unacked.findIndex((m) => near(me, m));
      if (k < 0) return;
      const now = performance.now();
      for (const m of this.unacked.splice(0, k + 1)) stats.rtt.push(now - m.at);
    });
  }

  private get me(): { x: number; y: number } | undefined {
    return this.room.state.players?.get(this.room.sessionId);
  }

  protected act(elapsedMs: number): void {
    const me = this.me;
    if (!me) return;
    if (Math.random() < 100 / this.chatEveryMs) this.send("chat", { text: "hello from a bot" });
    this.waypoint ??= pickWaypoint(this.map, me);
    if (!this.waypoint) return;
    const next = this.stepToward(me, this.waypoint, elapsedMs);
    if (!next) {
      this.waypoint = null;
      return;
    }
    this.unacked.push({ ...next, at: performance.now() });
    this.send("move", next);
  }
}

/** Fights in a dungeon: closes in on the nearest living enemy and strikes it when the cooldown allows. */
export class DungeonFighter extends Brain {
  private readyAt = 0;
  private pendingAttack: number | null = null;
  private readonly asked = new Set<string>();
  /** Called once when the run ends (cleared or failed). */
  onOver: (() => void) | undefined;

  /**
   * @param slot the hero's place in its party (0-3). Heroes spread over the nearest enemies by
   *   slot, so that two rarely race to land the killing blow (the loser's attack is refused with
   *   `attack/bad_target`, rightly). Slot 0 also picks up the loot, so heroes never race for it.
   */
  constructor(
    room: BotRoom,
    welcome: { speed: number },
    map: TileMap,
    stats: BotStats,
    private readonly strike: { range: number; cooldownMs: number },
    private readonly slot = 0,
  ) {
    super(room, welcome, map, stats);
    room.onMessage("combat", (c: { source: string }) => {
      if (c.source === room.sessionId && this.pendingAttack !== null) {
        stats.rtt.push(performance.now() - this.pendingAttack);
        this.pendingAttack = null;
      }
    });
    let over = false;
    const end = () => {
      if (!over) this.onOver?.();
      over = true;
    };
    room.onMessage("cleared", end);
    room.onMessage("failed", end);
  }

  protected act(elapsedMs: number): void {
    const state = this.room.state;
    const me = state.heroes?.get(this.room.sessionId);
    if (!me?.alive || state.status === "cleared" || state.status === "failed") {
      // A revived hero starts with no movement allowance: count from the revival.
      this.lastStep = performance.now();
      return;
    }
    if (this.slot === 0) {
      for (const loot of state.loot?.values() ?? []) {
        if (dist(me, loot) <= 50 && !this.asked.has(loot.id)) {
          this.asked.add(loot.id);
          this.send("pickup", { loot: loot.id });
          return;
        }
      }
    }
    const alive = [...(state.enemies?.values() ?? [])].filter((e) => e.alive).sort((a, b) => dist(me, a) - dist(me, b));
    if (alive.length === 0) return;
    const target = alive[this.slot % alive.length];
    const now = performance.now();
    if (dist(me, target) <= this.strike.range * 0.7) {
      if (now < this.readyAt) return;
      this.readyAt = now + this.strike.cooldownMs + 80;
      this.pendingAttack = now;
      this.send("attack", { target: target.id, ability: "strike" });
      return;
    }
    const next = this.stepToward(me, target, elapsedMs, this.strike.range * 0.5);
    if (next) this.send("move", next);
  }
}

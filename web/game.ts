/**
 * The client's model: the session (login, rooms, travel), what the server sent (state, welcome,
 * messages), the own body's movement paced by the server's speed rule, and intents (walk there,
 * gather that, attack this) turned into messages a real game would send. No drawing here.
 */
import { Client, type Room } from "@colyseus/sdk";
import { buildTileMap } from "../src/domain/tilemap.js";
import { findPath, segmentBlocked, type Point, type TileMap } from "./path.js";
import { traffic } from "./traffic.js";
import type { Enemy, Loot } from "../client/types.js";
import { FINGERPRINT_HEADER } from "../client/index.js";

/** The templates the content API serves are the server's own (type-only: no server code is bundled). */
import type { MapTemplate, WorldTemplate } from "../src/content/worlds.js";
import type { DungeonTemplate } from "../src/content/dungeons.js";
export type { MapTemplate, WorldTemplate, DungeonTemplate };
export interface Ability {
  id: string;
  name: string;
  range: number;
  cooldownMs: number;
  manaCost: number;
  heroes: boolean;
}
/** The `welcome` message (docs/PROTOCOL.md §2 and the extensions). */
export interface Welcome {
  sessionId: string;
  tickRate: number;
  speed: number;
  bounds: { width: number; height: number };
  moveBankMs: number;
  moveTolerance: number;
  aoiRadius?: number;
  world?: string;
  gatherRange?: number;
  gatherCooldownMs?: number;
  travelRange?: number;
  travelCooldownMs?: number;
  dungeon?: string;
  party?: string | null;
  pickupRange?: number;
}
export interface Body {
  sessionId: string;
  name: string;
  x: number;
  y: number;
  hp: number;
  maxHp: number;
  level?: number;
  mana?: number;
  maxMana?: number;
  alive?: boolean;
}
export type { Enemy, Loot } from "../client/types.js";
export interface Refusal {
  seq: number | null;
  action: string;
  code: string;
  message: string;
  at: number;
}
export interface ChatLine {
  from: string;
  name: string;
  text: string;
  at: number;
}
export type Intent =
  | { kind: "move"; to: Point }
  | { kind: "gather"; resource: string }
  | { kind: "travel"; portal: string }
  | { kind: "attack"; target: string }
  | { kind: "fight" }
  | { kind: "pickup"; loot: string };
export type ConnectionState = "offline" | "connecting" | "connected" | "reconnecting" | "closed";
export type Screen = "login" | "connecting" | "world" | "dungeon";

/** What the decoded room state looks like (the SDK builds it from the server's schema). */
interface MapLike<T> {
  get(key: string): T | undefined;
  values(): IterableIterator<T>;
  keys(): IterableIterator<string>;
  readonly size: number;
}
interface StateLike {
  tick?: number;
  world?: string;
  players?: MapLike<Body>;
  portals?: MapLike<{ id: string; x: number; y: number; to: string }>;
  resources?: MapLike<{ id: string; kind: string; x: number; y: number; amount: number }>;
  dungeon?: string;
  status?: string;
  bossPhase?: number;
  heroes?: MapLike<Body>;
  enemies?: MapLike<Enemy>;
  loot?: MapLike<Loot>;
  doors?: MapLike<{ id: string; open: boolean }>;
}

interface Sample {
  t: number;
  x: number;
  y: number;
}

/** Others are drawn this far in the past, so that there are two patches to interpolate between. */
export const INTERPOLATION_DELAY_MS = 100;
/** Least time between two moves: 10 a second, half the server's rate limit. */
const MOVE_INTERVAL_MS = 90;
/** The client walks at this fraction of `speed`, leaving the rest as slack for network jitter. */
const PACE = 0.9;

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

/** The position at time `t` on a trail of timed samples (clamped to its ends). */
function interpolate(samples: Sample[], t: number): Point {
  if (t <= samples[0].t) return samples[0];
  for (let i = samples.length - 1; i > 0; i--) {
    const a = samples[i - 1];
    const b = samples[i];
    if (t >= a.t && t <= b.t) {
      const f = (t - a.t) / (b.t - a.t || 1);
      return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
    }
  }
  return samples[samples.length - 1];
}

/**
 * Leaves a room, without hanging on one whose connection is already gone (the SDK's `leave()`
 * then never settles), and without waiting long for a server that does not answer.
 */
async function leaveQuietly(room: Room): Promise<void> {
  const open = (room as unknown as { connection?: { isOpen?: boolean } }).connection?.isOpen;
  if (!open) return;
  await Promise.race([room.leave(true).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
}

export class GameError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * This browser's device fingerprint (PROTOCOL §8): a random id kept in localStorage, so that the
 * tokens issued here are pinned to this browser and useless elsewhere. A browser that keeps no
 * storage gets one for the page's life.
 */
function deviceFingerprint(): string {
  const key = "realmgate.device";
  try {
    const kept = localStorage.getItem(key);
    if (kept && kept.length >= 8 && kept.length <= 128) return kept;
    const made = crypto.randomUUID();
    localStorage.setItem(key, made);
    return made;
  } catch {
    return crypto.randomUUID();
  }
}

export class Game {
  readonly client: Client;
  /** Sent at login, in every join and on every HTTP call: a pinned token needs it. */
  readonly fingerprint = deviceFingerprint();
  screen: Screen = "login";
  user: { token: string; userId: string; name: string } | null = null;
  room: Room | null = null;
  kind: "world" | "dungeon" | null = null;
  welcome: Welcome | null = null;
  template: WorldTemplate | DungeonTemplate | null = null;
  private closedMap: TileMap | null = null;
  private openMap: TileMap | null = null;
  abilities: Ability[] = [];
  selectedAbility = "strike";
  seq = 0;

  /** Where the own body will be once the moves sent so far are applied (client-side prediction). */
  pos: Point | null = null;
  path: Point[] = [];
  intent: Intent | null = null;
  /** Direction held on the keyboard, each axis -1, 0 or 1. */
  keys: Point = { x: 0, y: 0 };
  private keyWalking = false;
  private budget = 0;
  private lastMoveAt = 0;
  private lastSentAt = 0;
  readonly cooldownUntil = new Map<string, number>();
  private pendingAction: { key: string; until: number } | null = null;

  chat: ChatLine[] = [];
  refusals: Refusal[] = [];
  feed: string[] = [];
  gathered: Array<{ resource: string; item: string; qty: number }> = [];
  picked: Array<{ loot: string; item: string; qty: number }> = [];
  cleared: { at: number; xp: number } | null = null;
  failed = false;
  bossPhase = 0;
  error = "";

  connection: {
    state: ConnectionState;
    rtt: number | null;
    retries: number;
    closed?: string;
    /** When the room was joined (ms since the epoch): the SDK reconnects only rooms up for `minUptime`. */
    since?: number;
  } = { state: "offline", rtt: null, retries: 0 };
  readonly tracks = new Map<string, Sample[]>();
  private selfTrail: Sample[] = [];
  debug = { tick: 0, bytesPerSec: 0, patchesPerSec: 0, movesSent: 0 };
  private patches = 0;
  private lastBytes = 0;
  private timers: number[] = [];
  /** Bumped on every room change: handlers of an earlier room check it and stay quiet. */
  private epoch = 0;

  constructor(readonly baseUrl = location.origin) {
    this.client = new Client(baseUrl.replace(/^http/, "ws"));
    this.timers.push(window.setInterval(() => this.control(), 50));
    this.timers.push(
      window.setInterval(() => {
        this.debug.bytesPerSec = traffic.bytesReceived - this.lastBytes;
        this.lastBytes = traffic.bytesReceived;
        this.debug.patchesPerSec = this.patches;
        this.patches = 0;
      }, 1000),
    );
    this.timers.push(window.setInterval(() => this.room?.ping((ms) => (this.connection.rtt = Math.round(ms))), 2000));
  }

  // --- HTTP ------------------------------------------------------------------------------------

  async http<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        "content-type": "application/json",
        [FINGERPRINT_HEADER]: this.fingerprint,
        ...(this.user ? { authorization: `Bearer ${this.user.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) throw new GameError(json.error?.code ?? `http/${res.status}`, json.error?.message ?? res.statusText);
    return json as T;
  }

  // --- session ---------------------------------------------------------------------------------

  async guest(name?: string): Promise<void> {
    const fingerprint = this.fingerprint;
    await this.signIn(await this.http("POST", "/auth/guest", name ? { name, fingerprint } : { fingerprint }));
  }
  async register(username: string, password: string): Promise<void> {
    await this.signIn(await this.http("POST", "/auth/register", { username, password, fingerprint: this.fingerprint }));
  }
  async login(username: string, password: string): Promise<void> {
    await this.signIn(await this.http("POST", "/auth/login", { username, password, fingerprint: this.fingerprint }));
  }

  /** Join options with the device fingerprint, which every join of a pinned token must carry. */
  joinOptions<O extends object>(options: O): O & { fingerprint: string } {
    return { ...options, fingerprint: this.fingerprint };
  }

  private async signIn(session: { token: string; userId: string; name: string }): Promise<void> {
    this.user = session;
    this.client.auth.token = session.token;
    sessionStorage.setItem("realmgate.session", JSON.stringify(session));
    if (this.abilities.length === 0)
      this.abilities = (await this.http<Ability[]>("GET", "/api/abilities")).filter((a) => a.heroes);
    await this.enterWorld();
  }

  /** Picks up a session kept by this tab (a reload); false when there is none or it expired. */
  async resume(): Promise<boolean> {
    const saved = sessionStorage.getItem("realmgate.session");
    if (!saved) return false;
    try {
      await this.signIn(JSON.parse(saved) as { token: string; userId: string; name: string });
      return true;
    } catch (err) {
      this.logout();
      this.error = `session expired: ${String((err as Error).message ?? err)}`;
      return false;
    }
  }

  logout(): void {
    sessionStorage.removeItem("realmgate.session");
    void this.leaveRoom();
    this.user = null;
    this.screen = "login";
  }

  /** Joins the world the profile is in (or `world`). */
  async enterWorld(world?: string): Promise<void> {
    const where = world ?? (await this.http<{ location: { world: string } }>("GET", "/api/me")).location.world;
    const template = await this.http<WorldTemplate>("GET", `/api/worlds/${encodeURIComponent(where)}`);
    await this.leaveRoom();
    this.connect("connecting");
    try {
      const room = await this.client.joinOrCreate("world", this.joinOptions({ world: where, device: "desktop" }));
      this.attach(room, "world", template);
    } catch (err) {
      this.joinFailed(err);
    }
  }

  async enterDungeon(dungeon = "training", party?: string): Promise<void> {
    const template = await this.http<DungeonTemplate>("GET", `/api/dungeons/${encodeURIComponent(dungeon)}`);
    await this.leaveRoom();
    this.connect("connecting");
    try {
      const room = await this.client.joinOrCreate(
        "dungeon",
        this.joinOptions(party ? { dungeon, party } : { dungeon }),
      );
      this.attach(room, "dungeon", template);
    } catch (err) {
      this.joinFailed(err);
    }
  }

  private connect(state: ConnectionState): void {
    this.screen = "connecting";
    this.connection = { state, rtt: this.connection.rtt, retries: 0 };
  }

  private joinFailed(err: unknown): never {
    this.screen = "login";
    this.connection.state = "closed";
    this.error = String((err as Error)?.message ?? err);
    throw err;
  }

  private async leaveRoom(): Promise<void> {
    const room = this.room;
    this.epoch++;
    this.room = null;
    this.welcome = null;
    this.pos = null;
    this.path = [];
    this.intent = null;
    this.tracks.clear();
    if (room) await leaveQuietly(room);
  }

  /** Binds a joined room: messages, state, connection signals. */
  private attach(room: Room, kind: "world" | "dungeon", template: WorldTemplate | DungeonTemplate): void {
    const epoch = ++this.epoch;
    const live = () => epoch === this.epoch;
    this.room = room;
    this.kind = kind;
    this.template = template;
    this.seq = 0;
    this.pos = null;
    this.path = [];
    this.intent = null;
    this.tracks.clear();
    this.selfTrail = [];
    this.debug.movesSent = 0;
    this.cooldownUntil.clear();
    this.cleared = null;
    this.failed = false;
    this.bossPhase = 0;
    this.error = "";
    const doors = kind === "dungeon" ? (template as DungeonTemplate).doors : [];
    this.openMap = buildTileMap(template.width, template.height, template.tileSize, template.blocked);
    this.closedMap = buildTileMap(template.width, template.height, template.tileSize, [...template.blocked, ...doors]);
    this.screen = kind;
    this.connection = { state: "connected", rtt: this.connection.rtt, retries: 0, since: Date.now() };

    room.onMessage("welcome", (w: Welcome) => {
      if (!live()) return;
      this.welcome = w;
      this.budget = 0;
      this.lastMoveAt = performance.now();
    });
    room.onMessage("reject", (r: Omit<Refusal, "at">) => live() && this.refused(r));
    room.onMessage("chat", (c: ChatLine) => {
      if (!live()) return;
      this.chat.push(c);
      if (this.chat.length > 100) this.chat.shift();
    });
    room.onMessage("gathered", (g: { resource: string; item: string; qty: number }) => {
      if (!live()) return;
      this.gathered.push(g);
      this.note(`gathered ${g.item} ×${g.qty}`);
    });
    room.onMessage("travel", (t: { world: string; reservation: unknown }) => {
      if (live()) void this.travelled(t.world, t.reservation);
    });
    room.onMessage(
      "combat",
      (c: { source: string; target: string; ability: string; damage: number; crit: boolean; killed: boolean }) => {
        if (!live()) return;
        this.note(
          `${this.nameOf(c.source)} ${c.ability} → ${this.nameOf(c.target)}: ${c.damage}${c.crit ? " (crit)" : ""}${c.killed ? " ✝" : ""}`,
        );
      },
    );
    room.onMessage("picked", (p: { loot: string; item: string; qty: number }) => {
      if (!live()) return;
      this.picked.push(p);
      this.note(`picked up ${p.item} ×${p.qty}`);
    });
    room.onMessage("phase", (p: { bossPhase: number }) => {
      if (!live()) return;
      this.bossPhase = p.bossPhase;
      this.note(`the boss enters phase ${p.bossPhase}`);
    });
    room.onMessage("cleared", (c: { at: number; xp: number }) => {
      if (!live()) return;
      this.cleared = c;
      this.note(`dungeon cleared! +${c.xp} xp; the doors open`);
    });
    room.onMessage("failed", () => {
      if (!live()) return;
      this.failed = true;
      this.note("every hero fell: the run failed");
    });
    room.onMessage("pong", () => undefined);

    room.onStateChange(() => live() && this.patched());
    room.onDrop((code: number) => {
      if (!live()) return;
      this.connection.state = "reconnecting";
      this.connection.closed = `dropped (${code})`;
    });
    room.onReconnect(() => {
      if (!live()) return;
      this.connection.state = "connected";
      this.connection.retries = room.reconnection.retryCount;
      this.connection.closed = undefined;
    });
    room.onLeave((code: number, reason?: string) => {
      if (!live()) return;
      this.connection.state = "closed";
      this.connection.closed = `${code}${reason ? ` ${reason}` : ""}`;
    });
    room.onError((code: number, message?: string) => {
      if (live()) this.error = `room error ${code}: ${message ?? ""}`;
    });
  }

  /** A portal hand-over: the old world already let the body go; take the reserved seat. */
  private async travelled(world: string, reservation: unknown): Promise<void> {
    const old = this.room;
    this.epoch++;
    this.note(`travelling to ${world}…`);
    try {
      const template = await this.http<WorldTemplate>("GET", `/api/worlds/${encodeURIComponent(world)}`);
      const room = await this.client.consumeSeatReservation(
        reservation as Parameters<Client["consumeSeatReservation"]>[0],
      );
      this.attach(room, "world", template);
    } catch (err) {
      this.error = `travel failed: ${String((err as Error)?.message ?? err)}`;
    }
    if (old) await leaveQuietly(old);
  }

  // --- state -----------------------------------------------------------------------------------

  get state(): StateLike | undefined {
    return this.room?.state as StateLike | undefined;
  }

  /** The own body: a Player in a world, a Hero in a dungeon. */
  get me(): Body | undefined {
    const s = this.state;
    const id = this.room?.sessionId;
    if (!s || !id) return undefined;
    return (this.kind === "world" ? s.players : s.heroes)?.get(id);
  }

  /** The map the server checks moves against: doors block until they open. */
  get map(): TileMap | null {
    const doors = this.state?.doors;
    const allOpen = doors && doors.size > 0 && [...doors.values()].every((d) => d.open);
    return allOpen ? this.openMap : this.closedMap;
  }

  private nameOf(id: string): string {
    const s = this.state;
    return s?.heroes?.get(id)?.name ?? s?.enemies?.get(id)?.kind ?? id;
  }

  private note(line: string): void {
    this.feed.push(line);
    if (this.feed.length > 50) this.feed.shift();
  }

  private patched(): void {
    const s = this.state;
    if (!s) return;
    this.patches++;
    this.debug.tick = s.tick ?? 0;
    if (s.bossPhase !== undefined) this.bossPhase = s.bossPhase;
    const now = performance.now();
    const seen = new Set<string>();
    const bodies: Array<{ id: string; x: number; y: number }> = [];
    for (const p of (this.kind === "world" ? s.players : s.heroes)?.values() ?? [])
      bodies.push({ id: p.sessionId, x: p.x, y: p.y });
    for (const e of s.enemies?.values() ?? []) bodies.push(e);
    for (const b of bodies) {
      seen.add(b.id);
      const samples = this.tracks.get(b.id) ?? [];
      const last = samples[samples.length - 1];
      if (last && last.x === b.x && last.y === b.y) continue;
      // After standing still, start the next leg from now rather than from the old sample.
      if (last && now - last.t > 120) samples.push({ t: now - 50, x: last.x, y: last.y });
      samples.push({ t: now, x: b.x, y: b.y });
      if (samples.length > 30) samples.splice(0, samples.length - 30);
      this.tracks.set(b.id, samples);
    }
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.tracks.delete(id);

    const me = this.me;
    if (me && this.welcome) {
      // First sight of the own body, or the server put it elsewhere (a revival, a refused move):
      // believe the server.
      const idle = now - this.lastSentAt > 400;
      if (!this.pos || (idle && dist(this.pos, me) > 0.5) || dist(this.pos, me) > this.welcome.speed) {
        this.place({ x: me.x, y: me.y }, now);
        this.budget = 0;
        this.lastMoveAt = now;
      }
    }
  }

  /** Where the own body is drawn: its predicted positions, smoothed like the others'. */
  interpolatedSelf(now = performance.now()): Point | undefined {
    const samples = this.selfTrail;
    if (samples.length === 0) return this.pos ?? undefined;
    return interpolate(samples, now - INTERPOLATION_DELAY_MS);
  }

  private place(p: Point, now: number): void {
    this.pos = p;
    const last = this.selfTrail[this.selfTrail.length - 1];
    if (last && now - last.t > 120) this.selfTrail.push({ t: now - MOVE_INTERVAL_MS, x: last.x, y: last.y });
    this.selfTrail.push({ t: now, x: p.x, y: p.y });
    if (this.selfTrail.length > 30) this.selfTrail.splice(0, this.selfTrail.length - 30);
  }

  /** Where `id` is drawn: between the two patches around `now - INTERPOLATION_DELAY_MS`. */
  interpolated(id: string, now = performance.now()): Point | undefined {
    const samples = this.tracks.get(id);
    if (!samples || samples.length === 0) return undefined;
    return interpolate(samples, now - INTERPOLATION_DELAY_MS);
  }

  // --- actions ---------------------------------------------------------------------------------

  /** Sends an action with the next `seq`; returns the `seq`. */
  send(type: string, payload: Record<string, unknown> = {}): number {
    const seq = ++this.seq;
    this.room?.send(type, { seq, ...payload });
    return seq;
  }

  say(text: string): void {
    this.send("chat", { text });
  }

  /** Walks to (x, y) along a path around walls. */
  moveTo(x: number, y: number): void {
    this.intent = { kind: "move", to: { x, y } };
    this.plan({ x, y });
  }

  stop(): void {
    this.intent = null;
    this.path = [];
  }

  setIntent(intent: Intent | null): void {
    this.intent = intent;
    this.path = [];
  }

  private plan(to: Point): void {
    const map = this.map;
    this.path = map && this.pos ? findPath(map, this.pos, to) : [];
  }

  private refused(r: Omit<Refusal, "at">): void {
    this.refusals.push({ ...r, at: Date.now() });
    if (this.refusals.length > 30) this.refusals.shift();
    if (r.action === "move") {
      // The body stayed where the server has it: start again from there.
      const me = this.me;
      if (me) this.place({ x: me.x, y: me.y }, performance.now());
      this.budget = 0;
      this.lastMoveAt = performance.now();
      this.path = [];
    }
    if (r.action === "attack" && r.code === "attack/cooldown")
      this.cooldownUntil.set(this.selectedAbility, performance.now() + 150);
    if (r.action === "travel" || r.action === "gather" || r.action === "pickup") this.intent = null;
  }

  /** Runs 20 times a second: turns the intent and the keys into paced moves and actions. */
  private control(): void {
    const w = this.welcome;
    const me = this.me;
    if (!this.room || !w || !me || !this.pos || this.connection.state !== "connected") return;
    if (me.alive === false) {
      this.path = [];
      return;
    }
    const now = performance.now();
    if (this.keys.x !== 0 || this.keys.y !== 0) {
      this.intent = null;
      const len = Math.hypot(this.keys.x, this.keys.y);
      const reach = w.speed * 0.3;
      this.path = [{ x: this.pos.x + (this.keys.x / len) * reach, y: this.pos.y + (this.keys.y / len) * reach }];
      this.keyWalking = true;
    } else if (this.keyWalking) {
      this.keyWalking = false;
      this.path = [];
    } else if (this.intent) this.pursue(this.intent, now);
    if (this.path.length > 0) this.walk(now, w);
  }

  /** Moves toward `point` until within `range`; true once there. */
  private approach(point: Point, range: number): boolean {
    if (dist(this.pos!, point) <= range) {
      this.path = [];
      return true;
    }
    const goal = this.path[this.path.length - 1];
    if (!goal || dist(goal, point) > 8) this.plan(point);
    return false;
  }

  /** Sends `type` once per `key` until the server had time to answer (no double sends). */
  private once(key: string, type: string, payload: Record<string, unknown>): void {
    const now = performance.now();
    if (this.pendingAction?.key === key && now < this.pendingAction.until) return;
    this.pendingAction = { key, until: now + 1000 };
    this.send(type, payload);
  }

  private pursue(intent: Intent, now: number): void {
    const s = this.state!;
    const w = this.welcome!;
    switch (intent.kind) {
      case "move":
        if (this.path.length === 0) {
          if (dist(this.pos!, intent.to) > 2) this.plan(intent.to);
          if (this.path.length === 0) this.intent = null;
        }
        return;
      case "gather": {
        const r = s.resources?.get(intent.resource);
        if (!r) return void (this.intent = null);
        if (this.approach(r, (w.gatherRange ?? 48) * 0.75)) {
          this.once(`gather:${r.id}`, "gather", { resource: r.id });
          this.intent = null;
        }
        return;
      }
      case "travel": {
        const p = s.portals?.get(intent.portal);
        if (!p) return void (this.intent = null);
        if (this.approach(p, (w.travelRange ?? 60) * 0.6)) {
          this.once(`travel:${p.id}`, "travel", { portal: p.id });
          this.intent = null;
        }
        return;
      }
      case "pickup": {
        const l = s.loot?.get(intent.loot);
        if (!l) return void (this.intent = null);
        if (this.approach(l, (w.pickupRange ?? 60) * 0.6)) {
          this.once(`pickup:${l.id}`, "pickup", { loot: l.id });
          this.intent = null;
        }
        return;
      }
      case "attack":
      case "fight": {
        let target = intent.kind === "attack" ? s.enemies?.get(intent.target) : undefined;
        if (intent.kind === "fight") {
          const alive = [...(s.enemies?.values() ?? [])].filter((e) => e.alive);
          target = alive.sort((a, b) => dist(a, this.pos!) - dist(b, this.pos!))[0];
        }
        if (!target || !target.alive) return void (this.intent = null);
        const ability = this.abilities.find((a) => a.id === this.selectedAbility) ?? this.abilities[0];
        if (!ability) return;
        if (!this.approach(target, ability.range * 0.75)) return;
        const ready = now >= (this.cooldownUntil.get(ability.id) ?? 0);
        if (ready && (this.me?.mana ?? Infinity) >= ability.manaCost) {
          this.cooldownUntil.set(ability.id, now + ability.cooldownMs + 80);
          this.send("attack", { target: target.id, ability: ability.id });
        }
        return;
      }
    }
  }

  /**
   * One paced step along the path. The allowance mirrors the server's: `speed × elapsed` earned
   * since the last move, at most `moveBankMs` of it banked; the client walks at 90 % of it, and the
   * server adds `moveTolerance` on top, so jitter between the two clocks is absorbed.
   */
  private walk(now: number, w: Welcome): void {
    if (now - this.lastSentAt < MOVE_INTERVAL_MS) return;
    const pos = this.pos!;
    const waypoint = this.path[0];
    const remaining = dist(pos, waypoint);
    if (remaining < 0.5) {
      this.path.shift();
      return;
    }
    const speed = w.speed * PACE;
    const earned = Math.min((speed * w.moveBankMs) / 1000, this.budget + (speed * (now - this.lastMoveAt)) / 1000);
    if (earned < Math.min(remaining, speed * 0.1)) return;
    const map = this.map!;
    let len = Math.min(remaining, earned);
    let target: Point | undefined;
    for (let tries = 0; tries < 4 && len > 0; tries++, len -= 1) {
      const f = len / remaining;
      // Whole units, as the server rounds; a rounding that lands across a wall corner is retried shorter.
      const t = { x: Math.round(pos.x + (waypoint.x - pos.x) * f), y: Math.round(pos.y + (waypoint.y - pos.y) * f) };
      t.x = Math.min(w.bounds.width, Math.max(0, t.x));
      t.y = Math.min(w.bounds.height, Math.max(0, t.y));
      if (dist(pos, t) <= earned && !segmentBlocked(map, pos, t)) {
        target = t;
        break;
      }
    }
    if (!target) {
      // Nowhere to go on this line (a door closed, a corner): plan again from here.
      const goal = this.path[this.path.length - 1];
      this.path = [];
      if (goal && this.intent?.kind === "move") this.plan(goal);
      return;
    }
    this.budget = earned - dist(pos, target);
    this.lastMoveAt = now;
    this.lastSentAt = now;
    this.place(target, now);
    this.debug.movesSent++;
    this.send("move", { x: target.x, y: target.y });
    if (dist(target, waypoint) < 1) this.path.shift();
  }

  /** How many entities the client has in view (everything in the state). */
  get entitiesInView(): number {
    const s = this.state;
    if (!s) return 0;
    return (
      (s.players?.size ?? 0) +
      (s.heroes?.size ?? 0) +
      (s.enemies?.size ?? 0) +
      (s.loot?.size ?? 0) +
      (s.portals?.size ?? 0) +
      (s.resources?.size ?? 0)
    );
  }

  /** Whether the SDK would reconnect by itself after a drop now (the room has been up long enough). */
  get reconnectable(): boolean {
    const room = this.room;
    const since = this.connection.since;
    return !!room && since !== undefined && Date.now() - since > room.reconnection.minUptime;
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
  }
}

/**
 * The Realmgate client kit: typed rooms and messages, joins that never miss `welcome`, travel in
 * the right order, and a walker that paces steps the way the server checks them, finds a way
 * around blocked tiles and predicts the own body. It imports only `@colyseus/sdk`, so a game or a
 * browser bundle can use it as it is. docs/CLIENT.md explains the why of each helper.
 */
import type { Client, Room } from "@colyseus/sdk";
import type { ClientMessages, JoinOptions, Kind, Reject, ServerMessages, States } from "./types.js";
import { TileGrid, findPath, type MapInfo } from "./path.js";

export * from "./types.js";
export { TileGrid, findPath, type MapInfo, type Point, type TileRect } from "./path.js";

/** A room of one kind, with its state, messages and the welcome it was joined with. */
export interface Joined<K extends Kind> {
  room: Room<unknown, States[K]>;
  welcome: ServerMessages[K]["welcome"];
  /** Sends a client message; actions get the next `seq`, which is returned (0 for `ping`). */
  send<T extends keyof ClientMessages[K]>(type: T, payload: Omit<ClientMessages[K][T], "seq">): number;
  /** Typed `room.onMessage`; returns the function that removes the handler. */
  on<T extends keyof ServerMessages[K]>(type: T, handler: (message: ServerMessages[K][T]) => void): () => void;
}

/** Resolves with the next `type` message on `room`. Register it before any `await`. */
export function nextMessage<M>(room: Room, type: string, where: (m: M) => boolean = () => true): Promise<M> {
  return new Promise((resolve) => {
    const off = room.onMessage(type, (message: M) => {
      if (!where(message)) return;
      off();
      resolve(message);
    });
  });
}

/** One `seq` counter per connection, shared by every helper that sends actions on it. */
const seqs = new WeakMap<Room, number>();
export function nextSeq(room: Room): number {
  const seq = (seqs.get(room) ?? 0) + 1;
  seqs.set(room, seq);
  return seq;
}

/**
 * Wraps a joined room: `welcome` is sent once, straight after the join, so its handler is
 * registered here, in the same turn the join resolves, before any `await` can let it pass.
 */
export function wrap<K extends Kind>(room: Room, welcome: Promise<unknown>): Promise<Joined<K>> {
  const typed = room as Joined<K>["room"];
  const send: Joined<K>["send"] = (type, payload) => {
    const seq = type === "ping" ? 0 : nextSeq(room);
    room.send(type as string, type === "ping" ? payload : { seq, ...payload });
    return seq;
  };
  const on: Joined<K>["on"] = (type, handler) => room.onMessage(type as string, handler);
  // Sent unasked in any room (PROTOCOL §7); a client that cares listens with `on` as well.
  for (const type of ["achievement", "whisper"]) room.onMessage(type, () => undefined);
  return welcome.then(async (w) => {
    await ownBody(room);
    return { room: typed, welcome: w as Joined<K>["welcome"], send, on };
  });
}

/** The own body (a world's player or a dungeon's hero) as the server last sent it. */
export function bodyOf(room: Room): { x: number; y: number } | undefined {
  const state = room.state as Partial<{ players: States["world"]["players"]; heroes: States["dungeon"]["heroes"] }>;
  return (state?.players ?? state?.heroes)?.get(room.sessionId);
}

/** Resolves once the own body is in the state (the patch after the join brings it). */
function ownBody(room: Room): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!bodyOf(room)) return;
      room.onStateChange.remove(check);
      resolve();
    };
    room.onStateChange(check);
    check();
  });
}

async function join<K extends Kind>(room: Promise<Room>): Promise<Joined<K>> {
  const joined = await room;
  return wrap<K>(joined, nextMessage(joined, "welcome"));
}

/**
 * Joins (or opens) a world and resolves once its `welcome` and the own body are in.
 * `client.auth.token` must be set.
 */
export function joinWorld(client: Client, options: JoinOptions["world"] = {}): Promise<Joined<"world">> {
  return join(client.joinOrCreate("world", options));
}

/** Joins (or opens) a dungeon instance; heroes with the same `party` share one. */
export function joinDungeon(client: Client, options: JoinOptions["dungeon"] = {}): Promise<Joined<"dungeon">> {
  return join(client.joinOrCreate("dungeon", options));
}

/**
 * Walks through a portal and arrives on the other side. The order matters: the server answers
 * `travel {world, reservation}` only after the body has left this world and the profile has been
 * written; the client then leaves the old room and consumes the reservation. A refusal (too far,
 * cooldown, target full) rejects with the `reject` and leaves the player where it was.
 */
export async function travel(client: Client, from: Joined<"world">, portal: string): Promise<Joined<"world">> {
  const answer = nextMessage<ServerMessages["world"]["travel"]>(from.room, "travel");
  const seq = from.send("travel", { portal });
  const refused = nextMessage<Reject>(from.room, "reject", (r) => r.seq === seq).then((r) => {
    throw new RefusedError(r);
  });
  const { reservation } = await Promise.race([answer, refused]);
  await from.room.leave();
  const room = await client.consumeSeatReservation(reservation as Parameters<Client["consumeSeatReservation"]>[0]);
  return wrap<"world">(room, nextMessage(room, "welcome"));
}

/** A `reject` as an error: `code` is what to branch on. */
export class RefusedError extends Error {
  constructor(readonly reject: Reject) {
    super(`${reject.action} refused: ${reject.code} (${reject.message})`);
    this.name = "RefusedError";
  }
  get code(): string {
    return this.reject.code;
  }
}

/** The header a pinned token's holder sends its device fingerprint in, on every Bearer route (PROTOCOL §8). */
export const FINGERPRINT_HEADER = "X-Device-Fingerprint";

/** What `/auth/guest`, `/auth/register` and `/auth/login` answer. */
export interface Session {
  token: string;
  userId: string;
  name: string;
  guest?: boolean;
}

/**
 * Logs in at `httpUrl`: `guest {name?}`, `register {username, password}` or `login {username,
 * password}`. With a `fingerprint` (8-128 characters the client derives from its device, and
 * keeps) the token is pinned to it: every join must then send it too (the join option
 * `fingerprint`; `connectWithFallback`'s option `fingerprint` sends it on its HTTP calls as well).
 * A refusal throws an Error whose message starts with its code (`auth/locked: ...`).
 */
export async function signIn(
  httpUrl: string,
  route: "guest" | "register" | "login",
  body: { name?: string; username?: string; password?: string } = {},
  fingerprint?: string,
): Promise<Session> {
  const res = await fetch(`${httpUrl.replace(/\/$/, "")}/auth/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fingerprint === undefined ? body : { ...body, fingerprint }),
  });
  const json = (await res.json().catch(() => ({}))) as Session & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${json.error?.code ?? `http/${res.status}`}: ${json.error?.message ?? res.statusText}`);
  return json;
}

/** Fetches a map (`/api/worlds/:id` or `/api/dungeons/:id`) from the server at `httpUrl`. */
export async function fetchMap(httpUrl: string, kind: Kind, id: string): Promise<MapInfo> {
  const res = await fetch(`${httpUrl.replace(/\/$/, "")}/api/${kind === "world" ? "worlds" : "dungeons"}/${id}`);
  if (!res.ok) throw new Error(`GET map ${kind}/${id}: ${res.status}`);
  return (await res.json()) as MapInfo;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Moves the own body the way the server allows: each step is at most the distance earned since
 * the last one (`speed` × time, at most `moveBankMs` of it), with a safety margin instead of the
 * server's `moveTolerance`; the route goes around blocked tiles (and closed doors).
 *
 * Prediction: `position` is where the body will be once the steps sent so far are applied; a
 * game draws the own body there. A refused step (or a server that moved the body, as a revival
 * does) snaps it back to the server's position.
 */
export class Walker<K extends Kind> {
  /** Predicted own position (whole units). */
  position: { x: number; y: number };
  private budget = 0;
  private earnedAt = performance.now();
  private refused: Reject | undefined;
  private readonly pending = new Set<number>();
  private readonly grids: { closed: TileGrid; open: TileGrid } | undefined;

  /** Time between steps, ms: short enough to look smooth, long enough not to hit the rate limit. */
  static readonly stepMs = 100;
  /** Share of `speed` the walker uses: the server measures time from arrival, the client from sending. */
  static readonly margin = 0.9;

  constructor(
    private readonly joined: Joined<K>,
    map?: MapInfo,
  ) {
    this.grids = map && { closed: new TileGrid(map), open: new TileGrid(map, { doorsOpen: true }) };
    this.position = this.server ?? { x: 0, y: 0 };
    joined.room.onMessage("reject", (r: Reject) => {
      if (r.seq === null || !this.pending.has(r.seq)) return;
      this.refused = r;
      this.reconcile();
    });
    joined.room.onStateChange(() => {
      // Nothing in flight: the server's word is the position (a revival, a correction).
      const server = this.server;
      if (server && this.pending.size === 0 && (server.x !== this.position.x || server.y !== this.position.y))
        this.position = { ...server };
    });
  }

  /** The own body as the server last said. */
  get server(): { x: number; y: number } | undefined {
    const body = bodyOf(this.joined.room);
    return body && { x: body.x, y: body.y };
  }

  /** Whether every door of a dungeon is open (a cleared dungeon); worlds have none. */
  private get doorsOpen(): boolean {
    const doors = (this.joined.room.state as Partial<States["dungeon"]>).doors;
    return doors !== undefined && doors.size > 0 && [...doors.values()].every((d) => d.open);
  }

  /**
   * Walks to (x, y), around blocked tiles and closed doors; rejects with a {@link RefusedError} if a
   * step is refused.
   */
  async walkTo(x: number, y: number): Promise<void> {
    const target = { x: Math.round(x), y: Math.round(y) };
    const grid = this.grids && (this.doorsOpen ? this.grids.open : this.grids.closed);
    const route = grid ? findPath(grid, this.position, target) : [target];
    if (!route) throw new Error(`no way from (${this.position.x}, ${this.position.y}) to (${target.x}, ${target.y})`);
    for (const waypoint of route) await this.stepTowards(waypoint);
    await this.settled();
  }

  private async stepTowards(to: { x: number; y: number }): Promise<void> {
    const { speed, moveBankMs } = this.joined.welcome;
    while (this.position.x !== to.x || this.position.y !== to.y) {
      await sleep(Walker.stepMs);
      if (this.refused) throw new RefusedError(this.refused);
      const now = performance.now();
      const cap = (speed * moveBankMs) / 1000;
      this.budget = Math.min(cap, this.budget + (speed * Walker.margin * (now - this.earnedAt)) / 1000);
      this.earnedAt = now;
      const from = this.position;
      const dist = Math.hypot(to.x - from.x, to.y - from.y);
      const f = dist <= this.budget ? 1 : this.budget / dist;
      // Whole units, as the server rounds; a step the rounding would lengthen past the budget waits.
      const next = { x: Math.round(from.x + (to.x - from.x) * f), y: Math.round(from.y + (to.y - from.y) * f) };
      const step = Math.hypot(next.x - from.x, next.y - from.y);
      if (step === 0 || step > this.budget) continue;
      this.budget -= step;
      this.position = next;
      this.pending.add(this.joined.send("move" as never, next as never));
    }
  }

  /** Resolves once the server shows the body where it was predicted (or throws the refusal). */
  private settled(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.refused) return done(new RefusedError(this.refused));
        const server = this.server;
        if (server && server.x === this.position.x && server.y === this.position.y) done();
      };
      const done = (err?: Error) => {
        this.joined.room.onStateChange.remove(check);
        this.pending.clear();
        if (err) reject(err);
        else resolve();
      };
      this.joined.room.onStateChange(check);
      check();
    });
  }

  private reconcile(): void {
    this.pending.clear();
    this.budget = 0;
    this.earnedAt = performance.now();
    if (this.server) this.position = this.server;
  }

  /** Forgets a refusal so the walker can be used again (after a `walkTo` rejected). */
  reset(): void {
    this.refused = undefined;
    this.reconcile();
  }
}

/**
 * A world walker that speaks the Colyseus wire protocol itself, for load generation at little cost
 * per client: the matchmaking HTTP call, a WebSocket, the JOIN_ROOM handshake, msgpack `move`
 * messages, and byte counts of what arrives. It decodes state only until it has seen its own body
 * (its starting position); after that it keeps its position from its own moves and reads nothing
 * but the room messages (`welcome`, `reject`), never a patch.
 *
 * The bytes that state patches carry are counted, not decoded. Full SDK clients (probes) are what
 * check correctness and time action → ack; see loadtest/bots.ts.
 */
import { Packr, unpack } from "msgpackr";
import { WebSocket } from "ws";
import { SchemaSerializer } from "@colyseus/sdk";
import { decode, encode, type Iterator } from "@colyseus/schema";
import { segmentBlocked, type TileMap } from "../src/domain/tilemap.js";
import { pickWaypoint, type BotStats } from "./bots.js";

/** Protocol codes of @colyseus/shared-types (the low five bits of a frame's first byte). */
const JOIN_ROOM = 10;
const ERROR = 11;
const ROOM_DATA = 13;
const ROOM_STATE = 14;
const ROOM_STATE_PATCH = 15;
const CODE_MASK = 0x1f;
const TIMED = 0x80;
const UNRELIABLE = 0x40;

const packr = new Packr({ useRecords: false });

/** The part of a world's state a wire client reads once: its own body. */
interface WorldStateView {
  players?: Map<string, { x: number; y: number }>;
}

interface SeatReservation {
  roomId: string;
  sessionId: string;
  processId: string;
  publicAddress?: string;
}

/** Byte counts shared by every wire client of a thread. */
export interface WireCounters {
  bytes: number;
  frames: number;
}

/** One room connection on the wire: join, send messages, count what arrives. */
export class WireConnection {
  private ws!: WebSocket;
  private serializer: SchemaSerializer | undefined = new SchemaSerializer();
  private readonly handlers = new Map<string, (payload: unknown) => void>();
  /** Called with the decoded state until it returns true; then state is no longer decoded. */
  private stateWatcher: ((state: WorldStateView) => boolean) | undefined;
  sessionId = "";
  closed = false;
  onClose: (() => void) | undefined;

  constructor(private readonly counters: WireCounters) {}

  /** Matchmaking, WebSocket and handshake; resolves once the server has the JOIN_ROOM answer. */
  async join(httpUrl: string, token: string, roomName: string, options: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${httpUrl}/matchmake/joinOrCreate/${roomName}`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(options),
    });
    const seat = (await res.json()) as SeatReservation & { error?: string; code?: number };
    if (!res.ok || !seat.roomId) throw new Error(`matchmake: HTTP ${res.status} ${seat.error ?? ""}`);
    this.sessionId = seat.sessionId;
    const base = seat.publicAddress ? `ws://${seat.publicAddress}` : httpUrl.replace(/^http/, "ws");
    // The query the SDK builds: the session and the token.
    const url = `${base}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}&_authToken=${token}`;
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.binaryType = "nodebuffer";
    await new Promise<void>((resolve, reject) => {
      this.ws.on("message", (data: Buffer) => {
        this.counters.bytes += data.byteLength;
        this.counters.frames++;
        if ((data[0] & CODE_MASK) === JOIN_ROOM) resolve();
        this.onFrame(data);
      });
      this.ws.on("error", reject);
      this.ws.on("close", (code) => {
        this.closed = true;
        reject(new Error(`closed (${code}) before joining`));
        this.onClose?.();
      });
    });
  }

  on<T>(type: string, handler: (payload: T) => void): void {
    this.handlers.set(type, handler as (payload: unknown) => void);
  }

  /** Decodes state, handing it to `watcher` after every frame, until the watcher returns true. */
  watchState(watcher: (state: WorldStateView) => boolean): void {
    this.stateWatcher = watcher;
  }

  /** `room.send(type, payload)` of the SDK: ROOM_DATA, the type as a schema string, msgpack. */
  send(type: string, payload: unknown): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    const header = Buffer.alloc(2 + Buffer.byteLength(type));
    header[0] = ROOM_DATA;
    const it: Iterator = { offset: 1 };
    encode.string(header, type, it);
    const body = packr.pack(payload);
    this.ws.send(Buffer.concat([header.subarray(0, it.offset), body]));
  }

  /** Leaves as the SDK does (a consented close). */
  leave(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close(4000);
      setTimeout(resolve, 2000).unref();
    });
  }

  private onFrame(buf: Buffer): void {
    const raw = buf[0];
    const code = raw & CODE_MASK;
    const it: Iterator = { offset: 1 };
    if (code === ROOM_DATA) {
      const type = decode.stringCheck(buf, it) ? decode.string(buf, it) : String(decode.number(buf, it));
      const payload: unknown = buf.byteLength > it.offset ? unpack(buf.subarray(it.offset)) : undefined;
      this.handlers.get(type)?.(payload);
      return;
    }
    if (code === JOIN_ROOM) {
      decode.utf8Read(buf, it, buf[it.offset++]); // reconnection token
      decode.utf8Read(buf, it, buf[it.offset++]); // serializer id
      const reflectionLength = decode.number(buf, it);
      if (reflectionLength > 0 && this.serializer) {
        const end = it.offset + reflectionLength;
        this.serializer.handshake(buf.subarray(0, end), it);
      }
      const ack = Buffer.from([JOIN_ROOM]);
      this.ws.send(ack);
      return;
    }
    if (code === ERROR) {
      this.handlers.get("__error")?.(undefined);
      return;
    }
    // State: decoded only while the watcher still needs it, then counted and dropped.
    if (!this.serializer || !this.stateWatcher) return;
    if (raw & TIMED) it.offset += 8;
    if (code === ROOM_STATE) this.serializer.setState(buf, it);
    else if (code === ROOM_STATE_PATCH) {
      if (raw & UNRELIABLE) it.offset += 2;
      this.serializer.patch(buf, it);
    } else return;
    if (this.stateWatcher(this.serializer.getState() as WorldStateView)) {
      this.stateWatcher = undefined;
      this.serializer.teardown();
      this.serializer = undefined;
    }
  }
}

/**
 * Walks a world between random reachable waypoints like WorldWalker, over a WireConnection. Its
 * position is its last move; a refused move takes it back to where it was before that move.
 */
export class WireWalker {
  private seq = 0;
  private pos: { x: number; y: number } | null = null;
  private waypoint: { x: number; y: number } | null = null;
  /** Position before each move not yet known to be refused, by seq (the last few only). */
  private readonly before = new Map<number, { x: number; y: number }>();
  private lastStep = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private speed = 0;

  /** Made before the socket opens, so that it sees the first state. */
  constructor(
    private readonly conn: WireConnection,
    private readonly map: TileMap,
    private readonly stats: BotStats,
    private readonly chatEveryMs = 60_000,
  ) {
    conn.on<{ code: string; seq: number | null }>("reject", (r) => {
      stats.rejects[r.code] = (stats.rejects[r.code] ?? 0) + 1;
      const back = r.seq === null ? undefined : this.before.get(r.seq);
      if (back) {
        this.pos = back;
        this.waypoint = null;
      }
    });
    conn.watchState((state) => {
      const me = state.players?.get(conn.sessionId);
      if (!me) return false;
      this.pos = { x: me.x, y: me.y };
      return true;
    });
  }

  /** Acts `hz` times a second, at the `speed` of the welcome, until stopped. */
  start(welcome: { speed: number }, hz = 10): void {
    this.speed = welcome.speed;
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

  private act(elapsedMs: number): void {
    const me = this.pos;
    if (!me) return;
    if (Math.random() < 100 / this.chatEveryMs) this.conn.send("chat", { seq: ++this.seq, text: "hello from a bot" });
    this.waypoint ??= pickWaypoint(this.map, me);
    if (!this.waypoint) return;
    const to = this.waypoint;
    const d = Math.hypot(to.x - me.x, to.y - me.y);
    // 80 % of the allowance, less a unit for the server's rounding, as WorldWalker does.
    const len = Math.min(d, (this.speed * elapsedMs * 0.8) / 1000 - 1);
    if (d <= 0.5 || len < 1) {
      if (d <= 0.5) this.waypoint = null;
      return;
    }
    const f = len / d;
    const next = { x: Math.round(me.x + (to.x - me.x) * f), y: Math.round(me.y + (to.y - me.y) * f) };
    if (segmentBlocked(this.map, me, next)) {
      this.waypoint = null;
      return;
    }
    const seq = ++this.seq;
    this.before.set(seq, me);
    this.before.delete(seq - 20);
    this.pos = next;
    this.conn.send("move", { seq, ...next });
  }
}

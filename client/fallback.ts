/**
 * `connectWithFallback`: one connection to a room that survives a flapping WebSocket. It plays over
 * the SDK's WebSocket; when the socket keeps failing it takes the same seat over HTTP (PROTOCOL §6:
 * `POST /api/sessions/resume`, then long polls), and goes back to the WebSocket
 * (`client.reconnect`) as soon as one holds again. The game sees one event interface and one `seq`
 * count throughout; the server sees one seat, with its body and its `seq`, whichever way it arrives.
 *
 * Unlike the rest of the kit, this module imports `@colyseus/sdk` at run time (it makes the client).
 */
import { Client, type Room } from "@colyseus/sdk";
import { FINGERPRINT_HEADER } from "./index.js";

export type Transport = "ws" | "http";

export interface FallbackOptions {
  /** Join options of the room kind (`{world, device}`, `{dungeon, party}`). */
  join?: Record<string, unknown>;
  /**
   * The device fingerprint the token is pinned to (PROTOCOL §8, see `signIn`): sent as the join
   * option `fingerprint` and as the header X-Device-Fingerprint on every HTTP call of the session,
   * without which a pinned token is refused with `auth/fingerprint_mismatch`.
   */
  fingerprint?: string;
  /** WebSocket failures within `failureWindowMs` after which the connection moves to HTTP. @default 2 */
  wsFailures?: number;
  /** @default 60000 */
  failureWindowMs?: number;
  /**
   * How long it stays on HTTP before it tries the WebSocket again (doubling while that fails, up
   * to 8 times). @default 5000
   */
  wsRetryMs?: number;
  /** The `wait` of each poll. @default 20000 */
  pollWaitMs?: number;
}

export interface FallbackEvents {
  /** A room message (`welcome`, `reject`, `chat`, ...), the same on either transport. */
  message: (type: string, payload: unknown) => void;
  /** The seat's whole view changed; the state as plain JSON (`toJSON()` of the SDK's state). */
  state: (state: unknown) => void;
  /** The connection now runs over this transport. */
  transport: (transport: Transport) => void;
  /** The seat has ended (left, replaced, expelled, or its reconnection window passed). */
  leave: (code: number, reason: string) => void;
}

interface SessionInfo {
  sessionId: string;
  roomId: string;
  room: string;
  reconnectionToken: string;
}

interface Poll {
  cursor: number;
  state?: unknown;
  messages: Array<{ type: string; payload: unknown }>;
  closed?: { code: number; reason: string };
}

/** Close codes after which the seat is gone for good (consented leave, replaced, expelled, travelled). */
const FINAL = (code: number) => code === 4000 || (code >= 4100 && code < 4200);

export class FallbackConnection {
  /** The transport in use; undefined while it switches. */
  transport: Transport | undefined = "ws";
  sessionId: string;
  /** The last `seq` given to an action; it carries over every switch. */
  seq = 0;
  /** The last state, as JSON. */
  state: unknown;
  /** The `welcome` the room sent at the join (kept: it is sent once, before any handler could be added). */
  welcome: unknown;
  /** How many times it moved to HTTP, and back to the WebSocket. */
  readonly switches = { toHttp: 0, toWs: 0 };

  private room: Room | undefined;
  private session: SessionInfo | undefined;
  /** The token that takes the seat over, whichever transport holds it now. */
  private token: string;
  private readonly failures: number[] = [];
  private readonly handlers: { [E in keyof FallbackEvents]: Set<FallbackEvents[E]> } = {
    message: new Set(),
    state: new Set(),
    transport: new Set(),
    leave: new Set(),
  };
  private readonly queue: Array<{ type: string; payload: unknown }> = [];
  private posting: Promise<void> = Promise.resolve();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs: number;
  /** Set once the game asked to leave, or the seat ended. */
  private ended = false;
  /** Set once `leave` was emitted. */
  private left = false;
  private readonly settings: Required<Omit<FallbackOptions, "join" | "fingerprint">>;
  private readonly fingerprint: string | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly authToken: string,
    private readonly client: Client,
    room: Room,
    options: FallbackOptions,
  ) {
    this.settings = {
      wsFailures: options.wsFailures ?? 2,
      failureWindowMs: options.failureWindowMs ?? 60_000,
      wsRetryMs: options.wsRetryMs ?? 5000,
      pollWaitMs: options.pollWaitMs ?? 20_000,
    };
    this.fingerprint = options.fingerprint;
    this.retryMs = this.settings.wsRetryMs;
    this.sessionId = room.sessionId;
    this.token = room.reconnectionToken;
    this.attach(room);
  }

  on<E extends keyof FallbackEvents>(event: E, handler: FallbackEvents[E]): () => void {
    this.handlers[event].add(handler);
    return () => this.handlers[event].delete(handler);
  }

  /** Sends a room message; actions get the next `seq` (returned; 0 for `ping`). */
  send(type: string, payload: Record<string, unknown> = {}): number {
    const seq = type === "ping" ? 0 : ++this.seq;
    const message = type === "ping" ? payload : { seq, ...payload };
    if (this.transport === "ws" && this.room) this.room.send(type, message);
    else {
      this.queue.push({ type, payload: message });
      if (this.transport === "http") this.flush();
    }
    return seq;
  }

  /** Leaves the room (the seat is released and the profile saved). */
  async leave(): Promise<void> {
    this.ended = true;
    clearTimeout(this.retryTimer);
    const session = this.session;
    this.session = undefined;
    if (this.room) await this.room.leave();
    else if (session) await this.http("DELETE", `/api/sessions/${session.sessionId}`);
    this.end(4000, "left");
  }

  // --- WebSocket ----------------------------------------------------------------------------

  private attach(room: Room): void {
    this.room = room;
    this.session = undefined;
    this.token = room.reconnectionToken;
    this.transport = "ws";
    // Reconnection is this connection's business: it decides between the WebSocket and HTTP.
    room.reconnection.enabled = false;
    room.onMessage("*", (type: string | number, payload: unknown) => {
      if (type === "welcome") this.welcome = payload;
      this.emit("message", String(type), payload);
    });
    room.onStateChange((state: { toJSON(): unknown }) => {
      this.state = state.toJSON();
      this.emit("state", this.state);
    });
    room.onLeave((code: number, reason?: string) => {
      if (this.room !== room) return;
      this.room = undefined;
      this.transport = undefined;
      if (this.ended || FINAL(code)) return this.end(code, reason ?? "");
      void this.wsLost();
    });
    for (const { type, payload } of this.queue.splice(0)) room.send(type, payload);
    this.emit("transport", "ws");
  }

  /** The socket is gone: once more over the WebSocket, unless it failed too often lately. */
  private async wsLost(): Promise<void> {
    if (this.failed() < this.settings.wsFailures && (await this.tryWs())) return;
    await this.toHttp();
  }

  /** Counts a failure; answers how many fell within the window. */
  private failed(): number {
    const now = Date.now();
    this.failures.push(now);
    while (this.failures.length > 0 && now - this.failures[0] > this.settings.failureWindowMs) this.failures.shift();
    return this.failures.length;
  }

  private async tryWs(): Promise<boolean> {
    try {
      const room = await this.client.reconnect(this.token);
      if (this.ended) {
        await room.leave();
        return true;
      }
      this.attach(room);
      return true;
    } catch {
      return false;
    }
  }

  // --- HTTP -----------------------------------------------------------------------------------

  private async toHttp(): Promise<void> {
    let info: SessionInfo;
    try {
      info = await this.http<SessionInfo>("POST", "/api/sessions/resume", { reconnectionToken: this.token });
    } catch (err) {
      return this.end(4003, `could not take the seat over HTTP: ${String(err)}`);
    }
    this.session = info;
    this.token = info.reconnectionToken;
    this.transport = "http";
    this.switches.toHttp++;
    this.emit("transport", "http");
    this.flush();
    void this.pollLoop(info);
    this.scheduleWsRetry();
  }

  private async pollLoop(info: SessionInfo): Promise<void> {
    let cursor = 0;
    while (this.session === info && !this.ended) {
      let poll: Poll;
      try {
        poll = await this.http<Poll>(
          "GET",
          `/api/sessions/${info.sessionId}/poll?cursor=${cursor}&wait=${this.settings.pollWaitMs}`,
        );
      } catch {
        if (this.session !== info) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (this.session !== info) return; // switched back to the WebSocket meanwhile
      cursor = poll.cursor;
      for (const { type, payload } of poll.messages) this.emit("message", type, payload);
      if (poll.state !== undefined) {
        this.state = poll.state;
        this.emit("state", poll.state);
      }
      if (poll.closed) {
        this.session = undefined;
        this.transport = undefined;
        clearTimeout(this.retryTimer);
        // Dropped for want of polls (a stalled app): take the seat back while its window lasts.
        if (poll.closed.reason.startsWith("session/idle")) return this.toHttp();
        return this.end(poll.closed.code, poll.closed.reason);
      }
    }
  }

  /** Posts queued messages in order, 20 at most per POST. */
  private flush(): void {
    this.posting = this.posting.then(async () => {
      while (this.session && this.queue.length > 0) {
        const batch = this.queue.slice(0, 20);
        try {
          await this.http("POST", `/api/sessions/${this.session.sessionId}/messages`, batch);
          this.queue.splice(0, batch.length);
        } catch {
          return; // kept for the next transport
        }
      }
    });
  }

  private scheduleWsRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.backToWs(), this.retryMs);
  }

  /** Tries the WebSocket again; on failure takes the seat back over HTTP and waits longer. */
  private async backToWs(): Promise<void> {
    const info = this.session;
    if (!info || this.ended) return;
    await this.posting;
    this.session = undefined; // stops the poll loop: the WebSocket takes the seat
    this.transport = undefined;
    if (await this.tryWs()) {
      this.switches.toWs++;
      this.retryMs = this.settings.wsRetryMs;
      return;
    }
    this.retryMs = Math.min(this.retryMs * 2, this.settings.wsRetryMs * 2 ** 8);
    await this.toHttp();
  }

  private async http<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.endpoint + path, {
      method,
      headers: {
        authorization: `Bearer ${this.authToken}`,
        ...(this.fingerprint === undefined ? {} : { [FINGERPRINT_HEADER]: this.fingerprint }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private end(code: number, reason: string): void {
    if (this.left) return;
    this.left = true;
    this.ended = true;
    clearTimeout(this.retryTimer);
    this.emit("leave", code, reason);
  }

  private emit<E extends keyof FallbackEvents>(event: E, ...args: Parameters<FallbackEvents[E]>): void {
    for (const handler of this.handlers[event]) (handler as (...a: Parameters<FallbackEvents[E]>) => void)(...args);
  }
}

/**
 * Joins `room` over the SDK's WebSocket at `endpoint` (`http(s)://host:port`) with `token`, and
 * keeps the seat through WebSocket failures by moving to HTTP and back. Resolves once joined.
 */
export async function connectWithFallback(
  endpoint: string,
  token: string,
  room: string,
  options: FallbackOptions = {},
): Promise<FallbackConnection> {
  const base = endpoint.replace(/\/$/, "");
  const client = new Client(base.replace(/^http/, "ws"));
  client.auth.token = token;
  const join = options.fingerprint === undefined ? options.join : { ...options.join, fingerprint: options.fingerprint };
  const joined = await client.joinOrCreate(room, join ?? {});
  return new FallbackConnection(base, token, client, joined, options);
}

/**
 * What every Realmgate room shares: token checks at join, one seat per user, the message
 * pipeline (rate limit → shape → seq → rule → reject or apply), the reconnection window, profile
 * checkout and release, telemetry, and one place that catches and logs whatever a hook throws.
 *
 * Subclasses supply the state, the bodies and the rules (`create`, `placeBody`, `removeBody`);
 * they stay thin.
 */
import {
  matchMaker,
  Room,
  ServerError,
  ErrorCode,
  Protocol,
  type Client,
  type RoomException,
  type RoomMethodName,
} from "@colyseus/core";
import type { Deferred } from "@colyseus/core";
import { z } from "zod";
import type { Logger } from "../log.js";
import type { Profile } from "../persistence/store.js";
import { CloseCodes, JoinErrorCode, RejectCode } from "../protocol/codes.js";
import { policy } from "../content/policy.js";
import type { Refusal, Verdict } from "../domain/result.js";
import type { SecuritySignal } from "../telemetry/security.js";
import { fullBucket, strike, take, type Bucket, type RateSpec } from "../validators/rateLimit.js";
import { loopStall } from "../telemetry/loopLag.js"; // store/stall: forgive a backlog after a loop stall
import { checkSeq } from "../validators/seq.js";
import { describeIssue, Ping, seqOf } from "../validators/messages.js";
import { seatKey, type Services } from "../services.js";

/** What `onAuth` hands to `onJoin` as `client.auth`. */
export interface AuthData {
  userId: string;
  name: string;
}

/** The server's record of one seated session, whether connected or inside its reconnection window. */
export interface Seat {
  sessionId: string;
  userId: string;
  name: string;
  client: Client;
  profile: Profile;
  /** Highest accepted `seq`; -1 before the first action. */
  lastSeq: number;
  buckets: Map<string, Bucket>;
  floodStrikes: number[];
  malformedStrikes: number[];
  /** Set while the connection is gone and the body waits for a reconnection. */
  reconnection: Deferred<Client> | null;
  /** Set when the session is ended on purpose (replaced, flooding, travelled): no reconnection window. */
  ended: boolean;
  /** Room time of the arrival, when the session came through a portal; 0 otherwise. */
  arrivedAt: number;
  /** Set while a portal hand-over is under way: the seat's messages are ignored. */
  travelling: boolean;
}

/**
 * Who arrives with a seat that the server reserved itself (a portal hand-over). Such a reservation
 * skips onAuth, so no claims reach onJoin and this is the only way identity does; a client's own
 * join always goes through onAuth, whose claims take precedence.
 */
const Traveller = z.object({ traveller: z.object({ userId: z.string().min(1), name: z.string().min(1) }) });

type Rate = keyof typeof policy.rates;

/** How often the server pings each client to measure its round trip. */
const RTT_SAMPLE_MS = 5000;

export abstract class GameRoom<State extends object> extends Room<{ state: State }> {
  /** Injected by `bindRoom`. */
  protected services!: Services;
  protected log!: Logger;
  protected readonly seats = new Map<string, Seat>();
  /**
   * The time rules see, in ms. Monotonic and read when a message arrives: the room clock only
   * advances once a tick, and a move checked against a stale clock looks up to a tick too fast.
   */
  protected get now(): number {
    return performance.now();
  }
  protected tick = 0;
  private untrack: (() => void) | undefined;

  /** Name of the room kind: seat exclusivity ("one seat per user per room kind") and metrics. */
  abstract readonly kind: string;
  /** The world or dungeon id, for logs and metrics. */
  abstract get world(): string;
  /** Join options of this room kind; defaults are applied before matchmaking. */
  static joinOptions(_services: Services): z.ZodType {
    return z.object({});
  }

  /** Builds the room: content, state, actions, simulation. */
  protected abstract create(options: Record<string, unknown>): void;
  /** Adds the body of a joining seat to the state. */
  protected abstract placeBody(seat: Seat, options: unknown): void;
  /** Removes the body of a leaving seat and writes its final position etc. into its profile. */
  protected abstract removeBody(seat: Seat): void;
  /** Fields of the `welcome` message beyond the common ones. */
  protected abstract welcomeExtras(seat: Seat): Record<string, unknown>;
  protected abstract get speed(): number;
  protected abstract get bounds(): { width: number; height: number };
  protected abstract get tickRate(): number;

  /**
   * Checks the token and the join options. Runs before matchmaking with the same options object,
   * so the defaults it fills in (for instance `world: "meadow"`) are what `filterBy` matches on.
   */
  static async authenticate(
    services: Services,
    kind: string,
    schema: z.ZodType,
    token: string | undefined,
    options: Record<string, unknown>,
  ): Promise<AuthData> {
    const parsed = schema.safeParse(options ?? {});
    const world = parsed.success
      ? String(
          (parsed.data as { world?: string; dungeon?: string }).world ?? (parsed.data as { dungeon?: string }).dungeon,
        )
      : "-";
    const authFailure = (code: string, why: string) => {
      services.security.signal("auth_failure", { room: kind, world, reason: code });
      return new ServerError(ErrorCode.AUTH_FAILED, `${code}: ${why}`);
    };
    if (!token)
      throw authFailure(
        JoinErrorCode.AuthMissing,
        "set client.auth.token to a token from /auth/guest, /auth/register or /auth/login",
      );
    const verdict = await services.tokens.verify(token);
    if (!verdict.ok)
      throw authFailure(
        verdict.reason === "expired" ? JoinErrorCode.AuthExpired : JoinErrorCode.AuthInvalid,
        `the token is ${verdict.reason}; log in again`,
      );
    if (!parsed.success)
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.InputInvalid}: join options ${describeIssue(parsed.error)}`,
      );
    if (services.redis && !services.redis.up) {
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.PresenceUnavailable}: the cluster's Redis is unreachable; rooms in play go on, new joins wait until it is back`,
      );
    }
    if (services.profiles.saturated) {
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.StoreUnavailable}: saves are failing and too many wait to be written; try again shortly`,
      );
    }
    Object.assign(options, parsed.data);
    return verdict.claims;
  }

  override onCreate(options: Record<string, unknown>): void {
    this.create(options);
    this.log = this.services.log.child({ roomId: this.roomId, room: this.kind, world: this.world });
    this.setPatchRate(1000 / policy.patchRate);
    this.registerCommonMessages();
    const room = this;
    this.untrack = this.services.metrics.track({
      kind: this.kind,
      world: this.world,
      get clientCount() {
        return room.clients.length;
      },
      stateBytes: () => JSON.stringify(this.state).length,
    });
    this.clock.setInterval(() => this.sampleRtt(), RTT_SAMPLE_MS);
    this.log.info("room created");
  }

  /** Runs `step` at `rate` Hz on the room clock, counting ticks and timing each one. */
  protected simulate(step: () => void, rate: number): void {
    const histogram = this.services.metrics.tickDuration.labels({ room: this.kind });
    this.setTimestep(() => {
      const started = performance.now();
      this.tick++;
      step();
      histogram.observe((performance.now() - started) / 1000);
    }, 1000 / rate);
  }

  override onUncaughtException(error: RoomException, methodName: RoomMethodName): void {
    this.log.error({ err: error.cause ?? error, hook: methodName, tick: this.tick }, "uncaught exception in room");
  }

  // --- joining and leaving -------------------------------------------------------------------

  override async onJoin(client: Client, options: unknown, authData: unknown): Promise<void> {
    const travelled = typeof (authData as AuthData | undefined)?.userId !== "string";
    const auth = travelled ? Traveller.parse(options).traveller : (authData as AuthData);
    await this.claimSeat(auth.userId);
    const profile = await this.services.profiles.checkout(auth).catch((err: unknown) => {
      this.log.warn({ err, userId: auth.userId }, "could not load the profile; join refused");
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.StoreUnavailable}: your profile cannot be loaded right now; try again shortly`,
      );
    });
    const seat: Seat = {
      sessionId: client.sessionId,
      userId: auth.userId,
      name: auth.name,
      client,
      profile,
      lastSeq: -1,
      buckets: new Map(),
      floodStrikes: [],
      malformedStrikes: [],
      reconnection: null,
      ended: false,
      arrivedAt: travelled ? this.now : 0,
      travelling: false,
    };
    this.seats.set(client.sessionId, seat);
    this.countBytes(client);
    this.placeBody(seat, options);
    this.log.info({ sessionId: seat.sessionId, userId: seat.userId, tick: this.tick }, "joined");
    client.send("welcome", {
      sessionId: client.sessionId,
      serverTime: Date.now(),
      tickRate: this.tickRate,
      speed: this.speed,
      bounds: this.bounds,
      // How `speed` is enforced (see docs/PROTOCOL.md): standing still banks at most this much
      // time of movement, and a step may exceed its allowance by this fraction.
      moveBankMs: policy.move.maxBankMs,
      moveTolerance: policy.move.tolerance,
      ...this.welcomeExtras(seat),
    });
  }

  override onDrop(client: Client): void {
    const seat = this.seats.get(client.sessionId);
    if (!seat || seat.ended) return;
    this.services.metrics.drops.inc({ room: this.kind, world: this.world });
    if (this.services.config.reconnectSec === 0) return;
    this.log.info(
      { sessionId: seat.sessionId, tick: this.tick },
      "connection dropped; holding the body for reconnection",
    );
    seat.reconnection = this.allowReconnection(client, this.services.config.reconnectSec);
    // Refused outright while the room is disposing (a shutdown); then onLeave follows as usual.
    seat.reconnection.catch(() => undefined);
  }

  override onReconnect(client: Client): void {
    const seat = this.seats.get(client.sessionId);
    if (!seat) return;
    seat.client = client;
    seat.reconnection = null;
    this.countBytes(client);
    this.services.metrics.reconnections.inc({ room: this.kind, world: this.world });
    this.log.info({ sessionId: seat.sessionId, tick: this.tick }, "reconnected");
  }

  override async onLeave(client: Client): Promise<void> {
    const seat = this.seats.get(client.sessionId);
    if (!seat) return;
    if (seat.reconnection && !seat.ended)
      this.services.metrics.failedReconnections.inc({ room: this.kind, world: this.world });
    await this.releaseSeat(seat);
  }

  override async onDispose(): Promise<void> {
    await Promise.all([...this.seats.values()].map((seat) => this.releaseSeat(seat)));
    this.services.events.forget(this.roomId);
    this.untrack?.();
  }

  /** Appends to this room's event log. */
  protected record(type: string, data: Record<string, unknown>): void {
    this.services.events.record(this.roomId, type, data);
  }

  /** Removes the body, saves the profile and frees the user's seat. Safe to call twice. */
  protected async releaseSeat(seat: Seat): Promise<void> {
    if (this.seats.get(seat.sessionId) !== seat) return;
    this.seats.delete(seat.sessionId);
    this.removeBody(seat);
    this.services.profiles.touch(seat.userId);
    await this.services.profiles.release(seat.userId);
    await this.presence.hdel(seatKey(this.kind), seat.userId).catch(() => undefined);
    this.log.info({ sessionId: seat.sessionId, userId: seat.userId, tick: this.tick }, "left; profile saved");
    if (this.seats.size === 0) this.onEmpty();
  }

  /** Called when the last seat is released. Rooms that linger when empty override it. */
  protected onEmpty(): void {}

  /**
   * One seat per user and room kind: if the user sits in another room of this kind (on any
   * process), that room ends the earlier session and saves its profile before this join goes on.
   */
  private async claimSeat(userId: string): Promise<void> {
    const key = seatKey(this.kind);
    const holder = await this.presence.hget(key, userId);
    if (holder === this.roomId) await this.endUserSession(userId);
    else if (holder && (await matchMaker.query({ roomId: holder })).length > 0) {
      await matchMaker.remoteRoomCall(holder, "endUserSession", [userId]).catch((err: unknown) => {
        this.log.warn({ userId, holder, err }, "could not reach the room holding the earlier seat");
      });
    }
    await this.presence.hset(key, userId, this.roomId);
  }

  /** Ends the session of `userId` in this room, if any: closes its connection and saves. */
  async endUserSession(userId: string): Promise<void> {
    const seat = [...this.seats.values()].find((s) => s.userId === userId);
    if (!seat) return;
    seat.ended = true;
    await this.releaseSeat(seat);
    if (seat.reconnection) seat.reconnection.reject(new Error("session replaced"));
    else
      seat.client.leave(CloseCodes.SessionReplaced, "session/replaced: the same user joined from another connection");
  }

  // --- the message pipeline ------------------------------------------------------------------

  /**
   * Registers a client message: rate limit, shape check, `seq` check when the shape has one,
   * then the rule. The handler returns a refusal or applies its effect; nothing here throws.
   */
  protected action<S extends z.ZodType>(
    type: string,
    schema: S,
    handler: (seat: Seat, message: z.infer<S>) => Verdict | void,
    rate: Rate = type in policy.rates ? (type as Rate) : "other",
  ): void {
    const received = this.services.metrics.messages.labels({ room: this.kind, type });
    this.onMessage(type, (client: Client, payload: unknown) => {
      received.inc();
      const seat = this.seats.get(client.sessionId);
      if (!seat || seat.ended || seat.travelling) return;
      if (!this.withinRate(seat, rate))
        return this.refuse(seat, type, seqOf(payload), {
          ok: false,
          code: RejectCode.RateLimited,
          message: `too many '${type}' messages; slow down`,
        });
      const parsed = schema.safeParse(payload);
      if (!parsed.success) return this.malformed(seat, type, payload, describeIssue(parsed.error));
      const message = parsed.data as z.infer<S> & { seq?: number };
      if (message.seq !== undefined) {
        const fresh = checkSeq(seat.lastSeq, message.seq);
        if (!fresh.ok) return this.refuse(seat, type, message.seq, fresh);
      }
      const verdict = handler(seat, message);
      if (verdict && !verdict.ok) return this.refuse(seat, type, message.seq ?? null, verdict);
      if (message.seq !== undefined) seat.lastSeq = message.seq;
    });
  }

  /** Messages every room answers: `ping`, and a refusal for any unknown type. */
  private registerCommonMessages(): void {
    this.action("ping", Ping, (seat, { t }) => {
      seat.client.send("pong", { t, serverTime: Date.now() });
    });
    // Unknown message types are malformed input too (counted under one label: clients choose the names).
    const received = this.services.metrics.messages.labels({ room: this.kind, type: "unknown" });
    this.onMessage("*", (client: Client, type: string | number, payload: unknown) => {
      received.inc();
      const seat = this.seats.get(client.sessionId);
      if (!seat || seat.ended || !this.withinRate(seat, "other")) return;
      this.malformed(seat, String(type).slice(0, 64), payload, `unknown message type '${String(type).slice(0, 64)}'`);
    });
  }

  private withinRate(seat: Seat, rate: Rate): boolean {
    const spec: RateSpec = policy.rates[rate];
    const now = this.now;
    // store/stall: a backlog delivered at once after an event-loop stall is not a flood.
    const stall = loopStall(now);
    const result = take(seat.buckets.get(rate) ?? fullBucket(spec, stall?.start ?? now), spec, now, stall);
    seat.buckets.set(rate, result.bucket);
    if (result.allowed) return true;
    const flood = strike(seat.floodStrikes, policy.flood, now);
    seat.floodStrikes = flood.times;
    if (flood.out)
      this.expel(seat, CloseCodes.Flooding, "rate/flooding: far past the message rate limit", "flood_disconnect");
    return false;
  }

  private malformed(seat: Seat, type: string, payload: unknown, detail: string): void {
    this.refuse(seat, type, seqOf(payload), { ok: false, code: RejectCode.InputInvalid, message: detail });
    const strikes = strike(seat.malformedStrikes, policy.malformed, this.now);
    seat.malformedStrikes = strikes.times;
    if (strikes.out)
      this.expel(
        seat,
        CloseCodes.MalformedInput,
        "input/repeated: too many malformed messages",
        "malformed_disconnect",
      );
  }

  protected refuse(seat: Seat, action: string, seq: number | null, refusal: Refusal): void {
    if (seat.ended && !seat.travelling) return;
    this.services.metrics.rejects.inc({ room: this.kind, world: this.world, code: refusal.code });
    const signal: SecuritySignal =
      refusal.code === RejectCode.RateLimited
        ? "rate_limited"
        : refusal.code === RejectCode.SeqStale
          ? "stale_seq"
          : "invalid_action";
    this.services.security.signal(signal, {
      room: this.kind,
      world: this.world,
      roomId: this.roomId,
      sessionId: seat.sessionId,
      userId: seat.userId,
      action,
      code: refusal.code,
      tick: this.tick,
    });
    this.record("reject", { sessionId: seat.sessionId, userId: seat.userId, action, seq, code: refusal.code });
    seat.client.send("reject", { seq, action, code: refusal.code, message: refusal.message });
  }

  private expel(seat: Seat, code: number, reason: string, signal: SecuritySignal): void {
    if (seat.ended) return;
    seat.ended = true;
    this.services.security.signal(signal, {
      room: this.kind,
      world: this.world,
      roomId: this.roomId,
      sessionId: seat.sessionId,
      userId: seat.userId,
      tick: this.tick,
    });
    seat.client.leave(code, reason);
  }

  // --- telemetry -----------------------------------------------------------------------------

  /** Counts every byte sent to this client, split into state patches and messages. */
  private countBytes(client: Client): void {
    const labels = { room: this.kind, world: this.world };
    const patch = this.services.metrics.bytesSent.labels({ ...labels, kind: "patch" });
    const message = this.services.metrics.bytesSent.labels({ ...labels, kind: "message" });
    const raw = client.raw.bind(client);
    client.raw = (data, ...rest) => {
      const code = data[0] & 0x1f; // the protocol code, without modifier bits (PROTOCOL_CODE_MASK)
      (code === Protocol.ROOM_STATE || code === Protocol.ROOM_STATE_PATCH ? patch : message).inc(data.byteLength);
      return raw(data, ...rest);
    };
  }

  /** Pings every connected client at the WebSocket level and records the round trip. */
  private sampleRtt(): void {
    const histogram = this.services.metrics.rtt.labels({ room: this.kind, world: this.world });
    for (const seat of this.seats.values()) {
      const ws = (
        seat.client as Client & {
          ref?: { ping?: () => void; once?: (e: string, f: () => void) => void; readyState?: number };
        }
      ).ref;
      if (seat.reconnection || !ws?.ping || !ws.once || ws.readyState !== 1) continue;
      const sent = performance.now();
      ws.once("pong", () => histogram.observe((performance.now() - sent) / 1000));
      ws.ping();
    }
  }
}

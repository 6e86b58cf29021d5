/**
 * The one Colyseus room that runs every room kind (src/engine/kind.ts). It decodes, runs the
 * pipeline, applies commands to the kind's simulation, broadcasts, saves, and logs what a replay
 * needs; the game itself lives in the simulation.
 *
 * It is put together from helpers rather than inherited: `SeatBook` (who sits here, one seat per
 * user and kind), `Pipeline` (rate limit → shape → seq → rule), `RoomTelemetry`, and, for kinds
 * with interest management, `Interest`. The kind and the services arrive as the handler's default
 * options (`defineRoom(KindRoom, engineOptions(kind, services))`).
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  CloseCode,
  ErrorCode,
  matchMaker,
  Room,
  ServerError,
  type AuthContext,
  type Client,
  type Delayed,
  type RoomException,
  type RoomMethodName,
} from "@colyseus/core";
import type { Schema } from "@colyseus/schema";
import { z } from "zod";
import { policy } from "../content/policy.js";
import type { Profile } from "../domain/profile.js";
import type { Refusal } from "../domain/result.js";
import { createRng, type Rng } from "../domain/rng.js";
import { FixedStep } from "../engine/clock.js";
import type { Actor, AnyKind, Ctx, Departure, Outbox } from "../engine/kind.js";
import type { ReplayHeader } from "../engine/replay.js";
import type { Logger } from "../log.js";
import { backoffMs } from "../persistence/backoff.js";
import { StoreUnavailableError } from "../persistence/store.js";
import { CloseCodes, CloseReason, JoinErrorCode, RejectCode } from "../protocol/codes.js";
import type { Services } from "../services.js";
import type { TradeRecord } from "../domain/trade.js";
import type { Step, StepResult } from "../trade/trades.js";
import type { EventViewer } from "../rules/visibility.js";
import type { SessionCall, SessionResult } from "../sessions/hub.js";
import type { SecuritySignal } from "../telemetry/security.js";
import { describeIssue, Ping } from "../validators/messages.js";
import { Interest } from "./Interest.js";
import { chargeJoin } from "./join-limits.js";
import { mapDecodeFailures } from "./undecodable.js";
import { admitted, joinFingerprint, joinRefusal, recheckJoin } from "./join-guard.js";
import { Pipeline } from "./pipeline.js";
import { feedProgress } from "./progress.js";
import { newSeat, SeatBook, type Seat } from "./seats.js";
import { whisper } from "./whisper.js";
import { Whisper } from "../validators/social.js";
import { deliveryKey, DELIVERY_TTL_SEC } from "../cluster/users.js";
import type { ChangeResult, ProfileChange } from "../cluster/profile-changes.js";
import { RoomTelemetry } from "./telemetry.js";

/** What `onAuth` hands to `onJoin` as `client.auth`. */
export interface AuthData {
  userId: string;
  name: string;
  /** The token's id, for the join's second look at revocation (`recheckJoin`). */
  jti?: string;
}

/** The handler's default options: how the kind and the services reach the room. */
const ENGINE = "~engine";
/** Messages from the simulation ride with the next patch (see `broadcastPatch`). */
const AFTER_PATCH = { afterNextPatch: true } as const;
/** A client's socket, when its transport has one (an HTTP session's client has none). */
interface Corkable {
  cork(): void;
  uncork(): void;
}
interface Engine {
  kind: AnyKind;
  services: Services;
}
export const engineOptions = (kind: AnyKind, services: Services) => ({ [ENGINE]: { kind, services } });

/**
 * Who arrives with a seat that the server reserved itself (a portal hand-over). Such a reservation
 * skips onAuth, so no claims reach onJoin and this is the only way identity does; a client's own
 * join always goes through onAuth, whose claims take precedence.
 */
const Traveller = z.object({ traveller: z.object({ userId: z.string().min(1), name: z.string().min(1) }) });

/**
 * The replay log of a room is an event stream of its own, beside the room's game events: players
 * read those (when seated), only admins read this one.
 */
export const replayStream = (roomId: string) => `replay:${roomId}`;

/** Everything a created room holds; built once in `onCreate`. */
interface Running {
  kind: AnyKind;
  services: Services;
  log: Logger;
  options: Record<string, unknown>;
  label: string;
  sim: unknown;
  rng: Rng;
  clock: FixedStep;
  seats: SeatBook;
  pipeline: Pipeline;
  telemetry: RoomTelemetry;
  interest: Interest<Schema & { x: number; y: number }> | undefined;
  /** The grace timer of an empty room that lingers. */
  closing: Delayed | undefined;
}

export class KindRoom extends Room<{ state: Schema }> {
  private running: Running | undefined;
  private lastNow = 0;
  /** The room's store writes (`Outbox.save`), one after another. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Patches sent so far: spreads the slower position bands over the patches. */
  private patches = 0;
  /**
   * Profile changes this room sent on their way (`Outbox.rate`) and not yet confirmed; apart from
   * `writes`, so that their retries never hold the room's own records back.
   */
  private readonly deliveries = new Set<Promise<unknown>>();

  /**
   * Checks the token and the join options of `kind`. Runs before matchmaking with the same options
   * object, so the defaults it fills in (for instance `world: "meadow"`) are what `filterBy` matches.
   */
  static async authenticate(
    services: Services,
    kind: AnyKind,
    token: string | undefined,
    options: Record<string, unknown>,
    ctx?: AuthContext,
  ): Promise<AuthData> {
    // The device fingerprint (PROTOCOL §8) is checked here and travels no further.
    const fingerprint = joinFingerprint(options, ctx);
    const parsed = kind.joinOptions(services.content).safeParse(options ?? {});
    const world = parsed.success ? kind.label(parsed.data) : "-";
    const authFailure = (code: string, why: string) => {
      services.security.signal("auth_failure", { room: kind.name, world, reason: code });
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
    const refusal = await admitted(services, verdict.claims, { fingerprint, ip: ctx?.ip, room: kind.name, world });
    if (refusal) throw joinRefusal(refusal, authFailure);
    Object.assign(options, parsed.data);
    await chargeJoin(services, kind, verdict.claims.userId, options, ctx);
    if (kind.admit) await KindRoom.precheck(kind, parsed.data as Record<string, unknown>);
    return { userId: verdict.claims.userId, name: verdict.claims.name, jti: verdict.claims.jti };
  }

  /**
   * Asks the rooms that matchmaking could seat these options in whether they would take the join
   * (`RoomKind.admit`), so that a refusal fails the join cleanly, before a seat is reserved. When
   * rooms exist and none would, the first refusal is the join error. `onJoin` checks again.
   */
  private static async precheck(kind: AnyKind, options: Record<string, unknown>): Promise<void> {
    const filter = Object.fromEntries(kind.filterBy.map((field) => [field, options[field]]));
    const rooms = await matchMaker.query({ name: kind.name, locked: false, private: false, ...filter });
    let refusal: { code: string; message: string } | undefined;
    for (const room of rooms) {
      const verdict = (await matchMaker.remoteRoomCall(room.roomId, "admits", [options]).catch(() => null)) as
        { ok: true } | { ok: false; code: string; message: string } | null;
      if (!verdict || verdict.ok) return;
      refusal ??= verdict;
    }
    if (refusal) throw new ServerError(ErrorCode.APPLICATION_ERROR, `${refusal.code}: ${refusal.message}`);
  }

  /** Whether this room would take a join with these options now; see `precheck`. */
  admits(options: Record<string, unknown>): { ok: true } | { ok: false; code: string; message: string } {
    const run = this.run();
    return run.kind.admit?.(run.sim, options) ?? { ok: true };
  }

  /** The room clock: epoch ms, read when asked (a message's arrival), never going back. */
  private now(): number {
    this.lastNow = Math.max(this.lastNow, Date.now());
    return this.lastNow;
  }

  private run(): Running {
    if (!this.running) throw new Error("the room has not been created");
    return this.running;
  }

  private ctx(now: number): Ctx {
    const { rng, clock, services } = this.run();
    return { now, tick: clock.tick, rng, content: services.content, policy };
  }

  override onCreate(raw: Record<string, unknown>): void {
    const { kind, services } = raw[ENGINE] as Engine;
    const options = kind.joinOptions(services.content).parse(raw) as Record<string, unknown>;
    const label = kind.label(options);
    // Log lines name the instance by its kind: `world: "meadow"`, `dungeon: "crypt"`.
    const log = services.log.child({ roomId: this.roomId, room: kind.name, [kind.name]: label });
    const seed = randomBytes(4).readUInt32LE();
    const base = this.now();
    const dtMs = 1000 / kind.tickRate(policy);
    const pipeline = new Pipeline({
      refuse: (seat, action, seq, refusal) => this.refuse(seat, action, seq, refusal),
      expel: (seat, code, reason, signal) => this.expel(seat, code, reason, signal),
    });
    const telemetry = new RoomTelemetry(services.metrics, kind.name, label, {
      clientCount: () => this.clients.length,
      stateBytes: () => JSON.stringify(this.state).length,
    });
    this.running = {
      kind,
      services,
      log,
      options,
      label,
      sim: undefined,
      rng: createRng(seed),
      clock: new FixedStep(base, dtMs, policy.maxCatchUpSteps),
      seats: new SeatBook(kind.name, this.roomId, this.presence, log),
      pipeline,
      telemetry,
      interest: undefined,
      closing: undefined,
    };
    const run = this.running;
    const instanceId = randomUUID();
    run.sim = kind.create(options, this.ctx(base), instanceId);
    this.state = kind.state.create(run.sim) as Schema;
    kind.state.sync(run.sim, this.state, 0);
    if (kind.interest && kind.state.bodyOf) {
      const mapping = kind.state;
      run.interest = new Interest(
        kind.interest.radius(run.sim),
        (id) => mapping.bodyOf?.(this.state, id) as (Schema & { x: number; y: number }) | undefined,
        services.config.aoiEnabled,
      );
    }
    this.maxClients = kind.maxClients(options, services.content);
    this.logReplay("room", {
      kind: kind.name,
      instanceId,
      seed,
      contentVersion: services.content.version,
      options,
      base,
      dtMs,
    } satisfies ReplayHeader);

    this.setPatchRate(1000 / policy.patchRate);
    this.registerMessages();
    this.setTimestep(() => this.advance(), dtMs);
    this.clock.setInterval(() => {
      const connected = [...run.seats.values()].filter((s) => !s.reconnection).map((s) => s.client);
      run.telemetry.sampleRtt(connected);
    }, policy.rttSampleMs);
    if ((kind.lingerSec?.(services.config) ?? 0) > 0) {
      this.autoDispose = false;
      this.closeWhenEmpty(); // nobody may ever arrive
    }
    log.info({ seed }, "room created");
  }

  /** The synchronized state is written from the simulation once per patch, not once per command. */
  override onBeforePatch(): void {
    const { kind, sim, clock } = this.run();
    kind.state.sync(sim, this.state, clock.tick);
  }

  /**
   * One socket write per client per patch: each socket stays corked while the patch and the
   * messages queued for after it are sent, so they leave in one writev. A write is a syscall, and
   * on a busy world the syscalls were a fifth of the process's time. With interest management,
   * each client's positions frame follows its patch (src/rooms/Interest.ts).
   */
  override broadcastPatch(): boolean {
    const corked: Corkable[] = [];
    for (const client of this.clients) {
      const socket = (client as { ref?: { _socket?: Corkable } }).ref?._socket;
      if (socket?.cork) {
        socket.cork();
        corked.push(socket);
      }
    }
    try {
      const changed = super.broadcastPatch();
      const interest = this.running?.interest;
      if (interest) {
        const patch = this.patches++;
        for (const client of this.clients) {
          const frame = interest.positions(client.sessionId, patch);
          if (frame) client.raw(frame);
        }
      }
      return changed;
    } finally {
      for (const socket of corked) socket.uncork();
    }
  }

  override onUncaughtException(error: RoomException, methodName: RoomMethodName): void {
    const log = this.running?.log;
    const fields = { err: error.cause ?? error, hook: methodName, tick: this.running?.clock.tick };
    if (log) log.error(fields, "uncaught exception in room");
    else console.error("uncaught exception in room", fields);
  }

  /** Runs the steps the fixed-step clock owes, then refreshes interest. */
  private advance(): void {
    const run = this.run();
    const { steps, jump } = run.clock.due(this.now());
    if (jump > 0) this.logReplay("clock", { tick: run.clock.tick, jump });
    if (steps === 0) return;
    run.telemetry.timeTick(() => {
      for (let i = 0; i < steps; i++) {
        run.clock.tick++;
        const ctx = this.ctx(run.clock.timeOf(run.clock.tick));
        const events = run.kind.step?.(run.sim, ctx) ?? [];
        for (const event of events) run.kind.react(event, this.outbox, run.sim, ctx);
      }
      run.interest?.update(run.clock.tick);
    });
  }

  // --- joining and leaving -------------------------------------------------------------------

  override async onJoin(client: Client, options: Record<string, unknown>, authData: unknown): Promise<void> {
    const run = this.run();
    const travelled = typeof (authData as AuthData | undefined)?.userId !== "string";
    const auth = travelled ? Traveller.parse(options).traveller : (authData as AuthData);
    const key = run.kind.membership;
    if (key && options[key] !== run.options[key])
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.NotMember}: this instance belongs to another ${key}; join with your own`,
      );
    const joinOptions = run.kind.joinOptions(run.services.content).parse({ ...run.options, ...options }) as Record<
      string,
      unknown
    >;
    const admitted = run.kind.admit?.(run.sim, joinOptions) ?? { ok: true };
    if (!admitted.ok) throw new ServerError(ErrorCode.APPLICATION_ERROR, `${admitted.code}: ${admitted.message}`);
    await run.seats.vacate(auth.userId, (userId) => this.endUserSession(userId));
    const profile = await run.services.profiles.checkout(auth).catch((err: unknown) => {
      run.log.warn({ err, userId: auth.userId }, "could not load the profile; join refused");
      throw new ServerError(
        ErrorCode.APPLICATION_ERROR,
        `${JoinErrorCode.StoreUnavailable}: your profile cannot be loaded right now; try again shortly`,
      );
    });
    const actor: Actor = { sessionId: client.sessionId, userId: auth.userId, name: auth.name };
    // Recorded first, then checked (a ban is stored first, then closes the recorded seats): a ban
    // that lands after onAuth is seen here, or reaches this join through `closeUser`.
    await run.seats.record(auth.userId).catch((err: unknown) => {
      run.seats.settle(auth.userId);
      throw err;
    });
    const recheck = await recheckJoin(run.services, auth, run.kind.name);
    const closed = run.seats.settle(auth.userId);
    const refusal = recheck ?? (closed && new ServerError(closed.code, closed.reason));
    if (refusal) {
      await run.seats.unclaim(auth.userId);
      await run.services.profiles.release(auth.userId);
      run.log.info({ sessionId: client.sessionId, userId: auth.userId, refusal: refusal.message }, "join refused");
      throw refusal;
    }
    const seat = newSeat(client, actor, profile);
    run.seats.add(seat);
    mapDecodeFailures(client, () => this.undecodable(seat));
    run.closing?.clear();
    run.closing = undefined;
    run.telemetry.countBytes(client);

    const now = this.now();
    const join: unknown = run.kind.joinData(profile, joinOptions, travelled);
    this.logReplay("join", { tick: run.clock.tick, at: now, actor, join });
    const ctx = this.ctx(now);
    this.react(run.kind.join(run.sim, actor, join, ctx), ctx);
    run.kind.state.sync(run.sim, this.state, run.clock.tick);
    if (run.interest && run.kind.interest)
      run.interest.join(
        seat.sessionId,
        client,
        run.kind.interest.cap(join, policy),
        run.kind.interest.slowdown(join, policy),
      );
    this.persist(seat);
    run.log.info({ sessionId: seat.sessionId, userId: seat.userId, tick: run.clock.tick }, "joined");
    client.send("welcome", {
      sessionId: client.sessionId,
      serverTime: now,
      tickRate: run.kind.tickRate(policy),
      ...run.kind.welcome(run.sim, actor, ctx),
    });
    this.progress("joined", { sessionId: seat.sessionId });
  }

  override onDrop(client: Client): void {
    const run = this.run();
    const seat = run.seats.get(client.sessionId);
    if (!seat || seat.ended) return;
    run.telemetry.dropped();
    if (run.services.config.reconnectSec === 0) return;
    run.log.info(
      { sessionId: seat.sessionId, tick: run.clock.tick },
      "connection dropped; holding the body for reconnection",
    );
    seat.reconnection = this.allowReconnection(client, run.services.config.reconnectSec);
    // Refused outright while the room is disposing (a shutdown); then onLeave follows as usual.
    seat.reconnection.catch(() => undefined);
    this.connection(seat, "drop");
  }

  /** Tells the kind that a seat's connection dropped or came back. */
  private connection(seat: Seat, hook: "drop" | "reconnect"): void {
    const run = this.run();
    if (!run.kind[hook]) return;
    const now = this.now();
    const ctx = this.ctx(now);
    const actor: Actor = { sessionId: seat.sessionId, userId: seat.userId, name: seat.name };
    this.logReplay(hook, { tick: run.clock.tick, at: now, actor });
    this.react(run.kind[hook]?.(run.sim, actor, ctx) ?? [], ctx);
    run.kind.state.sync(run.sim, this.state, run.clock.tick);
  }

  override onReconnect(client: Client): void {
    const run = this.run();
    const seat = run.seats.get(client.sessionId);
    if (!seat) return;
    seat.client = client;
    seat.reconnection = null;
    mapDecodeFailures(client, () => this.undecodable(seat));
    run.telemetry.countBytes(client);
    run.interest?.rebind(client.sessionId, client);
    run.telemetry.reconnected();
    this.connection(seat, "reconnect");
    run.log.info({ sessionId: seat.sessionId, tick: run.clock.tick }, "reconnected");
  }

  override async onLeave(client: Client): Promise<void> {
    const run = this.run();
    const seat = run.seats.get(client.sessionId);
    if (!seat) return;
    if (seat.reconnection && !seat.ended) run.telemetry.failedReconnection();
    await this.releaseSeat(seat);
  }

  override async onDispose(): Promise<void> {
    const run = this.run();
    await Promise.all([...run.seats.values()].map((seat) => this.releaseSeat(seat)));
    await this.settled();
    this.logReplay("end", { tick: run.clock.tick });
    run.services.events.forget(this.roomId);
    run.services.events.forget(replayStream(this.roomId));
    run.telemetry.dispose();
  }

  /** Removes the body, saves the profile and frees the user's seat. Safe to call twice. */
  private async releaseSeat(seat: Seat): Promise<void> {
    const run = this.run();
    if (!run.seats.remove(seat)) return;
    // A traveller's profile already holds its arrival in the other world.
    if (!seat.departing) this.persist(seat);
    run.interest?.leave(seat.sessionId);
    const now = this.now();
    const actor: Actor = { sessionId: seat.sessionId, userId: seat.userId, name: seat.name };
    this.logReplay("leave", { tick: run.clock.tick, at: now, session: actor.sessionId });
    const ctx = this.ctx(now);
    this.react(run.kind.leave(run.sim, actor, ctx), ctx);
    run.kind.state.sync(run.sim, this.state, run.clock.tick);
    run.services.profiles.touch(seat.userId);
    await run.services.profiles.release(seat.userId);
    await run.seats.unclaim(seat.userId);
    run.log.info({ sessionId: seat.sessionId, userId: seat.userId, tick: run.clock.tick }, "left; profile saved");
    if (run.seats.size === 0) this.closeWhenEmpty();
  }

  /** A room kind that lingers closes after its grace time once empty; others close by themselves. */
  private closeWhenEmpty(): void {
    const run = this.run();
    const linger = run.kind.lingerSec?.(run.services.config) ?? 0;
    if (linger <= 0) return;
    run.closing?.clear();
    run.closing = this.clock.setTimeout(() => {
      if (run.seats.size === 0) void this.disconnect();
    }, linger * 1000);
  }

  /** Ends the session of `userId` in this room, if any: closes its connection and saves. Called across processes. */
  async endUserSession(userId: string): Promise<void> {
    await this.closeUser(
      userId,
      CloseCodes.SessionReplaced,
      `${CloseReason.SessionReplaced}: the same user joined from another connection`,
    );
  }

  /**
   * Ends the seat of `userId` here with no reconnection window, closing its connection with
   * `code` and `reason`, and saves; a join of the user under way here (seat recorded, not yet taken)
   * is refused with them instead. False when the user has neither here. Called across processes
   * (`Users.close`).
   */
  async closeUser(userId: string, code: number, reason: string): Promise<boolean> {
    const seat = this.run().seats.byUser(userId);
    if (!seat) return this.run().seats.closeJoining(userId, code, reason);
    seat.ended = true;
    await this.releaseSeat(seat);
    if (seat.reconnection) (seat.reconnection.reject as (reason: Error) => void)(new Error(reason));
    else seat.client.leave(code, reason);
    return true;
  }

  /**
   * Sends the room message `type` to `userId`'s connected session here; false when it has none
   * (no seat, or a seat waiting for its reconnection), or when `once` names a delivery that
   * another room claimed first. Called across processes (`Users.deliver`).
   */
  async deliverToUser(userId: string, type: string, message: object, once?: string): Promise<boolean> {
    const connected = () => {
      const seat = this.run().seats.byUser(userId);
      return seat && !seat.ended && !seat.departing && !seat.reconnection ? seat : undefined;
    };
    if (!connected()) return false;
    if (once) {
      const claims = await this.presence.incr(deliveryKey(once));
      void this.presence.expire(deliveryKey(once), DELIVERY_TTL_SEC);
      if (claims !== 1) return false;
    }
    const seat = connected();
    if (!seat) {
      if (once) await this.presence.decr(deliveryKey(once)); // gone meanwhile: another seat may take it
      return false;
    }
    seat.client.send(type, message);
    return true;
  }

  /** A call on one of this room's HTTP sessions (src/sessions), routed here from any process. */
  sessionCall(call: SessionCall): Promise<SessionResult> {
    return this.run().services.sessions.local(this, call);
  }

  /**
   * Makes a change addressed to `userId`'s profile (src/cluster/profile-changes.ts) if this
   * process holds it; "absent" when it does not. Called across processes by the one delivering it.
   */
  changeProfile(userId: string, change: ProfileChange): Promise<ChangeResult> {
    return this.run().services.profileChanges.here(userId, change);
  }

  /** The seat whose connection holds `token` (connected, or waiting for its reconnection). */
  seatOfToken(token: string): { sessionId: string; userId: string } | undefined {
    for (const seat of this.run().seats.values())
      if (!seat.ended && seat.client.reconnectionToken === token)
        return { sessionId: seat.sessionId, userId: seat.userId };
    return undefined;
  }

  /**
   * Runs a trade step on the profile of `userId` if it sits here (src/trade/trades.ts); "absent"
   * when it does not. Called across processes by the process that drives the trade.
   */
  async tradeStep(userId: string, step: Step, trade: TradeRecord): Promise<StepResult | "absent"> {
    const run = this.run();
    if (!run.seats.byUser(userId)) return "absent";
    return run.services.trades.applyStep(userId, step, trade);
  }

  /**
   * How `userId` reads this room's event log (src/rules/visibility.ts): its session, where its body
   * stands and how far it sees; null when it has no seat here. A kind without interest management
   * (one party, one match) shares every event with its members. Called across processes.
   */
  eventViewer(userId: string): EventViewer | null {
    const run = this.run();
    const seat = run.seats.byUser(userId);
    if (!seat) return null;
    const body = run.kind.state.bodyOf?.(this.state, seat.sessionId);
    const radius = run.kind.interest?.radius(run.sim);
    const key = run.kind.membership;
    return {
      userId,
      sessionIds: [seat.sessionId],
      shared: radius === undefined,
      ...(body && { at: { x: body.x, y: body.y } }),
      ...(radius !== undefined && { radius }),
      ...(key && typeof run.options[key] === "string" && { party: run.options[key] }),
    };
  }

  /**
   * Applies an operator's command (`RoomKind.operate`) and reacts to it; called across processes
   * by admin routes. Answers the verdict.
   */
  operate(op: string, payload: unknown): { ok: boolean; code?: string; message?: string } {
    const run = this.run();
    if (!run.kind.operate)
      return { ok: false, code: RejectCode.InputInvalid, message: `${run.kind.name} takes no operator commands` };
    const now = this.now();
    const ctx = this.ctx(now);
    const { verdict, events } = run.kind.operate(run.sim, op, payload, ctx);
    if (!verdict.ok) return verdict;
    this.logReplay("op", { tick: run.clock.tick, at: now, name: op, payload });
    this.react(events, ctx);
    run.kind.state.sync(run.sim, this.state, run.clock.tick);
    run.log.info({ op, tick: run.clock.tick }, "operator command applied");
    return { ok: true };
  }

  /**
   * Resolves once every store write queued so far, and every profile change sent so far, has
   * landed (or failed and been logged).
   */
  async settled(): Promise<void> {
    await Promise.all([this.writes, ...this.deliveries]);
  }

  /** Marks the current tick in the replay log, so an export ends there; called across processes. */
  markReplay(): number {
    const { clock } = this.run();
    this.logReplay("tick", { tick: clock.tick });
    return clock.tick;
  }

  /**
   * Marks the current tick in the replay log and returns it with the simulation and the rng's
   * position, so a test can compare a replay of the log with the room as it is now.
   */
  checkpoint(): { tick: number; sim: unknown; rngState: number; state: unknown } {
    const run = this.run();
    this.markReplay();
    run.kind.state.sync(run.sim, this.state, run.clock.tick);
    return {
      tick: run.clock.tick,
      sim: structuredClone(run.sim),
      rngState: run.rng.state,
      state: this.state.toJSON(),
    };
  }

  // --- messages ------------------------------------------------------------------------------

  private registerMessages(): void {
    const run = this.run();
    for (const [type, spec] of Object.entries(run.kind.messages)) {
      const received = run.telemetry.message(type);
      this.onMessage(type, (client: Client, payload: unknown) => {
        received.inc();
        const seat = this.activeSeat(client);
        if (!seat) return;
        run.pipeline.run(seat, type, payload, spec, (message) => this.command(seat, spec.command(message as never)));
      });
    }
    const pings = run.telemetry.message("ping");
    this.onMessage("ping", (client: Client, payload: unknown) => {
      pings.inc();
      const seat = this.activeSeat(client);
      if (!seat) return;
      run.pipeline.run(seat, "ping", payload, { schema: Ping, rate: "ping" }, ({ t }) => {
        client.send("pong", { t, serverTime: this.now() });
      });
    });
    // A whisper is no part of any simulation: every kind takes it here, through the same pipeline.
    const whispers = run.telemetry.message("whisper");
    this.onMessage("whisper", (client: Client, payload: unknown) => {
      whispers.inc();
      const seat = this.activeSeat(client);
      if (!seat) return;
      run.pipeline.run(seat, "whisper", payload, { schema: Whisper, rate: "chat" }, (message) =>
        whisper(run.services, seat, message, this.now(), (refusal) =>
          this.refuse(seat, "whisper", message.seq, refusal),
        ),
      );
    });
    // Unknown message types are malformed input too (counted under one label: clients choose the names).
    const unknown = run.telemetry.message("unknown");
    this.onMessage("*", (client: Client, type: string | number, payload: unknown) => {
      unknown.inc();
      const seat = this.activeSeat(client);
      if (seat) run.pipeline.unknown(seat, String(type), payload);
    });
  }

  private activeSeat(client: Client): Seat | undefined {
    const seat = this.run().seats.get(client.sessionId);
    return seat && !seat.ended && !seat.departing ? seat : undefined;
  }

  /** Applies an accepted-shape command; on success logs it, reacts to its events and saves the body. */
  private command(seat: Seat, command: unknown) {
    const run = this.run();
    const now = this.now();
    const ctx = this.ctx(now);
    const { verdict, events } = run.kind.apply(run.sim, seat, command, ctx);
    if (!verdict.ok) return verdict;
    this.logReplay("cmd", { tick: run.clock.tick, at: now, session: seat.sessionId, command });
    this.react(events, ctx);
    this.persist(seat);
    return verdict;
  }

  private react(events: readonly unknown[], ctx: Ctx): void {
    const run = this.run();
    for (const event of events) run.kind.react(event, this.outbox, run.sim, ctx);
  }

  /** Writes what the simulation owns of the body (position, hp) into the profile. */
  private persist(seat: Seat): void {
    const run = this.run();
    const owned = run.kind.persist?.(run.sim, seat.sessionId);
    if (!owned || Object.keys(owned).length === 0) return;
    Object.assign(seat.profile, owned);
    run.services.profiles.touch(seat.userId);
  }

  /** Stats and achievements from a game event, for the seats it concerns (src/rooms/progress.ts). */
  private progress(type: string, data: Record<string, unknown>): void {
    const { kind, label, services, seats } = this.run();
    feedProgress({ kind: kind.name, label, services, seats: seats.values() }, type, data, this.now());
  }

  private logReplay(op: string, data: object): void {
    this.run().services.events.record(replayStream(this.roomId), op, data as Record<string, unknown>);
  }

  private refuse(seat: Seat, action: string, seq: number | null, refusal: Refusal): void {
    if (seat.ended && !seat.departing) return;
    const run = this.run();
    run.telemetry.refused(refusal.code);
    const signal: SecuritySignal =
      refusal.code === RejectCode.RateLimited
        ? "rate_limited"
        : refusal.code === RejectCode.SeqStale
          ? "stale_seq"
          : "invalid_action";
    this.signal(seat, signal, { action, code: refusal.code });
    seat.client.send("reject", { seq, action, code: refusal.code, message: refusal.message });
  }

  private expel(seat: Seat, code: number, reason: string, signal: SecuritySignal): void {
    if (seat.ended) return;
    seat.ended = true;
    this.signal(seat, signal);
    seat.client.leave(code, reason);
  }

  /** A payload of the seat's could not be decoded: the seat ends now, with no reconnection window. */
  private undecodable(seat: Seat): boolean {
    if (seat.ended || seat.reconnection) return false;
    seat.ended = true;
    this.signal(seat, "malformed_disconnect", { reason: CloseReason.Undecodable });
    return true;
  }

  private signal(seat: Seat, signal: SecuritySignal, detail: Record<string, unknown> = {}): void {
    const { services, kind, label, clock } = this.run();
    services.security.signal(signal, {
      room: kind.name,
      world: label,
      roomId: this.roomId,
      sessionId: seat.sessionId,
      userId: seat.userId,
      ...detail,
      tick: clock.tick,
    });
  }

  // --- what events do ------------------------------------------------------------------------

  private readonly outbox: Outbox = {
    // What the simulation says goes out with the patch that follows, in the same socket write.
    broadcast: (type, message) => this.broadcast(type, message, AFTER_PATCH),
    send: (sessionId, type, message) => this.run().seats.get(sessionId)?.client.send(type, message, AFTER_PATCH),
    record: (type, data) => {
      this.run().services.events.record(this.roomId, type, data);
      this.progress(type, data);
    },
    profile: (sessionId, change, options) => {
      const { seats, services } = this.run();
      const seat = seats.get(sessionId);
      if (!seat) return;
      change(seat.profile);
      services.profiles.touch(seat.userId);
      if (options?.urgent) void services.profiles.flush(seat.userId);
    },
    everyProfile: (change: (profile: Profile) => void) => {
      const { seats, services } = this.run();
      for (const seat of seats.values()) {
        change(seat.profile);
        services.profiles.touch(seat.userId);
      }
    },
    rate: (player, matchId, rating, finished) => {
      const { services, seats, kind, label } = this.run();
      // One seated here is credited with the match by the `finished` record (`progress`); one that
      // left is credited with the rating, wherever its profile is.
      const played = seats.byUser(player.userId)
        ? undefined
        : { room: kind.name, label, type: "finished", data: finished };
      const change: ProfileChange = { type: "rating", matchId, rating, ...(played && { played }) };
      // Held on this process (seated here, or still being released): the copy takes it now, so
      // every later write of it carries it; the delivery below confirms it is written, wherever
      // the profile is held by then. The room waits for it before it is disposed.
      services.profileChanges.applyHeld(player.userId, change);
      const delivery = services.profileChanges.deliverKept(player, change, `${matchId}:${player.userId}`);
      this.deliveries.add(delivery);
      void delivery.finally(() => this.deliveries.delete(delivery));
    },
    moved: (sessionId, x, y) => this.run().interest?.moved(sessionId, x, y),
    depart: (sessionId, departure) => {
      const seat = this.run().seats.get(sessionId);
      if (!seat) return;
      seat.departing = true;
      void this.handOver(seat, departure);
    },
    lock: () => {
      void this.lock();
    },
    unlist: () => {
      void this.setPrivate(true);
    },
    sign: (data) => this.run().services.matchSigner.sign(data),
    trade: (sessionId, command) => {
      const { seats, services } = this.run();
      const seat = seats.get(sessionId);
      if (!seat) return;
      void services.trades.handle(seat, seat.profile, command).then((answer) => {
        if (!answer.ok) this.refuse(seat, command.type, command.seq, answer);
        else if (answer.reply) seat.client.send(answer.reply.type, answer.reply.message);
      });
    },
    save: (write) => {
      const { services, log } = this.run();
      this.writes = this.writes.then(() => this.retried(() => write(services.store, this.roomId), log));
    },
  };

  /**
   * A hand-over to another room of this kind (a portal). A seat is reserved in an instance of the
   * target (on whichever process holds or creates it), the profile is written with the arrival,
   * and only then does the body leave and the client get its reservation. A failure at any step
   * leaves the player where it was. If the client never uses the reservation, its profile already
   * places it at the arrival: nothing is lost.
   */
  /**
   * Runs one of the room's store writes (each is idempotent), again with backoff while the store
   * is unavailable, for at most `policy.roomWrites.retryForMs`: the writes after it wait, so they
   * land in order. A write that still fails is logged with what it lost.
   */
  private async retried(write: () => Promise<unknown>, log: Logger): Promise<void> {
    const giveUpAt = Date.now() + policy.roomWrites.retryForMs;
    for (let failures = 1; ; failures++) {
      try {
        await write();
        return;
      } catch (err) {
        const delay = backoffMs(failures, { capMs: policy.roomWrites.maxBackoffMs });
        if (!(err instanceof StoreUnavailableError) || Date.now() + delay > giveUpAt) {
          log.error({ err, failures }, "a store write of this room failed; given up");
          return;
        }
        log.warn({ err: err.message, retryInMs: delay }, "a store write of this room failed; retrying");
        // Not the room clock: these writes outlive the room (onDispose waits for them).
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async handOver(seat: Seat, departure: Departure): Promise<void> {
    const run = this.run();
    const fail = (message: string, err?: unknown) => {
      run.log.warn({ sessionId: seat.sessionId, err, ...departure.log }, `travel failed: ${message}`);
      seat.departing = false;
      this.command(seat, departure.failed);
      // The seat's messages were held during the hand-over, so its last seq is the travel's.
      this.refuse(seat, "travel", seat.lastSeq, { ok: false, code: RejectCode.TravelUnavailable, message });
    };
    let reservation: Awaited<ReturnType<typeof matchMaker.joinOrCreate>>;
    try {
      reservation = await matchMaker.joinOrCreate(run.kind.name, {
        ...departure.options,
        traveller: { userId: seat.userId, name: seat.name },
      });
    } catch (err) {
      return fail(`no seat could be reserved in ${JSON.stringify(departure.options)}`, err);
    }
    if (run.seats.get(seat.sessionId) !== seat) return; // left meanwhile: the reservation lapses

    const before = { ...seat.profile };
    this.persist(seat);
    Object.assign(seat.profile, departure.profile);
    run.services.profiles.touch(seat.userId);
    await run.services.profiles.flush(seat.userId);
    if (run.services.profiles.failing) {
      Object.assign(seat.profile, { location: before.location, hp: before.hp, arrivedAt: before.arrivedAt });
      return fail("saves are failing; the portal waits until they work again");
    }
    const globalSeq = await run.services.sequences.next("travel").catch(() => null);
    this.outbox.record("travel", { sessionId: seat.sessionId, userId: seat.userId, ...departure.log, globalSeq });
    seat.ended = true;
    await this.releaseSeat(seat);
    seat.client.send("travel", { ...departure.message, reservation });
    // The body is gone from here: close the old connection (after the travel message, which the
    // socket delivers first) unless the client has left by itself within a second.
    this.clock.setTimeout(() => seat.client.leave(CloseCode.CONSENTED, CloseReason.TravelDeparted), 1000);
  }
}

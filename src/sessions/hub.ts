/**
 * The HTTP sessions of PROTOCOL §6 on one process. A session lives on the process that holds its
 * room, beside the room, as its seat's client. A call may reach any process: it finds the room
 * from a presence hash (sessionId → roomId) and reaches it with `matchMaker.remoteRoomCall`, the
 * same door `Users` uses, which runs the call in place when the room is here and over presence
 * pub/sub when it is on another process. Nothing is proxied over HTTP and no process needs
 * another's address.
 */
import { connectClientToRoom, matchMaker, ServerError, type Presence, type Room } from "@colyseus/core";
import { policy } from "../content/policy.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { HttpErrorCode, JoinErrorCode } from "../protocol/codes.js";
import { fullBucket, take, type Bucket } from "../validators/rateLimit.js";
import { HttpSession, type PollAnswer } from "./session.js";

/** Presence hash of the sessions: sessionId → roomId. */
const DIRECTORY = "realmgate:http-sessions";
/** What a call may take beyond a poll's own wait before the caller gives up on the room. */
const CALL_MARGIN_MS = 5000;

/** A call on a session, run on the process that holds its room. */
export type SessionCall =
  | { op: "open"; sessionId: string; userId: string }
  | { op: "resume"; token: string; userId: string }
  | { op: "send"; sessionId: string; userId: string; messages: Array<{ type: string; payload?: unknown }> }
  | { op: "poll"; sessionId: string; userId: string; cursor: number; wait: number }
  | { op: "leave"; sessionId: string; userId: string };

/** The answer of a call: a status and a body, or an HTTP error. Plain data: it may cross processes. */
export type SessionResult =
  | { ok: true; status: number; body?: SessionInfo | PollAnswer | { accepted: number } }
  | { ok: false; status: number; code: string; message: string };

export interface SessionInfo {
  sessionId: string;
  roomId: string;
  room: string;
  reconnectionToken: string;
}

/** What the hub needs of a room (KindRoom provides it). */
export interface SessionRoom extends Room {
  seatOfToken(token: string): { sessionId: string; userId: string } | undefined;
}

/** A refusal that names its code: `code/name: why` (join errors, KindRoom's ServerErrors). */
const CODED = /^([a-z_]+\/[a-z_]+): /;

const fail = (status: number, code: string, message: string): SessionResult => ({ ok: false, status, code, message });

/**
 * The status and code of a refused join, as PROTOCOL §6 asks: the join error codes of §1 with
 * 400, 401, 409 or 503.
 */
export function joinFailure(err: unknown): SessionResult {
  const message = err instanceof Error ? err.message : String(err);
  const code = CODED.exec(message)?.[1];
  const status: Record<string, number> = {
    [JoinErrorCode.AuthMissing]: 401,
    [JoinErrorCode.AuthInvalid]: 401,
    [JoinErrorCode.AuthExpired]: 401,
    [JoinErrorCode.InputInvalid]: 400,
    [JoinErrorCode.StoreUnavailable]: 503,
    [JoinErrorCode.PresenceUnavailable]: 503,
    [JoinErrorCode.NotMember]: 409,
    [JoinErrorCode.MatchStarted]: 409,
    [JoinErrorCode.MatchFull]: 409,
  };
  if (code && status[code]) return fail(status[code], code, message.slice(code.length + 2));
  return fail(503, HttpErrorCode.SessionUnavailable, `no seat could be had: ${message}`);
}

export class HttpSessions {
  private readonly sessions = new Map<string, HttpSession>();
  private readonly creations = new Map<string, Bucket>();
  private reaper: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly presence: Presence,
    private readonly log: Logger,
  ) {}

  /** The time without a poll after which a session counts as dropped. */
  get idleSec(): number {
    return Math.max(this.config.reconnectSec, policy.sessions.minIdleSec);
  }

  get size(): number {
    return this.sessions.size;
  }

  start(): void {
    this.reaper ??= setInterval(() => this.reap(), 1000);
    this.reaper.unref();
  }

  stop(): void {
    clearInterval(this.reaper);
    this.reaper = undefined;
  }

  /** Takes one of the user's session creations; false when the user is over the limit. */
  allowCreation(userId: string): boolean {
    const spec = policy.sessions.create;
    const now = Date.now();
    const result = take(this.creations.get(userId) ?? fullBucket(spec, now), spec, now);
    this.creations.set(userId, result.bucket);
    if (this.creations.size > 10_000)
      for (const [k, b] of this.creations)
        if (now - b.updatedAt > (spec.burst / spec.perSecond) * 1000) this.creations.delete(k);
    return result.allowed;
  }

  /** Runs `call` on the process that holds `roomId`. */
  async route(roomId: string, call: SessionCall): Promise<SessionResult> {
    const room = matchMaker.getLocalRoomById(roomId) as SessionRoom | undefined;
    if (room) return this.local(room, call);
    if ((await matchMaker.query({ roomId })).length === 0)
      return fail(404, HttpErrorCode.SessionNotFound, "the session's room is gone");
    const timeout = (call.op === "poll" ? call.wait : 0) + CALL_MARGIN_MS;
    try {
      return (await matchMaker.remoteRoomCall(roomId, "sessionCall", [call], timeout)) as SessionResult;
    } catch (err) {
      this.log.warn({ err, roomId, op: call.op }, "the process holding the session's room did not answer");
      return fail(503, HttpErrorCode.SessionUnavailable, "the process holding the session's room did not answer");
    }
  }

  /** Runs a call on an existing session, wherever it lives. */
  async call(call: Exclude<SessionCall, { op: "open" | "resume" }>): Promise<SessionResult> {
    const roomId =
      this.sessions.get(call.sessionId)?.roomId ??
      (await this.presence.hget(DIRECTORY, call.sessionId).catch(() => null));
    if (!roomId) return fail(404, HttpErrorCode.SessionNotFound, `no session ${call.sessionId}`);
    return this.route(roomId, call);
  }

  /** Runs a call here, where `room` is. */
  async local(room: SessionRoom, call: SessionCall): Promise<SessionResult> {
    if (call.op === "open") return this.open(room, call.sessionId, call.userId);
    if (call.op === "resume") return this.resume(room, call.token, call.userId);
    const session = this.sessions.get(call.sessionId);
    if (!session || session.roomId !== room.roomId)
      return fail(404, HttpErrorCode.SessionNotFound, `no session ${call.sessionId}`);
    if (session.userId !== call.userId)
      return fail(403, HttpErrorCode.Forbidden, "this session belongs to another user");
    switch (call.op) {
      case "send":
        if (session.closed) return fail(410, HttpErrorCode.SessionClosed, session.closed.reason);
        return { ok: true, status: 200, body: { accepted: session.send(call.messages) } };
      case "poll":
        return { ok: true, status: 200, body: await session.poll(call.cursor, call.wait) };
      case "leave":
        await session.leave();
        this.forget(session);
        return { ok: true, status: 204 };
    }
  }

  /** Consumes the seat reserved for `sessionId` with a new HTTP session. */
  private async open(room: SessionRoom, sessionId: string, userId: string): Promise<SessionResult> {
    return this.connect(room, new HttpSession(sessionId, userId, room.roomId, room.roomName), undefined);
  }

  /** Takes over the seat of `token` (`roomId:token`): a dropped WebSocket, or an HTTP session. */
  private async resume(room: SessionRoom, fullToken: string, userId: string): Promise<SessionResult> {
    const token = fullToken.slice(fullToken.indexOf(":") + 1);
    const seat = room.seatOfToken(token);
    if (!seat) return fail(404, HttpErrorCode.SessionNotFound, "no seat holds this reconnection token (expired?)");
    if (seat.userId !== userId) return fail(403, HttpErrorCode.Forbidden, "this seat belongs to another user");
    // Frees the seat for its reconnection: a connection still open is closed (the room sees a drop).
    if (room.checkReconnectionToken(token) !== seat.sessionId)
      return fail(404, HttpErrorCode.SessionNotFound, "the seat's reconnection window has closed");
    return this.connect(room, new HttpSession(seat.sessionId, userId, room.roomId, room.roomName), token);
  }

  private async connect(room: SessionRoom, session: HttpSession, token: string | undefined): Promise<SessionResult> {
    const previous = this.sessions.get(session.sessionId);
    this.sessions.set(session.sessionId, session);
    try {
      await connectClientToRoom(
        room,
        session.client,
        { token: undefined, ip: undefined, headers: new Headers() },
        { reconnectionToken: token },
      );
    } catch (err) {
      if (this.sessions.get(session.sessionId) === session) {
        if (previous) this.sessions.set(session.sessionId, previous);
        else this.sessions.delete(session.sessionId);
      }
      // A resume that lost the race for the seat finds it gone; a join refused by the room says why.
      if (token && err instanceof ServerError && !CODED.test(err.message))
        return fail(404, HttpErrorCode.SessionNotFound, `the seat could not be taken: ${err.message}`);
      return joinFailure(err);
    }
    await this.presence.hset(DIRECTORY, session.sessionId, room.roomId);
    this.log.info({ sessionId: session.sessionId, roomId: room.roomId, resumed: !!token }, "http session opened");
    return {
      ok: true,
      status: token ? 200 : 201,
      body: {
        sessionId: session.sessionId,
        roomId: room.roomId,
        room: room.roomName,
        reconnectionToken: session.reconnectionToken!,
      },
    };
  }

  /** Drops sessions nobody polls; forgets closed ones after a while. */
  private reap(): void {
    const now = Date.now();
    const idleMs = this.idleSec * 1000;
    for (const session of this.sessions.values()) {
      if (!session.closed && session.idleFor(now) > idleMs) {
        this.log.info({ sessionId: session.sessionId, roomId: session.roomId }, "http session idle; dropped");
        session.dropIdle(this.idleSec);
      } else if (session.closed && now - session.closedAtMs > policy.sessions.keepClosedMs) this.forget(session);
    }
  }

  private forget(session: HttpSession): void {
    if (this.sessions.get(session.sessionId) !== session) return;
    this.sessions.delete(session.sessionId);
    void this.presence.hdel(DIRECTORY, session.sessionId).catch(() => undefined);
  }
}

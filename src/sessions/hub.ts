/**
 * The HTTP sessions of PROTOCOL §6 on one process. A session lives on the process that holds its
 * room, beside the room, as its seat's client. Opening or resuming one reaches the room with
 * `matchMaker.remoteRoomCall`, the same door `Users` uses, which runs the call in place when the
 * room is here and over presence pub/sub when it is on another process. The calls on a session
 * (send, poll, leave) go to the process that holds it, found in a presence hash, over that
 * process's own channel: a session outlives its room when the room closes after the seat ended (the
 * last player travelled away, and the room disposed), and its `travel` message and `closed` must
 * still be read. Nothing is proxied over HTTP and no process needs another's address.
 */
import {
  connectClientToRoom,
  matchMaker,
  requestFromIPC,
  ServerError,
  subscribeIPC,
  type Presence,
  type Room,
} from "@colyseus/core";
import { policy } from "../content/policy.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { HttpErrorCode, JoinErrorCode } from "../protocol/codes.js";
import { fullBucket, take, type Bucket } from "../validators/rateLimit.js";
import { HttpSession, type PollAnswer } from "./session.js";

/** Presence hash of the sessions: sessionId → `processId roomId`, where the session and its room live. */
const DIRECTORY = "realmgate:http-sessions";
/** The presence channel on which a process answers the calls on its sessions. */
const channelOf = (processId: string) => `realmgate:http-sessions:${processId}`;
/** What a call may take beyond a poll's own wait before the caller gives up on the process. */
const CALL_MARGIN_MS = 5000;

/** A call on an existing session, run on the process that holds it (with or without its room). */
export type OnSession =
  | { op: "send"; sessionId: string; userId: string; messages: Array<{ type: string; payload?: unknown }> }
  | { op: "poll"; sessionId: string; userId: string; cursor: number; wait: number }
  | { op: "leave"; sessionId: string; userId: string };

/** A call on a session, run on the process that holds its room. */
export type SessionCall =
  { op: "open"; sessionId: string; userId: string } | { op: "resume"; token: string; userId: string } | OnSession;

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
  /** The channel this process answers session calls on, once subscribed (see `listen`). */
  private listening: Promise<string> | undefined;

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
    const listening = this.listening;
    this.listening = undefined;
    void listening
      ?.then((channel) => {
        this.presence.unsubscribe(channel);
      })
      .catch(() => undefined);
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
  async call(call: OnSession): Promise<SessionResult> {
    if (this.sessions.has(call.sessionId)) return this.here(call);
    const entry = await this.presence.hget(DIRECTORY, call.sessionId).catch(() => null);
    if (!entry) return fail(404, HttpErrorCode.SessionNotFound, `no session ${call.sessionId}`);
    const [processId, roomId] = entry.split(" ");
    if (processId === matchMaker.processId) return this.here(call); // forgotten here meanwhile
    const timeout = (call.op === "poll" ? call.wait : 0) + CALL_MARGIN_MS;
    try {
      return await requestFromIPC<SessionResult>(this.presence, channelOf(processId), call.op, [call], timeout);
    } catch (err) {
      // A process that died takes its sessions along; its rooms leave the listing once noticed.
      if ((await matchMaker.query({ roomId })).length === 0)
        return fail(404, HttpErrorCode.SessionNotFound, "the session's process is gone");
      this.log.warn({ err, roomId, processId, op: call.op }, "the process holding the session did not answer");
      return fail(503, HttpErrorCode.SessionUnavailable, "the process holding the session did not answer");
    }
  }

  /** Runs an open or a resume here, where `room` is. */
  async local(room: SessionRoom, call: SessionCall): Promise<SessionResult> {
    if (call.op === "open") return this.open(room, call.sessionId, call.userId);
    if (call.op === "resume") return this.resume(room, call.token, call.userId);
    return this.here(call);
  }

  /** Runs a call on a session of this process; its room may have closed since the seat ended. */
  private async here(call: OnSession): Promise<SessionResult> {
    const session = this.sessions.get(call.sessionId);
    if (!session) return fail(404, HttpErrorCode.SessionNotFound, `no session ${call.sessionId}`);
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
    await this.presence.hset(DIRECTORY, session.sessionId, `${await this.listen()} ${room.roomId}`);
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

  /**
   * Answers the calls other processes route to this one's sessions; resolves with this process's
   * id once subscribed. Subscribed at the first session, when the matchmaker has its process id.
   */
  private async listen(): Promise<string> {
    const processId = matchMaker.processId;
    this.listening ??= subscribeIPC(this.presence, channelOf(processId), (_op, args: unknown[]) =>
      this.here(args[0] as OnSession),
    ).then(() => channelOf(processId));
    await this.listening;
    return processId;
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

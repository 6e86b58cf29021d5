/**
 * One HTTP session on the process that holds its room: the seat's client, the messages it
 * received since the player last looked (bounded), the decoded state, and the long polls waiting
 * on them. Every room message and every change of the decoded view takes the next number of one
 * counter; a poll's `cursor` is the last number the player has seen.
 */
import { CloseCode } from "@colyseus/core";
import { policy } from "../content/policy.js";
import { CloseReason } from "../protocol/codes.js";
import { HttpClient } from "./http-client.js";

export interface PollAnswer {
  cursor: number;
  state?: unknown;
  messages: Array<{ type: string; payload: unknown }>;
  /** Extension: messages dropped after `cursor` because the buffer was full. */
  dropped?: number;
  /** Extension: the seat has ended; no more messages will come. */
  closed?: { code: number; reason: string };
}

interface Entry {
  /** Its number on the session's counter. */
  n: number;
  /** Its number among messages alone (for counting the dropped). */
  m: number;
  type: string;
  payload: unknown;
  bytes: number;
}

/** How many of the cursors handed out are remembered (to count what a poll missed exactly). */
const REMEMBERED_CURSORS = 32;

export class HttpSession {
  readonly client: HttpClient;
  /** The last number handed out: messages and state changes. */
  private n = 0;
  /** Messages received so far. */
  private m = 0;
  private readonly entries: Entry[] = [];
  private bytes = 0;
  /** Cursor → messages received up to it, for the cursors handed out lately. */
  private readonly seenAt = new Map<number, number>([[0, 0]]);
  private stateAt = 0;
  private stateJson: string | undefined;
  /** The last numbered view without its `tick`: what counts as a change. */
  private stateKey: string | undefined;
  private stateDirty = false;
  private readonly waiters = new Set<() => void>();
  private polls = 0;
  /** When the player last polled (or when the session opened); see `idleFor`. */
  private seenAtMs = Date.now();
  closed: { code: number; reason: string } | undefined;
  closedAtMs = 0;
  /** Resolves once the seat's connection has ended. */
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    readonly sessionId: string,
    readonly userId: string,
    readonly roomId: string,
    readonly room: string,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.client = new HttpClient(sessionId, roomId, {
      message: (type, payload) => this.push(type, payload),
      state: () => this.stateChanged(),
      closed: (code, reason) => this.close(code, reason),
    });
  }

  get reconnectionToken(): string | undefined {
    return this.client.fullReconnectionToken;
  }

  /** Milliseconds since the player last polled; 0 while a poll waits. */
  idleFor(now: number): number {
    return this.polls > 0 ? 0 : now - this.seenAtMs;
  }

  /** Runs up to 20 messages through the room's pipeline, in order. */
  send(messages: ReadonlyArray<{ type: string; payload?: unknown }>): number {
    for (const { type, payload } of messages) this.client.sendFromPlayer(type, payload);
    return messages.length;
  }

  /** Answers at once when anything after `cursor` is pending, else waits up to `waitMs` for it. */
  async poll(cursor: number, waitMs: number): Promise<PollAnswer> {
    this.polls++;
    try {
      // A cursor from before a resume (the counter starts again) is treated as a first poll.
      const from = cursor > this.n ? 0 : cursor;
      if (!this.pending(from) && waitMs > 0 && !this.closed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.waiters.delete(check);
            resolve();
          };
          const check = () => {
            if (this.pending(from)) done();
          };
          const timer = setTimeout(done, waitMs);
          this.waiters.add(check);
        });
      }
      return this.answer(from);
    } finally {
      this.polls--;
      this.seenAtMs = Date.now();
    }
  }

  /** The player left (DELETE): resolves once the room has released the seat and saved. */
  async leave(): Promise<void> {
    if (!this.closed) this.client.leaveFromPlayer();
    await this.ended;
  }

  /** Not polled for too long: the room sees a dropped connection (its reconnection window opens). */
  dropIdle(idleSec: number): void {
    this.client.drop(`${CloseReason.SessionIdle}: not polled for ${idleSec} s; resume with the reconnectionToken`);
  }

  private pending(cursor: number): boolean {
    this.settleState();
    return (
      this.closed !== undefined ||
      this.stateAt > cursor ||
      (this.entries.length > 0 && this.entries[this.entries.length - 1].n > cursor)
    );
  }

  private answer(cursor: number): PollAnswer {
    this.settleState();
    const answer: PollAnswer = {
      cursor: this.n,
      messages: this.entries.filter((e) => e.n > cursor).map(({ type, payload }) => ({ type, payload })),
    };
    if (this.stateAt > cursor && this.stateJson !== undefined) answer.state = JSON.parse(this.stateJson);
    // Messages received after `cursor` that are no longer held: dropped for want of room.
    const seen = this.seenAt.get(cursor) ?? 0;
    const firstHeld = this.entries[0]?.m ?? this.m + 1;
    const dropped = firstHeld - 1 - seen;
    if (dropped > 0) answer.dropped = dropped;
    if (this.closed) answer.closed = this.closed;
    this.seenAt.set(this.n, this.m);
    if (this.seenAt.size > REMEMBERED_CURSORS) this.seenAt.delete(this.seenAt.keys().next().value!);
    return answer;
  }

  private push(type: string, payload: unknown): void {
    const bytes = type.length + (payload === undefined ? 0 : JSON.stringify(payload).length);
    this.entries.push({ n: ++this.n, m: ++this.m, type, payload, bytes });
    this.bytes += bytes;
    const bound = policy.sessions;
    while (this.entries.length > bound.bufferMessages || (this.bytes > bound.bufferBytes && this.entries.length > 1))
      this.bytes -= this.entries.shift()!.bytes;
    this.wake();
  }

  private stateChanged(): void {
    this.stateDirty = true;
    if (this.waiters.size > 0) this.wake();
  }

  /**
   * Takes the next number for the decoded view if it differs from the one last numbered. `tick`
   * alone does not count: it moves with every patch, and would wake every long poll 20 times a
   * second in a room where nothing happens.
   */
  private settleState(): void {
    if (!this.stateDirty) return;
    this.stateDirty = false;
    const view = this.client.decoded?.toJSON() as Record<string, unknown> | undefined;
    if (!view) return;
    const { tick: _tick, ...rest } = view;
    const key = JSON.stringify(rest);
    if (key === this.stateKey) return;
    this.stateKey = key;
    this.stateJson = JSON.stringify(view);
    this.stateAt = ++this.n;
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }

  private close(code: number, reason: string): void {
    // A seat taken over by a reconnection (`client.reconnect`, or a resume) closes without a reason.
    this.closed = {
      code,
      reason:
        reason ||
        (code === CloseCode.WITH_ERROR
          ? `${CloseReason.SessionSwitched}: another connection took over the seat`
          : "closed"),
    };
    this.closedAtMs = Date.now();
    this.resolveEnded();
    this.wake();
  }
}

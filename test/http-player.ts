/**
 * A player over HTTP alone, written from PROTOCOL §6 and nothing else: open a session, post
 * messages with `seq`, long-poll with a cursor, keep the last `state`, delete. The tests use it
 * to play as a client of the protocol would, with no knowledge of the server's inside.
 */
import type { Reject } from "../client/index.js";

export interface Poll<S> {
  cursor: number;
  state?: S;
  messages: Array<{ type: string; payload: unknown }>;
  dropped?: number;
  closed?: { code: number; reason: string };
}

export interface SessionInfo {
  sessionId: string;
  roomId: string;
  room: string;
  reconnectionToken: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** One call of §6: JSON in, JSON out, `{error: {code, message}}` thrown as an HttpError. */
export async function call<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const { code, message } = (json as { error: { code: string; message: string } }).error;
    throw new HttpError(res.status, code, message);
  }
  return json as T;
}

export class HttpPlayer<S = unknown> {
  cursor = 0;
  seq = 0;
  state: S | undefined;
  /** Every message received, in order. */
  readonly received: Array<{ type: string; payload: unknown }> = [];
  dropped = 0;
  closed: { code: number; reason: string } | undefined;

  constructor(
    public base: string,
    readonly token: string,
    public info: SessionInfo,
  ) {}

  static async open<S>(base: string, token: string, room: string, options: object = {}): Promise<HttpPlayer<S>> {
    return new HttpPlayer<S>(
      base,
      token,
      await call<SessionInfo>(base, token, "POST", "/api/sessions", { room, options }),
    );
  }

  static async resume<S>(base: string, token: string, reconnectionToken: string, seq = 0): Promise<HttpPlayer<S>> {
    const player = new HttpPlayer<S>(
      base,
      token,
      await call<SessionInfo>(base, token, "POST", "/api/sessions/resume", { reconnectionToken }),
    );
    player.seq = seq;
    return player;
  }

  get sessionId(): string {
    return this.info.sessionId;
  }

  /** Posts actions, each with the next `seq`; returns the seqs given. */
  async send(...messages: Array<{ type: string; payload?: Record<string, unknown> }>): Promise<number[]> {
    const seqs: number[] = [];
    const body = messages.map(({ type, payload = {} }) => {
      const seq = ++this.seq;
      seqs.push(seq);
      return { type, payload: { seq, ...payload } };
    });
    const { accepted } = await call<{ accepted: number }>(
      this.base,
      this.token,
      "POST",
      `/api/sessions/${this.sessionId}/messages`,
      body,
    );
    if (accepted !== messages.length) throw new Error(`accepted ${accepted} of ${messages.length}`);
    return seqs;
  }

  /** One poll: keeps the state, collects the messages, moves the cursor. */
  async poll(wait = 1000): Promise<Poll<S>> {
    const answer = await call<Poll<S>>(
      this.base,
      this.token,
      "GET",
      `/api/sessions/${this.sessionId}/poll?cursor=${this.cursor}&wait=${wait}`,
    );
    this.cursor = answer.cursor;
    if (answer.state !== undefined) this.state = answer.state;
    this.received.push(...answer.messages);
    this.dropped += answer.dropped ?? 0;
    if (answer.closed) this.closed = answer.closed;
    return answer;
  }

  /** Polls until `predicate` holds (checked after every poll); fails after `ms`. */
  async until(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    const deadline = performance.now() + ms;
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
      await this.poll(Math.round(Math.max(0, Math.min(1000, deadline - performance.now()))));
    }
  }

  /** Polls until a message of `type` (after the ones seen so far) matches; returns it. */
  async next<M>(type: string, where: (m: M) => boolean = () => true, ms = 5000): Promise<M> {
    const from = this.received.length;
    let found: M | undefined;
    await this.until(
      () => {
        const hit = this.received.slice(from).find((m) => m.type === type && where(m.payload as M));
        found = hit?.payload as M | undefined;
        return hit !== undefined;
      },
      ms,
      `message '${type}'`,
    );
    return found!;
  }

  /** Sends an action and waits for its `reject`. */
  async expectReject(type: string, payload: Record<string, unknown> = {}): Promise<Reject> {
    const from = this.received.length;
    const [seq] = await this.send({ type, payload });
    let found: Reject | undefined;
    await this.until(() => {
      found = this.received.slice(from).find((m) => m.type === "reject" && (m.payload as Reject).seq === seq)
        ?.payload as Reject | undefined;
      return found !== undefined;
    });
    return found!;
  }

  leave(): Promise<void> {
    return call<void>(this.base, this.token, "DELETE", `/api/sessions/${this.sessionId}`);
  }
}

/**
 * Where users sit across the cluster, and how to reach them there. Each room kind keeps a presence
 * hash userId → roomId (one seat per user and kind, see src/rooms/seats.ts); a room on any process
 * is reached with `matchMaker.remoteRoomCall`, which travels over presence pub/sub. This is the one
 * door for anything addressed to a user rather than a room: offers, whispers, unlocks, bans.
 */
import { randomUUID } from "node:crypto";
import { matchMaker, type Presence } from "@colyseus/core";
import type { Logger } from "../log.js";

/**
 * Presence counter of one delivery: the room that takes it first (1) sends it, any later one
 * (a retry after a seat that answered too late) does not. Expires on its own.
 */
export const deliveryKey = (id: string) => `realmgate:delivery:${id}`;
export const DELIVERY_TTL_SEC = 60;

/** Presence hash of the seats of one room kind: userId → roomId. */
export const seatKey = (kind: string) => `realmgate:seats:${kind}`;

/** One seat of a user: the kind and the room that holds it. */
export interface Seated {
  kind: string;
  roomId: string;
}

/** What a room answers to `closeUser` and `deliverToUser` (see `KindRoom`). */
export const USER_CALLS = { deliver: "deliverToUser", close: "closeUser" } as const;

export class Users {
  constructor(
    private readonly presence: Presence,
    /** Room kinds, in the order a message addressed to a user tries them. */
    private readonly kinds: readonly string[],
    private readonly log: Logger,
  ) {}

  /** The user's seats, one per kind at most, in kind order; empty when seated nowhere. */
  async where(userId: string): Promise<Seated[]> {
    const rooms = await Promise.all(this.kinds.map((kind) => this.presence.hget(seatKey(kind), userId)));
    return this.kinds.flatMap((kind, i) => (rooms[i] ? [{ kind, roomId: rooms[i] }] : []));
  }

  /**
   * Sends the room message `type` to the user's connected session: to the first of its seats (in
   * kind order, limited to `kinds` when given) whose room takes it. At most one session gets it:
   * each try carries one delivery id, and a room sends only if it is the first to claim that id in
   * presence, so a seat that answered too late (and was passed over) cannot send it as well.
   * False when no seat took it (seated nowhere, or only inside a reconnection window).
   */
  async deliver(userId: string, type: string, message: object, kinds?: readonly string[]): Promise<boolean> {
    const once = randomUUID();
    for (const seat of await this.where(userId)) {
      if (kinds && !kinds.includes(seat.kind)) continue;
      if (await this.call(seat, USER_CALLS.deliver, [userId, type, message, once])) return true;
    }
    return false;
  }

  /** Ends every seat of the user in the cluster, closing with `code` and `reason`; answers how many. */
  async close(userId: string, code: number, reason: string): Promise<number> {
    const closed = await Promise.all(
      (await this.where(userId)).map((seat) => this.call(seat, USER_CALLS.close, [userId, code, reason])),
    );
    return closed.filter(Boolean).length;
  }

  private async call(seat: Seated, method: string, args: unknown[]): Promise<boolean> {
    try {
      return (await matchMaker.remoteRoomCall(seat.roomId, method, args)) === true;
    } catch (err) {
      // A room that is gone (its process died, or it closed meanwhile) holds no session.
      this.log.debug({ err, ...seat, method }, "a user's seat did not answer");
      return false;
    }
  }
}

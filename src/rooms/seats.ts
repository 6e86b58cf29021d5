/**
 * The seats of a room: who is seated, their profile, and the rule of one seat per user and room
 * kind across the cluster (a presence hash userId → roomId).
 */
import { matchMaker, type Client, type Deferred, type Presence } from "@colyseus/core";
import type { Actor } from "../engine/kind.js";
import type { Profile } from "../domain/profile.js";
import type { Logger } from "../log.js";
import type { Bucket } from "../validators/rateLimit.js";
import { seatKey } from "../cluster/users.js";

/** The server's record of one seated session, whether connected or inside its reconnection window. */
export interface Seat extends Actor {
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
  /** Set while a portal hand-over is under way: the seat's messages are ignored. */
  departing: boolean;
}

export function newSeat(client: Client, actor: Actor, profile: Profile): Seat {
  return {
    ...actor,
    client,
    profile,
    lastSeq: -1,
    buckets: new Map(),
    floodStrikes: [],
    malformedStrikes: [],
    reconnection: null,
    ended: false,
    departing: false,
  };
}

export class SeatBook {
  private readonly seats = new Map<string, Seat>();
  /**
   * Users whose join here has recorded its seat in presence but not taken it yet, each with the
   * close that reached it meanwhile (a ban through `Users.close`), if any: the join is refused with it.
   */
  private readonly joining = new Map<string, { code: number; reason: string } | null>();

  constructor(
    private readonly kind: string,
    private readonly roomId: string,
    private readonly presence: Presence,
    private readonly log: Logger,
  ) {}

  get(sessionId: string): Seat | undefined {
    return this.seats.get(sessionId);
  }
  byUser(userId: string): Seat | undefined {
    for (const seat of this.seats.values()) if (seat.userId === userId) return seat;
    return undefined;
  }
  values(): IterableIterator<Seat> {
    return this.seats.values();
  }
  get size(): number {
    return this.seats.size;
  }
  add(seat: Seat): void {
    this.seats.set(seat.sessionId, seat);
  }
  /** Removes the seat if it is still the one held; false when it was already gone. */
  remove(seat: Seat): boolean {
    if (this.seats.get(seat.sessionId) !== seat) return false;
    this.seats.delete(seat.sessionId);
    return true;
  }

  /**
   * One seat per user and room kind: if the user sits in another room of this kind (on any
   * process), `endHere` (in this room) or that room's `endUserSession` ends the earlier session
   * and saves its profile before this join goes on. Records nothing: see `record`.
   */
  async vacate(userId: string, endHere: (userId: string) => Promise<void>): Promise<void> {
    const holder = await this.presence.hget(seatKey(this.kind), userId);
    if (holder === this.roomId) await endHere(userId);
    else if (holder && (await matchMaker.query({ roomId: holder })).length > 0) {
      await matchMaker.remoteRoomCall(holder, "endUserSession", [userId]).catch((err: unknown) => {
        this.log.warn({ userId, holder, err }, "could not reach the room holding the earlier seat");
      });
    }
  }

  /**
   * Records the user as seated here (a seat grants the room's events) and marks the join under way
   * until `settle`: a close that finds the record before the seat is taken is kept for the join
   * (`closeJoining`), so neither can miss the other.
   */
  async record(userId: string): Promise<void> {
    this.joining.set(userId, null);
    await this.presence.hset(seatKey(this.kind), userId, this.roomId);
  }

  /** Keeps a close for the user's join under way here; false when none is. */
  closeJoining(userId: string, code: number, reason: string): boolean {
    if (!this.joining.has(userId)) return false;
    this.joining.set(userId, { code, reason });
    return true;
  }

  /** Ends the mark of `record`: the close that reached the join meanwhile, if any. */
  settle(userId: string): { code: number; reason: string } | undefined {
    const closed = this.joining.get(userId) ?? undefined;
    this.joining.delete(userId);
    return closed;
  }

  /** Frees the user's claim, unless a later join elsewhere has taken it over meanwhile. */
  async unclaim(userId: string): Promise<void> {
    const key = seatKey(this.kind);
    const holder = await this.presence.hget(key, userId).catch(() => null);
    if (holder === this.roomId) await this.presence.hdel(key, userId).catch(() => undefined);
  }
}

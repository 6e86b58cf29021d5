/**
 * The persistence port. Rooms and HTTP routes talk to this interface only; each adapter
 * (embedded SQLite, PostgreSQL, MongoDB) passes the same contract suite in test/store.contract.ts.
 */

export type { Account, NewAccount, InventoryEntry, Location, Profile } from "../domain/profile.js";
import type { Account, NewAccount, Profile } from "../domain/profile.js";
import type { MatchRecord, MatchSummary, StoredMatch, Tx } from "../domain/match.js";
import type { TradeStore } from "./trades.js";
export type { MatchRecord, MatchSummary, StoredMatch, Tx } from "../domain/match.js";
import type { SocialStore } from "./social.js";

export class UsernameTakenError extends Error {
  override name = "UsernameTakenError";
  constructor(
    message: string,
    /** The username itself is free, but another one has its look-alike skeleton (src/auth/names.ts). */
    readonly lookalike = false,
  ) {
    super(message);
  }
}

/** The store is down or refuses work for now (locked, unreachable); the caller may retry later. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class StaleProfileError extends Error {
  override name = "StaleProfileError";
  constructor(
    readonly userId: string,
    readonly expectedVersion: number,
  ) {
    super(`profile ${userId} is no longer at version ${expectedVersion}`);
  }
}

/** One entry of a room's event log. `(roomId, seq)` is unique. */
export interface GameEvent {
  roomId: string;
  /** Per-room sequence, from 1, without gaps. */
  seq: number;
  /** Epoch ms. */
  at: number;
  type: string;
  data: Record<string, unknown>;
}

/**
 * A change addressed to a player's profile (src/cluster/profile-changes.ts), kept from the moment
 * it is announced until it is confirmed written: a process that dies in between leaves it for
 * another's sweep. `change` is stored as given (JSON).
 */
export interface PendingChange {
  /** One per change and player (say, `<matchId>:<userId>`): saving it again keeps the first. */
  id: string;
  userId: string;
  name: string;
  change: Record<string, unknown>;
  /** Epoch ms when it was recorded. */
  at: number;
}

export interface Store extends SocialStore {
  /** Adapter name, for logs and /health. */
  readonly kind: string;
  /**
   * Throws `UsernameTakenError` when the username exists, or (`lookalike`) when another registered
   * account has the same `skeleton`: the store holds both unique, so racing registrations cannot both land.
   */
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(userId: string): Promise<Account | null>;
  findAccountByUsername(username: string): Promise<Account | null>;
  /** A registered account whose username has this look-alike skeleton (src/auth/names.ts), if any. */
  findAccountBySkeleton(skeleton: string): Promise<Account | null>;
  loadProfile(userId: string): Promise<Profile | null>;
  /**
   * Writes the whole profile in one conditional single-document update: it lands only if the
   * stored version equals `profile.version` (or nothing is stored and it is 0), and bumps it.
   *
   * `opId` names this write. A retry of the same write (say, after a timeout whose write did land)
   * finds its own `opId` on the stored profile and succeeds without writing again, so a save is
   * applied once however often it is retried. A *different* write from the same stale version
   * fails with `StaleProfileError`. Together they mean a pickup, a gather or a hand-over saved
   * twice changes the inventory once, and a stale copy never overwrites newer progress.
   */
  saveProfile(profile: Profile, opId: string): Promise<Profile>;
  /** Appends events; one already stored (same roomId and seq) is skipped, so retries are safe. */
  appendEvents(events: readonly GameEvent[]): Promise<void>;
  /** Events of a room with `seq > after`, in order, at most `limit`. */
  eventsAfter(roomId: string, after: number, limit: number): Promise<GameEvent[]>;
  /** Deletes events older than `before` (epoch ms); returns how many. MongoDB does it by TTL index. */
  pruneEvents(before: number): Promise<number>;
  /** Creates or replaces a match's record (status, scores, times). */
  saveMatch(record: MatchRecord): Promise<void>;
  /** Appends a transaction of a saved match; one already stored live (same matchId and index) is skipped. */
  appendMatchTx(tx: Tx): Promise<void>;
  /**
   * Marks every live transaction of the match with `index > to` as rolled back at `at` (epoch ms).
   * They stay stored, apart from the chain; returns how many.
   */
  rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number>;
  /** The record, the live chain in order, and what rollbacks cut off (by rollback time, then index). */
  loadMatch(matchId: string): Promise<StoredMatch | null>;
  /** The matches `userId` played in, newest first (by start), at most `limit`. */
  matchesOf(userId: string, limit: number): Promise<MatchSummary[]>;
  /** Records a pending profile change; one already stored under the same id is kept as it is. */
  savePendingChange(pending: PendingChange): Promise<void>;
  /** Pending changes recorded before `before` (epoch ms), oldest first, at most `limit`. */
  pendingChanges(before: number, limit: number): Promise<PendingChange[]>;
  /** Forgets a pending change once it is written; forgetting one not stored is no error. */
  deletePendingChange(id: string): Promise<void>;
  /** Trade records (PROTOCOL §5, src/persistence/trades.ts); null where the adapter has none yet. */
  readonly trades: TradeStore | null;
  /** Resolves when the store answers; rejects when it is down. */
  ping(): Promise<void>;
  /**
   * Resolves when the store takes a write right now: a real (tiny) write, so a store that still
   * answers reads but refuses writes (locked, read-only, immutable, full) rejects, with the reason.
   * `/health` reports the store from this probe, not from how the last profile write went.
   */
  probe(): Promise<void>;
  close(): Promise<void>;
}

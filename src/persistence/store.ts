/**
 * The persistence port. Rooms and HTTP routes talk to this interface only; each adapter
 * (embedded SQLite, MongoDB) passes the same contract suite in test/store.contract.ts.
 */

export interface Account {
  userId: string;
  /** Absent for guests. Unique, compared case-insensitively. */
  username: string | null;
  /** Display name. */
  name: string;
  /** `scrypt$...` string; absent for guests. */
  passwordHash: string | null;
  createdAt: number;
}

export type NewAccount = Omit<Account, "createdAt">;

export interface InventoryEntry {
  item: string;
  qty: number;
}

export interface Location {
  world: string;
  x: number;
  y: number;
}

export interface Profile {
  userId: string;
  name: string;
  level: number;
  xp: number;
  gold: number;
  hp: number;
  inventory: InventoryEntry[];
  location: Location | null;
  /**
   * Optimistic-concurrency counter: a save must carry the version it read, and bumps it. A writer
   * holding a stale copy (say, a room that lost track of a player who already moved on) fails
   * with `StaleProfileError` instead of overwriting newer progress. 0 = never saved.
   */
  version: number;
}

export class UsernameTakenError extends Error {
  override name = "UsernameTakenError";
}

export class StaleProfileError extends Error {
  override name = "StaleProfileError";
  constructor(readonly userId: string, readonly expectedVersion: number) {
    super(`profile ${userId} is no longer at version ${expectedVersion}`);
  }
}

export interface Store {
  /** Adapter name, for logs and /health. */
  readonly kind: string;
  /** Throws `UsernameTakenError` when the username exists. */
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(userId: string): Promise<Account | null>;
  findAccountByUsername(username: string): Promise<Account | null>;
  loadProfile(userId: string): Promise<Profile | null>;
  /**
   * Writes the whole profile atomically if the stored version equals `profile.version`
   * (or none is stored and it is 0). Returns the profile at its new version.
   */
  saveProfile(profile: Profile): Promise<Profile>;
  /** Resolves when the store answers; rejects when it is down. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The player as the game knows it: account, profile and inventory. Rules and persistence both
 * import these; neither owns them.
 */
import type { Escrow } from "./trade.js";

import type { Stats, Unlocked } from "./social.js";

export interface Account {
  userId: string;
  /** Absent for guests. Unique, compared case-insensitively. */
  username: string | null;
  /** Display name. */
  name: string;
  /** `scrypt$...` string; absent for guests. */
  passwordHash: string | null;
  /**
   * The look-alike skeleton of the username (src/auth/names.ts), stored to find names that only
   * look like it; absent for guests. Written on creation, not read back into `Account`.
   */
  skeleton?: string | null;
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
  /** Epoch ms of the last arrival through a portal: the travel cooldown outlives a re-join. */
  arrivedAt?: number;
  /** Elo rating from turn-based matches (PROTOCOL §4). */
  rating: number;
  /**
   * The matches whose result `rating` has taken, newest last (at most `RATED_KEPT`): a rating
   * delivered again (a retry, a second holder) changes it once. Absent before the first rated match.
   */
  ratedMatches?: string[];
  /** Counters of play (PROTOCOL §7); absent on profiles saved before they existed. */
  stats?: Stats;
  /** Unlocked achievements, oldest first; an id appears once. */
  achievements?: Unlocked[];
  /** Best dungeon clears: dungeon id → ms from `active` to `cleared` (the `crypt-fastest` board). */
  bests?: Record<string, number>;
  /**
   * What this player has put aside for trades being committed (PROTOCOL §5, src/trade/). Absent
   * in profiles saved before trade existed and whenever nothing is in escrow.
   */
  escrow?: Escrow[];
  /**
   * Optimistic-concurrency counter: a save must carry the version it read, and bumps it. A writer
   * holding a stale copy (say, a room that lost track of a player who already moved on) fails
   * with `StaleProfileError` instead of overwriting newer progress. 0 = never saved.
   */
  version: number;
}

/** Every player's Elo rating before its first match. */
export const START_RATING = 1200;

/** The profile a new player starts with. */
export function newProfile(account: Pick<Account, "userId" | "name">, hp: number): Profile {
  return {
    userId: account.userId,
    name: account.name,
    level: 1,
    xp: 0,
    gold: 0,
    hp,
    inventory: [],
    location: null,
    rating: START_RATING,
    version: 0,
  };
}

/** Adds `qty` of `item` to an inventory, stacking with what is there. Returns a new array. */
export function addItem(inventory: readonly InventoryEntry[], item: string, qty: number): InventoryEntry[] {
  const next = inventory.map((e) => ({ ...e }));
  const slot = next.find((e) => e.item === item);
  if (slot) slot.qty += qty;
  else next.push({ item, qty });
  return next;
}

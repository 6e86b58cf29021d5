/**
 * The player as the game knows it: account, profile and inventory. Rules and persistence both
 * import these; neither owns them.
 */
import { isDeepStrictEqual } from "node:util";
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

/**
 * Fields that change together. A rebase takes each group whole from one side: goods and gold
 * move between inventory and escrow in one step of a trade, a rating goes with the match that
 * gave it, progress with the stats that unlocked it. A field in no group is a group of its own.
 */
const FIELD_GROUPS: readonly (readonly (keyof Profile)[])[] = [
  ["location", "hp", "arrivedAt"],
  ["inventory", "escrow", "gold"],
  ["rating", "ratedMatches"],
  ["level", "xp", "stats", "achievements", "bests"],
];

/**
 * Replays what one copy changed (`mine`, against the stored `base` it was read from) onto the
 * stored profile written since by another copy (`theirs`): every group only `mine` changed is
 * taken from it, every other group from `theirs`. Null when both changed a group: neither side's
 * change can be kept without losing or repeating the other's, so `mine` must not be written.
 */
export function rebaseProfile(base: Profile, mine: Profile, theirs: Profile): Profile | null {
  const grouped = new Set<string>(FIELD_GROUPS.flat());
  const loose = [...new Set([...Object.keys(base), ...Object.keys(mine), ...Object.keys(theirs)])].filter(
    (key) => !grouped.has(key) && key !== "version" && key !== "userId",
  ) as (keyof Profile)[];
  const changed = (side: Profile, group: readonly (keyof Profile)[]) =>
    group.some((key) => !isDeepStrictEqual(side[key], base[key]));
  const rebased = structuredClone(theirs) as unknown as Record<string, unknown>;
  for (const group of [...FIELD_GROUPS, ...loose.map((key) => [key])]) {
    if (!changed(mine, group)) continue;
    if (changed(theirs, group)) return null;
    for (const key of group) {
      if (key in mine) rebased[key] = structuredClone(mine[key]);
      else delete rebased[key];
    }
  }
  return { ...(rebased as unknown as Profile), version: theirs.version };
}

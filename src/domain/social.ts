/**
 * What a player's play adds up to (PROTOCOL §7): counters and unlocked achievements, kept on the
 * profile and saved with it. Rules (src/rules/achievements.ts) compute them; persistence and the
 * routes only read them.
 */

/** Counters of a player's play; `GET /api/me` shows them as `stats`. */
export interface Stats {
  kills: number;
  deaths: number;
  gathered: number;
  trades: number;
  matchesPlayed: number;
  matchesWon: number;
  dungeonsCleared: number;
}

/** An achievement the player has, and when it unlocked (epoch ms). */
export interface Unlocked {
  id: string;
  at: number;
}

export const STAT_NAMES = [
  "kills",
  "deaths",
  "gathered",
  "trades",
  "matchesPlayed",
  "matchesWon",
  "dungeonsCleared",
] as const satisfies readonly (keyof Stats)[];

export const emptyStats = (): Stats => ({
  kills: 0,
  deaths: 0,
  gathered: 0,
  trades: 0,
  matchesPlayed: 0,
  matchesWon: 0,
  dungeonsCleared: 0,
});

/** The profile's progress fields, with the defaults a profile saved before they existed lacks. */
export function progressOf(profile: {
  stats?: Partial<Stats>;
  achievements?: readonly Unlocked[];
  bests?: Readonly<Record<string, number>>;
}): { stats: Stats; achievements: Unlocked[]; bests: Record<string, number> } {
  return {
    stats: { ...emptyStats(), ...profile.stats },
    achievements: [...(profile.achievements ?? [])],
    bests: { ...profile.bests },
  };
}

/** A leaderboard (PROTOCOL §7): which profile number it ranks, and which way. */
export interface Board {
  id: "level" | "crypt-fastest" | "match-rating";
  name: string;
  order: "asc" | "desc";
}

export const BOARDS: readonly Board[] = [
  { id: "level", name: "Experience", order: "desc" },
  { id: "crypt-fastest", name: "Fastest crypt clear (ms)", order: "asc" },
  { id: "match-rating", name: "Match rating (Elo)", order: "desc" },
];
export type BoardId = Board["id"];

/** One row of a leaderboard page. Equal scores share a rank (competition ranking: 1, 1, 3). */
export interface RankedEntry {
  rank: number;
  userId: string;
  name: string;
  score: number;
}

/**
 * Ranks a page of entries in board order, given the rank of its first score (1 + how many scores
 * are strictly better) and the page's offset: an entry tied with the one before shares its rank,
 * any other is ranked by its position.
 */
export function rankPage(
  rows: ReadonlyArray<{ userId: string; name: string; score: number }>,
  firstRank: number,
  offset: number,
): RankedEntry[] {
  const out: RankedEntry[] = [];
  rows.forEach((row, i) => {
    const rank = i === 0 ? firstRank : row.score === rows[i - 1].score ? out[i - 1].rank : offset + i + 1;
    out.push({ rank, userId: row.userId, name: row.name, score: row.score });
  });
  return out;
}

/** How two users stand: friends, or a request one way. */
export type FriendState = "friends" | "incoming" | "outgoing";

export interface FriendLink {
  userId: string;
  name: string;
  state: FriendState;
}

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

/**
 * The achievement catalogue (PROTOCOL §7), served at GET /api/achievements as `[{id, name,
 * description}]`. Each entry says when it unlocks: a counter of `Stats` reaching a value, or a game
 * event that concerns the player (in a room kind, and for one world or dungeon). The one place that
 * evaluates them is src/rules/achievements.ts; a new achievement is one more entry here.
 */
import type { Stats } from "../domain/social.js";

export type AchievementCondition =
  /** A counter reaches `atLeast`. */
  | { stat: keyof Stats; atLeast: number }
  /** An event of `type` concerning the player, in a room of kind `room` (and of `label`: a world or dungeon id). */
  | { event: string; room?: string; label?: string };

export interface Achievement {
  id: string;
  name: string;
  description: string;
  when: AchievementCondition;
}

export const achievements: Achievement[] = [
  {
    id: "first-steps",
    name: "First Steps",
    description: "Joined a world.",
    when: { event: "joined", room: "world" },
  },
  {
    id: "first-clear",
    name: "Delver",
    description: "Cleared a dungeon.",
    when: { stat: "dungeonsCleared", atLeast: 1 },
  },
  {
    id: "crypt-conqueror",
    name: "Crypt Conqueror",
    description: "Cleared the crypt.",
    when: { event: "cleared", room: "dungeon", label: "crypt" },
  },
  {
    id: "trader",
    name: "Trader",
    description: "Completed a trade.",
    when: { stat: "trades", atLeast: 1 },
  },
  {
    id: "builder",
    name: "Builder",
    description: "Finished a match.",
    when: { stat: "matchesPlayed", atLeast: 1 },
  },
  {
    id: "gatherer",
    name: "Gatherer",
    description: "Gathered 50 items.",
    when: { stat: "gathered", atLeast: 50 },
  },
];

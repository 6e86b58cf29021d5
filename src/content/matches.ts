/**
 * Turn-based match modes (PROTOCOL §4), served at GET /api/match-modes. A new mode is one more
 * entry here: the rules (src/rules/match.ts) read everything they need from it.
 */
import type { MatchMode } from "../rules/match.js";

export type { MatchMode };

export const matchModes: MatchMode[] = [
  {
    id: "hamlet",
    name: "Hamlet",
    minPlayers: 2,
    maxPlayers: 4,
    rounds: 8,
    turnSeconds: 30,
    board: { width: 10, height: 10 },
    startGold: 20,
    buildings: [
      { id: "hut", cost: 4, income: 1, points: 1 },
      { id: "farm", cost: 8, income: 3, points: 1 },
      { id: "market", cost: 14, income: 5, points: 3 },
      { id: "chapel", cost: 18, income: 0, points: 8 },
      { id: "keep", cost: 30, income: 4, points: 12 },
    ],
  },
  {
    id: "duel",
    name: "Duel",
    minPlayers: 2,
    maxPlayers: 2,
    rounds: 3,
    turnSeconds: 20,
    board: { width: 6, height: 6 },
    startGold: 12,
    buildings: [
      { id: "tent", cost: 3, income: 1, points: 1 },
      { id: "tower", cost: 10, income: 2, points: 5 },
    ],
  },
];

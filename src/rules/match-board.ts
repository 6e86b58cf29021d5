/**
 * The board of a turn-based match (PROTOCOL §4): the mode, canonical JSON, the board, a turn
 * played on it, and the exact texts a transaction's `hash` and `stateHash` are taken of. It
 * imports no Node module and no server code, so the browser client bundles it as is and
 * re-simulates a chain with the very rules the server played it by (src/rules/match-verify.ts).
 * Hashing lives with the callers: node:crypto in src/rules/match.ts, WebCrypto in the browser.
 */
import type { Action, TxBody } from "../domain/match.js";
import { refuse, type Verdict } from "../domain/result.js";
import { RejectCode } from "../protocol/codes.js";

// --- the mode (content) ----------------------------------------------------------------------

export interface BuildingType {
  id: string;
  cost: number;
  income: number;
  points: number;
}

export interface MatchMode {
  id: string;
  name: string;
  minPlayers: number;
  maxPlayers: number;
  rounds: number;
  turnSeconds: number;
  board: { width: number; height: number };
  startGold: number;
  buildings: BuildingType[];
}

// --- canonical JSON ----------------------------------------------------------------------------

/** Canonical JSON: object keys sorted, no whitespace, integers as plain numbers. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return JSON.stringify(value);
}

// --- the board ---------------------------------------------------------------------------------

export interface Tile {
  x: number;
  y: number;
  building: string;
  /** A userId. */
  owner: string;
}

/** What the chain's state hash covers: the game itself, keyed by userId. */
export interface Board {
  round: number;
  /** userIds in turn order (the join order). */
  order: string[];
  /** Index into `order` of the player to act; -1 once the match is over. */
  next: number;
  gold: Record<string, number>;
  /** By "x,y". */
  tiles: Record<string, Tile>;
}

export const tileKey = (x: number, y: number) => `${x},${y}`;

export function startBoard(mode: MatchMode, order: readonly string[]): Board {
  return {
    round: 1,
    order: [...order],
    next: 0,
    gold: Object.fromEntries(order.map((id) => [id, mode.startGold])),
    tiles: {},
  };
}

export const toAct = (board: Board): string => (board.next < 0 ? "" : board.order[board.next]);

export function scoreOf(board: Board, mode: MatchMode, userId: string): number {
  let points = 0;
  for (const tile of Object.values(board.tiles))
    if (tile.owner === userId) points += mode.buildings.find((b) => b.id === tile.building)?.points ?? 0;
  return points + Math.floor((board.gold[userId] ?? 0) / 10);
}

/** The canonical JSON of `{round, turn, players, tiles}`: what `stateHash` is the SHA-256 of. */
export function stateText(board: Board, mode: MatchMode): string {
  const players = [...board.order]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((userId) => ({ userId, gold: board.gold[userId], score: scoreOf(board, mode, userId) }));
  const tiles = Object.values(board.tiles)
    .sort((a, b) => a.y - b.y || a.x - b.x)
    .map(({ x, y, building, owner }) => ({ x, y, building, owner }));
  return canonicalJson({ round: board.round, turn: toAct(board), players, tiles });
}

/** Actions as the chain holds them: only the fields the contract names. */
export function normalize(actions: readonly Action[]): Action[] {
  return actions.map((a) =>
    a.type === "build" ? { type: "build", building: a.building, x: a.x, y: a.y } : { type: "demolish", x: a.x, y: a.y },
  );
}

/**
 * Plays the turn of the player due: all actions or none, then the next player's turn; income after
 * the last player of a round; the end after the last round. Returns a new board.
 */
export function playTurn(board: Board, mode: MatchMode, actions: readonly Action[]): Verdict<{ board: Board }> {
  const userId = toAct(board);
  if (!userId) return refuse(RejectCode.MatchNotPlaying, "the match is over");
  const next: Board = { ...board, gold: { ...board.gold }, tiles: { ...board.tiles } };
  for (const [i, a] of actions.entries()) {
    const invalid = (why: string) => refuse(RejectCode.TurnInvalid, `action ${i}: ${why}`);
    if (a.x < 0 || a.y < 0 || a.x >= mode.board.width || a.y >= mode.board.height) return invalid("off the board");
    const key = tileKey(a.x, a.y);
    const tile = next.tiles[key];
    if (a.type === "demolish") {
      if (!tile) return invalid("nothing is built there");
      if (tile.owner !== userId) return invalid("not your building");
      delete next.tiles[key];
      continue;
    }
    const building = mode.buildings.find((b) => b.id === a.building);
    if (!building) return invalid(`unknown building "${a.building}"`);
    if (tile) return invalid("the tile is occupied");
    if (next.gold[userId] < building.cost) return invalid(`not enough gold for a ${building.id}`);
    next.gold[userId] -= building.cost;
    next.tiles[key] = { x: a.x, y: a.y, building: building.id, owner: userId };
  }
  next.next = board.next + 1;
  if (next.next === board.order.length) {
    for (const tile of Object.values(next.tiles))
      next.gold[tile.owner] += mode.buildings.find((b) => b.id === tile.building)?.income ?? 0;
    if (board.round >= mode.rounds) next.next = -1;
    else {
      next.round = board.round + 1;
      next.next = 0;
    }
  }
  return { ok: true, board: next };
}

// --- the transaction ---------------------------------------------------------------------------

/** The canonical JSON of a transaction's body: what its `hash` is the SHA-256 of. */
export const txText = (body: TxBody): string => {
  const { index, matchId, player, actions, timeout, prev, stateHash, at } = body;
  return canonicalJson({ index, matchId, player, actions, timeout, prev, stateHash, at });
};

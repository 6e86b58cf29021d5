/**
 * The turn-based match (PROTOCOL §4) as a pure simulation: lobby and ready, the turn order, turns
 * applied all or nothing, income and score, the end, forfeits, timeouts and rollback. Time arrives
 * as `now`; nothing here touches a room, a store or a key. Every applied turn becomes a transaction
 * whose `hash` the simulation computes itself (the chain's head); the room only signs and sends it.
 *
 * The board part (`Board`, `startBoard`, `playTurn`, the hashed texts) lives in
 * src/rules/match-board.ts, which a client re-simulates to check a chain; see src/rules/match-chain.ts.
 */
import { createHash } from "node:crypto";
import type { Action, MatchStatus, Tx, TxBody, UnsignedTx } from "../domain/match.js";
import { refuse, type Verdict } from "../domain/result.js";
import { RejectCode } from "../protocol/codes.js";
import {
  normalize,
  playTurn,
  scoreOf,
  startBoard,
  stateText,
  toAct,
  txText,
  type Board,
  type MatchMode,
} from "./match-board.js";

export type { Action, MatchStatus, Tx, TxBody, UnsignedTx };
export * from "./match-board.js";

// --- hashes ------------------------------------------------------------------------------------

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The lowercase hex SHA-256 of the canonical `{round, turn, players, tiles}`. */
export const stateHash = (board: Board, mode: MatchMode): string => sha256Hex(stateText(board, mode));

export const txHash = (body: TxBody): string => sha256Hex(txText(body));

// --- the match ---------------------------------------------------------------------------------

export interface MatchPlayerSim {
  sessionId: string;
  userId: string;
  name: string;
  ready: boolean;
  connected: boolean;
  forfeited: boolean;
  /** Elo before the match. */
  rating: number;
}

export interface MatchSim {
  matchId: string;
  /** A private match's code; "" for a public lobby. */
  code: string;
  mode: MatchMode;
  status: MatchStatus;
  /** Seated players by sessionId, in join order. */
  players: Map<string, MatchPlayerSim>;
  spectators: Set<string>;
  board: Board;
  turnEndsAt: number;
  chain: UnsignedTx[];
  startedAt: number | null;
  endedAt: number | null;
}

export interface Standing {
  userId: string;
  name: string;
  score: number;
}

export interface RatingChange {
  userId: string;
  before: number;
  after: number;
}

export type MatchEvent =
  | { type: "started"; at: number; players: Standing[] }
  | { type: "tx"; tx: UnsignedTx }
  | {
      type: "finished";
      at: number;
      winner: string | null;
      scores: Standing[];
      ratings: RatingChange[];
    }
  | { type: "aborted"; at: number }
  | { type: "rollback"; to: number; chainHead: string; cut: number; at: number }
  | { type: "chain"; sessionId: string; txs: UnsignedTx[] };

export type MatchCommand =
  | { type: "ready"; ready: boolean }
  | { type: "turn"; prev: string; actions: Action[] }
  | { type: "forfeit" }
  | { type: "chain"; after: number };

export const RATING_K = 32;
export const START_RATING = 1200;

export function createMatch(mode: MatchMode, matchId: string, code = ""): MatchSim {
  return {
    matchId,
    code,
    mode,
    status: "lobby",
    players: new Map(),
    spectators: new Set(),
    board: { round: 1, order: [], next: -1, gold: {}, tiles: {} },
    turnEndsAt: 0,
    chain: [],
    startedAt: null,
    endedAt: null,
  };
}

export const chainHead = (sim: MatchSim): string => sim.chain.at(-1)?.hash ?? "";

const playerByUser = (sim: MatchSim, userId: string) => [...sim.players.values()].find((p) => p.userId === userId);

/** The session of the player to act, or "" outside play. */
export function turnSession(sim: MatchSim): string {
  if (sim.status !== "playing") return "";
  return playerByUser(sim, toAct(sim.board))?.sessionId ?? "";
}

export function score(sim: MatchSim, userId: string): number {
  return sim.status === "lobby" ? 0 : scoreOf(sim.board, sim.mode, userId);
}

export function standings(sim: MatchSim): Standing[] {
  return [...sim.players.values()].map((p) => ({ userId: p.userId, name: p.name, score: score(sim, p.userId) }));
}

/** Whether a player may take a seat now (spectators always may). */
export function canSeat(sim: MatchSim): Verdict {
  if (sim.status !== "lobby") return refuse(RejectCode.MatchNotPlaying, "the match has started");
  if (sim.players.size >= sim.mode.maxPlayers) return refuse(RejectCode.MatchNotPlaying, "the match is full");
  return { ok: true };
}

export function addPlayer(sim: MatchSim, p: { sessionId: string; userId: string; name: string; rating: number }) {
  sim.players.set(p.sessionId, { ...p, ready: false, connected: true, forfeited: false });
}

/** A player left for good (or its reconnection window ran out). */
export function removePlayer(sim: MatchSim, sessionId: string, now: number): MatchEvent[] {
  if (sim.spectators.delete(sessionId)) return [];
  const player = sim.players.get(sessionId);
  if (!player) return [];
  if (sim.status === "lobby") {
    sim.players.delete(sessionId);
    return [];
  }
  if (sim.status !== "playing") return [];
  player.connected = false;
  return forfeit(sim, player, now);
}

export function setConnected(sim: MatchSim, sessionId: string, connected: boolean): void {
  const player = sim.players.get(sessionId);
  if (player) player.connected = connected;
}

export function applyMatch(
  sim: MatchSim,
  sessionId: string,
  command: MatchCommand,
  now: number,
): { verdict: Verdict; events: MatchEvent[] } {
  const done = (events: MatchEvent[] = []) => ({ verdict: { ok: true } as Verdict, events });
  const no = (code: RejectCode, message: string) => ({ verdict: refuse(code, message), events: [] });
  if (command.type === "chain")
    return done([{ type: "chain", sessionId, txs: sim.chain.filter((tx) => tx.index > command.after) }]);
  const player = sim.players.get(sessionId);
  if (!player) return no(RejectCode.MatchSpectator, "spectators watch; they do not act");
  switch (command.type) {
    case "ready":
      if (sim.status !== "lobby") return no(RejectCode.MatchNotPlaying, "ready is for the lobby");
      player.ready = command.ready;
      return done(maybeStart(sim, now));
    case "forfeit":
      if (sim.status !== "playing") return no(RejectCode.MatchNotPlaying, "the match is not being played");
      if (player.forfeited) return no(RejectCode.MatchNotPlaying, "you have already forfeited");
      return done(forfeit(sim, player, now));
    case "turn": {
      if (sim.status !== "playing") return no(RejectCode.MatchNotPlaying, "the match is not being played");
      if (toAct(sim.board) !== player.userId) return no(RejectCode.TurnNotYours, "it is not your turn");
      if (command.prev !== chainHead(sim))
        return no(RejectCode.TurnStale, `prev is not the chain head (${chainHead(sim) || "empty"})`);
      const played = playTurn(sim.board, sim.mode, command.actions);
      if (!played.ok) return { verdict: played, events: [] };
      return done(commit(sim, played.board, normalize(command.actions), false, now));
    }
  }
}

/** The turn timer, on the room clock: a turn past `turnEndsAt` passes. */
export function stepMatch(sim: MatchSim, now: number): MatchEvent[] {
  if (sim.status !== "playing" || now < sim.turnEndsAt) return [];
  return pass(sim, now);
}

function maybeStart(sim: MatchSim, now: number): MatchEvent[] {
  const seated = [...sim.players.values()];
  if (seated.length < sim.mode.minPlayers || !seated.every((p) => p.ready)) return [];
  sim.status = "playing";
  sim.startedAt = now;
  sim.board = startBoard(
    sim.mode,
    seated.map((p) => p.userId),
  );
  sim.turnEndsAt = now + sim.mode.turnSeconds * 1000;
  return [{ type: "started", at: now, players: standings(sim) }];
}

function forfeit(sim: MatchSim, player: MatchPlayerSim, now: number): MatchEvent[] {
  player.forfeited = true;
  const left = [...sim.players.values()].filter((p) => !p.forfeited);
  if (sim.chain.length === 0 && left.length < sim.mode.minPlayers) {
    sim.status = "aborted";
    sim.endedAt = now;
    return [{ type: "aborted", at: now }];
  }
  if (left.length <= 1) return finish(sim, now);
  return toAct(sim.board) === player.userId ? pass(sim, now) : [];
}

/** The player due passes (a timeout, a forfeit); forfeited players after it pass at once. */
function pass(sim: MatchSim, now: number): MatchEvent[] {
  const played = playTurn(sim.board, sim.mode, []);
  if (!played.ok) return [];
  return commit(sim, played.board, [], true, now);
}

function commit(sim: MatchSim, board: Board, actions: Action[], timeout: boolean, now: number): MatchEvent[] {
  const player = toAct(sim.board);
  sim.board = board;
  const body: TxBody = {
    index: sim.chain.length + 1,
    matchId: sim.matchId,
    player,
    actions,
    timeout,
    prev: chainHead(sim),
    stateHash: stateHash(board, sim.mode),
    at: now,
  };
  const tx = { ...body, hash: txHash(body) };
  sim.chain.push(tx);
  sim.turnEndsAt = now + sim.mode.turnSeconds * 1000;
  const events: MatchEvent[] = [{ type: "tx", tx }];
  if (board.next < 0) return [...events, ...finish(sim, now)];
  const due = playerByUser(sim, toAct(board));
  if (due?.forfeited) return [...events, ...pass(sim, now)];
  return events;
}

/** A forfeited player stays seated as a loser: it ranks below everyone who played on. */
const rankOf = (sim: MatchSim, p: MatchPlayerSim) => (p.forfeited ? -1 : score(sim, p.userId));

/** The userId with the top rank, or null for a tie at the top. */
export function winnerOf(sim: MatchSim): string | null {
  const players = [...sim.players.values()];
  const top = Math.max(...players.map((p) => rankOf(sim, p)));
  const leaders = players.filter((p) => rankOf(sim, p) === top);
  return leaders.length === 1 ? leaders[0].userId : null;
}

function finish(sim: MatchSim, now: number): MatchEvent[] {
  sim.status = "finished";
  sim.endedAt = now;
  const players = [...sim.players.values()];
  const rank = (p: MatchPlayerSim) => rankOf(sim, p);
  const after = elo(players.map((p) => ({ id: p.userId, rating: p.rating, rank: rank(p) })));
  const ratings = players.map((p) => ({ userId: p.userId, before: p.rating, after: after.get(p.userId)! }));
  return [
    {
      type: "finished",
      at: now,
      winner: winnerOf(sim),
      scores: standings(sim),
      ratings,
    },
  ];
}

/** Elo, K = 32, taken pairwise: each player against every other, by rank (higher wins, equal ties). */
export function elo(players: readonly { id: string; rating: number; rank: number }[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const a of players) {
    let delta = 0;
    for (const b of players) {
      if (a === b) continue;
      const expected = 1 / (1 + 10 ** ((b.rating - a.rating) / 400));
      const actual = a.rank > b.rank ? 1 : a.rank === b.rank ? 0.5 : 0;
      delta += RATING_K * (actual - expected);
    }
    result.set(a.id, Math.round(a.rating + delta));
  }
  return result;
}

/** How many rated matches a profile remembers: far more than can be waiting to reach it at once. */
export const RATED_KEPT = 32;

/**
 * A finished match's rating in a player's profile, once: `rating` is the `after` that `finished`
 * announced. A profile that already took `matchId` is left as it is (false), so a delivery that is
 * retried, or that reaches two copies, changes the rating once.
 */
export function takeRating(
  profile: { rating: number; ratedMatches?: string[] },
  matchId: string,
  rating: number,
): boolean {
  const rated = profile.ratedMatches ?? [];
  if (rated.includes(matchId)) return false;
  profile.rating = rating;
  profile.ratedMatches = [...rated, matchId].slice(-RATED_KEPT);
  return true;
}

/**
 * Cuts the chain back to its first `to` transactions and re-simulates the board from them; play
 * goes on from the turn due at that point, with a fresh timer.
 */
export function rollback(sim: MatchSim, to: number, now: number): Verdict<{ events: MatchEvent[]; cut: UnsignedTx[] }> {
  if (sim.status !== "playing") return refuse(RejectCode.MatchNotPlaying, "only a match being played rolls back");
  if (!Number.isSafeInteger(to) || to < 0 || to > sim.chain.length)
    return refuse(RejectCode.InputInvalid, `to must be between 0 and ${sim.chain.length}`);
  let board = startBoard(sim.mode, sim.board.order);
  for (const tx of sim.chain.slice(0, to)) {
    const played = playTurn(board, sim.mode, tx.actions);
    if (!played.ok) throw new Error(`the chain does not re-simulate at ${tx.index}: ${played.message}`);
    board = played.board;
  }
  const cut = sim.chain.splice(to);
  sim.board = board;
  sim.turnEndsAt = now + sim.mode.turnSeconds * 1000;
  return { ok: true, cut, events: [{ type: "rollback", to, chainHead: chainHead(sim), cut: cut.length, at: now }] };
}

/**
 * A turn-based match as it is kept (PROTOCOL §4): its transactions and its record. Rules,
 * persistence and routes import these; none owns them.
 */

export type Action =
  { type: "build"; building: string; x: number; y: number } | { type: "demolish"; x: number; y: number };

/** A transaction as hashed: everything but `hash` and `sig`. */
export interface TxBody {
  index: number;
  matchId: string;
  /** The acting userId. */
  player: string;
  actions: Action[];
  timeout: boolean;
  /** The hash of the transaction before, "" for the first. */
  prev: string;
  stateHash: string;
  /** Server time, integer ms. */
  at: number;
}

export type UnsignedTx = TxBody & { hash: string };
/** A `tx` message exactly as sent. */
export type Tx = UnsignedTx & { sig: string };

export type MatchStatus = "lobby" | "playing" | "finished" | "aborted";

/** What GET /api/matches/:matchId shows beside the chain. */
export interface MatchRecord {
  matchId: string;
  mode: string;
  status: MatchStatus;
  /** In turn order. */
  players: { userId: string; name: string; score: number }[];
  winner: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** The room that plays it, while it plays (for the admin rollback). */
  roomId: string;
}

/** A match with its chain, and the transactions a rollback cut off (kept, never deleted). */
export interface StoredMatch {
  record: MatchRecord;
  chain: Tx[];
  rolledBack: (Tx & { rolledBackAt: number })[];
}

/** One line of GET /api/me/matches. */
export interface MatchSummary {
  matchId: string;
  mode: string;
  status: MatchStatus;
  score: number;
  /** 1 for the highest score; equal scores share a rank. */
  rank: number;
  endedAt: number | null;
}

/** The rank of `userId` in a record: 1 + how many scored more. */
export function rankIn(record: MatchRecord, userId: string): number {
  const own = record.players.find((p) => p.userId === userId)?.score ?? 0;
  return 1 + record.players.filter((p) => p.score > own).length;
}

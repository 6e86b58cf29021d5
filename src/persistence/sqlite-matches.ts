/**
 * Match history in SQLite (PROTOCOL §4): records, transactions and what rollbacks cut off. Plain
 * functions over a `DatabaseSync`, so whichever thread owns the connection can call them; the
 * SQL below is one migration step of src/persistence/sqlite.worker.ts.
 */
import type { DatabaseSync } from "node:sqlite";
import { rankIn, type MatchRecord, type MatchSummary, type StoredMatch, type Tx } from "../domain/match.js";
import { transaction } from "./sqlite-transaction.js";

/** Transactions are kept whole as sent; `rolled_back_at` is null for the live chain. */
export const MATCH_MIGRATION = `
  CREATE TABLE matches (
    match_id   TEXT PRIMARY KEY,
    doc        TEXT NOT NULL,
    started_at INTEGER
  );
  CREATE TABLE match_players (
    user_id  TEXT NOT NULL,
    match_id TEXT NOT NULL REFERENCES matches(match_id),
    PRIMARY KEY (user_id, match_id)
  ) WITHOUT ROWID;
  CREATE TABLE match_txs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    match_id       TEXT NOT NULL REFERENCES matches(match_id),
    idx            INTEGER NOT NULL,
    doc            TEXT NOT NULL,
    rolled_back_at INTEGER
  );
  CREATE UNIQUE INDEX match_txs_live ON match_txs (match_id, idx) WHERE rolled_back_at IS NULL;`;

export function saveMatch(db: DatabaseSync, record: MatchRecord): void {
  db.prepare(
    `INSERT INTO matches (match_id, doc, started_at) VALUES (?, ?, ?)
     ON CONFLICT (match_id) DO UPDATE SET doc = excluded.doc, started_at = excluded.started_at`,
  ).run(record.matchId, JSON.stringify(record), record.startedAt);
  const insert = db.prepare("INSERT INTO match_players (user_id, match_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
  for (const p of record.players) insert.run(p.userId, record.matchId);
}

export function appendMatchTx(db: DatabaseSync, tx: Tx): void {
  db.prepare(
    `INSERT INTO match_txs (match_id, idx, doc) VALUES (?, ?, ?)
     ON CONFLICT (match_id, idx) WHERE rolled_back_at IS NULL DO NOTHING`,
  ).run(tx.matchId, tx.index, JSON.stringify(tx));
}

export function rollbackMatchTxs(db: DatabaseSync, matchId: string, to: number, at: number): number {
  return Number(
    db
      .prepare("UPDATE match_txs SET rolled_back_at = ? WHERE match_id = ? AND idx > ? AND rolled_back_at IS NULL")
      .run(at, matchId, to).changes,
  );
}

export function loadMatch(db: DatabaseSync, matchId: string): StoredMatch | null {
  const row = db.prepare("SELECT doc FROM matches WHERE match_id = ?").get(matchId) as { doc: string } | undefined;
  if (!row) return null;
  const txs = db
    .prepare("SELECT doc, rolled_back_at FROM match_txs WHERE match_id = ? ORDER BY rolled_back_at, idx")
    .all(matchId) as { doc: string; rolled_back_at: number | null }[];
  return {
    record: JSON.parse(row.doc) as MatchRecord,
    chain: txs.filter((t) => t.rolled_back_at === null).map((t) => JSON.parse(t.doc) as Tx),
    rolledBack: txs
      .filter((t) => t.rolled_back_at !== null)
      .map((t) => ({ ...(JSON.parse(t.doc) as Tx), rolledBackAt: t.rolled_back_at! })),
  };
}

export function matchesOf(db: DatabaseSync, userId: string, limit: number): MatchSummary[] {
  const rows = db
    .prepare(
      `SELECT m.doc FROM match_players p JOIN matches m ON m.match_id = p.match_id
       WHERE p.user_id = ? ORDER BY m.started_at DESC, m.match_id LIMIT ?`,
    )
    .all(userId, limit) as { doc: string }[];
  return rows.map((r) => {
    const record = JSON.parse(r.doc) as MatchRecord;
    const { matchId, mode, status, endedAt } = record;
    const score = record.players.find((p) => p.userId === userId)?.score ?? 0;
    return { matchId, mode, status, score, rank: rankIn(record, userId), endedAt };
  });
}

/**
 * The worker's requests for this module (`match.<name>`, see `EXTENSIONS` in sqlite.worker.ts):
 * each takes the connection, then the store method's own arguments.
 */
export const MATCH_OPS = {
  saveMatch: (db: DatabaseSync, record: MatchRecord) => transaction(db, () => saveMatch(db, record)),
  appendMatchTx,
  rollbackMatchTxs,
  loadMatch,
  matchesOf,
} as const;

/**
 * Trade records in SQLite (PROTOCOL §5). Plain functions over a `DatabaseSync`, called in the
 * store's worker thread; the SQL below is one migration step of src/persistence/sqlite.worker.ts.
 * The record is kept whole as JSON; the columns beside it are what the conditions and the
 * look-ups read.
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { UNFINISHED, type TradeRecord } from "../domain/trade.js";
import { transaction } from "./sqlite-transaction.js";
import { tradeRow, type TradeMove } from "./trades.js";

export const TRADE_MIGRATION = `
  CREATE TABLE trades (
    trade_id    TEXT PRIMARY KEY,
    from_id     TEXT NOT NULL,
    to_id       TEXT NOT NULL,
    state       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    coordinator TEXT,
    doc         TEXT NOT NULL
  );
  CREATE INDEX trades_from ON trades (from_id, state);
  CREATE INDEX trades_to ON trades (to_id, state);
  CREATE INDEX trades_state ON trades (state, lease_until);
  CREATE INDEX trades_expiry ON trades (state, expires_at);`;

const parse = (rows: unknown[]) => (rows as { doc: string }[]).map((r) => JSON.parse(r.doc) as TradeRecord);

/** Count and insert in one statement each, inside the caller's transaction. */
export function createOffer(db: DatabaseSync, record: TradeRecord, maxOpen: number): boolean {
  if (db.prepare("SELECT 1 FROM trades WHERE trade_id = ?").get(record.tradeId)) return true;
  const { open } = db
    .prepare("SELECT COUNT(*) AS open FROM trades WHERE from_id = ? AND state = 'offered' AND expires_at > ?")
    .get(record.from, record.createdAt) as { open: number };
  if (open >= maxOpen) return false;
  db.prepare(
    `INSERT INTO trades (trade_id, from_id, to_id, state, expires_at, lease_until, coordinator, doc)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(...tradeRow(record));
  return true;
}

export function loadTrade(db: DatabaseSync, tradeId: string): TradeRecord | null {
  return parse(db.prepare("SELECT doc FROM trades WHERE trade_id = ?").all(tradeId))[0] ?? null;
}

/** Read, check, write, inside the caller's transaction (BEGIN IMMEDIATE: no other writer between). */
export function moveTrade(db: DatabaseSync, tradeId: string, move: TradeMove): TradeRecord | null {
  const current = loadTrade(db, tradeId);
  if (!current || !move.from.includes(current.state)) return null;
  if (move.leaseBefore !== undefined && current.leaseUntil >= move.leaseBefore) return null;
  const next: TradeRecord = { ...current, ...move.set };
  db.prepare(
    "UPDATE trades SET state = ?, expires_at = ?, lease_until = ?, coordinator = ?, doc = ? WHERE trade_id = ?",
  ).run(next.state, next.expiresAt, next.leaseUntil, next.coordinator, JSON.stringify(next), tradeId);
  return next;
}

export function openTrades(db: DatabaseSync, userId: string, now: number): TradeRecord[] {
  return parse(
    db
      .prepare(
        `SELECT doc FROM trades WHERE (from_id = ? OR to_id = ?) AND state = 'offered' AND expires_at > ?
         ORDER BY expires_at, trade_id`,
      )
      .all(userId, userId, now),
  );
}

export function unfinishedTrades(db: DatabaseSync, now: number, coordinator: string): TradeRecord[] {
  const states = UNFINISHED.map(() => "?").join(", ");
  return parse(
    db
      .prepare(
        `SELECT doc FROM trades WHERE state IN (${states}) AND (lease_until < ? OR coordinator = ?) ORDER BY expires_at`,
      )
      .all(...(UNFINISHED as SQLInputValue[]), now, coordinator),
  );
}

export function expiredOffers(db: DatabaseSync, now: number): TradeRecord[] {
  return parse(
    db.prepare("SELECT doc FROM trades WHERE state = 'offered' AND expires_at <= ? ORDER BY expires_at").all(now),
  );
}

/**
 * The worker's requests for this module (`trade.<name>`, see `EXTENSIONS` in sqlite.worker.ts):
 * each takes the connection, then the store method's own arguments. Each write is one
 * transaction, so a read and its conditional write never interleave with another writer.
 */
export const TRADE_OPS = {
  createOffer: (db: DatabaseSync, record: TradeRecord, maxOpen: number) =>
    transaction(db, () => createOffer(db, record, maxOpen)),
  loadTrade,
  moveTrade: (db: DatabaseSync, tradeId: string, move: TradeMove) =>
    transaction(db, () => moveTrade(db, tradeId, move)),
  openTrades,
  expiredOffers,
  unfinishedTrades,
} as const;

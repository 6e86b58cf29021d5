/**
 * Trade records in PostgreSQL (PROTOCOL §5): migration 4 of src/persistence/postgres.ts and the
 * trade port over it. Every write is one SERIALIZABLE transaction (`PostgresStore.transaction`,
 * which runs it again after a serialization failure), so the count-and-insert of an offer and the
 * read-check-write of a move are atomic against every other process.
 */
import type pg from "pg";
import { UNFINISHED, type TradeRecord } from "../domain/trade.js";
import { tradeRow, type TradeMove, type TradeStore } from "./trades.js";

export const TRADE_MIGRATION = `
  CREATE TABLE trades (
    trade_id    text PRIMARY KEY,
    from_id     text NOT NULL,
    to_id       text NOT NULL,
    state       text NOT NULL,
    expires_at  bigint NOT NULL,
    lease_until bigint NOT NULL,
    coordinator text,
    doc         jsonb NOT NULL
  );
  CREATE INDEX trades_from ON trades (from_id, state);
  CREATE INDEX trades_to ON trades (to_id, state);
  CREATE INDEX trades_state ON trades (state, lease_until);
  CREATE INDEX trades_expiry ON trades (state, expires_at);`;

/** What this adapter needs of the store: its transactions. */
interface Transactions {
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

const docs = (rows: { doc: TradeRecord }[]) => rows.map((r) => r.doc);

export class PostgresTrades implements TradeStore {
  constructor(private readonly db: Transactions) {}

  private read(sql: string, params: unknown[]): Promise<TradeRecord[]> {
    return this.db.transaction(async (c) => docs((await c.query<{ doc: TradeRecord }>(sql, params)).rows));
  }

  createOffer(record: TradeRecord, maxOpen: number): Promise<boolean> {
    return this.db.transaction(async (c) => {
      if ((await c.query("SELECT 1 FROM trades WHERE trade_id = $1", [record.tradeId])).rowCount) return true;
      const { rows } = await c.query<{ open: string }>(
        "SELECT count(*) AS open FROM trades WHERE from_id = $1 AND state = 'offered' AND expires_at > $2",
        [record.from, record.createdAt],
      );
      if (Number(rows[0].open) >= maxOpen) return false;
      await c.query(
        `INSERT INTO trades (trade_id, from_id, to_id, state, expires_at, lease_until, coordinator, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [...tradeRow(record)],
      );
      return true;
    });
  }

  async loadTrade(tradeId: string): Promise<TradeRecord | null> {
    return (await this.read("SELECT doc FROM trades WHERE trade_id = $1", [tradeId]))[0] ?? null;
  }

  moveTrade(tradeId: string, move: TradeMove): Promise<TradeRecord | null> {
    return this.db.transaction(async (c) => {
      const { rows } = await c.query<{ doc: TradeRecord }>("SELECT doc FROM trades WHERE trade_id = $1 FOR UPDATE", [
        tradeId,
      ]);
      const current = rows[0]?.doc;
      if (!current || !move.from.includes(current.state)) return null;
      if (move.leaseBefore !== undefined && current.leaseUntil >= move.leaseBefore) return null;
      const next: TradeRecord = { ...current, ...move.set };
      await c.query(
        `UPDATE trades SET state = $1, expires_at = $2, lease_until = $3, coordinator = $4, doc = $5
         WHERE trade_id = $6`,
        [next.state, next.expiresAt, next.leaseUntil, next.coordinator, JSON.stringify(next), tradeId],
      );
      return next;
    });
  }

  openTrades(userId: string, now: number): Promise<TradeRecord[]> {
    return this.read(
      `SELECT doc FROM trades WHERE (from_id = $1 OR to_id = $1) AND state = 'offered' AND expires_at > $2
       ORDER BY expires_at, trade_id`,
      [userId, now],
    );
  }

  expiredOffers(now: number): Promise<TradeRecord[]> {
    return this.read("SELECT doc FROM trades WHERE state = 'offered' AND expires_at <= $1 ORDER BY expires_at", [now]);
  }

  unfinishedTrades(now: number, coordinator: string): Promise<TradeRecord[]> {
    return this.read(
      `SELECT doc FROM trades WHERE state = ANY($1) AND (lease_until < $2 OR coordinator = $3) ORDER BY expires_at`,
      [UNFINISHED, now, coordinator],
    );
  }
}

/**
 * Trade records in MongoDB (PROTOCOL §5), without multi-document transactions (they need a
 * replica set): the classic two-phase-commit pattern over one trade document. Every state change
 * is one conditional single-document update (`findOneAndUpdate` filtered on the states it may
 * leave), which MongoDB applies atomically; the profiles follow the record through their own
 * versioned saves, as on every adapter (src/trade/trades.ts).
 *
 * The decisions that matter when the driver answers badly live here and are unit-tested on
 * fabricated driver results (test/mongo-trades.test.ts):
 * - an offer whose insert reports duplicate key 11000 was stored by an earlier attempt: success;
 * - a move that got a write conflict (112) or no answer is sent again with the same `moveId`; when
 *   its filter no longer matches, the document is read, and a document that carries this `moveId`
 *   means the earlier attempt landed (a timeout after the write): success, not a lost race.
 */
import { randomUUID } from "node:crypto";
import type { Connection } from "mongoose";
import { UNFINISHED, type TradeRecord } from "../domain/trade.js";
import { StoreUnavailableError } from "./store.js";
import type { TradeMove, TradeStore } from "./trades.js";

/** A trade as stored: the record's fields, `_id` = tradeId, and the id of the last move that landed. */
export type TradeDoc = TradeRecord & { _id: string; lastMove?: string };

type Filter = Record<string, unknown>;

/** The few collection calls the adapter makes (the driver's `Collection`, or a test's fake). */
export interface TradeCollection {
  insertOne(doc: TradeDoc): Promise<unknown>;
  findOne(filter: Filter): Promise<TradeDoc | null>;
  /** With `returnDocument: "after"`: the document after the update, or null when none matched. */
  findOneAndUpdate(filter: Filter, update: { $set: Partial<TradeDoc> }): Promise<TradeDoc | null>;
  find(filter: Filter, sort: Record<string, 1 | -1>): Promise<TradeDoc[]>;
  countDocuments(filter: Filter): Promise<number>;
  deleteOne(filter: Filter): Promise<unknown>;
}

/** The driver's `trades` collection behind the calls the adapter makes. */
export function tradeCollection(conn: Connection): TradeCollection {
  const trades = () => conn.collection<TradeDoc>("trades");
  return {
    insertOne: (doc) => trades().insertOne(doc),
    findOne: (filter) => trades().findOne(filter),
    findOneAndUpdate: (filter, update) => trades().findOneAndUpdate(filter, update, { returnDocument: "after" }),
    find: (filter, sort) => trades().find(filter).sort(sort).toArray(),
    countDocuments: (filter) => trades().countDocuments(filter),
    deleteOne: (filter) => trades().deleteOne(filter),
  };
}

/** Indexes of the `trades` collection. */
export const TRADE_INDEXES: Array<Record<string, 1>> = [
  { from: 1, state: 1 },
  { to: 1, state: 1 },
  { state: 1, leaseUntil: 1 },
  { state: 1, expiresAt: 1 },
];

const DUPLICATE_KEY = 11000;
const WRITE_CONFLICT = 112;

/** A failure after which the same write may be sent again: a conflict, or no clear answer. */
export function retryable(err: unknown): boolean {
  const e = err as { code?: number; name?: string; errorLabels?: string[]; errorLabelSet?: Set<string> };
  if (e?.code === WRITE_CONFLICT) return true;
  const labels = e?.errorLabelSet ? [...e.errorLabelSet] : (e?.errorLabels ?? []);
  if (labels.includes("RetryableWriteError") || labels.includes("TransientTransactionError")) return true;
  return /MongoNetwork|MongoServerSelection|MongoTimeout|MongoNotConnected/.test(e?.name ?? "");
}

const record = (doc: TradeDoc | null): TradeRecord | null => {
  if (!doc) return null;
  const { _id: _, lastMove: __, ...rest } = doc;
  return rest;
};

export class MongoTrades implements TradeStore {
  constructor(
    private readonly trades: TradeCollection,
    /** Attempts of one write before the store counts as unavailable. */
    private readonly attempts = 3,
  ) {}

  private async again<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!retryable(err)) throw err;
        if (attempt >= this.attempts)
          throw new StoreUnavailableError(`mongodb: a trade write got no answer ${attempt} times`, { cause: err });
      }
    }
  }

  /**
   * Insert, then count: an offer that finds itself past the cap takes itself back. Concurrent
   * offers can never pass the cap together (each counts the others); at worst both step back.
   */
  async createOffer(offer: TradeRecord, maxOpen: number): Promise<boolean> {
    try {
      await this.again(() => this.trades.insertOne({ ...offer, _id: offer.tradeId }));
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return true; // an earlier attempt landed
      throw err;
    }
    const open = await this.again(() =>
      this.trades.countDocuments({
        from: offer.from,
        state: "offered",
        expiresAt: { $gt: offer.createdAt },
        createdAt: { $lte: offer.createdAt },
      }),
    );
    if (open <= maxOpen) return true;
    await this.again(() => this.trades.deleteOne({ _id: offer.tradeId, state: "offered" }));
    return false;
  }

  async loadTrade(tradeId: string): Promise<TradeRecord | null> {
    return record(await this.again(() => this.trades.findOne({ _id: tradeId })));
  }

  async moveTrade(tradeId: string, move: TradeMove): Promise<TradeRecord | null> {
    const moveId = randomUUID();
    const filter: Filter = { _id: tradeId, state: { $in: [...move.from] } };
    if (move.leaseBefore !== undefined) filter.leaseUntil = { $lt: move.leaseBefore };
    const moved = await this.again(() =>
      this.trades.findOneAndUpdate(filter, { $set: { ...move.set, lastMove: moveId } }),
    );
    if (moved) return record(moved);
    // Not matched: either the trade was elsewhere, or this very move landed on an earlier attempt.
    const now = await this.again(() => this.trades.findOne({ _id: tradeId }));
    return now?.lastMove === moveId ? record(now) : null;
  }

  async openTrades(userId: string, now: number): Promise<TradeRecord[]> {
    const docs = await this.again(() =>
      this.trades.find(
        { $or: [{ from: userId }, { to: userId }], state: "offered", expiresAt: { $gt: now } },
        { expiresAt: 1, _id: 1 },
      ),
    );
    return docs.map((d) => record(d)!);
  }

  async expiredOffers(now: number): Promise<TradeRecord[]> {
    const docs = await this.again(() =>
      this.trades.find({ state: "offered", expiresAt: { $lte: now } }, { expiresAt: 1 }),
    );
    return docs.map((d) => record(d)!);
  }

  async unfinishedTrades(now: number, coordinator: string): Promise<TradeRecord[]> {
    const docs = await this.again(() =>
      this.trades.find(
        { state: { $in: [...UNFINISHED] }, $or: [{ leaseUntil: { $lt: now } }, { coordinator }] },
        { expiresAt: 1 },
      ),
    );
    return docs.map((d) => record(d)!);
  }
}

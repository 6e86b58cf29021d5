/**
 * Match history in MongoDB (PROTOCOL §4): one document per match record, one per transaction.
 * A rollback sets `live: false` and `rolledBackAt` on what it cuts; only live transactions are
 * unique per (matchId, index).
 */
import type { Connection, Model } from "mongoose";
import mongoose from "mongoose";
import { rankIn, type MatchRecord, type MatchSummary, type StoredMatch, type Tx } from "../domain/match.js";

const { Schema } = mongoose;

interface MatchDoc {
  _id: string;
  record: MatchRecord;
  userIds: string[];
  startedAt: number | null;
}

interface TxDoc {
  matchId: string;
  index: number;
  tx: Tx;
  live: boolean;
  rolledBackAt: number | null;
}

const matchSchema = new Schema<MatchDoc>(
  {
    _id: { type: String, required: true },
    record: { type: Schema.Types.Mixed, required: true },
    userIds: [String],
    startedAt: { type: Number, default: null },
  },
  { versionKey: false, minimize: false },
);
matchSchema.index({ userIds: 1, startedAt: -1 });

const txSchema = new Schema<TxDoc>(
  {
    matchId: { type: String, required: true },
    index: { type: Number, required: true },
    tx: { type: Schema.Types.Mixed, required: true },
    live: { type: Boolean, required: true },
    rolledBackAt: { type: Number, default: null },
  },
  { versionKey: false, minimize: false },
);
txSchema.index({ matchId: 1, index: 1 }, { unique: true, partialFilterExpression: { live: true } });

const isDuplicate = (err: unknown) => (err as { code?: number })?.code === 11000;

export class MongoMatches {
  private readonly matches: Model<MatchDoc>;
  private readonly txs: Model<TxDoc>;

  constructor(conn: Connection) {
    this.matches = conn.model<MatchDoc>("Match", matchSchema, "matches");
    this.txs = conn.model<TxDoc>("MatchTx", txSchema, "match_txs");
  }

  async syncIndexes(): Promise<void> {
    await Promise.all([this.matches.syncIndexes(), this.txs.syncIndexes()]);
  }

  async saveMatch(record: MatchRecord): Promise<void> {
    const userIds = record.players.map((p) => p.userId);
    await this.matches.updateOne(
      { _id: record.matchId },
      { $set: { record, userIds, startedAt: record.startedAt } },
      { upsert: true },
    );
  }

  async appendMatchTx(tx: Tx): Promise<void> {
    try {
      await this.txs.create({ matchId: tx.matchId, index: tx.index, tx, live: true, rolledBackAt: null });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
  }

  async rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number> {
    const result = await this.txs.updateMany(
      { matchId, index: { $gt: to }, live: true },
      { $set: { live: false, rolledBackAt: at } },
    );
    return result.modifiedCount;
  }

  async loadMatch(matchId: string): Promise<StoredMatch | null> {
    const doc = await this.matches.findById(matchId).lean<MatchDoc>();
    if (!doc) return null;
    const txs = await this.txs.find({ matchId }).sort({ rolledBackAt: 1, index: 1 }).lean<TxDoc[]>();
    return {
      record: doc.record,
      chain: txs.filter((t) => t.live).map((t) => t.tx),
      rolledBack: txs.filter((t) => !t.live).map((t) => ({ ...t.tx, rolledBackAt: t.rolledBackAt! })),
    };
  }

  async matchesOf(userId: string, limit: number): Promise<MatchSummary[]> {
    const docs = await this.matches
      .find({ userIds: userId })
      .sort({ startedAt: -1, _id: 1 })
      .limit(limit)
      .lean<MatchDoc[]>();
    return docs.map(({ record }) => ({
      matchId: record.matchId,
      mode: record.mode,
      status: record.status,
      score: record.players.find((p) => p.userId === userId)?.score ?? 0,
      rank: rankIn(record, userId),
      endedAt: record.endedAt,
    }));
  }
}

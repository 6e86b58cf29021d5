/**
 * Friends and leaderboards in MongoDB (PROTOCOL §7). A link is two documents, one per side, with
 * `_id` "<userId>:<otherId>". Boards read the profile documents through an index per board.
 *
 * Without multi-document transactions (a standalone server has none), a request and an accept
 * each write two documents one after the other, and two accepts racing at the 200-friend limit
 * may both land; the limit is checked before each write.
 */
import type { Connection, Model } from "mongoose";
import mongoose from "mongoose";
import { rankPage, type BoardId, type FriendLink, type FriendState, type RankedEntry } from "../domain/social.js";
import type { FriendAcceptOutcome, FriendRequestOutcome, SocialStore } from "./social.js";

const { Schema } = mongoose;

interface LinkDoc {
  _id: string;
  userId: string;
  otherId: string;
  state: FriendState;
  since: number;
}

const linkSchema = new Schema<LinkDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    otherId: { type: String, required: true },
    state: { type: String, required: true },
    since: { type: Number, required: true },
  },
  { versionKey: false },
);
linkSchema.index({ userId: 1, state: 1 });

/** The profile field each board ranks, and its order (1 ascending, -1 descending). */
const SCORE: Record<BoardId, { field: string; order: 1 | -1 }> = {
  level: { field: "xp", order: -1 },
  "crypt-fastest": { field: "bests.crypt", order: 1 },
  "match-rating": { field: "rating", order: -1 },
};

/** The indexes the profile schema declares for the boards. */
export function boardIndexes(schema: mongoose.Schema): void {
  for (const { field, order } of Object.values(SCORE))
    schema.index({ [field]: order, _id: 1 }, { partialFilterExpression: { [field]: { $exists: true } } });
}

const key = (userId: string, otherId: string) => `${userId}:${otherId}`;

export class MongoSocial implements SocialStore {
  private readonly links: Model<LinkDoc>;

  constructor(
    conn: Connection,
    private readonly profiles: Model<{ _id: string; name: string }>,
    private readonly accounts: Model<{ _id: string; name: string }>,
  ) {
    this.links = conn.model<LinkDoc>("FriendLink", linkSchema, "friends");
  }

  async syncIndexes(): Promise<void> {
    await this.links.syncIndexes();
  }

  private async stateOf(userId: string, otherId: string): Promise<FriendState | undefined> {
    return (await this.links.findById(key(userId, otherId)).lean<LinkDoc>())?.state;
  }

  private count(userId: string): Promise<number> {
    return this.links.countDocuments({ userId, state: "friends" });
  }

  private async befriend(userId: string, otherId: string, max: number): Promise<"friends" | "limit"> {
    if ((await this.count(userId)) >= max || (await this.count(otherId)) >= max) return "limit";
    await this.links.updateMany(
      { _id: { $in: [key(userId, otherId), key(otherId, userId)] } },
      { $set: { state: "friends", since: Date.now() } },
    );
    return "friends";
  }

  async requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome> {
    const state = await this.stateOf(userId, otherId);
    if (state === "incoming") return this.befriend(userId, otherId, max);
    if (state) return "already";
    if ((await this.count(userId)) >= max) return "limit";
    const since = Date.now();
    try {
      await this.links.create({ _id: key(userId, otherId), userId, otherId, state: "outgoing", since });
    } catch (err) {
      if ((err as { code?: number })?.code === 11000) return "already";
      throw err;
    }
    await this.links.updateOne(
      { _id: key(otherId, userId) },
      { $setOnInsert: { userId: otherId, otherId: userId, state: "incoming", since } },
      { upsert: true },
    );
    return "requested";
  }

  async acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome> {
    const state = await this.stateOf(userId, otherId);
    if (state === "friends") return "already";
    if (state !== "incoming") return "not_found";
    return this.befriend(userId, otherId, max);
  }

  async removeFriend(userId: string, otherId: string): Promise<boolean> {
    const { deletedCount } = await this.links.deleteMany({
      _id: { $in: [key(userId, otherId), key(otherId, userId)] },
    });
    return deletedCount > 0;
  }

  async friendsOf(userId: string): Promise<FriendLink[]> {
    const links = await this.links.find({ userId }).sort({ since: 1, otherId: 1 }).lean<LinkDoc[]>();
    const names = new Map(
      (
        await this.accounts
          .find({ _id: { $in: links.map((l) => l.otherId) } }, { name: 1 })
          .lean<{ _id: string; name: string }[]>()
      ).map((a) => [a._id, a.name]),
    );
    return links.map((l) => ({ userId: l.otherId, name: names.get(l.otherId) ?? "", state: l.state }));
  }

  async leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]> {
    const { field, order } = SCORE[board];
    const docs = await this.profiles
      .find({ [field]: { $exists: true, $ne: null } }, { name: 1, [field]: 1 })
      .sort({ [field]: order, _id: 1 })
      .skip(offset)
      .limit(limit)
      .lean<Array<Record<string, unknown> & { _id: string; name: string }>>();
    const rows = docs.map((d) => ({ userId: d._id, name: d.name, score: scoreIn(d, field) }));
    if (rows.length === 0) return [];
    return rankPage(rows, (await this.better(board, rows[0].score)) + 1, offset);
  }

  async rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null> {
    const { field } = SCORE[board];
    const doc = await this.profiles.findById(userId, { [field]: 1 }).lean<Record<string, unknown>>();
    if (!doc) return null;
    const score = scoreIn(doc, field);
    if (!Number.isFinite(score)) return null;
    return { rank: (await this.better(board, score)) + 1, score };
  }

  private better(board: BoardId, score: number): Promise<number> {
    const { field, order } = SCORE[board];
    return this.profiles.countDocuments({ [field]: order === -1 ? { $gt: score } : { $lt: score } });
  }
}

function scoreIn(doc: Record<string, unknown>, path: string): number {
  let v: unknown = doc;
  for (const part of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[part];
  return typeof v === "number" ? v : NaN;
}

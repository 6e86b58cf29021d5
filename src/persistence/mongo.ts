/**
 * The MongoDB store, on mongoose; used when MONGO_URL is set. It keeps the same guarantees as the
 * SQLite store through single-document atomic operations: a profile is one document written by
 * one conditional `updateOne`, and events are unique per (roomId, seq).
 *
 * Timeouts are short on purpose: with `bufferCommands: false` a call does not queue in mongoose's
 * buffer while the server is unreachable; it fails after the driver's server selection timeout
 * (5 s), and the write-behind retries it with backoff.
 *
 * The connection pool is bounded and so is the wait for it: when every pooled connection is busy
 * (a slow or stalled server), a call waits at most `waitQueueTimeoutMS` for one and then fails as
 * unavailable, instead of queueing without end (the driver's default), so that saves back off,
 * `/health` answers, and memory stays bounded. Nothing here ever blocks the event loop.
 */
import { boardIndexes, MongoSocial } from "./mongo-social.js";
import type { BoardId, FriendAcceptOutcome, FriendLink, FriendRequestOutcome, RankedEntry } from "./social.js";
import { hostname } from "node:os";
import mongoose, { type Connection, type Model } from "mongoose";
import type { Logger } from "pino";
import { START_RATING } from "../domain/profile.js";
import { skeleton } from "../auth/names.js";
import { MongoMatches } from "./mongo-matches.js";
import { MongoTrades, TRADE_INDEXES, tradeCollection } from "./mongo-trades.js";
import {
  StaleProfileError,
  StoreUnavailableError,
  UsernameTakenError,
  type Account,
  type GameEvent,
  type MatchRecord,
  type MatchSummary,
  type NewAccount,
  type PendingChange,
  type Profile,
  type Store,
  type StoredMatch,
  type Tx,
} from "./store.js";

interface AccountDoc {
  _id: string;
  username: string | null;
  /** Lower-cased username, uniquely indexed: usernames compare case-insensitively. */
  usernameKey: string | null;
  name: string;
  passwordHash: string | null;
  createdAt: number;
  /** The username's look-alike skeleton (src/auth/names.ts), uniquely indexed; null for guests. */
  skeleton?: string | null;
}

export interface ProfileDoc extends Omit<Profile, "userId"> {
  _id: string;
  lastOp: string;
  updatedAt: Date;
}

/** A stored profile document as the game's `Profile` (what `loadProfile` answers). */
export function profileFromDoc(doc: ProfileDoc): Profile {
  const { _id, lastOp: _op, updatedAt: _at, ...rest } = doc;
  return {
    userId: _id,
    name: rest.name,
    level: rest.level,
    xp: rest.xp,
    gold: rest.gold,
    hp: rest.hp,
    inventory: rest.inventory.map(({ item, qty }) => ({ item, qty })),
    location: rest.location ? { world: rest.location.world, x: rest.location.x, y: rest.location.y } : null,
    ...(rest.arrivedAt !== undefined && rest.arrivedAt !== null ? { arrivedAt: rest.arrivedAt } : {}),
    rating: rest.rating ?? START_RATING,
    ...(rest.ratedMatches ? { ratedMatches: [...rest.ratedMatches] } : {}),
    ...(rest.stats ? { stats: rest.stats } : {}),
    ...(rest.achievements ? { achievements: rest.achievements.map(({ id, at }) => ({ id, at })) } : {}),
    ...(rest.bests ? { bests: rest.bests } : {}),
    ...(rest.escrow?.length
      ? {
          escrow: rest.escrow.map(({ tradeId, items, gold }) => ({
            tradeId,
            items: items.map(({ item, qty }) => ({ item, qty })),
            gold,
          })),
        }
      : {}),
    version: rest.version,
  };
}

interface EventDoc extends GameEvent {
  /** TTL index: MongoDB deletes the event after this moment. */
  expiresAt: Date;
}

const { Schema } = mongoose;

export const accountSchema = new Schema<AccountDoc>(
  {
    _id: { type: String, required: true },
    username: { type: String, default: null },
    usernameKey: { type: String, default: null },
    name: { type: String, required: true },
    passwordHash: { type: String, default: null },
    createdAt: { type: Number, required: true },
    skeleton: { type: String, default: null },
  },
  { versionKey: false },
);
// One registered account per look-alike skeleton: two registrations racing past the lookup cannot both land.
accountSchema.index({ skeleton: 1 }, { unique: true, partialFilterExpression: { skeleton: { $type: "string" } } });
// Unique among registered accounts; guests (null) may be many.
accountSchema.index(
  { usernameKey: 1 },
  { unique: true, partialFilterExpression: { usernameKey: { $type: "string" } } },
);

export const profileSchema = new Schema<ProfileDoc>(
  {
    _id: { type: String, required: true },
    name: String,
    level: Number,
    xp: Number,
    gold: Number,
    hp: Number,
    inventory: [{ _id: false, item: String, qty: Number }],
    location: { type: new Schema({ world: String, x: Number, y: Number }, { _id: false }), default: null },
    arrivedAt: Number,
    rating: { type: Number, default: START_RATING },
    ratedMatches: { type: [String], default: undefined },
    stats: { type: Schema.Types.Mixed, default: undefined },
    achievements: { type: [{ _id: false, id: String, at: Number }], default: undefined },
    bests: { type: Schema.Types.Mixed, default: undefined },
    escrow: {
      type: [{ _id: false, tradeId: String, items: [{ _id: false, item: String, qty: Number }], gold: Number }],
      default: undefined,
    },
    version: { type: Number, required: true },
    lastOp: String,
    updatedAt: Date,
  },
  { versionKey: false },
);

boardIndexes(profileSchema);

const eventSchema = new Schema<EventDoc>(
  {
    roomId: { type: String, required: true },
    seq: { type: Number, required: true },
    at: { type: Number, required: true },
    type: { type: String, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, minimize: false },
);
eventSchema.index({ roomId: 1, seq: 1 }, { unique: true });
eventSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
eventSchema.index({ at: 1 });

interface PendingDoc {
  _id: string;
  userId: string;
  name: string;
  change: Record<string, unknown>;
  at: number;
}

const pendingSchema = new Schema<PendingDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    name: { type: String, required: true },
    change: { type: Schema.Types.Mixed, required: true },
    at: { type: Number, required: true },
  },
  { versionKey: false, minimize: false },
);
pendingSchema.index({ at: 1 });

const { mongo } = mongoose;

/**
 * Whether an error means "MongoDB is not reachable now" rather than a bad request. Checked by
 * class (the pool-cleared errors subclass MongoNetworkError under other names), and through the
 * wrapper a bulk insert puts around a connection failure.
 */
function isUnavailable(error: unknown): boolean {
  const err =
    error instanceof mongo.MongoBulkWriteError && error.errorResponse instanceof Error ? error.errorResponse : error;
  return (
    err instanceof mongo.MongoNetworkError ||
    err instanceof mongo.MongoServerSelectionError ||
    err instanceof mongo.MongoTopologyClosedError ||
    err instanceof mongo.MongoNotConnectedError ||
    err instanceof mongo.MongoServerClosedError ||
    (err as Error)?.name === "MongooseServerSelectionError" ||
    // The pool ran dry: every connection busy for longer than waitQueueTimeoutMS.
    (err as Error)?.name === "MongoWaitQueueTimeoutError" ||
    (err instanceof mongo.MongoError && err.hasErrorLabel("RetryableWriteError"))
  );
}

/** Runs a call, turning unreachable-server failures into `StoreUnavailableError` (retry later). */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUnavailable(err)) throw new StoreUnavailableError(`mongodb: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

const DUPLICATE_KEY = 11000;
const isDuplicate = (err: unknown) => (err as { code?: number })?.code === DUPLICATE_KEY;

/**
 * What a failed account insert means: the username taken (its unique index), a look-alike of it
 * registered (the skeleton's unique index: `lookalike`), or the error itself.
 */
export function accountInsertError(err: unknown, username: string | null): unknown {
  if (!isDuplicate(err)) return err;
  const keys = (err as { keyPattern?: Record<string, unknown> }).keyPattern ?? {};
  if (keys.usernameKey !== undefined) return new UsernameTakenError(`username "${username}" is taken`);
  if (keys.skeleton !== undefined)
    return new UsernameTakenError(`username "${username}" looks like one that exists`, true);
  return err;
}

export interface MongoOptions {
  /** How long events are kept (the TTL index deletes them after). */
  eventTtlMs: number;
  serverSelectionTimeoutMS?: number;
  /** Connections in the pool (driver default 100). */
  maxPoolSize?: number;
  /** How long a call waits for a free pooled connection before failing as unavailable (driver default: forever). */
  waitQueueTimeoutMS?: number;
}

export class MongoStore implements Store {
  readonly trades: MongoTrades;
  readonly kind = "mongodb";
  private readonly accounts: Model<AccountDoc>;
  private readonly profiles: Model<ProfileDoc>;
  private readonly events: Model<EventDoc>;
  private readonly pending: Model<PendingDoc>;
  private readonly matches: MongoMatches;
  private readonly social: MongoSocial;

  private constructor(
    private readonly conn: Connection,
    private readonly options: MongoOptions,
  ) {
    this.accounts = conn.model<AccountDoc>("Account", accountSchema, "accounts");
    this.profiles = conn.model<ProfileDoc>("Profile", profileSchema, "profiles");
    this.events = conn.model<EventDoc>("Event", eventSchema, "events");
    this.pending = conn.model<PendingDoc>("PendingChange", pendingSchema, "pending_changes");
    this.matches = new MongoMatches(conn);
    this.trades = new MongoTrades(tradeCollection(conn));
    this.social = new MongoSocial(conn, this.profiles as never, this.accounts as never);
  }

  /** Connects (failing after `serverSelectionTimeoutMS`) and makes sure the indexes exist. */
  static async connect(url: string, options: MongoOptions, log?: Logger): Promise<MongoStore> {
    const conn = mongoose.createConnection(url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
      socketTimeoutMS: 20_000,
      maxPoolSize: options.maxPoolSize ?? 50,
      waitQueueTimeoutMS: options.waitQueueTimeoutMS ?? 2000,
      bufferCommands: false,
      autoIndex: false,
    });
    conn.on("disconnected", () => log?.warn("MongoDB disconnected; the driver reconnects by itself"));
    conn.on("reconnected", () => log?.info("MongoDB reconnected"));
    conn.on("error", (err) => log?.error({ err }, "MongoDB connection error"));
    await conn.asPromise();
    const store = new MongoStore(conn, options);
    // Look-alikes stored before the skeleton index was unique: the oldest keeps its skeleton.
    await store.clearLaterLookalikes();
    await Promise.all([
      store.accounts.syncIndexes(),
      store.profiles.syncIndexes(),
      store.events.syncIndexes(),
      store.pending.syncIndexes(),
      store.matches.syncIndexes(),
      ...TRADE_INDEXES.map((index) => conn.collection("trades").createIndex(index)),
      store.social.syncIndexes(),
    ]);
    await store.backfillSkeletons();
    return store;
  }

  /** Clears the skeleton of every registered account but the oldest of each skeleton. */
  private async clearLaterLookalikes(): Promise<void> {
    const groups = await this.accounts.aggregate<{ later: string[] }>([
      { $match: { skeleton: { $type: "string" } } },
      { $sort: { createdAt: 1, _id: 1 } },
      { $group: { _id: "$skeleton", ids: { $push: "$_id" } } },
      { $match: { "ids.1": { $exists: true } } },
      { $project: { later: { $slice: ["$ids", 1, { $size: "$ids" }] } } },
    ]);
    const later = groups.flatMap((g) => g.later);
    if (later.length > 0) await this.accounts.updateMany({ _id: { $in: later } }, { $set: { skeleton: null } });
  }

  /**
   * Accounts registered before skeletons were stored get theirs, oldest first; one whose skeleton an
   * older account holds keeps none (the unique index refuses it, and the older one reserves the shape).
   */
  private async backfillSkeletons(): Promise<void> {
    const missing = await this.accounts
      .find({ usernameKey: { $type: "string" }, skeleton: null }, { _id: 1, usernameKey: 1 })
      .sort({ createdAt: 1, _id: 1 })
      .lean<Pick<AccountDoc, "_id" | "usernameKey">[]>();
    for (const doc of missing) {
      await this.accounts
        .updateOne({ _id: doc._id }, { $set: { skeleton: skeleton(doc.usernameKey!) } })
        .catch((err: unknown) => {
          if (!isDuplicate(err)) throw err;
        });
    }
  }

  requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome> {
    return guard(() => this.social.requestFriend(userId, otherId, max));
  }
  acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome> {
    return guard(() => this.social.acceptFriend(userId, otherId, max));
  }
  removeFriend(userId: string, otherId: string): Promise<boolean> {
    return guard(() => this.social.removeFriend(userId, otherId));
  }
  friendsOf(userId: string): Promise<FriendLink[]> {
    return guard(() => this.social.friendsOf(userId));
  }
  leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]> {
    return guard(() => this.social.leaderboard(board, limit, offset));
  }
  rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null> {
    return guard(() => this.social.rankOf(board, userId));
  }

  async saveMatch(record: MatchRecord): Promise<void> {
    return guard(() => this.matches.saveMatch(record));
  }

  async appendMatchTx(tx: Tx): Promise<void> {
    return guard(() => this.matches.appendMatchTx(tx));
  }

  async rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number> {
    return guard(() => this.matches.rollbackMatchTxs(matchId, to, at));
  }

  async loadMatch(matchId: string): Promise<StoredMatch | null> {
    return guard(() => this.matches.loadMatch(matchId));
  }

  async matchesOf(userId: string, limit: number): Promise<MatchSummary[]> {
    return guard(() => this.matches.matchesOf(userId, limit));
  }

  async savePendingChange(p: PendingChange): Promise<void> {
    return guard(async () => {
      // Inserted only where absent: a second save keeps the first.
      await this.pending.updateOne(
        { _id: p.id },
        { $setOnInsert: { userId: p.userId, name: p.name, change: p.change, at: p.at } },
        { upsert: true },
      );
    });
  }

  async pendingChanges(before: number, limit: number): Promise<PendingChange[]> {
    return guard(async () => {
      const docs = await this.pending
        .find({ at: { $lt: before } })
        .sort({ at: 1, _id: 1 })
        .limit(limit)
        .lean();
      return docs.map((d) => ({ id: d._id, userId: d.userId, name: d.name, change: d.change, at: d.at }));
    });
  }

  async deletePendingChange(id: string): Promise<void> {
    return guard(async () => {
      await this.pending.deleteOne({ _id: id });
    });
  }

  async createAccount(account: NewAccount): Promise<Account> {
    return guard(async () => {
      const createdAt = Date.now();
      try {
        await this.accounts.create({
          _id: account.userId,
          username: account.username,
          usernameKey: account.username?.toLowerCase() ?? null,
          name: account.name,
          passwordHash: account.passwordHash,
          createdAt,
          skeleton: account.skeleton ?? null,
        });
      } catch (err) {
        throw accountInsertError(err, account.username);
      }
      return { ...account, createdAt };
    });
  }

  private toAccount(doc: AccountDoc | null): Account | null {
    return (
      doc && {
        userId: doc._id,
        username: doc.username,
        name: doc.name,
        passwordHash: doc.passwordHash,
        createdAt: doc.createdAt,
      }
    );
  }

  async findAccountBySkeleton(skeleton: string): Promise<Account | null> {
    return guard(async () => this.toAccount(await this.accounts.findOne({ skeleton }).lean<AccountDoc>()));
  }

  async getAccount(userId: string): Promise<Account | null> {
    return guard(async () => {
      return this.toAccount(await this.accounts.findById(userId).lean<AccountDoc>());
    });
  }

  async findAccountByUsername(username: string): Promise<Account | null> {
    return guard(async () => {
      return this.toAccount(await this.accounts.findOne({ usernameKey: username.toLowerCase() }).lean<AccountDoc>());
    });
  }

  async loadProfile(userId: string): Promise<Profile | null> {
    return guard(async () => {
      const doc = await this.profiles.findById(userId).lean<ProfileDoc>();
      if (!doc) return null;
      return profileFromDoc(doc);
    });
  }

  async saveProfile(profile: Profile, opId: string): Promise<Profile> {
    return guard(async () => {
      const { userId, version, ...doc } = profile;
      const fields = { ...doc, version: version + 1, lastOp: opId, updatedAt: new Date() };
      // One conditional single-document update: written when the stored version is the one this
      // copy was read at, or one past it by this same operation (an attempt that landed unacknowledged).
      const sameOp = { version: version + 1, lastOp: opId };
      if (version === 0) {
        try {
          await this.profiles.create({ _id: userId, ...fields });
          return { ...profile, version: 1 };
        } catch (err) {
          if (!isDuplicate(err)) throw err;
        }
        const retried = await this.profiles.updateOne({ _id: userId, ...sameOp }, { $set: fields });
        if (retried.matchedCount === 1) return { ...profile, version: 1 };
        throw new StaleProfileError(userId, version);
      }
      const result = await this.profiles.updateOne({ _id: userId, $or: [{ version }, sameOp] }, { $set: fields });
      if (result.matchedCount !== 1) throw new StaleProfileError(userId, version);
      return { ...profile, version: version + 1 };
    });
  }

  async appendEvents(events: readonly GameEvent[]): Promise<void> {
    return guard(async () => {
      if (events.length === 0) return;
      const docs = events.map((e) => ({ ...e, expiresAt: new Date(e.at + this.options.eventTtlMs) }));
      try {
        // throwOnValidationError: without it an invalid event would be set aside silently.
        await this.events.insertMany(docs, { ordered: false, throwOnValidationError: true });
      } catch (err) {
        // Unordered: everything else was inserted; duplicate keys are a retried batch and fine.
        // Anything else (a dropped connection arrives wrapped, with an empty `writeErrors`) is not.
        const writeErrors = err instanceof mongo.MongoBulkWriteError ? [err.writeErrors ?? []].flat() : [];
        const onlyDuplicates =
          writeErrors.length > 0 &&
          writeErrors.every((w) => w.code === DUPLICATE_KEY) &&
          !(err as InstanceType<typeof mongo.MongoBulkWriteError>).result?.getWriteConcernError();
        if (!onlyDuplicates) throw err;
      }
    });
  }

  async eventsAfter(roomId: string, after: number, limit: number): Promise<GameEvent[]> {
    return guard(async () => {
      const docs = await this.events
        .find({ roomId, seq: { $gt: after } })
        .sort({ seq: 1 })
        .limit(limit)
        .lean<EventDoc[]>();
      return docs.map(({ roomId, seq, at, type, data }) => ({ roomId, seq, at, type, data }));
    });
  }

  async pruneEvents(before: number): Promise<number> {
    return guard(async () => {
      // The TTL index expires events by itself; this serves callers that want it done now.
      return (await this.events.deleteMany({ at: { $lt: before } })).deletedCount;
    });
  }

  async ping(): Promise<void> {
    return guard(async () => {
      if (!this.conn.db) throw new Error("not connected to MongoDB");
      await this.conn.db.admin().ping();
    });
  }

  async probe(): Promise<void> {
    return guard(async () => {
      if (!this.conn.db) throw new Error("not connected to MongoDB");
      // One tiny acknowledged write per process (majority of nothing: the default write concern).
      await this.conn.db
        .collection<{ _id: string; at: Date }>("probes")
        .updateOne(
          { _id: `${hostname()}:${process.pid}` },
          { $set: { at: new Date() } },
          { upsert: true, maxTimeMS: 2000 },
        );
    });
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

/**
 * The embedded store: one SQLite file under DATA_DIR, through Node's built-in `node:sqlite`.
 * WAL mode lets readers proceed while a write commits; every write is one statement or one
 * transaction, so a crash leaves either the old row or the new one, never half of it.
 *
 * `node:sqlite` is synchronous, so the connection lives in a worker thread (sqlite.worker.ts) and
 * this class only posts requests to it: a lock held by another connection makes a write wait (and
 * fail after `busyTimeoutMs`) there, never on the game's event loop. Profile writes posted in the
 * same turn of the event loop go over as one batch and are written in one transaction.
 */
import type { BoardId, FriendAcceptOutcome, FriendLink, FriendRequestOutcome, RankedEntry } from "./social.js";
import { Worker } from "node:worker_threads";
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
import type {
  ExtensionArgs,
  ExtensionOp,
  ExtensionResult,
  Op,
  Outcome,
  Response,
  WireError,
  WorkerInit,
} from "./sqlite.worker.js";
import type { TradeMove, TradeRecord, TradeStore } from "./trades.js";

export interface SqliteOptions {
  /** How long one statement waits for another connection's lock before failing (ms). It waits in
   * the worker thread, but requests queue behind it, so it stays short; callers retry instead. */
  busyTimeoutMs?: number;
}

/** The worker's entry: TypeScript when this module runs from source (tsx), JavaScript from `dist/`. */
const WORKER_URL = new URL(`./sqlite.worker.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);

function fromWire(error: WireError): Error {
  switch (error.kind) {
    case "unavailable":
      return new StoreUnavailableError(error.message);
    case "taken":
      return new UsernameTakenError(error.message, error.lookalike === true);
    case "stale":
      return new StaleProfileError(error.userId!, error.expectedVersion!);
    default:
      return new Error(error.message);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface QueuedSave {
  profile: Profile;
  opId: string;
  resolve: (profile: Profile) => void;
  reject: (err: Error) => void;
}

export class SqliteStore implements Store, TradeStore {
  readonly kind = "sqlite";
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private saves: QueuedSave[] = [];
  private closed = false;

  constructor(
    readonly file: string,
    private readonly options: SqliteOptions = {},
  ) {}

  /** Opens the store and waits until its file is open and migrated (or fails with the reason). */
  static async open(file: string, options: SqliteOptions = {}): Promise<SqliteStore> {
    const store = new SqliteStore(file, options);
    await store.ping();
    return store;
  }

  /** The worker, started on first use and again after it died (its requests fail as unavailable). */
  private get thread(): Worker {
    if (this.worker) return this.worker;
    const init: WorkerInit = { file: this.file, busyTimeoutMs: this.options.busyTimeoutMs ?? 200 };
    const worker = new Worker(WORKER_URL, { workerData: init });
    worker.unref();
    worker.on("message", (res: Response) => {
      const waiting = this.pending.get(res.id);
      if (!waiting) return;
      this.pending.delete(res.id);
      // The thread keeps the process alive only while a request waits on it.
      if (this.pending.size === 0) worker.unref();
      if (res.outcome.ok) waiting.resolve(res.outcome.value);
      else waiting.reject(fromWire(res.outcome.error));
    });
    const failAll = (why: string) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.reject(new StoreUnavailableError(`sqlite: ${why}`));
      }
    };
    worker.on("error", (err: Error) => failAll(`the store's thread failed: ${err.message}`));
    worker.on("exit", (code) => failAll(`the store's thread exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private call<T>(op: Op, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError("sqlite: the store is closed"));
    // Profile writes queued earlier go first, so requests are served in the order they were made.
    this.postSaves();
    return this.post<T>(op, args);
  }

  /** A request of a store module (`<module>.<name>`), typed by its entry in the worker's registry. */
  private ext<K extends ExtensionOp>(op: K, ...args: ExtensionArgs<K>): Promise<ExtensionResult<K>> {
    return this.call(op, ...args);
  }

  private post<T>(op: Op, args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const thread = this.thread;
      if (this.pending.size === 0) thread.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      thread.postMessage({ id, op, args });
    });
  }

  private postSaves(): void {
    if (this.saves.length === 0) return;
    const batch = this.saves;
    this.saves = [];
    this.post<Outcome[]>("saveProfiles", [batch.map(({ profile, opId }) => ({ profile, opId }))]).then(
      (outcomes) =>
        batch.forEach((save, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) save.resolve(outcome.value as Profile);
          else save.reject(fromWire(outcome.error));
        }),
      (err: Error) => batch.forEach((save) => save.reject(err)),
    );
  }

  createAccount(account: NewAccount): Promise<Account> {
    return this.call("createAccount", account);
  }

  getAccount(userId: string): Promise<Account | null> {
    return this.call("getAccount", userId);
  }

  findAccountByUsername(username: string): Promise<Account | null> {
    return this.call("findAccountByUsername", username);
  }

  findAccountBySkeleton(skeleton: string): Promise<Account | null> {
    return this.call("findAccountBySkeleton", skeleton);
  }

  loadProfile(userId: string): Promise<Profile | null> {
    return this.call("loadProfile", userId);
  }

  /** Queued, and sent with every other write of this turn of the event loop as one transaction. */
  saveProfile(profile: Profile, opId: string): Promise<Profile> {
    if (this.closed) return Promise.reject(new StoreUnavailableError("sqlite: the store is closed"));
    return new Promise<Profile>((resolve, reject) => {
      if (this.saves.length === 0) setImmediate(() => this.postSaves());
      // A copy: the caller may change its profile before the batch leaves.
      this.saves.push({ profile: structuredClone(profile), opId, resolve, reject });
    });
  }

  appendEvents(events: readonly GameEvent[]): Promise<void> {
    return this.call("appendEvents", events);
  }

  eventsAfter(roomId: string, after: number, limit: number): Promise<GameEvent[]> {
    return this.call("eventsAfter", roomId, after, limit);
  }

  pruneEvents(before: number): Promise<number> {
    return this.call("pruneEvents", before);
  }

  ping(): Promise<void> {
    return this.call("ping");
  }

  probe(): Promise<void> {
    return this.call("probe");
  }

  saveMatch(record: MatchRecord): Promise<void> {
    return this.ext("match.saveMatch", record);
  }

  appendMatchTx(tx: Tx): Promise<void> {
    return this.ext("match.appendMatchTx", tx);
  }

  rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number> {
    return this.ext("match.rollbackMatchTxs", matchId, to, at);
  }

  loadMatch(matchId: string): Promise<StoredMatch | null> {
    return this.ext("match.loadMatch", matchId);
  }

  matchesOf(userId: string, limit: number): Promise<MatchSummary[]> {
    return this.ext("match.matchesOf", userId, limit);
  }

  savePendingChange(pending: PendingChange): Promise<void> {
    return this.ext("pending.save", pending);
  }

  pendingChanges(before: number, limit: number): Promise<PendingChange[]> {
    return this.ext("pending.list", before, limit);
  }

  deletePendingChange(id: string): Promise<void> {
    return this.ext("pending.delete", id);
  }

  get trades(): TradeStore {
    return this;
  }

  createOffer(record: TradeRecord, maxOpen: number): Promise<boolean> {
    return this.ext("trade.createOffer", record, maxOpen);
  }

  loadTrade(tradeId: string): Promise<TradeRecord | null> {
    return this.ext("trade.loadTrade", tradeId);
  }

  moveTrade(tradeId: string, move: TradeMove): Promise<TradeRecord | null> {
    return this.ext("trade.moveTrade", tradeId, move);
  }

  openTrades(userId: string, now: number): Promise<TradeRecord[]> {
    return this.ext("trade.openTrades", userId, now);
  }

  expiredOffers(now: number): Promise<TradeRecord[]> {
    return this.ext("trade.expiredOffers", now);
  }

  unfinishedTrades(now: number, coordinator: string): Promise<TradeRecord[]> {
    return this.ext("trade.unfinishedTrades", now, coordinator);
  }

  requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome> {
    return this.ext("social.requestFriend", userId, otherId, max);
  }

  acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome> {
    return this.ext("social.acceptFriend", userId, otherId, max);
  }

  removeFriend(userId: string, otherId: string): Promise<boolean> {
    return this.ext("social.removeFriend", userId, otherId);
  }

  friendsOf(userId: string): Promise<FriendLink[]> {
    return this.ext("social.friendsOf", userId);
  }

  leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]> {
    return this.ext("social.leaderboard", board, limit, offset);
  }

  rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null> {
    return this.ext("social.rankOf", board, userId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.worker) {
      const worker = this.worker;
      await this.call("close").catch(() => undefined);
      this.closed = true;
      await worker.terminate();
    }
    this.closed = true;
  }
}

/**
 * The embedded store: one SQLite file under DATA_DIR, through Node's built-in `node:sqlite`.
 * WAL mode lets readers proceed while a write commits; every write is one statement or one
 * transaction, so a crash leaves either the old row or the new one, never half of it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import * as matches from "./sqlite-matches.js";
import {
  StaleProfileError,
  StoreUnavailableError,
  UsernameTakenError,
  type Account,
  type GameEvent,
  type MatchRecord,
  type MatchSummary,
  type NewAccount,
  type Profile,
  type Store,
  type StoredMatch,
  type Tx,
} from "./store.js";

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS = [
  `CREATE TABLE accounts (
     user_id       TEXT PRIMARY KEY,
     username      TEXT UNIQUE COLLATE NOCASE,
     name          TEXT NOT NULL,
     password_hash TEXT,
     created_at    INTEGER NOT NULL
   );
   CREATE TABLE profiles (
     user_id    TEXT PRIMARY KEY REFERENCES accounts(user_id),
     doc        TEXT NOT NULL,
     version    INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  `ALTER TABLE profiles ADD COLUMN last_op TEXT;
   CREATE TABLE events (
     room_id TEXT NOT NULL,
     seq     INTEGER NOT NULL,
     at      INTEGER NOT NULL,
     type    TEXT NOT NULL,
     data    TEXT NOT NULL,
     PRIMARY KEY (room_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX events_at ON events (at);`,
  matches.MATCH_MIGRATION,
];

interface AccountRow {
  user_id: string;
  username: string | null;
  name: string;
  password_hash: string | null;
  created_at: number;
}

const toAccount = (r: AccountRow): Account => ({
  userId: r.user_id,
  username: r.username,
  name: r.name,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

export interface SqliteOptions {
  /** How long one statement waits for another connection's lock before failing (ms). Kept short:
   * node:sqlite is synchronous, so a wait blocks the event loop; callers retry instead. */
  busyTimeoutMs?: number;
}

/** SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN: the store is unavailable, not the request wrong. */
const UNAVAILABLE = new Set([5, 6, 10, 13, 14]);

/** Runs a statement, turning lock, disk and I/O failures into `StoreUnavailableError` (retry later) so callers can tell them from bugs. */
function guard<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    classify(err);
  }
}

function classify(err: unknown): never {
  const e = err as { code?: string; errcode?: number; message?: string };
  if (e?.code === "ERR_SQLITE_ERROR" && e.errcode !== undefined && UNAVAILABLE.has(e.errcode & 0xff)) {
    throw new StoreUnavailableError(`sqlite: ${e.message}`, { cause: err });
  }
  if (e?.code === "ERR_INVALID_STATE") throw new StoreUnavailableError(`sqlite: ${e.message}`, { cause: err });
  throw err;
}

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly db: DatabaseSync;

  constructor(
    readonly file: string,
    options: SqliteOptions = {},
  ) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.db = new DatabaseSync(file);
    this.db.exec(`PRAGMA journal_mode = WAL;
                  PRAGMA synchronous = NORMAL;
                  PRAGMA foreign_keys = ON;
                  PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 100)};`);
    this.migrate();
  }

  private migrate(): void {
    const { user_version: done } = this.db.prepare("PRAGMA user_version").get() as { user_version: number };
    for (let i = done; i < MIGRATIONS.length; i++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[i]);
        this.db.exec(`PRAGMA user_version = ${i + 1}`);
      });
    }
  }

  async createAccount(account: NewAccount): Promise<Account> {
    return guard(() => {
      const createdAt = Date.now();
      try {
        this.db
          .prepare("INSERT INTO accounts (user_id, username, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)")
          .run(account.userId, account.username, account.name, account.passwordHash, createdAt);
      } catch (err) {
        if (isUniqueViolation(err, "accounts.username"))
          throw new UsernameTakenError(`username "${account.username}" is taken`);
        throw err;
      }
      return { ...account, createdAt };
    });
  }

  async getAccount(userId: string): Promise<Account | null> {
    return guard(() => {
      const row = this.db.prepare("SELECT * FROM accounts WHERE user_id = ?").get(userId) as AccountRow | undefined;
      return row ? toAccount(row) : null;
    });
  }

  async findAccountByUsername(username: string): Promise<Account | null> {
    return guard(() => {
      const row = this.db.prepare("SELECT * FROM accounts WHERE username = ?").get(username) as AccountRow | undefined;
      return row ? toAccount(row) : null;
    });
  }

  async loadProfile(userId: string): Promise<Profile | null> {
    return guard(() => {
      const row = this.db.prepare("SELECT doc, version FROM profiles WHERE user_id = ?").get(userId) as
        { doc: string; version: number } | undefined;
      return row ? { ...(JSON.parse(row.doc) as Omit<Profile, "version">), version: row.version } : null;
    });
  }

  async saveProfile(profile: Profile, opId: string): Promise<Profile> {
    return guard(() => {
      const { version, ...doc } = profile;
      const json = JSON.stringify(doc);
      const now = Date.now();
      // One conditional statement: it writes when the stored version is the one this copy was read
      // at, or when it is one past it *by this same operation* (an earlier attempt that landed
      // unacknowledged): then this attempt rewrites that same version instead of failing.
      const changes =
        version === 0
          ? this.db
              .prepare(
                `INSERT INTO profiles (user_id, doc, version, updated_at, last_op) VALUES (?, ?, 1, ?, ?)
                 ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at
                 WHERE profiles.version = 1 AND profiles.last_op = excluded.last_op`,
              )
              .run(profile.userId, json, now, opId).changes
          : this.db
              .prepare(
                `UPDATE profiles SET doc = ?, version = ? + 1, updated_at = ?, last_op = ?
                 WHERE user_id = ? AND (version = ? OR (version = ? + 1 AND last_op = ?))`,
              )
              .run(json, version, now, opId, profile.userId, version, version, opId).changes;
      if (Number(changes) !== 1) throw new StaleProfileError(profile.userId, version);
      return { ...profile, version: version + 1 };
    });
  }

  async appendEvents(events: readonly GameEvent[]): Promise<void> {
    return guard(() => {
      if (events.length === 0) return;
      const insert = this.db.prepare(
        "INSERT INTO events (room_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      );
      this.transaction(() => {
        for (const e of events) insert.run(e.roomId, e.seq, e.at, e.type, JSON.stringify(e.data));
      });
    });
  }

  async eventsAfter(roomId: string, after: number, limit: number): Promise<GameEvent[]> {
    return guard(() => {
      const rows = this.db
        .prepare("SELECT room_id, seq, at, type, data FROM events WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?")
        .all(roomId, after, limit) as Array<{ room_id: string; seq: number; at: number; type: string; data: string }>;
      return rows.map((r) => ({ roomId: r.room_id, seq: r.seq, at: r.at, type: r.type, data: JSON.parse(r.data) }));
    });
  }

  async pruneEvents(before: number): Promise<number> {
    return guard(() => {
      return Number(this.db.prepare("DELETE FROM events WHERE at < ?").run(before).changes);
    });
  }

  async saveMatch(record: MatchRecord): Promise<void> {
    return guard(() => this.transaction(() => matches.saveMatch(this.db, record)));
  }

  async appendMatchTx(tx: Tx): Promise<void> {
    return guard(() => matches.appendMatchTx(this.db, tx));
  }

  async rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number> {
    return guard(() => matches.rollbackMatchTxs(this.db, matchId, to, at));
  }

  async loadMatch(matchId: string): Promise<StoredMatch | null> {
    return guard(() => matches.loadMatch(this.db, matchId));
  }

  async matchesOf(userId: string, limit: number): Promise<MatchSummary[]> {
    return guard(() => matches.matchesOf(this.db, userId, limit));
  }

  private transaction(work: () => void): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.db.exec("COMMIT");
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  async ping(): Promise<void> {
    return guard(() => {
      this.db.prepare("SELECT 1").get();
    });
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === "ERR_SQLITE_ERROR" && (e.errcode === 2067 || e.errcode === 1555) && !!e.message?.includes(column);
}

/**
 * The SQLite connection, in a worker thread of its own. `node:sqlite` is synchronous: a statement
 * that waits for another connection's lock waits on the thread that runs it, so it runs here and
 * the game's event loop never does. `SqliteStore` (sqlite.ts) posts requests and awaits answers.
 *
 * Requests are served one at a time, in the order posted. Profile writes arrive in batches and
 * are written in one transaction; each keeps its own answer (written, or stale).
 *
 * The store's own requests (accounts, profiles, events, health) are methods of `Connection`.
 * Those of a store module (matches, trades, social: src/persistence/sqlite-*.ts) are its table
 * of ops, registered once in `EXTENSIONS` and requested as `<module>.<name>`, with the store
 * method's own arguments; `SqliteStore` types each request by its entry here.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync } from "node:fs";
import { basename, dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import type { Account, GameEvent, NewAccount, Profile } from "./store.js";
import { skeletonSql, UNIQUE_SKELETON_SQL } from "../auth/names.js";
import { MATCH_MIGRATION, MATCH_OPS } from "./sqlite-matches.js";
import { TRADE_MIGRATION, TRADE_OPS } from "./sqlite-trades.js";
import { SOCIAL_MIGRATION, SOCIAL_OPS } from "./sqlite-social.js";
import { PENDING_MIGRATION, PENDING_OPS } from "./sqlite-pending.js";
import { transaction } from "./sqlite-transaction.js";

export interface WorkerInit {
  file: string;
  busyTimeoutMs: number;
}

/**
 * The requests of the store modules, by module: each op takes the connection, then the arguments
 * of the store method it serves, and answers its result. One more module is one more entry.
 */
const EXTENSIONS = { match: MATCH_OPS, trade: TRADE_OPS, social: SOCIAL_OPS, pending: PENDING_OPS } as const;
type Extensions = typeof EXTENSIONS;

/** A store module's request: `<module>.<name>`. */
export type ExtensionOp = {
  [M in keyof Extensions]: `${M}.${keyof Extensions[M] & string}`;
}[keyof Extensions];

type ExtensionFn<K extends ExtensionOp> = K extends `${infer M extends keyof Extensions}.${infer N}`
  ? N extends keyof Extensions[M]
    ? Extensions[M][N]
    : never
  : never;
/** The arguments a module's request takes after the connection. */
export type ExtensionArgs<K extends ExtensionOp> =
  ExtensionFn<K> extends (db: DatabaseSync, ...args: infer A) => unknown ? A : never;
/** What a module's request answers. */
export type ExtensionResult<K extends ExtensionOp> = ExtensionFn<K> extends (...args: never[]) => infer R ? R : never;

type AnyOp = (db: DatabaseSync, ...args: never[]) => unknown;
/** `EXTENSIONS` flattened once, by request name. */
const EXTENSION_OPS = new Map<string, AnyOp>(
  Object.entries(EXTENSIONS).flatMap(([module, ops]) =>
    Object.entries(ops as Record<string, AnyOp>).map(([name, op]) => [`${module}.${name}`, op] as const),
  ),
);

export type Op =
  | "createAccount"
  | "getAccount"
  | "findAccountByUsername"
  | "findAccountBySkeleton"
  | "loadProfile"
  | "saveProfiles"
  | "appendEvents"
  | "eventsAfter"
  | "pruneEvents"
  | "ping"
  | "probe"
  | ExtensionOp
  | "close";

export interface Request {
  id: number;
  op: Op;
  args: unknown[];
}

/** An error as it crosses the thread boundary; sqlite.ts turns it back into the store's classes. */
export interface WireError {
  kind: "unavailable" | "taken" | "stale" | "other";
  message: string;
  /** With `taken`: the skeleton, not the username, was taken. */
  lookalike?: boolean;
  userId?: string;
  expectedVersion?: number;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: WireError };

export interface Response {
  id: number;
  outcome: Outcome;
}

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
  // One row that the health probe rewrites: proof that the store takes writes right now.
  `CREATE TABLE probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);`,
  MATCH_MIGRATION,
  TRADE_MIGRATION,
  SOCIAL_MIGRATION,
  // Look-alike skeletons of usernames (src/auth/names.ts); the existing ones computed here.
  `ALTER TABLE accounts ADD COLUMN skeleton TEXT;
   UPDATE accounts SET skeleton = ${skeletonSql("username")} WHERE username IS NOT NULL;
   CREATE INDEX accounts_skeleton ON accounts (skeleton);`,
  // One registered account per look-alike skeleton, held by a unique index.
  UNIQUE_SKELETON_SQL,
  PENDING_MIGRATION,
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

/**
 * SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL,
 * SQLITE_CANTOPEN: the store is unavailable, not the request wrong.
 */
const UNAVAILABLE = new Set([3, 5, 6, 8, 10, 13, 14]);

class Taken extends Error {
  constructor(
    message: string,
    readonly lookalike = false,
  ) {
    super(message);
  }
}
class Stale extends Error {
  constructor(
    readonly userId: string,
    readonly expectedVersion: number,
  ) {
    super(`profile ${userId} is no longer at version ${expectedVersion}`);
  }
}
class Unavailable extends Error {}

function toWire(err: unknown): WireError {
  if (err instanceof Taken) return { kind: "taken", message: err.message, lookalike: err.lookalike };
  if (err instanceof Stale)
    return { kind: "stale", message: err.message, userId: err.userId, expectedVersion: err.expectedVersion };
  if (err instanceof Unavailable) return { kind: "unavailable", message: err.message };
  const e = err as { code?: string; errcode?: number; message?: string };
  if (e?.code === "ERR_SQLITE_ERROR" && e.errcode !== undefined && UNAVAILABLE.has(e.errcode & 0xff))
    return { kind: "unavailable", message: `sqlite: ${e.message}` };
  if (e?.code === "ERR_INVALID_STATE") return { kind: "unavailable", message: `sqlite: ${e.message}` };
  // A file that cannot be created or opened (a read-only or missing directory, say).
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code))
    return { kind: "unavailable", message: `sqlite: ${e.message}` };
  return { kind: "other", message: String(e?.message ?? err) };
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === "ERR_SQLITE_ERROR" && (e.errcode === 2067 || e.errcode === 1555) && !!e.message?.includes(column);
}

class Connection {
  private db: DatabaseSync | null = null;
  private closed = false;

  constructor(private readonly init: WorkerInit) {}

  /** The open connection; opens it (again) if an earlier attempt failed, so the store can recover. */
  private get conn(): DatabaseSync {
    if (this.closed) throw new Unavailable("sqlite: the store is closed");
    if (this.db) return this.db;
    const { file, busyTimeoutMs } = this.init;
    if (file !== ":memory:" && !existsSync(file)) {
      // Private to the server: the directory 0700, the database (and, after it, its WAL) 0600.
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      try {
        closeSync(openSync(file, "wx", 0o600));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    const db = new DatabaseSync(file);
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)};
               PRAGMA journal_mode = WAL;
               PRAGMA synchronous = NORMAL;
               PRAGMA foreign_keys = ON;`);
      this.migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return db;
  }

  /**
   * Brings the file to the latest schema. Processes opening a new file together (a cluster
   * starting) take turns: the version is read again under the write lock, so the second finds
   * the work done rather than running a migration twice.
   */
  private migrate(db: DatabaseSync): void {
    const version = () => (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version() >= MIGRATIONS.length) return;
    transaction(db, () => {
      const done = version();
      if (done >= MIGRATIONS.length) return;
      for (let i = done; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]);
      db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    });
  }

  createAccount(account: NewAccount): Account {
    const createdAt = Date.now();
    try {
      this.conn
        .prepare(
          "INSERT INTO accounts (user_id, username, name, password_hash, created_at, skeleton) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run(account.userId, account.username, account.name, account.passwordHash, createdAt, account.skeleton ?? null);
    } catch (err) {
      if (isUniqueViolation(err, "accounts.username")) throw new Taken(`username "${account.username}" is taken`);
      if (isUniqueViolation(err, "accounts.skeleton"))
        throw new Taken(`username "${account.username}" looks like one that exists`, true);
      throw err;
    }
    return { ...account, createdAt };
  }

  findAccountBySkeleton(skeleton: string): Account | null {
    const row = this.conn.prepare("SELECT * FROM accounts WHERE skeleton = ? LIMIT 1").get(skeleton) as
      AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  getAccount(userId: string): Account | null {
    const row = this.conn.prepare("SELECT * FROM accounts WHERE user_id = ?").get(userId) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  findAccountByUsername(username: string): Account | null {
    const row = this.conn.prepare("SELECT * FROM accounts WHERE username = ?").get(username) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  loadProfile(userId: string): Profile | null {
    const row = this.conn.prepare("SELECT doc, version FROM profiles WHERE user_id = ?").get(userId) as
      { doc: string; version: number } | undefined;
    return row ? { ...(JSON.parse(row.doc) as Omit<Profile, "version">), version: row.version } : null;
  }

  /**
   * Writes a batch of profiles in one transaction. Each write is one conditional statement: it
   * lands when the stored version is the one its copy was read at, or one past it *by this same
   * operation* (an earlier attempt that landed unacknowledged), which it then rewrites. A write
   * that matches neither is stale; the others in the batch still land. A lock or disk failure
   * fails the whole batch, and nothing of it is written.
   */
  saveProfiles(batch: Array<{ profile: Profile; opId: string }>): Outcome[] {
    const db = this.conn;
    const insert = db.prepare(
      `INSERT INTO profiles (user_id, doc, version, updated_at, last_op) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at
       WHERE profiles.version = 1 AND profiles.last_op = excluded.last_op`,
    );
    const update = db.prepare(
      `UPDATE profiles SET doc = ?, version = ? + 1, updated_at = ?, last_op = ?
       WHERE user_id = ? AND (version = ? OR (version = ? + 1 AND last_op = ?))`,
    );
    const outcomes: Outcome[] = [];
    transaction(db, () => {
      const now = Date.now();
      for (const { profile, opId } of batch) {
        const { version, ...doc } = profile;
        const json = JSON.stringify(doc);
        const changes =
          version === 0
            ? insert.run(profile.userId, json, now, opId).changes
            : update.run(json, version, now, opId, profile.userId, version, version, opId).changes;
        outcomes.push(
          Number(changes) === 1
            ? { ok: true, value: { ...profile, version: version + 1 } }
            : { ok: false, error: toWire(new Stale(profile.userId, version)) },
        );
      }
    });
    return outcomes;
  }

  appendEvents(events: readonly GameEvent[]): void {
    if (events.length === 0) return;
    const db = this.conn;
    const insert = db.prepare(
      "INSERT INTO events (room_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    transaction(db, () => {
      for (const e of events) insert.run(e.roomId, e.seq, e.at, e.type, JSON.stringify(e.data));
    });
  }

  eventsAfter(roomId: string, after: number, limit: number): GameEvent[] {
    const rows = this.conn
      .prepare("SELECT room_id, seq, at, type, data FROM events WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?")
      .all(roomId, after, limit) as Array<{ room_id: string; seq: number; at: number; type: string; data: string }>;
    return rows.map((r) => ({
      roomId: r.room_id,
      seq: r.seq,
      at: r.at,
      type: r.type,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  pruneEvents(before: number): number {
    return Number(this.conn.prepare("DELETE FROM events WHERE at < ?").run(before).changes);
  }

  ping(): void {
    this.conn.prepare("SELECT 1").get();
  }

  /**
   * A real write, and a check that the files stay writable: a read-only, immutable or otherwise
   * unwritable database, WAL, shared-memory file or directory fails it with the reason, even while
   * this connection still holds descriptors opened before the change.
   */
  probe(): void {
    const { file } = this.init;
    const db = this.conn; // opens (and creates) the file first
    if (file !== ":memory:") {
      for (const path of [dirname(file), file, `${file}-wal`, `${file}-shm`]) {
        if (path !== file && path !== dirname(file) && !existsSync(path)) continue;
        try {
          accessSync(path, constants.W_OK);
        } catch (err) {
          const name = path === dirname(file) ? "its directory" : basename(path);
          throw new Unavailable(`sqlite: ${name} is not writable (${(err as NodeJS.ErrnoException).code})`);
        }
      }
    }
    transaction(db, () => {
      db.prepare("INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at").run(
        Date.now(),
      );
    });
  }

  close(): void {
    this.closed = true;
    if (this.db?.isOpen) this.db.close();
    this.db = null;
  }

  /** Serves one request; every failure becomes an answer, never an exception. */
  serve(req: Request): Outcome {
    try {
      const args = req.args as never[];
      switch (req.op) {
        case "createAccount":
          return { ok: true, value: this.createAccount(args[0]) };
        case "getAccount":
          return { ok: true, value: this.getAccount(args[0]) };
        case "findAccountByUsername":
          return { ok: true, value: this.findAccountByUsername(args[0]) };
        case "findAccountBySkeleton":
          return { ok: true, value: this.findAccountBySkeleton(args[0]) };
        case "loadProfile":
          return { ok: true, value: this.loadProfile(args[0]) };
        case "saveProfiles":
          return { ok: true, value: this.saveProfiles(args[0]) };
        case "appendEvents":
          return { ok: true, value: this.appendEvents(args[0]) };
        case "eventsAfter":
          return { ok: true, value: this.eventsAfter(args[0], args[1], args[2]) };
        case "pruneEvents":
          return { ok: true, value: this.pruneEvents(args[0]) };
        case "ping":
          return { ok: true, value: this.ping() };
        case "probe":
          return { ok: true, value: this.probe() };
        case "close":
          return { ok: true, value: this.close() };
        default: {
          const op = EXTENSION_OPS.get(req.op);
          if (!op) return { ok: false, error: { kind: "other", message: `sqlite: no request named ${req.op}` } };
          return { ok: true, value: op(this.conn, ...args) };
        }
      }
    } catch (err) {
      this.reopenAfter(err);
      return { ok: false, error: toWire(err) };
    }
  }

  /**
   * After a read-only, permission, I/O or open failure, the connection is dropped and the next
   * request opens the file afresh: a connection that SQLite opened read-only (the file was not
   * writable then) would otherwise stay read-only after the file is writable again.
   */
  private reopenAfter(err: unknown): void {
    const e = err as { code?: string; errcode?: number };
    if (e?.code !== "ERR_SQLITE_ERROR" || e.errcode === undefined || ![3, 8, 10, 14].includes(e.errcode & 0xff)) return;
    try {
      if (this.db?.isOpen) this.db.close();
    } catch {
      // Closing a broken connection may fail too; it is dropped either way.
    }
    this.db = null;
  }
}

if (parentPort) {
  const port = parentPort;
  const connection = new Connection(workerData as WorkerInit);
  port.on("message", (req: Request) => {
    const response: Response = { id: req.id, outcome: connection.serve(req) };
    port.postMessage(response);
    if (req.op === "close") port.close();
  });
}

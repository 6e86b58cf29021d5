/**
 * The embedded store: one SQLite file under DATA_DIR, through Node's built-in `node:sqlite`.
 * WAL mode lets readers proceed while a write commits; every write is one statement or one
 * transaction, so a crash leaves either the old row or the new one, never half of it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  StaleProfileError,
  UsernameTakenError,
  type Account,
  type NewAccount,
  type Profile,
  type Store,
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

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly db: DatabaseSync;

  constructor(readonly file: string, options: SqliteOptions = {}) {
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
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(MIGRATIONS[i]);
        this.db.exec(`PRAGMA user_version = ${i + 1}`);
        this.db.exec("COMMIT");
      } catch (err) {
        this.db.exec("ROLLBACK");
        throw err;
      }
    }
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const createdAt = Date.now();
    try {
      this.db
        .prepare("INSERT INTO accounts (user_id, username, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(account.userId, account.username, account.name, account.passwordHash, createdAt);
    } catch (err) {
      if (isUniqueViolation(err, "accounts.username")) throw new UsernameTakenError(`username "${account.username}" is taken`);
      throw err;
    }
    return { ...account, createdAt };
  }

  async getAccount(userId: string): Promise<Account | null> {
    const row = this.db.prepare("SELECT * FROM accounts WHERE user_id = ?").get(userId) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  async findAccountByUsername(username: string): Promise<Account | null> {
    const row = this.db.prepare("SELECT * FROM accounts WHERE username = ?").get(username) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  async loadProfile(userId: string): Promise<Profile | null> {
    const row = this.db.prepare("SELECT doc, version FROM profiles WHERE user_id = ?").get(userId) as
      | { doc: string; version: number }
      | undefined;
    return row ? { ...(JSON.parse(row.doc) as Omit<Profile, "version">), version: row.version } : null;
  }

  async saveProfile(profile: Profile): Promise<Profile> {
    const { version, ...doc } = profile;
    const json = JSON.stringify(doc);
    const now = Date.now();
    // One conditional statement each way: the version check and the write are a single atomic step.
    const changes =
      version === 0
        ? this.db
            .prepare("INSERT INTO profiles (user_id, doc, version, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING")
            .run(profile.userId, json, now).changes
        : this.db
            .prepare("UPDATE profiles SET doc = ?, version = version + 1, updated_at = ? WHERE user_id = ? AND version = ?")
            .run(json, now, profile.userId, version).changes;
    if (Number(changes) !== 1) throw new StaleProfileError(profile.userId, version);
    return { ...profile, version: version + 1 };
  }

  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === "ERR_SQLITE_ERROR" && (e.errcode === 2067 || e.errcode === 1555) && !!e.message?.includes(column);
}

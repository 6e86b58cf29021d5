/**
 * The PostgreSQL store, on `pg` with a connection pool; used when DATABASE_URL is set. It keeps the
 * SQLite and MongoDB stores' guarantees with real transactions and row locks: a profile save is one
 * conditional UPDATE (or INSERT … ON CONFLICT), and events are unique per (room_id, seq).
 *
 * Nothing waits forever: `statement_timeout` and `lock_timeout` bound every statement on the server
 * (a table locked by another session fails a save after `lockTimeoutMs`), a client-side read timeout
 * covers a server that stops answering, and taking a connection gives up after `connectTimeoutMs`.
 * Those failures, refused or dropped connections and terminated backends become
 * `StoreUnavailableError`, and the write-behind retries them with backoff.
 *
 * The schema is created by versioned migrations at start-up, under an advisory lock, so any number
 * of processes may start at once. A schema other than `public` is chosen the libpq way, in the URL:
 * `postgres://host/db?options=-c%20search_path%3Dmyschema` (the schema must exist).
 */
import { backoffMs } from "./backoff.js";
import { PostgresTrades, TRADE_MIGRATION } from "./postgres-trades.js";
import type { TradeStore } from "./trades.js";
import { userInfo } from "node:os";
import pg from "pg";
import type { Logger } from "pino";
import { PgSocial, SOCIAL_MIGRATION } from "./postgres-social.js";
import type { BoardId, FriendAcceptOutcome, FriendLink, FriendRequestOutcome, RankedEntry } from "./social.js";
import { skeletonSql, UNIQUE_SKELETON_SQL } from "../auth/names.js";
import { rankIn, type MatchRecord, type MatchSummary, type StoredMatch, type Tx } from "../domain/match.js";
import {
  StaleProfileError,
  StoreUnavailableError,
  UsernameTakenError,
  type Account,
  type GameEvent,
  type NewAccount,
  type PendingChange,
  type Profile,
  type Store,
} from "./store.js";

export interface Migration {
  /** Applied in increasing order; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, one entry per change. A feature that needs tables (trades, match transactions,
 * friends, leaderboards, achievements) adds one entry with the next version number.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, profiles, events",
    sql: `
      CREATE TABLE accounts (
        user_id       text PRIMARY KEY,
        username      text,
        name          text NOT NULL,
        password_hash text,
        created_at    bigint NOT NULL
      );
      -- Usernames compare case-insensitively; guests (NULL) may be many.
      CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));

      CREATE TABLE profiles (
        user_id    text PRIMARY KEY REFERENCES accounts (user_id),
        doc        jsonb NOT NULL,
        version    integer NOT NULL,
        last_op    text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE events (
        room_id text NOT NULL,
        seq     bigint NOT NULL,
        at      bigint NOT NULL,
        type    text NOT NULL,
        data    jsonb NOT NULL,
        PRIMARY KEY (room_id, seq)
      );
      CREATE INDEX events_at ON events (at);`,
  },
  {
    version: 2,
    name: "the health probe's row",
    sql: `CREATE TABLE store_probe (id integer PRIMARY KEY, at bigint NOT NULL);`,
  },
  {
    version: 3,
    name: "match history",
    sql: `
      CREATE TABLE matches (match_id text PRIMARY KEY, doc jsonb NOT NULL, started_at bigint);
      CREATE TABLE match_players (
        user_id  text NOT NULL,
        match_id text NOT NULL REFERENCES matches (match_id),
        PRIMARY KEY (user_id, match_id)
      );
      CREATE TABLE match_txs (
        id             bigserial PRIMARY KEY,
        match_id       text NOT NULL REFERENCES matches (match_id),
        idx            integer NOT NULL,
        doc            jsonb NOT NULL,
        rolled_back_at bigint
      );
      -- The live chain has one transaction per index; rolled-back ones are kept beside it.
      CREATE UNIQUE INDEX match_txs_live ON match_txs (match_id, idx) WHERE rolled_back_at IS NULL;`,
  },
  { version: 4, name: "trades", sql: TRADE_MIGRATION },
  SOCIAL_MIGRATION,
  {
    version: 6,
    name: "username skeletons",
    // Look-alike skeletons of usernames (src/auth/names.ts); the existing ones computed here.
    sql: `
      ALTER TABLE accounts ADD COLUMN skeleton text;
      UPDATE accounts SET skeleton = ${skeletonSql("username")} WHERE username IS NOT NULL;
      CREATE INDEX accounts_skeleton ON accounts (skeleton);`,
  },
  { version: 7, name: "one account per look-alike skeleton", sql: UNIQUE_SKELETON_SQL },
  {
    version: 8,
    name: "pending profile changes",
    sql: `
      CREATE TABLE pending_changes (
        id      text PRIMARY KEY,
        user_id text NOT NULL,
        name    text NOT NULL,
        change  jsonb NOT NULL,
        at      bigint NOT NULL
      );
      CREATE INDEX pending_changes_at ON pending_changes (at);`,
  },
];

export interface PostgresOptions {
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /** Server-side bound on any statement (ms). @default 5000 */
  statementTimeoutMs?: number;
  /** How long a statement waits for a lock another session holds before failing (ms). @default 1000 */
  lockTimeoutMs?: number;
  /** How long taking a connection (a new one, or a free one from a busy pool) may take (ms). @default 5000 */
  connectTimeoutMs?: number;
  /** How long start-up keeps retrying while the server is unreachable (ms). @default 30000 */
  startupTimeoutMs?: number;
  /** Migrations to apply; tests pass a prefix of the list. @default MIGRATIONS */
  migrations?: readonly Migration[];
}

/** SQLSTATE classes and codes that mean "the database cannot serve now", not "the request is wrong". */
const UNAVAILABLE_CLASSES = ["08", "53", "57", "58"]; // connection, resources, operator intervention, system
const UNAVAILABLE_CODES = new Set([
  "55P03", // lock_not_available (lock_timeout)
  "55006", // object_in_use
  "40001", // serialization_failure (after the transaction helper's own retries)
  "40P01", // deadlock_detected
  "25006", // read_only_sql_transaction: a standby after a failover
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
/** The driver's own messages for a lost, unusable or unobtainable connection (they carry no code). */
const DRIVER_MESSAGES = new RegExp(
  [
    "Connection terminated",
    "connection timeout",
    "timeout exceeded when trying to connect",
    "Query read timeout",
    "not queryable",
    "Cannot use a pool after calling end",
    "Client was closed",
  ].join("|"),
  "i",
);

/** Whether an error from `pg` means the store is unavailable for now (retry later). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.length === 5 && (UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code))) return true;
  if (NETWORK_CODES.has(code)) return true;
  return typeof e?.message === "string" && DRIVER_MESSAGES.test(e.message);
}

/** Whether the connection died under the statement (so running it again on another connection may work). */
function connectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === "57P01" || // admin_shutdown: pg_terminate_backend, or a server shutting down
    e?.code === "ECONNRESET" ||
    e?.code === "EPIPE" ||
    (typeof e?.message === "string" && /Connection terminated unexpectedly|not queryable/i.test(e.message))
  );
}

/**
 * `url` with a user name when it names none: PGUSER, else the operating-system user, as libpq
 * does (the driver would look only at $USER, which a service manager may not set).
 */
export function withDefaultUser(url: string): string {
  const u = new URL(url);
  if (!u.username && !u.searchParams.has("user"))
    u.username = encodeURIComponent(process.env.PGUSER || userInfo().username);
  return u.toString();
}

function classify(err: unknown): never {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) throw err;
  throw new StoreUnavailableError(`postgres: ${(err as Error).message}`, { cause: err });
}

const isUniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string; constraint?: string })?.code === "23505" &&
  (err as { constraint?: string }).constraint === constraint;

interface AccountRow {
  user_id: string;
  username: string | null;
  name: string;
  password_hash: string | null;
  created_at: string; // bigint arrives as a string
}

const toAccount = (r: AccountRow): Account => ({
  userId: r.user_id,
  username: r.username,
  name: r.name,
  passwordHash: r.password_hash,
  createdAt: Number(r.created_at),
});

interface EventRow {
  room_id: string;
  seq: string;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

export class PostgresStore implements Store {
  readonly trades: TradeStore = new PostgresTrades(this);
  readonly kind = "postgres";

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger | undefined,
  ) {}

  /**
   * Opens the pool and applies pending migrations, retrying while the server is unreachable for
   * up to `startupTimeoutMs`. Other failures (a wrong password, a missing database) throw at once.
   */
  static async connect(url: string, options: PostgresOptions = {}, log?: Logger): Promise<PostgresStore> {
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    const pool = new pg.Pool({
      connectionString: withDefaultUser(url),
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      statement_timeout: statementTimeoutMs,
      lock_timeout: options.lockTimeoutMs ?? 1000,
      // A transaction left open by a bug must not hold its locks for long.
      idle_in_transaction_session_timeout: 60_000,
      // A server that stops answering altogether (no reset, no error): give up a little after the server would.
      query_timeout: statementTimeoutMs + 2000,
      keepAlive: true,
      application_name: "realmgate",
    });
    // An idle pooled connection that dies (a terminated backend, a restart) is reported here; the
    // pool drops it and opens a new one when needed. Without a listener it would crash the process.
    pool.on("error", (err) => log?.warn({ err: err.message }, "an idle PostgreSQL connection failed; dropped"));
    const store = new PostgresStore(pool, log);
    const deadline = performance.now() + (options.startupTimeoutMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await store.migrate(options.migrations ?? MIGRATIONS);
        return store;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || performance.now() > deadline) {
          await pool.end().catch(() => undefined);
          throw err;
        }
        const delay = backoffMs(attempt, { capMs: 5000 });
        log?.warn({ err: err.message, retryInMs: delay }, "PostgreSQL not reachable at start-up; retrying");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction,
   * while holding an advisory lock keyed on the schema: processes that start together take turns,
   * and the later ones find the work done.
   */
  async migrate(migrations: readonly Migration[]): Promise<number[]> {
    const client = await this.pool.connect().catch(classify);
    let broken: Error | undefined;
    try {
      // Waiting for another process's migrations may take longer than an ordinary statement.
      await client.query("SET statement_timeout = '120s'; SET lock_timeout = '120s'");
      const { rows } = await client.query<{ schema: string | null }>("SELECT current_schema() AS schema");
      const schema = rows[0].schema;
      if (!schema) throw new Error("postgres: the search_path names no existing schema; create it first");
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [`realmgate:migrations:${schema}`]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
                              version    integer PRIMARY KEY,
                              name       text NOT NULL,
                              applied_at timestamptz NOT NULL DEFAULT now()
                            )`);
        const done = new Set(
          (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version),
        );
        const applied: number[] = [];
        for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
          if (done.has(m.version)) continue;
          await client.query("BEGIN");
          try {
            await client.query(m.sql);
            await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
            await client.query("COMMIT");
          } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw err;
          }
          this.log?.info({ version: m.version, migration: m.name, schema }, "applied a PostgreSQL migration");
          applied.push(m.version);
        }
        return applied;
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`realmgate:migrations:${schema}`]);
      }
    } catch (err) {
      broken = err as Error;
      return classify(err);
    } finally {
      // Its session settings were changed: never hand this connection back to the pool.
      client.release(broken ?? true);
    }
  }

  /** Runs one statement on a pooled connection, classifying failures. */
  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      classify(err);
    }
  }

  /**
   * `query` for statements that are safe to run twice: when the pooled connection turns out to be
   * dead (its backend was terminated, the server restarted), it runs once more on a fresh one.
   */
  private async idempotent<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      if (!connectionLost(err)) classify(err);
      this.log?.info({ err: (err as Error).message }, "PostgreSQL connection lost under a statement; running it again");
      return this.query<R>(sql, params);
    }
  }

  /**
   * Runs `work` in one transaction on one connection, at `isolation`, and runs it again (up to
   * `retries` times) when PostgreSQL aborts it for a serialization failure or a deadlock. For
   * multi-row changes such as trades; `work` must have no effect outside the database.
   */
  async transaction<T>(
    work: (client: pg.PoolClient) => Promise<T>,
    {
      isolation = "SERIALIZABLE",
      retries = 5,
    }: { isolation?: "READ COMMITTED" | "REPEATABLE READ" | "SERIALIZABLE"; retries?: number } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect().catch(classify);
      let broken: Error | undefined;
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => (broken = e));
        const code = (err as { code?: string }).code;
        if ((code === "40001" || code === "40P01") && attempt < retries) continue;
        if (isUnavailable(err)) broken ??= err as Error;
        classify(err);
      } finally {
        client.release(broken);
      }
    }
  }

  async createAccount(account: NewAccount): Promise<Account> {
    try {
      const { rows } = await this.query<{ created_at: string }>(
        `INSERT INTO accounts (user_id, username, name, password_hash, created_at, skeleton)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
        [account.userId, account.username, account.name, account.passwordHash, Date.now(), account.skeleton ?? null],
      );
      return { ...account, createdAt: Number(rows[0].created_at) };
    } catch (err) {
      if (isUniqueViolation(err, "accounts_username_key"))
        throw new UsernameTakenError(`username "${account.username}" is taken`);
      if (isUniqueViolation(err, "accounts_skeleton_key"))
        throw new UsernameTakenError(`username "${account.username}" looks like one that exists`, true);
      throw err;
    }
  }

  async findAccountBySkeleton(skeleton: string): Promise<Account | null> {
    const { rows } = await this.idempotent<AccountRow>("SELECT * FROM accounts WHERE skeleton = $1 LIMIT 1", [
      skeleton,
    ]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async getAccount(userId: string): Promise<Account | null> {
    const { rows } = await this.idempotent<AccountRow>("SELECT * FROM accounts WHERE user_id = $1", [userId]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findAccountByUsername(username: string): Promise<Account | null> {
    const { rows } = await this.idempotent<AccountRow>("SELECT * FROM accounts WHERE lower(username) = lower($1)", [
      username,
    ]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async loadProfile(userId: string): Promise<Profile | null> {
    const { rows } = await this.idempotent<{ doc: Omit<Profile, "version">; version: number }>(
      "SELECT doc, version FROM profiles WHERE user_id = $1",
      [userId],
    );
    return rows[0] ? { ...rows[0].doc, version: rows[0].version } : null;
  }

  async saveProfile(profile: Profile, opId: string): Promise<Profile> {
    const { version, ...doc } = profile;
    // One conditional statement, as in the other stores: it writes when the stored version is the
    // one this copy was read at, or one past it by this same operation (an earlier attempt that
    // landed unacknowledged), and then rewrites that same version instead of failing. Concurrent
    // writers of one version queue on the row lock; the first wins and the rest match no row.
    // Being idempotent by `opId`, it is safe to run again after a lost connection.
    const { rowCount } =
      version === 0
        ? await this.idempotent(
            `INSERT INTO profiles (user_id, doc, version, last_op, updated_at) VALUES ($1, $2, 1, $3, now())
             ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at
             WHERE profiles.version = 1 AND profiles.last_op = excluded.last_op`,
            [profile.userId, JSON.stringify(doc), opId],
          )
        : await this.idempotent(
            `UPDATE profiles SET doc = $1, version = $2::int + 1, last_op = $3, updated_at = now()
             WHERE user_id = $4 AND (version = $2::int OR (version = $2::int + 1 AND last_op = $3))`,
            [JSON.stringify(doc), version, opId, profile.userId],
          );
    if (rowCount !== 1) throw new StaleProfileError(profile.userId, version);
    return { ...profile, version: version + 1 };
  }

  async appendEvents(events: readonly GameEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One statement for the batch: it lands whole or not at all, and rows already stored (a
    // retried batch) are skipped.
    await this.idempotent(
      `INSERT INTO events (room_id, seq, at, type, data)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::jsonb[])
       ON CONFLICT DO NOTHING`,
      [
        events.map((e) => e.roomId),
        events.map((e) => e.seq),
        events.map((e) => e.at),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
      ],
    );
  }

  async eventsAfter(roomId: string, after: number, limit: number): Promise<GameEvent[]> {
    const { rows } = await this.idempotent<EventRow>(
      "SELECT room_id, seq, at, type, data FROM events WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      [roomId, after, limit],
    );
    return rows.map((r) => ({ roomId: r.room_id, seq: Number(r.seq), at: Number(r.at), type: r.type, data: r.data }));
  }

  async pruneEvents(before: number): Promise<number> {
    return (await this.idempotent("DELETE FROM events WHERE at < $1", [before])).rowCount ?? 0;
  }

  async ping(): Promise<void> {
    await this.idempotent("SELECT 1");
  }

  /**
   * A real write, where `ping` would pass: a read-only server or a full disk fails the row it writes,
   * and a lock on `profiles` (which saves need) fails the empty update that asks for that table's
   * write lock, within `lock_timeout`.
   */
  async probe(): Promise<void> {
    await this.idempotent("UPDATE profiles SET version = version WHERE user_id = ''");
    await this.idempotent(
      "INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at",
      [Date.now()],
    );
  }

  async saveMatch(record: MatchRecord): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        `INSERT INTO matches (match_id, doc, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (match_id) DO UPDATE SET doc = EXCLUDED.doc, started_at = EXCLUDED.started_at`,
        [record.matchId, JSON.stringify(record), record.startedAt],
      );
      await client.query(
        `INSERT INTO match_players (user_id, match_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`,
        [record.players.map((p) => p.userId), record.matchId],
      );
    });
  }

  async appendMatchTx(tx: Tx): Promise<void> {
    await this.idempotent(
      `INSERT INTO match_txs (match_id, idx, doc) VALUES ($1, $2, $3)
       ON CONFLICT (match_id, idx) WHERE rolled_back_at IS NULL DO NOTHING`,
      [tx.matchId, tx.index, JSON.stringify(tx)],
    );
  }

  async rollbackMatchTxs(matchId: string, to: number, at: number): Promise<number> {
    const { rowCount } = await this.query(
      "UPDATE match_txs SET rolled_back_at = $1 WHERE match_id = $2 AND idx > $3 AND rolled_back_at IS NULL",
      [at, matchId, to],
    );
    return rowCount ?? 0;
  }

  async loadMatch(matchId: string): Promise<StoredMatch | null> {
    const { rows } = await this.idempotent<{ doc: MatchRecord }>("SELECT doc FROM matches WHERE match_id = $1", [
      matchId,
    ]);
    if (rows.length === 0) return null;
    const txs = await this.idempotent<{ doc: Tx; rolled_back_at: string | null }>(
      "SELECT doc, rolled_back_at FROM match_txs WHERE match_id = $1 ORDER BY rolled_back_at NULLS FIRST, idx",
      [matchId],
    );
    return {
      record: rows[0].doc,
      chain: txs.rows.filter((t) => t.rolled_back_at === null).map((t) => t.doc),
      rolledBack: txs.rows
        .filter((t) => t.rolled_back_at !== null)
        .map((t) => ({ ...t.doc, rolledBackAt: Number(t.rolled_back_at) })),
    };
  }

  async savePendingChange(p: PendingChange): Promise<void> {
    await this.idempotent(
      "INSERT INTO pending_changes (id, user_id, name, change, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
      [p.id, p.userId, p.name, JSON.stringify(p.change), p.at],
    );
  }

  async pendingChanges(before: number, limit: number): Promise<PendingChange[]> {
    const { rows } = await this.idempotent<{
      id: string;
      user_id: string;
      name: string;
      change: Record<string, unknown>;
      at: string;
    }>("SELECT * FROM pending_changes WHERE at < $1 ORDER BY at, id LIMIT $2", [before, limit]);
    return rows.map((r) => ({ id: r.id, userId: r.user_id, name: r.name, change: r.change, at: Number(r.at) }));
  }

  async deletePendingChange(id: string): Promise<void> {
    await this.idempotent("DELETE FROM pending_changes WHERE id = $1", [id]);
  }

  async matchesOf(userId: string, limit: number): Promise<MatchSummary[]> {
    const { rows } = await this.idempotent<{ doc: MatchRecord }>(
      `SELECT m.doc FROM match_players p JOIN matches m ON m.match_id = p.match_id
       WHERE p.user_id = $1 ORDER BY m.started_at DESC NULLS LAST, m.match_id LIMIT $2`,
      [userId, limit],
    );
    return rows.map(({ doc: record }) => {
      const { matchId, mode, status, endedAt } = record;
      const score = record.players.find((p) => p.userId === userId)?.score ?? 0;
      return { matchId, mode, status, score, rank: rankIn(record, userId), endedAt };
    });
  }
  private readonly social = new PgSocial(
    (sql, params) => this.idempotent(sql, params),
    (work) => this.transaction(work),
  );
  requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome> {
    return this.social.requestFriend(userId, otherId, max);
  }
  acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome> {
    return this.social.acceptFriend(userId, otherId, max);
  }
  removeFriend(userId: string, otherId: string): Promise<boolean> {
    return this.social.removeFriend(userId, otherId);
  }
  friendsOf(userId: string): Promise<FriendLink[]> {
    return this.social.friendsOf(userId);
  }
  leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]> {
    return this.social.leaderboard(board, limit, offset);
  }
  rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null> {
    return this.social.rankOf(board, userId);
  }

  /** Connections open now, idle among them, and callers waiting for one (for /metrics and tests). */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    if (!this.pool.ended && !this.pool.ending) await this.pool.end();
  }
}

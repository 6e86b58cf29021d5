/**
 * Friends and leaderboards in SQLite (PROTOCOL §7). Plain functions over a `DatabaseSync`, run by
 * the store's worker thread (one request at a time, so a read-then-write here is not raced); the
 * SQL below is one migration step of src/persistence/sqlite.worker.ts.
 */
import type { DatabaseSync } from "node:sqlite";
import { rankPage, type BoardId, type FriendLink, type FriendState, type RankedEntry } from "../domain/social.js";
import type { FriendAcceptOutcome, FriendRequestOutcome } from "./social.js";
import { transaction } from "./sqlite-transaction.js";

/** The number each board ranks, read from the profile document; every use matches its index. */
const SCORE: Record<BoardId, { expr: string; order: "ASC" | "DESC" }> = {
  level: { expr: "json_extract(doc, '$.xp')", order: "DESC" },
  "crypt-fastest": { expr: "json_extract(doc, '$.bests.crypt')", order: "ASC" },
  "match-rating": { expr: "json_extract(doc, '$.rating')", order: "DESC" },
};

/** A link is two rows, one per side: (a, b, outgoing) and (b, a, incoming), or both `friends`. */
export const SOCIAL_MIGRATION = `
  CREATE TABLE friends (
    user_id  TEXT NOT NULL,
    other_id TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('friends', 'incoming', 'outgoing')),
    since    INTEGER NOT NULL,
    PRIMARY KEY (user_id, other_id)
  ) WITHOUT ROWID;
  CREATE INDEX profiles_board_level ON profiles (json_extract(doc, '$.xp') DESC, user_id);
  CREATE INDEX profiles_board_crypt ON profiles (json_extract(doc, '$.bests.crypt'), user_id)
    WHERE json_extract(doc, '$.bests.crypt') IS NOT NULL;
  CREATE INDEX profiles_board_rating ON profiles (json_extract(doc, '$.rating') DESC, user_id);`;

function stateOf(db: DatabaseSync, userId: string, otherId: string): FriendState | undefined {
  const row = db.prepare("SELECT state FROM friends WHERE user_id = ? AND other_id = ?").get(userId, otherId) as
    { state: FriendState } | undefined;
  return row?.state;
}

function friendCount(db: DatabaseSync, userId: string): number {
  const row = db.prepare("SELECT count(*) AS n FROM friends WHERE user_id = ? AND state = 'friends'").get(userId) as {
    n: number;
  };
  return Number(row.n);
}

function befriend(db: DatabaseSync, userId: string, otherId: string, max: number): "friends" | "limit" {
  if (friendCount(db, userId) >= max || friendCount(db, otherId) >= max) return "limit";
  db.prepare(
    "UPDATE friends SET state = 'friends', since = ? WHERE (user_id = ? AND other_id = ?) OR (user_id = ? AND other_id = ?)",
  ).run(Date.now(), userId, otherId, otherId, userId);
  return "friends";
}

export function requestFriend(db: DatabaseSync, userId: string, otherId: string, max: number): FriendRequestOutcome {
  const state = stateOf(db, userId, otherId);
  if (state === "incoming") return befriend(db, userId, otherId, max);
  if (state) return "already";
  if (friendCount(db, userId) >= max) return "limit";
  const insert = db.prepare("INSERT INTO friends (user_id, other_id, state, since) VALUES (?, ?, ?, ?)");
  const now = Date.now();
  insert.run(userId, otherId, "outgoing", now);
  insert.run(otherId, userId, "incoming", now);
  return "requested";
}

export function acceptFriend(db: DatabaseSync, userId: string, otherId: string, max: number): FriendAcceptOutcome {
  const state = stateOf(db, userId, otherId);
  if (state === "friends") return "already";
  if (state !== "incoming") return "not_found";
  return befriend(db, userId, otherId, max);
}

export function removeFriend(db: DatabaseSync, userId: string, otherId: string): boolean {
  const { changes } = db
    .prepare("DELETE FROM friends WHERE (user_id = ? AND other_id = ?) OR (user_id = ? AND other_id = ?)")
    .run(userId, otherId, otherId, userId);
  return Number(changes) > 0;
}

export function friendsOf(db: DatabaseSync, userId: string): FriendLink[] {
  return db
    .prepare(
      `SELECT f.other_id AS userId, a.name AS name, f.state AS state
       FROM friends f JOIN accounts a ON a.user_id = f.other_id
       WHERE f.user_id = ? ORDER BY f.since, f.other_id`,
    )
    .all(userId) as unknown as FriendLink[];
}

export function leaderboard(db: DatabaseSync, board: BoardId, limit: number, offset: number): RankedEntry[] {
  const { expr, order } = SCORE[board];
  const rows = db
    .prepare(
      // The page is found in the index alone, however deep the offset; only its rows are read
      // from the table, for their names.
      `WITH page AS (
         SELECT user_id, ${expr} AS score FROM profiles
         WHERE ${expr} IS NOT NULL ORDER BY ${expr} ${order}, user_id LIMIT ? OFFSET ?)
       SELECT page.user_id AS userId, json_extract(p.doc, '$.name') AS name, page.score AS score
       FROM page JOIN profiles p ON p.user_id = page.user_id ORDER BY page.score ${order}, page.user_id`,
    )
    .all(limit, offset) as Array<{ userId: string; name: string; score: number }>;
  if (rows.length === 0) return [];
  return rankPage(rows, better(db, board, rows[0].score) + 1, offset);
}

/** How many scores on the board are strictly better than `score`: an index range count. */
function better(db: DatabaseSync, board: BoardId, score: number): number {
  const { expr, order } = SCORE[board];
  const row = db
    .prepare(`SELECT count(*) AS n FROM profiles WHERE ${expr} ${order === "DESC" ? ">" : "<"} ?`)
    .get(score) as { n: number };
  return Number(row.n);
}

export function rankOf(db: DatabaseSync, board: BoardId, userId: string): { rank: number; score: number } | null {
  const { expr } = SCORE[board];
  const row = db.prepare(`SELECT ${expr} AS score FROM profiles WHERE user_id = ?`).get(userId) as
    { score: number | null } | undefined;
  if (row?.score === null || row?.score === undefined) return null;
  return { rank: better(db, board, row.score) + 1, score: row.score };
}

/**
 * The worker's requests for this module (`social.<name>`, see `EXTENSIONS` in sqlite.worker.ts):
 * each takes the connection, then the store method's own arguments.
 */
export const SOCIAL_OPS = {
  requestFriend: (db: DatabaseSync, userId: string, otherId: string, max: number) =>
    transaction(db, () => requestFriend(db, userId, otherId, max)),
  acceptFriend: (db: DatabaseSync, userId: string, otherId: string, max: number) =>
    transaction(db, () => acceptFriend(db, userId, otherId, max)),
  removeFriend: (db: DatabaseSync, userId: string, otherId: string) => removeFriend(db, userId, otherId),
  friendsOf,
  leaderboard,
  rankOf,
} as const;

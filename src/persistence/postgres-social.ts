/**
 * Friends and leaderboards in PostgreSQL (PROTOCOL §7). Friend changes run in a SERIALIZABLE
 * transaction (retried on a serialization failure by `PostgresStore.transaction`), so two
 * requests racing past the 200-friend limit cannot both land. Boards read a generated column per
 * board, derived from the profile document by PostgreSQL on every write (nothing extra for the
 * store to write), each with an index: a rank is then an index-only count, not a table scan.
 */
import type pg from "pg";
import { rankPage, type BoardId, type FriendLink, type FriendState, type RankedEntry } from "../domain/social.js";
import type { FriendAcceptOutcome, FriendRequestOutcome, SocialStore } from "./social.js";

const SCORE: Record<BoardId, { expr: string; order: "ASC" | "DESC" }> = {
  level: { expr: "board_level", order: "DESC" },
  "crypt-fastest": { expr: "board_crypt", order: "ASC" },
  "match-rating": { expr: "board_rating", order: "DESC" },
};

export const SOCIAL_MIGRATION = {
  version: 5,
  name: "friends and leaderboards",
  sql: `
    -- A link is two rows, one per side: (a, b, outgoing) and (b, a, incoming), or both 'friends'.
    CREATE TABLE friends (
      user_id  text NOT NULL,
      other_id text NOT NULL,
      state    text NOT NULL CHECK (state IN ('friends', 'incoming', 'outgoing')),
      since    bigint NOT NULL,
      PRIMARY KEY (user_id, other_id)
    );
    ALTER TABLE profiles
      ADD COLUMN board_level  double precision GENERATED ALWAYS AS ((doc->>'xp')::double precision) STORED,
      ADD COLUMN board_crypt  double precision GENERATED ALWAYS AS ((doc->'bests'->>'crypt')::double precision) STORED,
      ADD COLUMN board_rating double precision GENERATED ALWAYS AS ((doc->>'rating')::double precision) STORED;
    CREATE INDEX profiles_board_level ON profiles (board_level DESC, user_id);
    CREATE INDEX profiles_board_crypt ON profiles (board_crypt, user_id) WHERE board_crypt IS NOT NULL;
    CREATE INDEX profiles_board_rating ON profiles (board_rating DESC, user_id);`,
};

type Query = <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<pg.QueryResult<R>>;
type Transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

export class PgSocial implements SocialStore {
  constructor(
    private readonly query: Query,
    private readonly transaction: Transaction,
  ) {}

  async requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome> {
    return this.transaction(async (c) => {
      const state = await stateOf(c, userId, otherId);
      if (state === "incoming") return befriend(c, userId, otherId, max);
      if (state) return "already";
      if ((await friendCount(c, userId)) >= max) return "limit";
      const now = Date.now();
      await c.query(
        `INSERT INTO friends (user_id, other_id, state, since) VALUES ($1, $2, 'outgoing', $3), ($2, $1, 'incoming', $3)`,
        [userId, otherId, now],
      );
      return "requested";
    });
  }

  async acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome> {
    return this.transaction(async (c) => {
      const state = await stateOf(c, userId, otherId);
      if (state === "friends") return "already";
      if (state !== "incoming") return "not_found";
      return befriend(c, userId, otherId, max);
    });
  }

  async removeFriend(userId: string, otherId: string): Promise<boolean> {
    const { rowCount } = await this.query(
      "DELETE FROM friends WHERE (user_id = $1 AND other_id = $2) OR (user_id = $2 AND other_id = $1)",
      [userId, otherId],
    );
    return (rowCount ?? 0) > 0;
  }

  async friendsOf(userId: string): Promise<FriendLink[]> {
    const { rows } = await this.query<{ userId: string; name: string; state: FriendState }>(
      `SELECT f.other_id AS "userId", a.name, f.state FROM friends f JOIN accounts a ON a.user_id = f.other_id
       WHERE f.user_id = $1 ORDER BY f.since, f.other_id`,
      [userId],
    );
    return rows.map(({ userId: id, name, state }) => ({ userId: id, name, state }));
  }

  async leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]> {
    const { expr, order } = SCORE[board];
    const { rows } = await this.query<{ userId: string; name: string; score: number }>(
      // The page is found in the index alone (an index-only scan, however deep the offset);
      // only its rows are read from the table, for their names.
      `WITH page AS (
         SELECT user_id, ${expr} AS score FROM profiles
         WHERE ${expr} IS NOT NULL ORDER BY ${expr} ${order}, user_id LIMIT $1 OFFSET $2)
       SELECT page.user_id AS "userId", p.doc->>'name' AS name, page.score
       FROM page JOIN profiles p ON p.user_id = page.user_id ORDER BY page.score ${order}, page.user_id`,
      [limit, offset],
    );
    if (rows.length === 0) return [];
    return rankPage(rows, (await this.better(board, rows[0].score)) + 1, offset);
  }

  async rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null> {
    const { expr } = SCORE[board];
    const { rows } = await this.query<{ score: number | null }>(
      `SELECT ${expr} AS score FROM profiles WHERE user_id = $1`,
      [userId],
    );
    const score = rows[0]?.score;
    if (score === null || score === undefined) return null;
    return { rank: (await this.better(board, score)) + 1, score };
  }

  /** How many scores on the board are strictly better: an index range count. */
  private async better(board: BoardId, score: number): Promise<number> {
    const { expr, order } = SCORE[board];
    const { rows } = await this.query<{ n: string }>(
      `SELECT count(*) AS n FROM profiles WHERE ${expr} ${order === "DESC" ? ">" : "<"} $1`,
      [score],
    );
    return Number(rows[0].n);
  }
}

async function stateOf(c: pg.PoolClient, userId: string, otherId: string): Promise<FriendState | undefined> {
  const { rows } = await c.query<{ state: FriendState }>(
    "SELECT state FROM friends WHERE user_id = $1 AND other_id = $2",
    [userId, otherId],
  );
  return rows[0]?.state;
}

async function friendCount(c: pg.PoolClient, userId: string): Promise<number> {
  const { rows } = await c.query<{ n: string }>(
    "SELECT count(*) AS n FROM friends WHERE user_id = $1 AND state = 'friends'",
    [userId],
  );
  return Number(rows[0].n);
}

async function befriend(c: pg.PoolClient, userId: string, otherId: string, max: number): Promise<"friends" | "limit"> {
  if ((await friendCount(c, userId)) >= max || (await friendCount(c, otherId)) >= max) return "limit";
  await c.query(
    `UPDATE friends SET state = 'friends', since = $3
     WHERE (user_id = $1 AND other_id = $2) OR (user_id = $2 AND other_id = $1)`,
    [userId, otherId, Date.now()],
  );
  return "friends";
}

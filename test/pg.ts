/**
 * PostgreSQL for the tests: the server at TEST_DATABASE_URL (default postgres://127.0.0.1/test),
 * and a fresh schema per use, dropped afterwards, so runs never see each other's rows.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { withDefaultUser } from "../src/persistence/postgres.js";

export const TEST_DATABASE_URL = withDefaultUser(process.env.TEST_DATABASE_URL ?? "postgres://127.0.0.1/test");

/** Why PostgreSQL cannot be used here, or undefined when it answers. */
export async function postgresUnreachable(url = TEST_DATABASE_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return `no PostgreSQL at ${url} (${(err as Error).message.replace(/\s+/g, " ").slice(0, 120)}); set TEST_DATABASE_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `url` with the libpq `options` parameter that puts `schema` first in the search_path, and the
 * schema as application name, so a test can find (and terminate) its own sessions only.
 */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  u.searchParams.set("application_name", schema);
  return u.toString();
}

export interface TestSchema {
  schema: string;
  /** The server's URL, scoped to the schema. */
  url: string;
  /** Runs SQL as a separate session (outside any store). */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** Creates an empty schema named `realmgate_test_<random>`. */
export async function freshSchema(url = TEST_DATABASE_URL): Promise<TestSchema> {
  const schema = `realmgate_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const scoped = withSchema(url, schema);
  return {
    schema,
    url: scoped,
    async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]> {
      const client = new pg.Client({ connectionString: scoped });
      await client.connect();
      try {
        return (await client.query<R>(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

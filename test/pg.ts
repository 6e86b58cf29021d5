/**
 * PostgreSQL for the tests: the server at TEST_DATABASE_URL (default postgres://127.0.0.1/test),
 * and a fresh schema per use, dropped afterwards, so runs never see each other's rows.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

const PG_BIN = (() => {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    return versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => existsSync(join(dir, "initdb")));
  } catch {
    return undefined;
  }
})();

/**
 * A private PostgreSQL cluster in a temporary directory on a free port, that a test may stop
 * outright (immediate shutdown: crash recovery on the next start) and start again. The shared
 * server is never touched. Run as the `postgres` user when the test runs as root.
 */
export class PrivateCluster {
  private child: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** Why a private cluster cannot be made here, or undefined. */
  static unavailable(): string | undefined {
    if (!PG_BIN) return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)";
    if (process.getuid?.() === 0 && spawnSync("id", ["postgres"]).status !== 0)
      return "running as root and no postgres user to run initdb as";
    return undefined;
  }

  static create(port: number): PrivateCluster {
    const dir = mkdtempSync(join(tmpdir(), "realmgate-pg-"));
    if (process.getuid?.() === 0) spawnSync("chown", ["-R", "postgres:postgres", dir]);
    const init = spawnSync(
      ...asPostgres(join(PG_BIN!, "initdb"), ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres"]),
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${String(init.stderr)}`);
    return new PrivateCluster(dir, port);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and resolves once it accepts connections. */
  start(): Promise<void> {
    const args = ["-D", join(this.dir, "data"), "-p", String(this.port), "-k", this.dir];
    // fsync off: the test stops the server process, not the machine, so the OS cache survives.
    args.push("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=60");
    const [cmd, argv] = asPostgres(join(PG_BIN!, "postgres"), args);
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    return new Promise((resolve, reject) => {
      let out = "";
      const onData = (d: Buffer) => {
        out += String(d);
        if (out.includes("ready to accept connections")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`postgres exited with ${code}: ${out.slice(-2000)}`)));
    });
  }

  /** Immediate shutdown (SIGQUIT to the postmaster): connections drop, no checkpoint. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.child || this.child.exitCode !== null) return resolve();
      this.child.once("exit", () => resolve());
      const pid = Number(readFileSync(join(this.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
      process.kill(pid, "SIGQUIT");
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function asPostgres(cmd: string, args: string[]): [string, string[], { encoding: "utf8" }] {
  return process.getuid?.() === 0
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" }]
    : [cmd, args, { encoding: "utf8" }];
}

/**
 * Leaderboards at 100,000 players (PROTOCOL §7): seeds the players straight into a fresh store
 * (SQLite in a temporary directory; PostgreSQL in a schema of its own, dropped afterwards), starts
 * the real server on it, and times `GET /api/leaderboards/:id?limit=50` with a Bearer token (so
 * the answer carries `me`) over HTTP, for each board, plus a deep page.
 *
 *   npm run bench:leaderboards [-- --players 100000 --requests 200 --stores sqlite,postgres]
 *   BENCH_DATABASE_URL=postgres://host/db npm run bench:leaderboards
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import pg from "pg";
import { PostgresStore, withDefaultUser } from "../src/persistence/postgres.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { freePort, ServerProcess } from "./server-process.js";

const { values } = parseArgs({
  options: {
    players: { type: "string", default: "100000" },
    requests: { type: "string", default: "200" },
    stores: { type: "string", default: "sqlite,postgres" },
  },
});
const players = Number(values.players);
const requests = Number(values.requests);
const url = withDefaultUser(process.env.BENCH_DATABASE_URL ?? "postgres://127.0.0.1/test");

/** A seeded player: xp, rating and (for one in three) a crypt time, drawn so that ties happen. */
function player(i: number) {
  const userId = randomUUID();
  const xp = Math.floor(Math.random() * 50_000);
  const rating = 800 + Math.floor(Math.random() * 1200);
  const crypt = i % 3 === 0 ? 20_000 + Math.floor(Math.random() * 600_000) : undefined;
  const doc = {
    name: `P${i}`,
    level: 1 + Math.floor(xp / 1000),
    xp,
    gold: 0,
    hp: 100,
    inventory: [],
    location: null,
    rating,
    ...(crypt === undefined ? {} : { bests: { crypt } }),
  };
  return { userId, name: `P${i}`, doc };
}

interface Timing {
  board: string;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Times the route on a running server, for a user whose profile is in the middle of every board. */
async function timeRoutes(server: ServerProcess, token: string): Promise<Timing[]> {
  const out: Timing[] = [];
  const half = Math.floor(players / 2);
  const paths: Array<[string, string]> = [
    ["level", "/api/leaderboards/level?limit=50"],
    ["crypt-fastest", "/api/leaderboards/crypt-fastest?limit=50"],
    ["match-rating", "/api/leaderboards/match-rating?limit=50"],
    [`level, offset ${half}`, `/api/leaderboards/level?limit=50&offset=${half}`],
  ];
  for (const [board, path] of paths) {
    const get = async () => {
      const started = performance.now();
      const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { entries: unknown[]; me?: { rank: number } };
      if (res.status !== 200 || body.entries.length !== 50 || !body.me) throw new Error(`bad answer for ${path}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 10; i++) await get(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < requests; i++) times.push(await get());
    times.sort((a, b) => a - b);
    const q = (f: number) => times[Math.min(times.length - 1, Math.floor(times.length * f))];
    out.push({ board, p50Ms: q(0.5), p99Ms: q(0.99), meanMs: times.reduce((s, t) => s + t, 0) / times.length });
  }
  return out;
}

/** A guest account made by the server, with a profile in the middle of every board. */
async function caller(server: ServerProcess) {
  const res = await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const user = (await res.json()) as { token: string; userId: string; name: string };
  const doc = { ...player(0).doc, name: user.name, xp: 25_000, rating: 1400, bests: { crypt: 300_000 } };
  return { ...user, doc };
}

const report = (name: string, seedMs: number, timings: Timing[]) => {
  console.log(`${name}: ${players} players seeded in ${(seedMs / 1000).toFixed(1)} s; ${requests} requests each`);
  for (const t of timings)
    console.log(
      `  ${t.board.padEnd(22)} p50 ${t.p50Ms.toFixed(2)} ms  p99 ${t.p99Ms.toFixed(2)} ms  mean ${t.meanMs.toFixed(2)} ms`,
    );
};

async function sqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "realmgate-bench-boards-"));
  try {
    const file = join(dir, "realmgate.db");
    await (await SqliteStore.open(file)).close(); // creates the schema
    const started = performance.now();
    const db = new DatabaseSync(file);
    const account = db.prepare(
      "INSERT INTO accounts (user_id, username, name, password_hash, created_at) VALUES (?, NULL, ?, NULL, ?)",
    );
    const profile = db.prepare("INSERT INTO profiles (user_id, doc, version, updated_at) VALUES (?, ?, 1, ?)");
    db.exec("BEGIN");
    for (let i = 0; i < players; i++) {
      const p = player(i);
      account.run(p.userId, p.name, Date.now());
      profile.run(p.userId, JSON.stringify(p.doc), Date.now());
    }
    db.exec("COMMIT");
    db.exec("ANALYZE");
    const seedMs = performance.now() - started;
    const port = await freePort();
    const server = new ServerProcess(port, dir, { LOG_LEVEL: "warn" });
    await server.start();
    try {
      const me = await caller(server);
      db.prepare("INSERT INTO profiles (user_id, doc, version, updated_at) VALUES (?, ?, 1, ?)").run(
        me.userId,
        JSON.stringify(me.doc),
        Date.now(),
      );
      db.close();
      report("SQLite", seedMs, await timeRoutes(server, me.token));
    } finally {
      await server.stop("SIGTERM");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<void> {
  const schema = `realmgate_bench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const dir = mkdtempSync(join(tmpdir(), "realmgate-bench-boards-"));
  try {
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    await (await PostgresStore.connect(u.toString(), { poolSize: 1 })).close(); // creates the schema
    const started = performance.now();
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    const batch = 5000;
    for (let from = 0; from < players; from += batch) {
      const rows = Array.from({ length: Math.min(batch, players - from) }, (_, k) => player(from + k));
      await client.query(
        `INSERT INTO accounts (user_id, username, name, password_hash, created_at)
         SELECT unnest($1::text[]), NULL, unnest($2::text[]), NULL, $3`,
        [rows.map((r) => r.userId), rows.map((r) => r.name), Date.now()],
      );
      await client.query(
        `INSERT INTO profiles (user_id, doc, version) SELECT unnest($1::text[]), unnest($2::jsonb[]), 1`,
        [rows.map((r) => r.userId), rows.map((r) => JSON.stringify(r.doc))],
      );
    }
    // As autovacuum leaves a table at rest: statistics, and the visibility map index-only counts use.
    await client.query("VACUUM ANALYZE profiles");
    const seedMs = performance.now() - started;
    const port = await freePort();
    const server = new ServerProcess(port, dir, { LOG_LEVEL: "warn", DATABASE_URL: u.toString() });
    await server.start();
    try {
      const me = await caller(server);
      await client.query("INSERT INTO profiles (user_id, doc, version) VALUES ($1, $2, 1)", [
        me.userId,
        JSON.stringify(me.doc),
      ]);
      report("PostgreSQL", seedMs, await timeRoutes(server, me.token));
    } finally {
      await server.stop("SIGTERM");
      await client.end();
    }
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

const stores = values.stores.split(",");
if (stores.includes("sqlite")) await sqlite();
if (stores.includes("postgres")) await postgres();

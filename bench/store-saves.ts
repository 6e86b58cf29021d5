/**
 * Profile saves per second that one store takes from the write-behind (`ProfileCache`): N players
 * held in memory, every one changed before each flush, flushed for a fixed time. PostgreSQL runs
 * in a schema of its own, dropped afterwards; SQLite in a temporary file, for comparison.
 *
 *   npx tsx bench/store-saves.ts [--players 2000] [--seconds 10] [--pool 10]
 *   BENCH_DATABASE_URL=postgres://host/db npx tsx bench/store-saves.ts
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { PostgresStore, withDefaultUser } from "../src/persistence/postgres.js";
import { ProfileCache } from "../src/persistence/profiles.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import type { Store } from "../src/persistence/store.js";

const { values } = parseArgs({
  options: {
    players: { type: "string", default: "2000" },
    seconds: { type: "string", default: "10" },
    pool: { type: "string", default: "10" },
  },
});
const players = Number(values.players);
const seconds = Number(values.seconds);
const url = withDefaultUser(process.env.BENCH_DATABASE_URL ?? "postgres://127.0.0.1/test");

async function measure(store: Store): Promise<{ savesPerSec: number; p50Ms: number; p99Ms: number }> {
  const cache = new ProfileCache(store, pino({ level: "silent" }), { intervalMs: 1_000_000, maxPending: 1e9 });
  const ids: string[] = [];
  for (let i = 0; i < players; i++) {
    const userId = randomUUID();
    await store.createAccount({ userId, username: null, name: `P${i}`, passwordHash: null });
    const profile = await cache.checkout({ userId, name: `P${i}` });
    profile.inventory.push({ item: "wood", qty: 1 });
    ids.push(userId);
  }
  const latencies: number[] = [];
  cache.on("saved", (_id: string, ms: number) => latencies.push(ms));
  let failures = 0;
  cache.on("failed", () => failures++);
  const started = performance.now();
  let saves = 0;
  while (performance.now() - started < seconds * 1000) {
    for (const id of ids) {
      const p = cache.get(id)!;
      p.gold++;
      p.location = { world: "meadow", x: p.gold % 2000, y: 1000 };
      cache.touch(id);
    }
    const before = cache.snapshot().saves;
    await cache.flushAll();
    saves += cache.snapshot().saves - before;
  }
  const elapsed = (performance.now() - started) / 1000;
  if (failures) throw new Error(`${failures} saves failed`);
  latencies.sort((a, b) => a - b);
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * f))];
  return { savesPerSec: saves / elapsed, p50Ms: q(0.5), p99Ms: q(0.99) };
}

const report = (name: string, r: Awaited<ReturnType<typeof measure>>) =>
  console.log(
    `${name}: ${Math.round(r.savesPerSec)} profile saves/s ` +
      `(${players} players, all dirty each flush, ${seconds} s; latency per save p50 ${r.p50Ms.toFixed(1)} ms, ` +
      `p99 ${r.p99Ms.toFixed(1)} ms)`,
  );

const schema = `realmgate_bench_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
try {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  const store = await PostgresStore.connect(u.toString(), { poolSize: Number(values.pool) });
  try {
    report(`PostgreSQL (pool ${values.pool})`, await measure(store));
  } finally {
    await store.close();
  }
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}

const dir = mkdtempSync(join(tmpdir(), "realmgate-bench-"));
const sqlite = new SqliteStore(join(dir, "realmgate.db"));
try {
  report("SQLite", await measure(sqlite));
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The store contract against a real PostgreSQL (TEST_DATABASE_URL, default postgres://127.0.0.1/test),
 * each store in a fresh schema dropped afterwards; concurrent migrators; and real outages: backends
 * terminated with pg_terminate_backend, a table locked from a second session.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@colyseus/sdk";
import { newProfile } from "../src/domain/profile.js";
import { isUnavailable, MIGRATIONS, PostgresStore } from "../src/persistence/postgres.js";
import { StoreUnavailableError } from "../src/persistence/store.js";
import {
  Bot,
  eventually,
  freePort,
  http,
  isAt,
  nextMessage,
  RedisServer,
  ServerProcess,
  startApp,
  until,
  type TestApp,
} from "./helpers.js";
import type { WorldWelcome } from "../client/index.js";
import { freshSchema, postgresUnreachable, PrivateCluster, type TestSchema } from "./pg.js";
import { storeContract } from "./store.contract.js";

const unreachable = await postgresUnreachable();

if (unreachable) {
  console.log(`PostgreSQL store suite SKIPPED: ${unreachable}`);
  describe("store contract: postgres", () => it(`SKIPPED: ${unreachable}`));
} else {
  const schemas: TestSchema[] = [];
  const schema = async () => {
    const s = await freshSchema();
    schemas.push(s);
    return s;
  };
  after(async () => Promise.all(schemas.map((s) => s.drop())));

  storeContract("postgres", async () => PostgresStore.connect((await schema()).url, { poolSize: 4 }));

  describe("postgres store", function () {
    this.timeout(30_000);

    it("applies migrations once when many processes start at once on a fresh schema", async () => {
      const s = await schema();
      const extra = { version: 1000, name: "test table", sql: "CREATE TABLE later (id int PRIMARY KEY)" };
      const migrations = [...MIGRATIONS, extra];
      // Eight stores, each with its own pool, as eight processes would have.
      const stores = await Promise.all(
        Array.from({ length: 8 }, () => PostgresStore.connect(s.url, { poolSize: 1, migrations })),
      );
      try {
        const rows = await s.sql<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
        assert.deepEqual(
          rows.map((r) => r.version),
          migrations.map((m) => m.version),
        );
        // Running again applies nothing.
        assert.deepEqual(await stores[0].migrate(migrations), []);
        const a = await stores[3].createAccount({ userId: "u1", username: "zed", name: "zed", passwordHash: null });
        assert.deepEqual(await stores[5].getAccount("u1"), a);
      } finally {
        await Promise.all(stores.map((st) => st.close()));
      }
    });

    it("adds a new migration to a schema that has the earlier ones", async () => {
      const s = await schema();
      await (await PostgresStore.connect(s.url, { poolSize: 1 })).close();
      const next = { version: 1001, name: "a later feature", sql: "CREATE TABLE later_feature (a text, b text)" };
      const store = await PostgresStore.connect(s.url, { poolSize: 1, migrations: [...MIGRATIONS, next] });
      assert.deepEqual(await store.migrate([...MIGRATIONS, next]), []);
      assert.equal((await s.sql("SELECT * FROM later_feature")).length, 0);
      await store.close();
    });

    it("classifies outages apart from bad requests", () => {
      for (const code of ["57P01", "08006", "53300", "55P03", "57014", "40001", "ECONNREFUSED", "ECONNRESET"])
        assert.ok(isUnavailable({ code, message: "x" }), code);
      assert.ok(isUnavailable(new Error("Connection terminated unexpectedly")));
      assert.ok(isUnavailable(new Error("timeout exceeded when trying to connect")));
      for (const code of ["23505", "42P01", "22P02", "28P01", "3D000"]) assert.ok(!isUnavailable({ code }), code);
    });

    it("fails fast with StoreUnavailableError when the server cannot be reached", async () => {
      await assert.rejects(
        PostgresStore.connect("postgres://127.0.0.1:1/test", { startupTimeoutMs: 0, connectTimeoutMs: 1000 }),
        StoreUnavailableError,
      );
    });

    it("retries a transaction aborted by a serialization failure", async () => {
      const s = await schema();
      const store = await PostgresStore.connect(s.url, { poolSize: 4 });
      try {
        await s.sql("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counters VALUES (1, 0)");
        let attempts = 0;
        await Promise.all(
          Array.from({ length: 4 }, () =>
            store.transaction(async (c) => {
              attempts++;
              const { rows } = await c.query<{ n: number }>("SELECT n FROM counters WHERE id = 1");
              await c.query("UPDATE counters SET n = $1 WHERE id = 1", [rows[0].n + 1]);
            }),
          ),
        );
        assert.equal((await s.sql<{ n: number }>("SELECT n FROM counters"))[0].n, 4, "no increment lost");
        assert.ok(attempts >= 4);
      } finally {
        await store.close();
      }
    });

    it("survives its backends being terminated: the next statements run on fresh connections", async () => {
      const s = await schema();
      const store = await PostgresStore.connect(s.url, { poolSize: 3 });
      try {
        const a = await store.createAccount({
          userId: randomUUID(),
          username: null,
          name: "Guest",
          passwordHash: null,
        });
        const v1 = await store.saveProfile(newProfile(a, 100), "create");
        await Promise.all([store.ping(), store.ping(), store.ping()]); // fill the pool
        const killed = await terminate(s);
        assert.ok(killed >= 1, "the store's connections were terminated");
        const v2 = await store.saveProfile({ ...v1, gold: 5 }, "after-kill");
        assert.equal(v2.version, 2);
        assert.equal((await store.loadProfile(a.userId))?.gold, 5);
      } finally {
        await store.close();
      }
    });
  });

  describe("postgres outages under the game", function () {
    this.timeout(40_000);
    let app: TestApp;
    let s: TestSchema;
    before(async () => {
      s = await schema();
      app = await startApp({ DATABASE_URL: s.url, SAVE_INTERVAL_MS: "250" });
    });
    after(async () => app?.stop());

    it("keeps saves while a table is locked, reports it on /health, and writes them once it is free", async () => {
      const { profiles } = app.services;
      assert.equal(app.services.store.kind, "postgres");
      const bot = await Bot.join(app);
      await bot.walkTo(bot.me.x + 10, bot.me.y);

      const locker = new (await import("pg")).default.Client({ connectionString: s.url });
      await locker.connect();
      await locker.query("BEGIN; LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE");
      try {
        const failed = new Promise((resolve) => profiles.once("failed", (_userId, err) => resolve(err)));
        await bot.walkTo(bot.me.x + 20, bot.me.y + 5);
        const last = { x: bot.me.x, y: bot.me.y };
        const err = await failed;
        assert.ok(err instanceof StoreUnavailableError, String(err));
        const health: { status: number; body: { down: string[]; saves: { pending: number } } } = await http(
          app,
          "GET",
          "/health",
        );
        assert.equal(health.status, 503);
        assert.deepEqual(health.body.down, ["store (postgres)"]);
        assert.ok(health.body.saves.pending >= 1);

        // Leaving while the store refuses: the profile stays in memory, nothing is dropped.
        await bot.leave();
        assert.ok(profiles.pending >= 1);
        const saved = new Promise<void>((resolve) =>
          profiles.on("saved", (userId) => userId === bot.user.userId && resolve()),
        );
        await locker.query("COMMIT");
        await saved;
        assert.equal(profiles.pending, 0);
        assert.equal((await http(app, "GET", "/health")).status, 200);
        const profile = await app.services.store.loadProfile(bot.user.userId);
        assert.ok(profile?.location && isAt(profile.location, last), "the save landed after the lock was released");
      } finally {
        await locker.end();
      }
    });

    it("loses nothing when its connections are terminated again and again during play", async () => {
      const { profiles } = app.services;
      const bot = await Bot.join(app);
      for (let i = 0; i < 4; i++) {
        await bot.walkTo(bot.me.x + 8, bot.me.y);
        await terminate(s);
        // Write this step now (the timer may have saved it already; then this finds nothing to do),
        // over connections that were just killed: the write goes through on a fresh one.
        await profiles.flush(bot.user.userId);
        assert.equal(profiles.failing, false, "the save after the termination went through");
      }
      const last = { x: bot.me.x, y: bot.me.y };
      await bot.leave();
      await profiles.flushAll();
      assert.equal(profiles.pending, 0);
      const profile = await app.services.store.loadProfile(bot.user.userId);
      assert.ok(profile?.location && isAt(profile.location, last), JSON.stringify(profile?.location));
      assert.equal((await http(app, "GET", "/health")).status, 200);
    });
  });
}

/** Terminates every backend of stores opened on `s` (named after its schema); other sessions are left alone. */
async function terminate(s: TestSchema): Promise<number> {
  const rows = await s.sql<{ n: string }>(
    `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
      WHERE application_name = $1 AND pid <> pg_backend_pid()`,
    [s.schema],
  );
  return Number(rows[0].n);
}

const privateSkip = PrivateCluster.unavailable() ?? (RedisServer.available() ? undefined : "no redis-server here");
if (privateSkip) {
  console.log(`PostgreSQL restart suite SKIPPED: ${privateSkip}`);
  describe("postgres restart under a two-process cluster", () => it(`SKIPPED: ${privateSkip}`));
} else {
  describe("postgres restart under a two-process cluster", function () {
    this.timeout(120_000);
    let cluster: PrivateCluster;
    let redis: RedisServer;
    let servers: ServerProcess[] = [];
    let dataDir: string;

    before(async () => {
      cluster = PrivateCluster.create(await freePort());
      await cluster.start();
      redis = new RedisServer(await freePort());
      await redis.start();
      dataDir = mkdtempSync(join(tmpdir(), "realmgate-pgrestart-"));
      const ports = [await freePort(), await freePort()];
      servers = ports.map(
        (port) =>
          new ServerProcess(port, dataDir, {
            DATABASE_URL: cluster.url,
            REDIS_URL: redis.url,
            PUBLIC_ADDRESS: `127.0.0.1:${port}`,
            SAVE_INTERVAL_MS: "250",
          }),
      );
      // Both at once: their migrations meet on the advisory lock.
      await Promise.all(servers.map((s) => s.start()));
    });

    after(async () => {
      await Promise.all(servers.map((s) => s.stop("SIGTERM")));
      await redis?.kill();
      await cluster?.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("keeps playing through a database restart, reports it, and loses no save", async () => {
      const players = await Promise.all(servers.map((s, i) => joinWorldAt(s, i === 0 ? "meadow" : "dunes")));
      for (const p of players) await p.bot.walkTo(p.bot.me.x + 10, p.bot.me.y);

      await cluster.stop();
      for (const s of servers)
        await eventually(
          async () =>
            ((await (await fetch(`${s.url}/health`)).json()) as { down?: string[] }).down?.includes(
              "store (postgres)",
            ) ?? false,
          20_000,
          "the store reported down",
        );
      // The game goes on without the database: moves are accepted, and saves wait in memory.
      for (const p of players) await p.bot.walkTo(p.bot.me.x + 15, p.bot.me.y + 5);
      const last = players.map((p) => ({ x: p.bot.me.x, y: p.bot.me.y }));
      // One player leaves while the database is down: the profile stays pending, not dropped.
      await players[0].bot.leave();

      await cluster.start();
      for (const s of servers)
        await eventually(async () => (await fetch(`${s.url}/health`)).status === 200, 40_000, "healthy again");
      await players[1].bot.leave();
      const store = await PostgresStore.connect(cluster.url, { poolSize: 1 });
      try {
        for (const [i, p] of players.entries())
          await eventually(
            async () => {
              const saved = await store.loadProfile(p.user.userId);
              return !!saved?.location && isAt(saved.location, last[i]);
            },
            20_000,
            `player ${i}'s last position saved`,
          );
      } finally {
        await store.close();
      }
    });
  });
}

async function joinWorldAt(server: ServerProcess, world: string) {
  const user = (await (
    await fetch(`${server.url}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    })
  ).json()) as { token: string; userId: string; name: string };
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = user.token;
  const room = await client.joinOrCreate("world", { world });
  room.reconnection.enabled = false;
  const welcome = await nextMessage<WorldWelcome>(room, "welcome");
  await until(
    room,
    () => (room.state as { players?: Map<string, unknown> }).players?.get(room.sessionId) !== undefined,
  );
  return { user, bot: new Bot(client, room, welcome, user) };
}

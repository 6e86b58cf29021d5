/**
 * Real faults: a server process killed without warning, a server stopped with SIGTERM, and a
 * SQLite store that refuses writes while another connection holds its lock.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Client } from "@colyseus/sdk";
import type { WorldState, WorldWelcome } from "../client/index.js";
import {
  Bot,
  freePort,
  guest,
  http,
  isAt,
  nextMessage,
  ServerProcess,
  startApp,
  until,
  type TestApp,
} from "./helpers.js";

const SAVE_INTERVAL_MS = 1000;
const SERVER_ENV = { SAVE_INTERVAL_MS: String(SAVE_INTERVAL_MS) };

async function joinAndWalk(server: ServerProcess) {
  const user = (await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  }).then((r) => r.json())) as {
    token: string;
    userId: string;
    name: string;
  };
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = user.token;
  const room = await client.joinOrCreate<WorldState>("world");
  room.reconnection.enabled = false; // the server is about to die: no retries
  const welcome = await nextMessage<WorldWelcome>(room, "welcome");
  await until(room, () => room.state.players?.get(room.sessionId) !== undefined);
  return { user, bot: new Bot(client, room, welcome, user) };
}

async function profileOf(server: ServerProcess, token: string) {
  const res = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { location: { world: string; x: number; y: number } | null };
}

describe("faults: the server process", function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: ServerProcess;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "realmgate-fault-"));
    server = new ServerProcess(await freePort(), dataDir, SERVER_ENV);
    await server.start();
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`SIGKILL loses at most SAVE_INTERVAL_MS (${SAVE_INTERVAL_MS} ms) of progress`, async () => {
    const { user, bot } = await joinAndWalk(server);
    const trail: Array<{ at: number; x: number; y: number }> = [];
    const start = { x: bot.me.x, y: bot.me.y };
    // Walk north (an open stretch of meadow) for about 3.5 save intervals, noting when each position was confirmed.
    while (trail.length === 0 || performance.now() - trail[0].at < 3.5 * SAVE_INTERVAL_MS) {
      await bot.stepTo(start.x, bot.me.y - 15);
      trail.push({ at: performance.now(), x: bot.me.x, y: bot.me.y });
    }
    const killedAt = performance.now();
    assert.equal(await server.stop("SIGKILL"), "SIGKILL");

    await server.start();
    const { location } = await profileOf(server, user.token);
    assert.ok(location, "something was saved");
    const saved = trail.findLast((p) => isAt(p, location));
    assert.ok(saved, `the saved location ${JSON.stringify(location)} is a position the player held`);
    const lostMs = killedAt - saved.at;
    console.log(`      progress lost to SIGKILL: ${lostMs.toFixed(0)} ms (bound ${SAVE_INTERVAL_MS} ms)`);
    // The bound, plus one step of the walk (a saved position was confirmed up to a step before the
    // write) and the time the write takes.
    assert.ok(lostMs <= SAVE_INTERVAL_MS + 250, `lost ${lostMs.toFixed(0)} ms`);
    await server.stop("SIGTERM");
  });

  it("SIGTERM loses nothing: every profile is saved before the process exits", async () => {
    const { user, bot } = await joinAndWalk(server);
    await bot.walkTo(bot.me.x + 40, bot.me.y - 25);
    const last = { x: bot.me.x, y: bot.me.y };
    const closed = new Promise<number>((resolve) => bot.room.onLeave((code) => resolve(code)));
    assert.equal(await server.stop("SIGTERM"), 0);
    assert.equal(await closed, 4001, "clients are closed with the server-shutdown code");
    assert.match(server.output, /every profile and event saved/);

    await server.start();
    const { location } = await profileOf(server, user.token);
    assert.ok(location && isAt(location, last), `saved ${JSON.stringify(location)}, last ${JSON.stringify(last)}`);
    await server.stop("SIGTERM");
  });
});

describe("faults: the store refuses writes", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp({ SAVE_INTERVAL_MS: "250" })));
  after(async () => app.stop());

  it("keeps saves while SQLite is locked, reports it, and writes them once the lock is gone", async () => {
    const { profiles } = app.services;
    const bot = await Bot.join(app);
    await bot.walkTo(bot.me.x + 10, bot.me.y);

    // A second connection takes the write lock and holds it.
    const locker = new DatabaseSync(join(app.dataDir, "realmgate.db"));
    locker.exec("BEGIN EXCLUSIVE");
    try {
      const failed = new Promise((resolve) => profiles.once("failed", resolve));
      await bot.walkTo(bot.me.x + 20, bot.me.y + 5);
      const last = { x: bot.me.x, y: bot.me.y };
      await failed;
      const guest = await http<{ error: { code: string } }>(app, "POST", "/auth/guest", {});
      assert.equal(guest.status, 503, "an account cannot be written now, and the answer says so");
      assert.equal(guest.body.error.code, "dependency/down");
      const health = await http<{ down: string[]; saves: { failures: number; pending: number } }>(
        app,
        "GET",
        "/health",
      );
      assert.equal(health.status, 503);
      assert.deepEqual(health.body.down, ["store (sqlite)"]);
      assert.ok(health.body.saves.failures >= 1);
      assert.ok(health.body.saves.pending >= 1);

      // Leaving while the store is down: the profile stays in memory, nothing is dropped.
      await bot.leave();
      assert.ok(profiles.pending >= 1);

      const saved = new Promise<void>((resolve) =>
        profiles.on("saved", (userId) => userId === bot.user.userId && resolve()),
      );
      locker.exec("COMMIT");
      await saved;
      assert.equal(profiles.pending, 0);
      assert.equal((await http(app, "GET", "/health")).status, 200);
      const profile = await app.services.store.loadProfile(bot.user.userId);
      assert.ok(profile?.location && isAt(profile.location, last), "the save landed after the lock was released");
      assert.equal(profiles.get(bot.user.userId), undefined, "and the profile left memory once written");
    } finally {
      if (locker.isTransaction) locker.exec("ROLLBACK");
      locker.close();
    }
  });
});

describe("faults: a long store outage", function () {
  this.timeout(30_000);

  it("refuses new joins with a clear error while too many saves are pending", async () => {
    const strict = await startApp({ MAX_PENDING_SAVES: "1", SAVE_INTERVAL_MS: "250" });
    const locker = new DatabaseSync(join(strict.dataDir, "realmgate.db"));
    try {
      const bot = await Bot.join(strict);
      const late = await guest(strict);
      locker.exec("BEGIN EXCLUSIVE");
      await bot.stepTo(bot.me.x + 5, bot.me.y);
      await new Promise((resolve) => strict.services.profiles.once("failed", resolve));
      await assert.rejects(Bot.join(strict, {}, late), /store\/unavailable/);
      assert.ok(bot.room.connection.isOpen, "players already in play are not dropped");
      locker.exec("COMMIT");
      await new Promise((resolve) => strict.services.profiles.once("saved", resolve));
      const again = await Bot.join(strict, {}, late);
      await Promise.all([bot.leave(), again.leave()]);
    } finally {
      if (locker.isTransaction) locker.exec("ROLLBACK");
      locker.close();
      await strict.stop();
    }
  });
});

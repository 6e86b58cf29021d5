import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { EventLog } from "../src/persistence/events.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import type { ServerMessages } from "../client/index.js";
import { Bot, guest, http, nextMessage, startApp, type TestApp } from "./helpers.js";

/** `GET /api/events/:roomId`: a page of the room's events. */
type EventsPage = { events: Array<{ seq: number; type: string }> };
/** An error answer. */
type Failure = { error: { code: string } };

const ADMIN = { ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" };
const basic = (user: string, pass: string) => "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");

describe("event log", () => {
  it("numbers events per room from 1, writes them in batches, and counts what a full buffer drops", async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "realmgate-events-")), "db"));
    const log = new EventLog(store, pino({ level: "silent" }), {
      flushMs: 1000,
      ttlMs: 60_000,
      maxBuffered: 3,
      batchSize: 2,
    });
    assert.deepEqual([log.record("a", "x", {}), log.record("a", "x", {}), log.record("b", "x", {})], [1, 2, 1]);
    await log.flush();
    assert.deepEqual(log.snapshot(), { buffered: 0, written: 3, lost: 0, failures: 0, consecutiveFailures: 0 });
    assert.deepEqual(
      (await store.eventsAfter("a", 0, 10)).map((e) => e.seq),
      [1, 2],
    );

    await store.close(); // the store goes down: events wait, then the oldest are dropped and counted
    for (let i = 0; i < 5; i++) log.record("a", "y", { i });
    await log.flush();
    const stats = log.snapshot();
    assert.equal(stats.buffered, 3);
    assert.equal(stats.lost, 2);
    assert.equal(stats.failures, 1);
    assert.equal(log.failing, true);
  });
});

describe("GET /api/events/:roomId", () => {
  let app: TestApp;
  before(async () => (app = await startApp(ADMIN)));
  after(async () => app.stop());

  it("serves a room's events to the admin and to players seated in it, and to nobody else", async () => {
    const bot = await Bot.join(app);
    const roomId = bot.room.roomId;
    await bot.expectReject("move", { x: bot.me.x + 900, y: bot.me.y }, "move/too_fast");
    await bot.expectReject("chat", { text: " " }, "chat/empty");
    await bot.walkTo(1130, 950); // oak-1 at (1150, 950)
    const got = nextMessage<ServerMessages["world"]["gathered"]>(bot.room, "gathered");
    bot.send("gather", { resource: "oak-1" });
    await got;

    const asPlayer = await http<EventsPage>(app, "GET", `/api/events/${roomId}`, undefined, bot.user.token);
    assert.equal(asPlayer.status, 200);
    const types = asPlayer.body.events.map((e) => e.type);
    assert.ok(types.includes("gathered"), `the gather is logged (${types.join(", ")})`);
    // Refusals are counted in metrics, not written one row each; the replay log is a stream apart.
    assert.ok(!types.includes("reject"), "no row per refusal");
    assert.ok(!types.some((t: string) => t.startsWith("replay:")), "no replay rows among a room's events");
    assert.deepEqual(
      asPlayer.body.events.map((e) => e.seq),
      asPlayer.body.events.map((_: unknown, i: number) => i + 1),
      "numbered from 1 without gaps",
    );

    const after1 = await http<EventsPage>(app, "GET", `/api/events/${roomId}?after=1`, undefined, bot.user.token);
    assert.deepEqual(
      after1.body.events.map((e) => e.seq),
      asPlayer.body.events.slice(1).map((e) => e.seq),
    );

    const admin = await fetch(`${app.url}/api/events/${roomId}`, {
      headers: { authorization: basic("admin", "correct-horse-battery") },
    });
    assert.equal(admin.status, 200);
    assert.equal(((await admin.json()) as EventsPage).events.length, asPlayer.body.events.length);

    const stranger = await guest(app);
    const denied = await http<Failure>(app, "GET", `/api/events/${roomId}`, undefined, stranger.token);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "auth/forbidden");
    assert.equal((await http(app, "GET", `/api/events/${roomId}`)).status, 401);
    const wrongAdmin = await fetch(`${app.url}/api/events/${roomId}`, {
      headers: { authorization: basic("admin", "wrong") },
    });
    assert.equal(wrongAdmin.status, 401);
    assert.equal((await http(app, "GET", `/api/events/${roomId}?after=-1`, undefined, bot.user.token)).status, 400);
    await bot.leave();
  });
});

import assert from "node:assert/strict";
import { policy } from "../src/content/policy.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { worlds } from "../src/content/worlds.js";
import { newProfile } from "../src/domain/profile.js";
import type { Reject, ServerMessages, WorldState } from "../client/index.js";
import { Bot, guest, isAt, nextMessage, sdk, startApp, until, type TestApp } from "./helpers.js";

type Says = ServerMessages["world"];

/** Drops the socket under an SDK room, as a network failure would. */
const dropSocket = (bot: Bot) =>
  (bot.room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();

/** The server-side world room (tests read its state, which has the shape the client kit names). */
const room = (app: TestApp, id: string) => app.colyseus.getRoomById<WorldState>(id);

/** Saves a profile that puts the user at (x, y) in `world` before it first joins. */
async function placeBeforeJoin(
  app: TestApp,
  user: { userId: string; name: string },
  world: string,
  x: number,
  y: number,
) {
  await app.services.store.saveProfile({ ...newProfile(user, 100), location: { world, x, y } }, "test-placement");
}

describe("world room", function () {
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  describe("joining", () => {
    it("refuses a join without a token, with a bad one, or with an expired one, saying why", async () => {
      await assert.rejects(sdk(app).joinOrCreate("world"), /auth\/missing_token/);
      await assert.rejects(sdk(app, "not.a.token").joinOrCreate("world"), /auth\/invalid_token/);
      const user = await guest(app);
      const expired = await app.services.tokens.sign(user, Math.floor(Date.now() / 1000) - 7200, 3600);
      await assert.rejects(sdk(app, expired).joinOrCreate("world"), /auth\/expired_token/);
      await assert.rejects(sdk(app, user.token).joinOrCreate("world", { world: "atlantis" }), /input\/invalid/);
    });

    it("welcomes a client with what it needs to play", async () => {
      const bot = await Bot.join(app, { world: "meadow" });
      const meadow = worlds.find((w) => w.id === "meadow")!;
      assert.equal(bot.welcome.sessionId, bot.room.sessionId);
      assert.equal(bot.welcome.speed, meadow.speed);
      assert.equal(bot.welcome.aoiRadius, meadow.aoiRadius);
      assert.deepEqual(bot.welcome.bounds, { width: meadow.width, height: meadow.height });
      assert.equal(typeof bot.welcome.tickRate, "number");
      // The numbers a client needs to play by the rules come with the welcome.
      assert.deepEqual(
        [
          bot.welcome.moveBankMs,
          bot.welcome.moveTolerance,
          bot.welcome.gatherRange,
          bot.welcome.gatherCooldownMs,
          bot.welcome.travelRange,
          bot.welcome.travelCooldownMs,
        ],
        [500, 0.1, 48, 1000, 60, 10_000],
      );
      assert.ok(Math.abs(bot.welcome.serverTime - Date.now()) < 5000);
      assert.equal(bot.room.state.world, "meadow");
      assert.equal(bot.room.state.portals.get("meadow-east-gate")!.to, "dunes");
      assert.equal(bot.room.state.resources.size, meadow.resources.length);
      const me = bot.room.state.players.get(bot.room.sessionId)!;
      assert.equal(me.userId, bot.user.userId);
      assert.equal(me.name, bot.user.name);
      assert.ok(Math.hypot(me.x - meadow.spawn.x, me.y - meadow.spawn.y) <= meadow.spawn.radius + 1);
      await bot.leave();
    });

    it("puts clients without a world option into meadow, and dunes clients apart", async () => {
      const a = await Bot.join(app);
      const b = await Bot.join(app, { world: "meadow" });
      const c = await Bot.join(app, { world: "dunes" });
      assert.equal(a.room.roomId, b.room.roomId);
      assert.notEqual(c.room.roomId, a.room.roomId);
      assert.equal(c.room.state.world, "dunes");
      await Promise.all([a.leave(), b.leave(), c.leave()]);
    });

    it("answers ping with pong", async () => {
      const bot = await Bot.join(app);
      const pong = nextMessage<Says["pong"]>(bot.room, "pong");
      bot.room.send("ping", { t: 1234.5 });
      const answer = await pong;
      assert.equal(answer.t, 1234.5);
      assert.equal(typeof answer.serverTime, "number");
      await bot.leave();
    });
  });

  describe("movement", () => {
    it("accepts a walk at legal speed", async () => {
      const bot = await Bot.join(app);
      const start = { ...bot.me };
      await bot.walkTo(start.x + 60, start.y - 40);
      assert.ok(isAt(bot.me, { x: start.x + 60, y: start.y - 40 }));
      await bot.leave();
    });

    it("refuses a teleport with move/too_fast and leaves the body where it was", async () => {
      const bot = await Bot.join(app);
      const before = { x: bot.me.x, y: bot.me.y };
      const reject = await bot.expectReject("move", { x: before.x, y: before.y - 500 }, "move/too_fast");
      assert.equal(reject.action, "move");
      assert.equal(reject.seq, bot.seq);
      await bot.room.waitForNextPatch();
      assert.deepEqual({ x: bot.me.x, y: bot.me.y }, before);
      const server = room(app, bot.room.roomId).state.players.get(bot.room.sessionId)!;
      assert.ok(isAt(server, before));
      await bot.leave();
    });

    it("refuses a stale or replayed seq", async () => {
      const bot = await Bot.join(app);
      await bot.stepTo(bot.me.x + 5, bot.me.y);
      const accepted = bot.seq;
      bot.seq = accepted - 1; // the next send reuses `accepted`
      const replay = await bot.expectReject("move", { x: bot.me.x + 1, y: bot.me.y }, "seq/stale");
      assert.equal(replay.seq, accepted);
      await bot.leave();
    });

    it("refuses a target outside the map", async () => {
      const bot = await Bot.join(app);
      await bot.expectReject("move", { x: -5, y: bot.me.y }, "move/out_of_bounds");
      await bot.leave();
    });

    it("refuses a step across a blocked tile", async () => {
      // meadow's boulder covers x 840-860, y 880-900.
      const bot = await Bot.join(app);
      await bot.walkTo(830, 930);
      await bot.walkTo(830, 890);
      await bot.room.waitForNextPatch();
      await bot.expectReject("move", { x: 845, y: 890 }, "move/blocked");
      assert.ok(isAt(bot.me, { x: 830, y: 890 }));
      await bot.leave();
    });
  });

  describe("input checks", () => {
    it("answers malformed payloads with input/invalid and never breaks the room", async () => {
      const bot = await Bot.join(app);
      for (const payload of [
        { seq: 1, x: "10", y: 5 },
        { seq: 2, x: null, y: 5 },
        { seq: 3 },
        { seq: "4", x: 1, y: 1 },
      ]) {
        const seq = typeof payload.seq === "number" ? payload.seq : null;
        const reject = nextMessage<Reject>(bot.room, "reject", 5000, (r) => r.seq === seq && r.action === "move");
        bot.room.send("move", payload);
        assert.equal((await reject).code, "input/invalid");
      }
      const unknown = nextMessage<Reject>(bot.room, "reject");
      bot.room.send("fly", { seq: 9 });
      assert.deepEqual(
        { ...(await unknown), message: undefined },
        { seq: 9, action: "fly", code: "input/invalid", message: undefined },
      );
      await bot.stepTo(bot.me.x + 3, bot.me.y); // still served
      await bot.leave();
    });

    it("disconnects a client that keeps sending malformed payloads", async () => {
      const bot = await Bot.join(app);
      const left = new Promise<number>((resolve) => bot.room.onLeave((code) => resolve(code)));
      for (let i = 0; i < 30; i++) bot.room.send("move", { seq: i, x: "x" });
      assert.equal(await left, 4103);
    });

    it("rate-limits a kind of message and disconnects a flooder", async () => {
      const bot = await Bot.join(app);
      const limited = nextMessage<Reject>(bot.room, "reject", 5000, (r) => r.code === "rate/limited");
      const left = new Promise<number>((resolve) => bot.room.onLeave((code) => resolve(code)));
      for (let i = 0; i < 120; i++) bot.send("move", { x: bot.me.x, y: bot.me.y });
      assert.equal((await limited).action, "move");
      assert.equal(await left, 4102);
    });

    it("ignores fields a client may not set", async () => {
      const bot = await Bot.join(app);
      await bot.room.waitForNextPatch();
      bot.room.send("move", { seq: ++bot.seq, x: bot.me.x + 1, y: bot.me.y, hp: 1, level: 99 });
      await until(
        bot.room,
        () =>
          bot.me.x !== undefined && bot.room.state.players.get(bot.room.sessionId)!.level === 1 && bot.me.hp === 100,
      );
      await bot.leave();
    });
  });

  describe("chat and gathering", () => {
    it("broadcasts trimmed chat and refuses empty, over-long and too frequent lines", async () => {
      const a = await Bot.join(app);
      const b = await Bot.join(app);
      const heard = nextMessage<Says["chat"]>(b.room, "chat");
      a.send("chat", { text: "  hello there  " });
      const line = await heard;
      assert.deepEqual(
        { ...line, at: undefined },
        { from: a.room.sessionId, name: a.user.name, text: "hello there", at: undefined },
      );
      await a.expectReject("chat", { text: "   " }, "chat/empty");
      await a.expectReject("chat", { text: "x".repeat(201) }, "chat/too_long");
      // 10 a minute: three were taken above, seven more pass, the next is limited.
      for (let i = 0; i < 7; i++) a.send("chat", { text: `line ${i}` });
      await a.expectReject("chat", { text: "one too many" }, "rate/limited");
      await Promise.all([a.leave(), b.leave()]);
    });

    it("gathers a resource in range into the saved inventory", async () => {
      const bot = await Bot.join(app);
      await bot.expectReject("gather", { resource: "stone-1" }, "gather/out_of_range");
      await bot.walkTo(1130, 950); // oak-1 at (1150, 950)
      const got = nextMessage<Says["gathered"]>(bot.room, "gathered");
      const amount = bot.room.state.resources.get("oak-1")!.amount;
      bot.send("gather", { resource: "oak-1" });
      assert.deepEqual(await got, { resource: "oak-1", item: "wood", qty: 1 });
      await until(bot.room, () => bot.room.state.resources.get("oak-1")!.amount === amount - 1);
      await bot.expectReject("gather", { resource: "oak-1" }, "gather/cooldown");
      await bot.leave();
      const profile = await app.services.store.loadProfile(bot.user.userId);
      assert.deepEqual(profile?.inventory, [{ item: "wood", qty: 1 }]);
    });
  });

  describe("interest management", () => {
    it("sends a far player only once it walks near, and removes it when it walks away", async () => {
      const nearUser = await guest(app);
      const farUser = await guest(app);
      await placeBeforeJoin(app, farUser, "meadow", 1000, 450);
      const watcher = await Bot.join(app, {}, nearUser);
      const walker = await Bot.join(app, {}, farUser);
      assert.equal(watcher.room.roomId, walker.room.roomId);
      await watcher.room.waitForNextPatch();
      await watcher.room.waitForNextPatch();
      assert.ok(!watcher.sees.includes(walker.room.sessionId), "nothing about the far player");
      assert.ok(!walker.sees.includes(watcher.room.sessionId));

      // Every position of the walker that reaches the watcher lies within the radius.
      const seenAt: Array<{ x: number; y: number }> = [];
      watcher.room.onStateChange(() => {
        const p = watcher.room.state.players.get(walker.room.sessionId);
        if (p) seenAt.push({ x: p.x, y: p.y });
      });
      await walker.walkTo(1000, 850);
      await until(watcher.room, () => watcher.sees.includes(walker.room.sessionId), 5000, "walker visible");
      const seen = watcher.room.state.players.get(walker.room.sessionId);
      assert.equal(seen!.userId, farUser.userId);
      assert.ok(walker.sees.includes(watcher.room.sessionId), "and the other way round");

      await walker.walkTo(1000, 450);
      await until(watcher.room, () => !watcher.sees.includes(walker.room.sessionId), 5000, "walker gone");
      const me = watcher.me;
      const farthest = Math.max(...seenAt.map((p) => Math.hypot(p.x - me.x, p.y - me.y)));
      assert.ok(seenAt.length > 5 && farthest <= watcher.welcome.aoiRadius, `seen as far as ${farthest.toFixed(1)}`);
      await Promise.all([watcher.leave(), walker.leave()]);
    });

    it("updates a far neighbour less often than a near one, and always shows where each stopped", async () => {
      const [watcherUser, nearUser, farUser] = await Promise.all([guest(app), guest(app), guest(app)]);
      // Meadow's radius is 300: the near walker stays within 0.35 of it, the far one beyond 0.7.
      await placeBeforeJoin(app, watcherUser, "meadow", 1300, 1000);
      await placeBeforeJoin(app, nearUser, "meadow", 1300, 1020);
      await placeBeforeJoin(app, farUser, "meadow", 1300, 1270);
      const watcher = await Bot.join(app, {}, watcherUser);
      const near = await Bot.join(app, {}, nearUser);
      const far = await Bot.join(app, {}, farUser);
      const ids = [near.room.sessionId, far.room.sessionId];
      await until(watcher.room, () => ids.every((id) => watcher.sees.includes(id)), 5000, "both visible");
      const updates = new Map(ids.map((id) => [id, 0]));
      const last = new Map<string, string>();
      watcher.room.onStateChange(() => {
        for (const id of ids) {
          const p = watcher.room.state.players.get(id);
          const at = p ? `${p.x},${p.y}` : "";
          if (at !== last.get(id)) updates.set(id, updates.get(id)! + 1);
          last.set(id, at);
        }
      });
      const pace = async (bot: Bot, y: number) => {
        for (let trip = 0; trip < 3; trip++) {
          await bot.walkTo(1390, y);
          await bot.walkTo(1300, y);
        }
      };
      await Promise.all([pace(near, 1020), pace(far, 1270)]);
      // Whatever the rate, the position a client holds ends up exact.
      const server = room(app, watcher.room.roomId).state.players;
      const exact = (id: string) =>
        watcher.room.state.players.get(id)?.x === server.get(id)!.x &&
        watcher.room.state.players.get(id)?.y === server.get(id)!.y;
      await until(watcher.room, () => ids.every(exact), 5000, "exact positions");
      const nearUpdates = updates.get(near.room.sessionId)!;
      const farUpdates = updates.get(far.room.sessionId)!;
      assert.ok(nearUpdates >= 5, `near walker seen moving ${nearUpdates} times`);
      assert.ok(farUpdates * 2 <= nearUpdates, `far walker seen moving ${farUpdates} times, near ${nearUpdates}`);
      await Promise.all([watcher.leave(), near.leave(), far.leave()]);
    });

    it("caps what a mobile client receives at 10 players, nearest first", async function () {
      this.timeout(30_000);
      const others = await Promise.all(Array.from({ length: 14 }, () => Bot.join(app)));
      const mobile = await Bot.join(app, { device: "mobile" });
      const desktop = await Bot.join(app, { device: "desktop" });
      const server = room(app, mobile.room.roomId).state.players;
      const distFrom = (bot: Bot) => (id: string) =>
        Math.hypot(
          server.get(id)!.x - server.get(bot.room.sessionId)!.x,
          server.get(id)!.y - server.get(bot.room.sessionId)!.y,
        );
      const nearTo = (bot: Bot) =>
        [...server.keys()].filter((id: string) => distFrom(bot)(id) <= bot.welcome.aoiRadius);
      assert.ok(nearTo(desktop).length >= 16 && nearTo(desktop).length <= 50);
      await until(
        desktop.room,
        () => desktop.sees.length === nearTo(desktop).length,
        5000,
        "desktop sees everyone near",
      );
      await until(mobile.room, () => mobile.sees.length === 10, 5000, "mobile sees 10");
      const dist = distFrom(mobile);
      const seen = () => mobile.sees.filter((id) => id !== mobile.room.sessionId);
      const unseen = () => nearTo(mobile).filter((id: string) => !mobile.sees.includes(id));
      // A shown body keeps its place while it is at most `hysteresis` of the radius farther than
      // one not shown (no flicker at the edge of the cap); the set is refreshed a slice at a time.
      const slack = policy.interest.hysteresis * mobile.welcome.aoiRadius;
      const nearestSeen = () => Math.max(...seen().map(dist)) <= Math.min(...unseen().map(dist)) + slack;
      await until(mobile.room, nearestSeen, 5000, "the nearest are the ones seen");
      assert.equal(mobile.sees.length, 10);
      assert.ok(unseen().length >= 6);
      await Promise.all([...others, mobile, desktop].map((b) => b.leave()));
    });
  });

  describe("sessions", () => {
    it("resumes the same session and body after a dropped connection", async () => {
      const bot = await Bot.join(app);
      await bot.stepTo(bot.me.x + 10, bot.me.y);
      const where = { x: bot.me.x, y: bot.me.y };
      const sessionId = bot.room.sessionId;
      bot.room.reconnection.minUptime = 0;
      const dropped = new Promise<void>((resolve) => bot.room.onDrop(() => resolve()));
      const back = new Promise<void>((resolve) => bot.room.onReconnect(() => resolve()));
      dropSocket(bot);
      await dropped;
      await back;
      assert.equal(bot.room.sessionId, sessionId);
      const server = room(app, bot.room.roomId);
      assert.equal(server.state.players.size >= 1, true);
      assert.ok(isAt(server.state.players.get(sessionId)!, where));
      await bot.stepTo(bot.me.x + 5, bot.me.y); // seq keeps growing across the reconnection
      await bot.leave();
    });

    it("closes the earlier connection when the same user joins again", async () => {
      const first = await Bot.join(app);
      const closed = new Promise<number>((resolve) => first.room.onLeave((code) => resolve(code)));
      const second = await Bot.join(app, {}, first.user);
      assert.equal(await closed, 4101);
      const server = room(app, second.room.roomId);
      const bodies = [...server.state.players.values()].filter((p) => p.userId === first.user.userId);
      assert.equal(bodies.length, 1);
      assert.equal(bodies[0].sessionId, second.room.sessionId);
      await second.leave();
    });

    it("keeps the location across leave and rejoin", async () => {
      const bot = await Bot.join(app);
      await bot.walkTo(bot.me.x - 30, bot.me.y + 20);
      const where = { x: bot.me.x, y: bot.me.y };
      await bot.leave();
      const again = await Bot.join(app, {}, bot.user);
      assert.ok(isAt(again.me, where));
      await again.leave();
    });
  });
});

describe("world instances", () => {
  let app: TestApp;
  const tiny = worlds.map((w) => (w.id === "meadow" ? { ...w, maxPlayers: 2 } : w));
  before(async () => (app = await startApp({}, tiny)));
  after(async () => app.stop());

  it("opens a new instance of the same world when one is full", async () => {
    const [a, b] = [await Bot.join(app), await Bot.join(app)];
    const c = await Bot.join(app);
    assert.equal(a.room.roomId, b.room.roomId);
    assert.notEqual(c.room.roomId, a.room.roomId);
    assert.equal(c.room.state.world, "meadow");
    await Promise.all([a.leave(), b.leave(), c.leave()]);
  });
});

describe("world without interest management (benchmark baseline)", () => {
  let app: TestApp;
  before(async () => (app = await startApp({ AOI_ENABLED: "false" })));
  after(async () => app.stop());

  it("sends every player to every client", async () => {
    const nearUser = await guest(app);
    const farUser = await guest(app);
    await placeBeforeJoin(app, farUser, "meadow", 1000, 100);
    const a = await Bot.join(app, { device: "mobile" }, nearUser);
    const b = await Bot.join(app, {}, farUser);
    await until(a.room, () => a.sees.length === 2, 5000, "far player visible without AOI");
    await until(b.room, () => b.sees.length === 2);
    await Promise.all([a.leave(), b.leave()]);
  });
});

describe("world saves", () => {
  it("removes the body and saves the profile when the reconnection window passes", async () => {
    const app = await startApp({ RECONNECT_SECONDS: "1" });
    try {
      const observer = await Bot.join(app);
      const dropper = await Bot.join(app);
      await until(observer.room, () => observer.sees.includes(dropper.room.sessionId));
      await dropper.walkTo(dropper.me.x + 15, dropper.me.y);
      const where = { x: dropper.me.x, y: dropper.me.y };
      dropper.room.reconnection.enabled = false;
      dropSocket(dropper);
      // Held for the window first, then gone.
      await observer.room.waitForNextPatch();
      assert.ok(observer.sees.includes(dropper.room.sessionId), "held during the window");
      await until(
        observer.room,
        () => !observer.sees.includes(dropper.room.sessionId),
        5000,
        "body removed after the window",
      );
      const saved = await app.services.store.loadProfile(dropper.user.userId);
      assert.equal(saved?.location?.world, "meadow");
      assert.ok(isAt(saved.location, where));
      await observer.leave();
    } finally {
      await app.stop();
    }
  });

  it("saves everyone's profile on a graceful shutdown", async () => {
    const app = await startApp();
    const bot = await Bot.join(app);
    await bot.walkTo(bot.me.x + 20, bot.me.y + 20);
    const where = { x: bot.me.x, y: bot.me.y };
    await app.stop({ keepData: true });
    const store = new SqliteStore(join(app.dataDir, "realmgate.db"));
    try {
      const saved = await store.loadProfile(bot.user.userId);
      assert.ok(saved?.location && isAt(saved.location, where));
    } finally {
      await store.close();
      rmSync(app.dataDir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { combatStats } from "../src/content/combat.js";
import { matchMaker } from "@colyseus/core";
import { Bot, fight, http, nextMessage, startApp, until, type TestApp } from "./helpers.js";
import type { DungeonState, Reject, ServerMessages } from "../client/index.js";

type Says = ServerMessages["dungeon"];

const room = (app: TestApp, id: string) => app.colyseus.getRoomById<DungeonState>(id);

describe("dungeon room", function () {
  this.timeout(60_000);
  let app: TestApp;
  let strike: { range: number; cooldownMs: number };
  before(async () => {
    app = await startApp();
    strike = (await http<{ range: number; cooldownMs: number }>(app, "GET", "/api/abilities/strike")).body;
  });
  after(async () => app.stop());

  /** Two heroes of one party in `dungeon`. */
  async function party(dungeon: string): Promise<[Bot<DungeonState>, Bot<DungeonState>]> {
    const name = `party-${Math.random()}`;
    const a = await Bot.join<DungeonState>(app, { dungeon, party: name }, undefined, "dungeon");
    const b = await Bot.join<DungeonState>(app, { dungeon, party: name }, undefined, "dungeon");
    return [a, b];
  }

  it("serves its content over HTTP, with 404s for unknown ids", async () => {
    for (const kind of ["enemy-types", "loot-tables", "abilities", "combat-stats", "dungeons"]) {
      const list = await http<Array<{ id: string }>>(app, "GET", `/api/${kind}`);
      assert.equal(list.status, 200);
      assert.ok(list.body.length > 0, kind);
      const one = await http<unknown>(app, "GET", `/api/${kind}/${list.body[0].id}`);
      assert.deepEqual(one.body, list.body[0]);
      const missing = await http<{ error: { code: string } }>(app, "GET", `/api/${kind}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "content/not_found");
    }
    const abilities = (await http<object[]>(app, "GET", "/api/abilities")).body;
    for (const a of abilities) for (const field of ["id", "range", "cooldownMs", "manaCost"]) assert.ok(field in a);
    const dungeons = (await http<Array<{ id: string }>>(app, "GET", "/api/dungeons")).body.map((d) => d.id);
    assert.deepEqual(dungeons.sort(), ["crypt", "training"]);
  });

  it("groups heroes by party, and gives a hero without one an instance of its own", async () => {
    const [a, b] = await party("training");
    assert.equal(a.room.roomId, b.room.roomId);
    await until(a.room, () => a.room.state.heroes.size === 2, 5000, "both heroes in the state");
    assert.equal(a.welcome.dungeon, "training");
    const solo1 = await Bot.join<DungeonState>(app, { dungeon: "training" }, undefined, "dungeon");
    const solo2 = await Bot.join<DungeonState>(app, { dungeon: "training" }, undefined, "dungeon");
    assert.notEqual(solo1.room.roomId, solo2.room.roomId);
    assert.notEqual(solo1.room.roomId, a.room.roomId);
    assert.equal(a.room.state.status, "waiting");
    await Promise.all([a, b, solo1, solo2].map((bot) => bot.leave()));
  });

  it("holds at most 4 heroes in a party's instance", async () => {
    const name = `full-${Math.random()}`;
    const heroes = await Promise.all(
      [1, 2, 3, 4].map(() => Bot.join<DungeonState>(app, { dungeon: "training", party: name }, undefined, "dungeon")),
    );
    const fifth = await Bot.join<DungeonState>(app, { dungeon: "training", party: name }, undefined, "dungeon");
    assert.notEqual(fifth.room.roomId, heroes[0].room.roomId);
    await Promise.all([...heroes, fifth].map((bot) => bot.leave()));
  });

  it("two heroes attack the same enemy: the server computes every hit", async () => {
    const [a, b] = await party("training");
    const target = "dummy-1";
    await Promise.all([a.walkTo(225, 150), b.walkTo(250, 175)]);
    const hits: Says["combat"][] = [];
    const off = [a, b].map((bot) => bot.room.onMessage("combat", (c: Says["combat"]) => bot === a && hits.push(c)));
    const maxHp = a.room.state.enemies.get(target)!.maxHp;
    const hero = combatStats.find((stats) => stats.id === "hero")!;
    a.send("attack", { target, ability: "strike", damage: 9999 }); // a client cannot dictate damage
    b.send("attack", { target });
    await until(a.room, () => hits.length === 2, 5000, "two combat messages");
    off.forEach((f) => f());
    assert.deepEqual(hits.map((h) => h.source).sort(), [a.room.sessionId, b.room.sessionId].sort());
    for (const h of hits) {
      assert.equal(h.target, target);
      assert.equal(h.ability, "strike");
      // A hero's strike: attack × power 1 × a roll of ±10 %, × the multiplier on a crit; the dummy has no defense.
      const most = hero.attack * 1.1 * (h.crit ? hero.critMultiplier : 1);
      assert.ok(h.damage >= 1 && h.damage <= Math.round(most), `damage ${h.damage} comes from stats`);
    }
    const dealt = hits.reduce((sum, h) => sum + h.damage, 0);
    await until(a.room, () => a.room.state.enemies.get(target)!.hp === Math.max(0, maxHp - dealt));
    assert.equal(a.room.state.status, "active");
    await Promise.all([a.leave(), b.leave()]);
  });

  it("refuses cooldown, range and target abuse", async () => {
    const bot = await Bot.join<DungeonState>(app, { dungeon: "training" }, undefined, "dungeon");
    await bot.expectReject("attack", { target: "dummy-1" }, "attack/out_of_range");
    await bot.expectReject("attack", { target: "nobody" }, "attack/bad_target");
    await bot.expectReject("attack", { target: "dummy-1", ability: "bone-nova" }, "input/invalid");
    await bot.walkTo(225, 150);
    const hit = nextMessage<Says["combat"]>(bot.room, "combat");
    bot.send("attack", { target: "dummy-1" });
    await hit;
    const reject = await bot.expectReject("attack", { target: "dummy-1" }, "attack/cooldown");
    assert.match(reject.message, /ready in \d+ ms/);
    await bot.leave();
  });

  it("two heroes pick up the same loot in the same tick: exactly one wins", async () => {
    const [a, b] = await party("training");
    await Promise.all([a.walkTo(225, 150), b.walkTo(230, 160)]);
    // Training dummies always drop: kill dummy-1.
    await fight(a, strike, "dummy-1");
    await until(a.room, () => a.room.state.loot.size === 1, 5000, "loot dropped");
    const [lootId, loot] = [...a.room.state.loot.entries()][0];
    const answers = [a, b].map((bot) =>
      Promise.race([
        nextMessage<Says["picked"]>(bot.room, "picked", 5000).then((p) => ({ bot, picked: p })),
        nextMessage<Reject>(bot.room, "reject", 5000, (r) => r.action === "pickup").then((r) => ({ bot, reject: r })),
      ]),
    );
    a.send("pickup", { loot: lootId });
    b.send("pickup", { loot: lootId });
    const results = await Promise.all(answers);
    const winners = results.filter((r) => "picked" in r);
    const losers = results.filter((r) => "reject" in r);
    assert.equal(winners.length, 1);
    assert.equal(losers.length, 1);
    assert.deepEqual(winners[0].picked, { loot: lootId, item: loot.item, qty: loot.qty });
    assert.equal(losers[0].reject.code, "loot/gone");
    await until(a.room, () => a.room.state.loot.size === 0);
    await Promise.all([a.leave(), b.leave()]);
    const inventories = await Promise.all([a, b].map((bot) => app.services.store.loadProfile(bot.user.userId)));
    const holding = inventories.filter((p) => p?.inventory.some((e) => e.item === loot.item && e.qty === loot.qty));
    assert.equal(holding.length, 1, "the item is in exactly one saved inventory");
    assert.equal(holding[0]!.userId, winners[0].bot.user.userId);
  });

  it("two heroes clear training together: doors open, everyone hears it, xp is saved", async () => {
    const [a, b] = await party("training");
    const cleared = Promise.all([
      nextMessage<Says["cleared"]>(a.room, "cleared", 30_000),
      nextMessage<Says["cleared"]>(b.room, "cleared", 30_000),
    ]);
    await Promise.all([fight(a, strike), fight(b, strike)]);
    const [ca] = await cleared;
    assert.equal(typeof ca.at, "number");
    assert.equal(a.room.state.status, "cleared");
    assert.ok([...a.room.state.doors.values()].every((d) => d.open));
    assert.equal(a.room.state.loot.size >= 1, true, "every training enemy drops loot");
    await Promise.all([a.leave(), b.leave()]);
    const profile = await app.services.store.loadProfile(a.user.userId);
    assert.equal(profile?.xp, 10 + 3 * 5);
  });

  it("two heroes clear the crypt: enemies fight back, the boss changes phase", async () => {
    const [a, b] = await party("crypt");
    const phases: number[] = [];
    a.room.onMessage("phase", (p: Says["phase"]) => phases.push(p.bossPhase));
    let heroHits = 0;
    a.room.onMessage("combat", (c: Says["combat"]) =>
      c.target === a.room.sessionId || c.target === b.room.sessionId ? heroHits++ : undefined,
    );
    const cleared = nextMessage<Says["cleared"]>(a.room, "cleared", 90_000);
    await Promise.all([fight(a, strike), fight(b, strike)]);
    assert.equal(a.room.state.status, "cleared", `status ${a.room.state.status}`);
    await cleared;
    assert.deepEqual(phases, [2, 3]);
    assert.equal(a.room.state.bossPhase, 3);
    assert.ok(heroHits > 0, "the enemies hit back");
    assert.ok([...a.room.state.doors.values()].every((d) => d.open));
    await Promise.all([a.leave(), b.leave()]);
  });

  it("a hero who drops during combat resumes the same hero", async () => {
    const [a, b] = await party("training");
    await a.walkTo(225, 150);
    a.send("attack", { target: "dummy-1" });
    await until(b.room, () => b.room.state.status === "active");
    const sessionId = a.room.sessionId;
    a.room.reconnection.minUptime = 0;
    const back = new Promise<void>((resolve) => a.room.onReconnect(() => resolve()));
    (a.room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
    await back;
    assert.equal(a.room.sessionId, sessionId);
    assert.ok(b.room.state.heroes.has(sessionId), "the body stayed for the window");
    const hp = b.room.state.enemies.get("dummy-1")!.hp;
    const hit = nextMessage<Says["combat"]>(b.room, "combat", 5000, (c) => c.source === sessionId);
    await fight(a, strike, "dummy-1"); // seq and cooldowns carry on across the reconnection
    assert.equal((await hit).target, "dummy-1");
    assert.ok(b.room.state.enemies.get("dummy-1")!.hp < hp);
    await Promise.all([a.leave(), b.leave()]);
  });
});

describe("dungeon clean-up", () => {
  it("an empty instance closes itself after the grace time", async () => {
    const app = await startApp({ DUNGEON_GRACE_SECONDS: "1" });
    try {
      const bot = await Bot.join<DungeonState>(app, { dungeon: "training" }, undefined, "dungeon");
      const server = room(app, bot.room.roomId);
      const disposed = new Promise<void>((resolve) =>
        (server as unknown as { _events: NodeJS.EventEmitter })._events.once("dispose", () => resolve()),
      );
      await bot.leave();
      assert.equal(
        (await matchMaker.query({ roomId: bot.room.roomId })).length,
        1,
        "still there during the grace time",
      );
      await disposed;
      await until(bot.room, () => true);
      assert.equal((await matchMaker.query({ roomId: bot.room.roomId })).length, 0);
    } finally {
      await app.stop();
    }
  });
});

/**
 * Trade in one process (PROTOCOL §5): offers, answers, every refusal, duplicate accepts, racing
 * trades over one item, and recovery of trades left half-way, against the real SQLite store.
 * test/trade.cluster.test.ts covers two processes, kill -9 at every step and store outages.
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Room } from "@colyseus/sdk";
import type { Goods, Reject, ServerMessages, WorldState } from "../client/index.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { newProfile, type Profile } from "../src/domain/profile.js";
import type { TradeRecord } from "../src/domain/trade.js";
import { escrow } from "../src/rules/trade.js";
import { guest, http, nextMessage, sdk, startApp, until, type TestApp } from "./helpers.js";

type Says = ServerMessages["world"];
type User = { token: string; userId: string; name: string };

interface Player {
  user: User;
  room: Room<unknown, WorldState>;
  seq: number;
  send(type: string, payload: object): number;
}

/** A guest with `inventory` and `gold` saved before it joins `world`. */
async function player(
  app: TestApp,
  world: string,
  inventory: Goods = [],
  gold = 0,
  name = `T${Math.floor(Math.random() * 1e6)}`,
): Promise<Player> {
  const user = await guest(app, name);
  await app.services.store.saveProfile({ ...newProfile(user, 100), inventory, gold }, `seed-${user.userId}`);
  const room = await sdk(app, user.token).joinOrCreate<WorldState>("world", { world });
  for (const type of ["welcome", "trade_sent", "trade_offer", "traded", "trade_closed", "reject"])
    room.onMessage(type, () => undefined);
  await until(room, () => room.state.players?.get(room.sessionId) !== undefined);
  const p: Player = {
    user,
    room,
    seq: 0,
    send(type, payload) {
      p.seq++;
      room.send(type, { seq: p.seq, ...payload });
      return p.seq;
    },
  };
  return p;
}

/** The reject answering action `seq` of `p`. */
const rejectOf = (p: Player, seq: number) => nextMessage<Reject>(p.room, "reject", 5000, (r) => r.seq === seq);

async function offer(p: Player, to: string, terms: object): Promise<Says["trade_sent"]> {
  const sent = nextMessage<Says["trade_sent"]>(p.room, "trade_sent");
  p.send("trade", { to, ...terms });
  return sent;
}

/** What the player holds now: the in-memory copy where one is held, else the stored one. */
async function holding(app: TestApp, userId: string): Promise<Profile> {
  return app.services.profiles.get(userId) ?? (await app.services.store.loadProfile(userId))!;
}

const count = (p: Profile, item: string) => p.inventory.filter((e) => e.item === item).reduce((n, e) => n + e.qty, 0);

describe("trade fault hook", () => {
  it("is refused in production and taken elsewhere", () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", TRADE_FAULT: "prepared" }),
      (err: unknown) => err instanceof ConfigError && /TRADE_FAULT/.test(err.message),
    );
    assert.equal(loadConfig({ NODE_ENV: "test", TRADE_FAULT: "prepared", DATA_DIR: tmpdir() }).tradeFault, "prepared");
    assert.throws(() => loadConfig({ NODE_ENV: "test", TRADE_FAULT: "sometimes" }), /TRADE_FAULT/);
  });
});

describe("trade (one process)", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  it("offers across worlds, lists the offer, trades on accept, and both see `traded` after both saves", async () => {
    const ann = await player(app, "meadow", [{ item: "wood", qty: 5 }], 10);
    const bob = await player(app, "dunes", [{ item: "stone", qty: 3 }], 0);
    const incoming = nextMessage<Says["trade_offer"]>(bob.room, "trade_offer");
    const sent = await offer(ann, bob.user.userId, {
      give: [{ item: "wood", qty: 2 }],
      gold: 4,
      want: [{ item: "stone", qty: 1 }],
    });
    const seen = await incoming;
    assert.equal(seen.tradeId, sent.tradeId);
    assert.equal(seen.from, ann.user.userId);
    assert.equal(seen.fromName, ann.user.name);
    assert.deepEqual(
      [seen.give, seen.gold, seen.want, seen.wantGold],
      [[{ item: "wood", qty: 2 }], 4, [{ item: "stone", qty: 1 }], 0],
    );
    assert.ok(seen.expiresAt > Date.now() + 50_000 && seen.expiresAt <= Date.now() + 60_000);

    const listed = await http<{ incoming: { tradeId: string }[]; outgoing: { tradeId: string }[] }>(
      app,
      "GET",
      "/api/trades",
      undefined,
      bob.user.token,
    );
    assert.deepEqual(
      listed.body.incoming.map((t) => t.tradeId),
      [sent.tradeId],
    );
    assert.deepEqual(listed.body.outgoing, []);
    assert.equal((await http(app, "GET", "/api/trades")).status, 401);

    const annTraded = nextMessage<Says["traded"]>(ann.room, "traded");
    const bobTraded = nextMessage<Says["traded"]>(bob.room, "traded");
    const trader = (room: typeof ann.room) =>
      nextMessage<{ id: string }>(room, "achievement", 5000, (m) => m.id === "trader");
    const unlocks = Promise.all([trader(ann.room), trader(bob.room)]);
    bob.send("trade_accept", { tradeId: sent.tradeId });
    const [a, b] = await Promise.all([annTraded, bobTraded]);
    await unlocks; // a completed trade counts for both sides, once
    assert.deepEqual(a, {
      tradeId: sent.tradeId,
      gave: { items: [{ item: "wood", qty: 2 }], gold: 4 },
      got: { items: [{ item: "stone", qty: 1 }], gold: 0 },
    });
    assert.deepEqual(b.gave, a.got);
    assert.deepEqual(b.got, a.gave);

    // Saved before `traded`: the store already holds both sides.
    const [annStored, bobStored] = await Promise.all([
      app.services.store.loadProfile(ann.user.userId),
      app.services.store.loadProfile(bob.user.userId),
    ]);
    assert.deepEqual([count(annStored!, "wood"), count(annStored!, "stone"), annStored!.gold], [3, 1, 6]);
    assert.deepEqual([count(bobStored!, "wood"), count(bobStored!, "stone"), bobStored!.gold], [2, 2, 4]);
    assert.deepEqual(annStored!.escrow, []);
    assert.deepEqual([annStored!.stats?.trades, bobStored!.stats?.trades], [1, 1]);
    assert.ok(annStored!.achievements?.some((u) => u.id === "trader"));
    // The rooms' copies agree with the store: the write-behind cannot undo the trade.
    assert.deepEqual((await holding(app, ann.user.userId)).inventory, annStored!.inventory);
    const record = await app.services.store.trades!.loadTrade(sent.tradeId);
    assert.equal(record!.state, "done");
    assert.equal(
      (await http<{ incoming: unknown[] }>(app, "GET", "/api/trades", undefined, bob.user.token)).body.incoming.length,
      0,
    );

    await app.services.events.retryNow();
    const events = await app.services.store.eventsAfter("trades", 0, 1000);
    const mine = events.filter((e) => e.data.tradeId === sent.tradeId);
    assert.deepEqual(
      mine.map((e) => e.data.outcome),
      ["offered", "traded"],
    );
    assert.ok(
      mine.every((e) => e.type === "trade" && e.data.from === ann.user.userId && e.data.to === bob.user.userId),
    );
    const metrics = await app.services.metrics.registry.getSingleMetricAsString("realmgate_trades_total");
    assert.match(metrics, /realmgate_trades_total\{outcome="traded"\} [1-9]/);
    await Promise.all([ann.room.leave(), bob.room.leave()]);
  });

  it("refuses offers to the offline, to oneself, beyond what the sender holds, and past 3 open", async () => {
    const ann = await player(app, "meadow", [{ item: "wood", qty: 1 }]);
    const bob = await player(app, "meadow");
    const away = await guest(app, "Away");

    let seq = ann.send("trade", { to: away.userId, give: [{ item: "wood", qty: 1 }] });
    assert.equal((await rejectOf(ann, seq)).code, "trade/offline");
    seq = ann.send("trade", { to: "no-such-user", give: [] });
    assert.equal((await rejectOf(ann, seq)).code, "trade/offline");
    seq = ann.send("trade", { to: ann.user.userId, give: [{ item: "wood", qty: 1 }] });
    assert.equal((await rejectOf(ann, seq)).code, "trade/self");
    seq = ann.send("trade", { to: bob.user.userId, give: [{ item: "wood", qty: 2 }] });
    assert.equal((await rejectOf(ann, seq)).code, "trade/insufficient");
    seq = ann.send("trade", { to: bob.user.userId, gold: 1 });
    assert.equal((await rejectOf(ann, seq)).code, "trade/insufficient");
    seq = ann.send("trade", {
      to: bob.user.userId,
      give: [
        { item: "wood", qty: 1 },
        { item: "wood", qty: 1 },
      ],
    });
    assert.equal((await rejectOf(ann, seq)).code, "trade/insufficient", "an item named twice counts twice");
    seq = ann.send("trade", { to: bob.user.userId, give: new Array(9).fill({ item: "wood", qty: 1 }) });
    assert.equal((await rejectOf(ann, seq)).code, "input/invalid");

    // A fresh sender (the trade messages above spent most of ann's rate burst).
    const cat = await player(app, "dunes");
    for (let i = 0; i < 3; i++) await offer(cat, bob.user.userId, { want: [{ item: "gem", qty: 1 }] });
    seq = cat.send("trade", { to: bob.user.userId, want: [{ item: "gem", qty: 1 }] });
    assert.equal((await rejectOf(cat, seq)).code, "trade/too_many");
    const listed = await http<{ outgoing: unknown[] }>(app, "GET", "/api/trades", undefined, cat.user.token);
    assert.equal(listed.body.outgoing.length, 3);
    await Promise.all([ann.room.leave(), bob.room.leave(), cat.room.leave()]);
  });

  it("closes offers: decline tells the sender, cancel tells the target, and a closed offer is not found", async () => {
    const ann = await player(app, "meadow", [{ item: "wood", qty: 1 }]);
    const bob = await player(app, "dunes");
    const first = await offer(ann, bob.user.userId, { give: [{ item: "wood", qty: 1 }] });
    let seq = ann.send("trade_accept", { tradeId: first.tradeId });
    assert.equal((await rejectOf(ann, seq)).code, "trade/not_found", "only the target accepts");
    seq = bob.send("trade_cancel", { tradeId: first.tradeId });
    assert.equal((await rejectOf(bob, seq)).code, "trade/not_found", "only the sender cancels");
    const declined = nextMessage<Says["trade_closed"]>(ann.room, "trade_closed");
    bob.send("trade_decline", { tradeId: first.tradeId });
    assert.deepEqual(await declined, { tradeId: first.tradeId, reason: "declined" });
    seq = bob.send("trade_accept", { tradeId: first.tradeId });
    assert.equal((await rejectOf(bob, seq)).code, "trade/not_found");

    const second = await offer(ann, bob.user.userId, { give: [{ item: "wood", qty: 1 }] });
    const cancelled = nextMessage<Says["trade_closed"]>(bob.room, "trade_closed");
    ann.send("trade_cancel", { tradeId: second.tradeId });
    assert.deepEqual(await cancelled, { tradeId: second.tradeId, reason: "cancelled" });
    seq = bob.send("trade_accept", { tradeId: "unknown" });
    assert.equal((await rejectOf(bob, seq)).code, "trade/not_found");
    assert.equal(count(await holding(app, ann.user.userId), "wood"), 1);
    await Promise.all([ann.room.leave(), bob.room.leave()]);
  });

  it("expires an offer after its time and tells both sides", async () => {
    const ann = await player(app, "meadow");
    const bob = await player(app, "meadow");
    const sent = await offer(ann, bob.user.userId, { want: [{ item: "gem", qty: 1 }] });
    // Age the stored offer instead of waiting 60 s.
    await app.services.store.trades!.moveTrade(sent.tradeId, {
      from: ["offered"],
      set: { expiresAt: Date.now() - 1, updatedAt: Date.now() },
    });
    const seq = bob.send("trade_accept", { tradeId: sent.tradeId });
    assert.equal((await rejectOf(bob, seq)).code, "trade/not_found");
    const toAnn = nextMessage<Says["trade_closed"]>(ann.room, "trade_closed");
    const toBob = nextMessage<Says["trade_closed"]>(bob.room, "trade_closed");
    await app.services.trades.recover();
    assert.deepEqual(await toAnn, { tradeId: sent.tradeId, reason: "expired" });
    assert.equal((await toBob).reason, "expired");
    await Promise.all([ann.room.leave(), bob.room.leave()]);
  });

  it("commits a duplicated accept once", async () => {
    const ann = await player(app, "meadow", [{ item: "gem", qty: 1 }]);
    const bob = await player(app, "meadow", [], 50);
    const sent = await offer(ann, bob.user.userId, { give: [{ item: "gem", qty: 1 }], wantGold: 50 });
    const traded = nextMessage<Says["traded"]>(bob.room, "traded");
    bob.send("trade_accept", { tradeId: sent.tradeId });
    const again = bob.send("trade_accept", { tradeId: sent.tradeId });
    assert.equal((await rejectOf(bob, again)).code, "trade/not_found");
    await traded;
    const [a, b] = [await holding(app, ann.user.userId), await holding(app, bob.user.userId)];
    assert.deepEqual([count(a, "gem"), a.gold, count(b, "gem"), b.gold], [0, 50, 1, 0]);
    await Promise.all([ann.room.leave(), bob.room.leave()]);
  });

  it("lets one of three racing accepts over one item win; the others get trade/insufficient and nothing moves", async () => {
    const ann = await player(app, "meadow", [{ item: "crown", qty: 1 }]);
    const takers = await Promise.all([0, 1, 2].map(() => player(app, "dunes", [], 5)));
    const offers: string[] = [];
    for (const t of takers)
      offers.push((await offer(ann, t.user.userId, { give: [{ item: "crown", qty: 1 }], wantGold: 5 })).tradeId);
    const outcomes = takers.map((t, i) =>
      Promise.race([
        nextMessage<Says["traded"]>(t.room, "traded", 10_000).then(() => "traded"),
        nextMessage<Reject>(t.room, "reject", 10_000).then((r) => r.code),
      ]).then((outcome) => ({ outcome, i })),
    );
    takers.forEach((t, i) => t.send("trade_accept", { tradeId: offers[i] }));
    const results = await Promise.all(outcomes);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ["trade/insufficient", "trade/insufficient", "traded"]);
    const winner = results.find((r) => r.outcome === "traded")!.i;
    const profiles = await Promise.all(takers.map((t) => holding(app, t.user.userId)));
    profiles.forEach((p, i) => {
      assert.equal(count(p, "crown"), i === winner ? 1 : 0);
      assert.equal(p.gold, i === winner ? 0 : 5);
      assert.deepEqual(p.escrow ?? [], []);
    });
    const a = await holding(app, ann.user.userId);
    assert.deepEqual([count(a, "crown"), a.gold, a.escrow], [0, 5, []]);
    await Promise.all([ann.room.leave(), ...takers.map((t) => t.room.leave())]);
  });

  it("refuses an accept cleanly while the store is locked, and trades on the retry once it is back", async () => {
    const ann = await player(app, "meadow", [{ item: "gem", qty: 2 }]);
    const bob = await player(app, "dunes", [], 7);
    const sent = await offer(ann, bob.user.userId, { give: [{ item: "gem", qty: 2 }], wantGold: 7 });
    const locker = new DatabaseSync(join(app.dataDir, "realmgate.db"));
    locker.exec("BEGIN EXCLUSIVE");
    try {
      const seq = bob.send("trade_accept", { tradeId: sent.tradeId });
      const refused = await rejectOf(bob, seq);
      assert.equal(refused.code, "trade/unavailable");
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    const [a, b] = [await holding(app, ann.user.userId), await holding(app, bob.user.userId)];
    assert.deepEqual([count(a, "gem"), a.gold, count(b, "gem"), b.gold], [2, 0, 0, 7], "nothing moved");
    const traded = nextMessage<Says["traded"]>(ann.room, "traded");
    bob.send("trade_accept", { tradeId: sent.tradeId });
    await traded;
    const [a2, b2] = await Promise.all([
      app.services.store.loadProfile(ann.user.userId),
      app.services.store.loadProfile(bob.user.userId),
    ]);
    assert.deepEqual([count(a2!, "gem"), a2!.gold, count(b2!, "gem"), b2!.gold], [0, 7, 2, 0]);
    await Promise.all([ann.room.leave(), bob.room.leave()]);
  });

  describe("recovery", () => {
    const store = () => app.services.store;

    /** Two offline players and a trade between them left in `state`, with both escrows written when `escrowed`. */
    async function halfDone(state: "preparing" | "committed", escrowed: boolean, coordinator = "gone:1") {
      const [a, b] = [await guest(app), await guest(app)];
      const now = Date.now();
      const trade: TradeRecord = {
        tradeId: `t-${Math.random()}`,
        from: a.userId,
        fromName: a.name,
        to: b.userId,
        toName: b.name,
        give: [{ item: "wood", qty: 2 }],
        gold: 3,
        want: [{ item: "stone", qty: 1 }],
        wantGold: 0,
        state: "offered",
        createdAt: now,
        expiresAt: now + 60_000,
        updatedAt: now,
        coordinator: null,
        leaseUntil: 0,
      };
      await store().trades!.createOffer(trade, 3);
      await store().trades!.moveTrade(trade.tradeId, {
        from: ["offered"],
        set: { state, coordinator, leaseUntil: now - 1, updatedAt: now },
      });
      for (const [user, goods, gold, puts] of [
        [a, [{ item: "wood", qty: 5 }], 10, { items: trade.give, gold: trade.gold }],
        [b, [{ item: "stone", qty: 1 }], 0, { items: trade.want, gold: trade.wantGold }],
      ] as const) {
        let profile: Profile = { ...newProfile(user, 100), inventory: [...goods], gold };
        if (escrowed) {
          const v = escrow(profile, trade.tradeId, puts);
          assert.ok(v.ok);
          profile = { ...profile, ...v.next };
        }
        await store().saveProfile(profile, `seed-${user.userId}`);
      }
      return { trade, a, b };
    }

    const summary = async (userId: string) => {
      const p = (await store().loadProfile(userId))!;
      return { wood: count(p, "wood"), stone: count(p, "stone"), gold: p.gold, escrow: p.escrow ?? [] };
    };

    it("settles a committed trade whose coordinator went quiet, once", async () => {
      const { trade, a, b } = await halfDone("committed", true);
      await app.services.trades.recover();
      assert.equal((await store().trades!.loadTrade(trade.tradeId))!.state, "done");
      assert.deepEqual(await summary(a.userId), { wood: 3, stone: 1, gold: 7, escrow: [] });
      assert.deepEqual(await summary(b.userId), { wood: 2, stone: 0, gold: 3, escrow: [] });
      await app.services.trades.recover();
      assert.deepEqual(await summary(a.userId), { wood: 3, stone: 1, gold: 7, escrow: [] });
    });

    it("aborts a trade left preparing and hands every escrow back", async () => {
      const { trade, a, b } = await halfDone("preparing", true);
      await app.services.trades.recover();
      const record = (await store().trades!.loadTrade(trade.tradeId))!;
      assert.equal(record.state, "failed");
      assert.deepEqual(await summary(a.userId), { wood: 5, stone: 0, gold: 10, escrow: [] });
      assert.deepEqual(await summary(b.userId), { wood: 0, stone: 1, gold: 0, escrow: [] });
    });

    it("leaves a trade alone while its coordinator's lease runs", async () => {
      const { trade } = await halfDone("committed", true);
      await store().trades!.moveTrade(trade.tradeId, {
        from: ["committed"],
        set: { leaseUntil: Date.now() + 60_000, updatedAt: Date.now() },
      });
      await app.services.trades.recover();
      assert.equal((await store().trades!.loadTrade(trade.tradeId))!.state, "committed");
    });
  });
});

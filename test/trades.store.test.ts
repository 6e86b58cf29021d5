/**
 * The trade port's contract (src/persistence/trades.ts), run over every adapter that implements it:
 * SQLite always, PostgreSQL where one is reachable (a fresh schema), MongoDB where MONGO_URL is
 * set (its decisions on driver errors are unit-tested in test/mongo-trades.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TradeRecord } from "../src/domain/trade.js";
import { MongoStore } from "../src/persistence/mongo.js";
import { PostgresStore } from "../src/persistence/postgres.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import type { Store } from "../src/persistence/store.js";
import type { TradeStore } from "../src/persistence/trades.js";
import { freshSchema, postgresUnreachable, type TestSchema } from "./pg.js";

let n = 0;
function offer(from: string, to: string, at = Date.now()): TradeRecord {
  n++;
  return {
    tradeId: `trade-${n}-${Math.random()}`,
    from,
    fromName: from,
    to,
    toName: to,
    give: [{ item: "wood", qty: 1 }],
    gold: 0,
    want: [],
    wantGold: 2,
    state: "offered",
    createdAt: at,
    expiresAt: at + 60_000,
    updatedAt: at,
    coordinator: null,
    leaseUntil: 0,
  };
}

function tradeContract(name: string, open: () => Promise<Store>, close: () => Promise<void>) {
  describe(`trade store contract: ${name}`, function () {
    this.timeout(20_000);
    let store: Store;
    let trades: TradeStore;
    before(async () => {
      store = await open();
      trades = store.trades!;
      assert.ok(trades, `${name} implements the trade port`);
    });
    after(async () => {
      await store.close();
      await close();
    });

    it("stores an offer, once however often it is sent, and reads it back whole", async () => {
      const t = offer("a1", "b1");
      assert.equal(await trades.createOffer(t, 3), true);
      assert.equal(await trades.createOffer(t, 3), true);
      assert.deepEqual(await trades.loadTrade(t.tradeId), t);
      assert.equal(await trades.loadTrade("nope"), null);
    });

    it("caps open offers per sender, atomically under concurrent offers; expired ones do not count", async () => {
      const now = Date.now();
      const old = { ...offer("a2", "b2", now - 120_000) };
      await trades.createOffer(old, 3);
      const results = await Promise.all(Array.from({ length: 6 }, () => trades.createOffer(offer("a2", "b2"), 3)));
      const stored = results.filter(Boolean).length;
      // SQL adapters count and insert in one transaction; MongoDB's insert-then-count may step back more.
      if (name === "mongodb") assert.ok(stored >= 1 && stored <= 3, `${stored} stored`);
      else assert.equal(stored, 3);
      for (let i = stored; i < 3; i++) assert.equal(await trades.createOffer(offer("a2", "b2"), 3), true);
      assert.equal(await trades.createOffer(offer("a2", "b2"), 3), false);
      assert.equal((await trades.openTrades("a2", Date.now())).length, 3);
      assert.equal((await trades.openTrades("b2", Date.now())).length, 3, "the target sees them too");
      assert.deepEqual(
        (await trades.expiredOffers(Date.now())).filter((t) => t.from === "a2").map((t) => t.tradeId),
        [old.tradeId],
      );
    });

    it("moves a trade only from the states named; of concurrent moves exactly one lands", async () => {
      const t = offer("a3", "b3");
      await trades.createOffer(t, 3);
      const now = Date.now();
      const moves = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          trades.moveTrade(t.tradeId, {
            from: ["offered"],
            set: { state: "preparing", coordinator: `p${i}`, leaseUntil: now + 1000, updatedAt: now },
          }),
        ),
      );
      const landed = moves.filter((m) => m !== null);
      assert.equal(landed.length, 1);
      const stored = (await trades.loadTrade(t.tradeId))!;
      assert.equal(stored.state, "preparing");
      assert.equal(stored.coordinator, landed[0].coordinator);
      assert.equal(
        await trades.moveTrade(t.tradeId, { from: ["offered"], set: { state: "declined", updatedAt: now } }),
        null,
      );
      assert.equal((await trades.openTrades("a3", now)).length, 0);
    });

    it("takes over a trade only once its lease has ended, and lists unfinished trades for recovery", async () => {
      const t = offer("a4", "b4");
      await trades.createOffer(t, 3);
      const now = Date.now();
      await trades.moveTrade(t.tradeId, {
        from: ["offered"],
        set: { state: "committed", coordinator: "p1", leaseUntil: now + 10_000, updatedAt: now },
      });
      const take = (at: number) =>
        trades.moveTrade(t.tradeId, {
          from: ["committed"],
          leaseBefore: at,
          set: { coordinator: "p2", leaseUntil: at + 10_000, updatedAt: at },
        });
      assert.equal(await take(now), null, "the lease still runs");
      const ids = async (at: number, who: string) =>
        (await trades.unfinishedTrades(at, who)).map((x) => x.tradeId).filter((id) => id === t.tradeId);
      assert.deepEqual(await ids(now, "p2"), []);
      assert.deepEqual(await ids(now, "p1"), [t.tradeId], "its own coordinator finds it at once");
      assert.deepEqual(await ids(now + 20_000, "p2"), [t.tradeId]);
      assert.equal((await take(now + 20_000))!.coordinator, "p2");
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "realmgate-trades-"));
tradeContract(
  "sqlite",
  () => SqliteStore.open(join(dir, "realmgate.db")),
  () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
);

const unreachable = await postgresUnreachable();
if (unreachable) {
  console.log(`Trade store contract on PostgreSQL SKIPPED: ${unreachable}`);
  describe("trade store contract: postgres", () => it(`SKIPPED: ${unreachable}`));
} else {
  let schema: TestSchema;
  tradeContract(
    "postgres",
    async () => {
      schema = await freshSchema();
      return PostgresStore.connect(schema.url, { poolSize: 4 });
    },
    () => schema.drop(),
  );
}

const mongoUrl = process.env.MONGO_URL;
if (!mongoUrl) {
  console.log("Trade store contract on MongoDB SKIPPED: MONGO_URL is not set (no MongoDB server can run here)");
  describe("trade store contract: mongodb", () => it("SKIPPED: MONGO_URL is not set"));
} else {
  const url = new URL(mongoUrl);
  url.pathname = `/realmgate_trades_${Math.random().toString(36).slice(2, 10)}`;
  tradeContract(
    "mongodb",
    () => MongoStore.connect(url.toString(), { eventTtlMs: 86_400_000 }),
    () => Promise.resolve(),
  );
}

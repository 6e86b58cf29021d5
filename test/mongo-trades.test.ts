/**
 * The MongoDB trade adapter's decisions (src/persistence/mongo-trades.ts) on fabricated driver
 * results and errors: MongoDB cannot run on this machine, so these check what the adapter makes of
 * a duplicate key (11000), a write conflict (112), a timeout after the write landed, a lost race
 * and an outage. test/trades.store.test.ts runs the full contract on MongoDB where MONGO_URL is set.
 */
import assert from "node:assert/strict";
import type { TradeRecord } from "../src/domain/trade.js";
import { MongoTrades, retryable, type TradeCollection, type TradeDoc } from "../src/persistence/mongo-trades.js";
import { StoreUnavailableError } from "../src/persistence/store.js";

const NOW = 1_800_000_000_000;
const trade: TradeRecord = {
  tradeId: "t1",
  from: "a",
  fromName: "A",
  to: "b",
  toName: "B",
  give: [{ item: "wood", qty: 1 }],
  gold: 0,
  want: [],
  wantGold: 3,
  state: "preparing",
  createdAt: NOW,
  expiresAt: NOW + 60_000,
  updatedAt: NOW,
  coordinator: "p1",
  leaseUntil: NOW + 15_000,
};

/** A fake collection: every call is recorded, and each method answers from a script. */
function fake(script: Partial<{ [K in keyof TradeCollection]: (...args: never[]) => unknown }>) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const collection = new Proxy({} as TradeCollection, {
    get:
      (_, method: string) =>
      (...args: unknown[]) => {
        calls.push({ method, args });
        const answer = (script as Record<string, (...a: unknown[]) => unknown>)[method];
        if (!answer) throw new Error(`unexpected call ${method}`);
        return Promise.resolve().then(() => answer(...args));
      },
  });
  return { collection, calls };
}

const networkTimeout = () => Object.assign(new Error("connection timed out"), { name: "MongoNetworkTimeoutError" });
const writeConflict = () => Object.assign(new Error("WriteConflict"), { name: "MongoServerError", code: 112 });

describe("mongodb trade adapter: decisions on driver answers", () => {
  it("takes a duplicate key (11000) on an offer's insert as the earlier attempt having landed", async () => {
    const { collection, calls } = fake({
      insertOne: () => {
        throw Object.assign(new Error("E11000 duplicate key"), { name: "MongoServerError", code: 11000 });
      },
    });
    assert.equal(await new MongoTrades(collection).createOffer({ ...trade, state: "offered" }, 3), true);
    assert.deepEqual(
      calls.map((c) => c.method),
      ["insertOne"],
    );
  });

  it("takes an offer back when the sender's open offers, its own included, pass the cap", async () => {
    const over = fake({ insertOne: () => ({}), countDocuments: () => 4, deleteOne: () => ({ deletedCount: 1 }) });
    assert.equal(await new MongoTrades(over.collection).createOffer({ ...trade, state: "offered" }, 3), false);
    assert.deepEqual(over.calls[2], { method: "deleteOne", args: [{ _id: "t1", state: "offered" }] });
    const within = fake({ insertOne: () => ({}), countDocuments: () => 3 });
    assert.equal(await new MongoTrades(within.collection).createOffer({ ...trade, state: "offered" }, 3), true);
    const counted = within.calls[1].args[0] as Record<string, unknown>;
    assert.deepEqual(counted, { from: "a", state: "offered", expiresAt: { $gt: NOW }, createdAt: { $lte: NOW } });
  });

  it("moves with one conditional update on the states it may leave, and answers the record without driver fields", async () => {
    const { collection, calls } = fake({
      findOneAndUpdate: (_f: never, u: { $set: Partial<TradeDoc> }) => ({ ...trade, _id: "t1", ...u.$set }),
    });
    const moved = await new MongoTrades(collection).moveTrade("t1", {
      from: ["preparing"],
      leaseBefore: NOW,
      set: { state: "committed", updatedAt: NOW + 1 },
    });
    assert.deepEqual(moved, { ...trade, state: "committed", updatedAt: NOW + 1 });
    assert.deepEqual(calls[0].args[0], { _id: "t1", state: { $in: ["preparing"] }, leaseUntil: { $lt: NOW } });
  });

  it("sends a move again after a write conflict (112), with the same move id", async () => {
    let n = 0;
    const { collection, calls } = fake({
      findOneAndUpdate: (_f: never, u: { $set: Partial<TradeDoc> }) => {
        if (n++ === 0) throw writeConflict();
        return { ...trade, _id: "t1", ...u.$set };
      },
    });
    const moved = await new MongoTrades(collection).moveTrade("t1", {
      from: ["preparing"],
      set: { state: "committed", updatedAt: NOW },
    });
    assert.equal(moved?.state, "committed");
    const ids = calls.map((c) => (c.args[1] as { $set: { lastMove: string } }).$set.lastMove);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
  });

  it("after a timeout whose write landed, finds its own move id on the document: the move succeeded once", async () => {
    let stored: TradeDoc = { ...trade, _id: "t1" };
    let n = 0;
    const { collection } = fake({
      findOneAndUpdate: (filter: { state: { $in: string[] } }, u: { $set: Partial<TradeDoc> }) => {
        if (!filter.state.$in.includes(stored.state)) return null;
        stored = { ...stored, ...u.$set };
        if (n++ === 0) throw networkTimeout(); // the write landed, the answer was lost
        return stored;
      },
      findOne: () => stored,
    });
    const moved = await new MongoTrades(collection).moveTrade("t1", {
      from: ["preparing"],
      set: { state: "committed", updatedAt: NOW },
    });
    assert.equal(moved?.state, "committed", "not mistaken for a lost race");
    assert.equal(n, 1, "the update was applied once");
  });

  it("answers null when another move won (the document carries another move id)", async () => {
    const { collection } = fake({
      findOneAndUpdate: () => null,
      findOne: () => ({ ...trade, _id: "t1", state: "aborted", lastMove: "someone-else" }),
    });
    const moved = await new MongoTrades(collection).moveTrade("t1", {
      from: ["preparing"],
      set: { state: "committed", updatedAt: NOW },
    });
    assert.equal(moved, null);
  });

  it("reports the store unavailable after three unanswered attempts, and does not retry an error that is not transient", async () => {
    const down = fake({
      findOne: () => {
        throw networkTimeout();
      },
    });
    await assert.rejects(new MongoTrades(down.collection).loadTrade("t1"), StoreUnavailableError);
    assert.equal(down.calls.length, 3);
    const bad = fake({
      findOne: () => {
        throw Object.assign(new Error("bad query"), { name: "MongoServerError", code: 2 });
      },
    });
    await assert.rejects(new MongoTrades(bad.collection).loadTrade("t1"), /bad query/);
    assert.equal(bad.calls.length, 1);
  });

  it("classifies driver errors: conflicts, retryable labels and network failures are transient", () => {
    assert.equal(retryable(writeConflict()), true);
    assert.equal(retryable(networkTimeout()), true);
    assert.equal(retryable({ name: "MongoServerError", errorLabels: ["RetryableWriteError"] }), true);
    assert.equal(retryable({ name: "MongoServerError", code: 11000 }), false);
    assert.equal(retryable(new Error("x")), false);
  });
});

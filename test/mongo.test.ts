/**
 * The store contract against MongoDB: at MONGO_URL when set, else on a mongodb-memory-server
 * where it can fetch its binary. Where neither works the suite is skipped, and the output says
 * so in one line with the reason.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { accountInsertError, accountSchema, MongoStore } from "../src/persistence/mongo.js";
import { UsernameTakenError } from "../src/persistence/store.js";
import { storeContract } from "./store.contract.js";

async function findMongo(): Promise<{ url: string; stop?: () => Promise<unknown> } | { skip: string }> {
  if (process.env.MONGO_URL) return { url: process.env.MONGO_URL };
  try {
    const { MongoBinary, MongoMemoryServer } = await import("mongodb-memory-server-core");
    // Fetch the binary first: where that fails, it fails quietly (create() would print a stack).
    const server = await Promise.race([
      MongoBinary.getPath().then(() => MongoMemoryServer.create()),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out after 60 s")), 60_000).unref()),
    ]);
    return { url: server.getUri(), stop: () => server.stop() };
  } catch (err) {
    const e = err as { msg?: string; message?: string };
    return {
      skip: `no MONGO_URL, and mongodb-memory-server could not start: ${(e.msg ?? e.message ?? String(err)).replace(/\s+/g, " ").slice(0, 160)}`,
    };
  }
}

const mongo = await findMongo();

if ("url" in mongo) {
  // A database of its own for every test, so each starts empty.
  const withDb = (db: string) => {
    const u = new URL(mongo.url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  storeContract("mongodb", () =>
    MongoStore.connect(withDb(`realmgate_test_${randomUUID().slice(0, 8)}`), { eventTtlMs: 86_400_000 }),
  );
  after(async () => mongo.stop?.());
} else {
  console.log(`MongoDB store contract SKIPPED: ${mongo.skip}`);
  describe("store contract: mongodb", () => {
    it(`SKIPPED: ${mongo.skip}`);
  });
}

// MongoDB cannot run here: what the adapter makes of the driver's duplicate-key errors is checked on
// fabricated ones, and the unique skeleton index on the schema the adapter syncs at start-up.
describe("mongodb accounts: look-alikes held by a unique index (fabricated driver errors)", () => {
  const duplicate = (keyPattern: Record<string, number>) =>
    Object.assign(new Error("E11000 duplicate key error"), { name: "MongoServerError", code: 11000, keyPattern });

  it("reads a duplicate skeleton as a look-alike, a duplicate username as taken, anything else as itself", () => {
    const lookalike = accountInsertError(duplicate({ skeleton: 1 }), "Diana");
    assert.ok(lookalike instanceof UsernameTakenError && lookalike.lookalike);
    const taken = accountInsertError(duplicate({ usernameKey: 1 }), "diana");
    assert.ok(taken instanceof UsernameTakenError && !taken.lookalike);
    const other = duplicate({ _id: 1 });
    assert.equal(accountInsertError(other, "diana"), other);
    const outage = new Error("connection reset");
    assert.equal(accountInsertError(outage, "diana"), outage);
  });

  it("declares the skeleton index unique over registered accounts only", () => {
    const index = accountSchema.indexes().find(([keys]) => "skeleton" in keys);
    assert.ok(index, "no skeleton index");
    assert.equal(index[1].unique, true);
    assert.deepEqual(index[1].partialFilterExpression, { skeleton: { $type: "string" } });
  });
});

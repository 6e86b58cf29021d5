/**
 * The contract every store adapter passes. Adapter test files call `storeContract` with a
 * factory that returns a fresh, empty store.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { newProfile } from "../src/rules/profile.js";
import { StaleProfileError, UsernameTakenError, type Store } from "../src/persistence/store.js";

export function storeContract(name: string, open: () => Promise<Store>) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => (store = await open()));
    afterEach(async () => store.close());

    const account = (username: string | null = null) => ({
      userId: randomUUID(),
      username,
      name: username ?? "Guest",
      passwordHash: username ? "scrypt$1$1$1$c2FsdA==$aGFzaA==" : null,
    });

    it("creates and finds accounts", async () => {
      const a = await store.createAccount(account("alice"));
      assert.ok(a.createdAt > 0);
      assert.deepEqual(await store.getAccount(a.userId), a);
      assert.deepEqual(await store.findAccountByUsername("alice"), a);
      assert.equal(await store.getAccount(randomUUID()), null);
      assert.equal(await store.findAccountByUsername("bob"), null);
    });

    it("keeps usernames unique, case-insensitively, and allows many guests", async () => {
      await store.createAccount(account("alice"));
      await assert.rejects(store.createAccount(account("Alice")), UsernameTakenError);
      await store.createAccount(account(null));
      await store.createAccount(account(null));
      assert.equal((await store.findAccountByUsername("ALICE"))?.username, "alice");
    });

    it("saves whole profiles with a version, and refuses stale writers", async () => {
      const a = await store.createAccount(account("carol"));
      assert.equal(await store.loadProfile(a.userId), null);
      const v1 = await store.saveProfile(newProfile(a));
      assert.equal(v1.version, 1);
      await assert.rejects(store.saveProfile(newProfile(a)), StaleProfileError, "a second create loses");

      const changed = { ...v1, gold: 10, inventory: [{ item: "wood", qty: 2 }], location: { world: "meadow", x: 1.5, y: 2 } };
      const v2 = await store.saveProfile(changed);
      assert.equal(v2.version, 2);
      assert.deepEqual(await store.loadProfile(a.userId), v2);

      await assert.rejects(store.saveProfile({ ...v1, gold: 999 }), StaleProfileError, "a writer holding version 1");
      assert.equal((await store.loadProfile(a.userId))?.gold, 10);
    });

    it("lets exactly one of two concurrent writers of one version win", async () => {
      const a = await store.createAccount(account("dave"));
      const v1 = await store.saveProfile(newProfile(a));
      const results = await Promise.allSettled([
        store.saveProfile({ ...v1, gold: 1 }),
        store.saveProfile({ ...v1, gold: 2 }),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      assert.equal(results.filter((r) => r.status === "rejected" && r.reason instanceof StaleProfileError).length, 1);
    });

    it("answers ping while up", async () => {
      await store.ping();
    });
  });
}

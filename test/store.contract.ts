/**
 * The contract every store adapter passes. Adapter test files call `storeContract` with a
 * factory that returns a fresh, empty store.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { newProfile } from "../src/domain/profile.js";
import {
  StaleProfileError,
  UsernameTakenError,
  type MatchRecord,
  type Store,
  type Tx,
} from "../src/persistence/store.js";
import { socialContract } from "./social.contract.js";

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

    socialContract(() => store);

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

    it("finds registered accounts by their look-alike skeleton, never guests", async () => {
      const { skeleton, ...created } = await store.createAccount({ ...account("d1ana"), skeleton: "dlana" });
      assert.equal(skeleton, "dlana");
      assert.deepEqual(await store.findAccountBySkeleton("dlana"), created);
      await store.createAccount({ ...account(null), name: "dlana", skeleton: null });
      assert.equal(await store.findAccountBySkeleton("other"), null);
    });

    it("holds one registered account per look-alike skeleton: of two registered at once, exactly one lands", async () => {
      const [a, b] = await Promise.allSettled([
        store.createAccount({ ...account("d1ana"), skeleton: "dlana" }),
        store.createAccount({ ...account("Diana"), skeleton: "dlana" }),
      ]);
      const landed = [a, b].filter((r) => r.status === "fulfilled");
      const refused = [a, b].flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      assert.equal(landed.length, 1);
      assert.equal(refused.length, 1);
      assert.ok(refused[0] instanceof UsernameTakenError, String(refused[0]));
      assert.equal(refused[0].lookalike, true);
      const holder = (landed[0] as PromiseFulfilledResult<{ userId: string }>).value.userId;
      assert.equal((await store.findAccountBySkeleton("dlana"))?.userId, holder);
      // The same username is still told apart from a look-alike; guests (no skeleton) stay many.
      const same = await store.createAccount({ ...account("DIANA"), skeleton: "dlana" }).catch((e: unknown) => e);
      assert.ok(same instanceof UsernameTakenError);
      await store.createAccount({ ...account(null), skeleton: null });
      await store.createAccount({ ...account(null), skeleton: null });
    });

    it("saves whole profiles with a version, and refuses stale writers", async () => {
      const a = await store.createAccount(account("carol"));
      assert.equal(await store.loadProfile(a.userId), null);
      const v1 = await store.saveProfile(newProfile(a, 100), "op-1");
      assert.equal(v1.version, 1);
      await assert.rejects(
        store.saveProfile(newProfile(a, 100), "op-other"),
        StaleProfileError,
        "a second create loses",
      );

      const changed = {
        ...v1,
        gold: 10,
        inventory: [{ item: "wood", qty: 2 }],
        location: { world: "meadow", x: 1.5, y: 2 },
      };
      const v2 = await store.saveProfile(changed, "op-2");
      assert.equal(v2.version, 2);
      assert.deepEqual(await store.loadProfile(a.userId), v2);

      await assert.rejects(
        store.saveProfile({ ...v1, gold: 999 }, "op-3"),
        StaleProfileError,
        "a writer holding version 1",
      );
      assert.equal((await store.loadProfile(a.userId))?.gold, 10);
    });

    it("applies a retried inventory change once (same operation id)", async () => {
      const a = await store.createAccount(account("dora"));
      const v1 = await store.saveProfile({ ...newProfile(a, 100), inventory: [{ item: "wood", qty: 1 }] }, "create");
      // A pickup of 2 bones: the write lands, its answer is lost, the caller retries it.
      const pickup = {
        ...v1,
        inventory: [
          { item: "wood", qty: 1 },
          { item: "bone", qty: 2 },
        ],
      };
      const first = await store.saveProfile(pickup, "pickup-1");
      const retry = await store.saveProfile(pickup, "pickup-1");
      assert.equal(first.version, 2);
      assert.equal(retry.version, 2, "the retry does not count as another write");
      assert.deepEqual((await store.loadProfile(a.userId))?.inventory, [
        { item: "wood", qty: 1 },
        { item: "bone", qty: 2 },
      ]);
      // The retry may carry a newer snapshot of the same copy (more changed meanwhile): it wins.
      await store.saveProfile({ ...pickup, gold: 3 }, "pickup-1");
      assert.equal((await store.loadProfile(a.userId))?.gold, 3);
      // Another operation from the same old version is someone else's: refused.
      await assert.rejects(store.saveProfile({ ...v1, inventory: [] }, "gather-9"), StaleProfileError);
      // A retry of a create is idempotent too.
      const b = await store.createAccount(account("dora2"));
      await store.saveProfile(newProfile(b, 100), "create-b");
      assert.equal((await store.saveProfile(newProfile(b, 100), "create-b")).version, 1);
    });

    it("lets exactly one of many concurrent writers of one version win", async () => {
      const a = await store.createAccount(account("dave"));
      const v1 = await store.saveProfile(newProfile(a, 100), "create");
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.saveProfile({ ...v1, inventory: [{ item: `sword-${i}`, qty: 1 }] }, `w-${i}`),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      assert.equal(results.filter((r) => r.status === "rejected" && r.reason instanceof StaleProfileError).length, 7);
      assert.equal((await store.loadProfile(a.userId))?.inventory.length, 1, "one sword, in one inventory");
    });

    it("appends events idempotently and reads them back in order after a sequence", async () => {
      const now = Date.now();
      const ev = (roomId: string, seq: number, at = now) => ({
        roomId,
        seq,
        at,
        type: "combat",
        data: { damage: seq },
      });
      await store.appendEvents([ev("r1", 1), ev("r1", 2), ev("r2", 1)]);
      await store.appendEvents([ev("r1", 2), ev("r1", 3)]); // a retried batch overlapping the first
      assert.deepEqual(
        (await store.eventsAfter("r1", 0, 100)).map((e) => e.seq),
        [1, 2, 3],
      );
      assert.deepEqual(await store.eventsAfter("r1", 1, 1), [ev("r1", 2)]);
      assert.deepEqual(await store.eventsAfter("r9", 0, 100), []);
      await store.appendEvents([]);
    });

    it("prunes events older than a time", async () => {
      const now = Date.now();
      await store.appendEvents([
        { roomId: "r", seq: 1, at: now - 10_000, type: "old", data: {} },
        { roomId: "r", seq: 2, at: now, type: "new", data: {} },
      ]);
      await store.pruneEvents(now - 5000);
      assert.deepEqual(
        (await store.eventsAfter("r", 0, 100)).map((e) => e.type),
        ["new"],
      );
    });

    it("keeps pending profile changes until deleted, oldest first, the first save of an id winning", async () => {
      const pending = (id: string, at: number, rating: number) => ({
        id,
        userId: `user-${id}`,
        name: "Erin",
        change: { type: "rating", matchId: `m-${id}`, rating, played: { room: "match", data: { winner: null } } },
        at,
      });
      await store.savePendingChange(pending("b", 2000, 1210));
      await store.savePendingChange(pending("a", 1000, 1190));
      await store.savePendingChange(pending("c", 3000, 1200));
      await store.savePendingChange(pending("a", 1500, 1300)); // again: the first stays
      assert.deepEqual(await store.pendingChanges(2500, 10), [pending("a", 1000, 1190), pending("b", 2000, 1210)]);
      assert.deepEqual(await store.pendingChanges(5000, 1), [pending("a", 1000, 1190)]);
      await store.deletePendingChange("a");
      await store.deletePendingChange("a"); // not stored any more: no error
      assert.deepEqual(
        (await store.pendingChanges(5000, 10)).map((p) => p.id),
        ["b", "c"],
      );
    });

    describe("matches", () => {
      const record = (matchId: string, startedAt: number, scores: [string, number][]): MatchRecord => ({
        matchId,
        mode: "hamlet",
        status: "playing",
        players: scores.map(([userId, score]) => ({ userId, name: userId.toUpperCase(), score })),
        winner: null,
        startedAt,
        endedAt: null,
        roomId: "room1",
      });
      const tx = (matchId: string, index: number, player = "u1"): Tx => ({
        index,
        matchId,
        player,
        actions: index % 2 ? [{ type: "build", building: "hut", x: index, y: 0 }] : [],
        timeout: index % 2 === 0,
        prev: index === 1 ? "" : `h${index - 1}`,
        stateHash: `s${index}`,
        at: 1000 + index,
        hash: `h${index}`,
        sig: `sig${index}`,
      });

      it("keeps a match's record and its transactions in order, a retried append once", async () => {
        const m = randomUUID();
        await store.saveMatch(
          record(m, 100, [
            ["u1", 0],
            ["u2", 0],
          ]),
        );
        for (const i of [1, 2, 3]) await store.appendMatchTx(tx(m, i));
        await store.appendMatchTx(tx(m, 2)); // a retry
        const finished = {
          ...record(m, 100, [
            ["u1", 7],
            ["u2", 9],
          ]),
          status: "finished" as const,
          winner: "u2",
          endedAt: 200,
        };
        await store.saveMatch(finished);
        const stored = await store.loadMatch(m);
        assert.deepEqual(stored, { record: finished, chain: [tx(m, 1), tx(m, 2), tx(m, 3)], rolledBack: [] });
        assert.equal(await store.loadMatch(randomUUID()), null);
      });

      it("marks the transactions a rollback cuts, keeps them apart, and takes new ones at their indexes", async () => {
        const m = randomUUID();
        await store.saveMatch(
          record(m, 100, [
            ["u1", 0],
            ["u2", 0],
          ]),
        );
        for (const i of [1, 2, 3]) await store.appendMatchTx(tx(m, i));
        assert.equal(await store.rollbackMatchTxs(m, 1, 5000), 2);
        const replayed = { ...tx(m, 2, "u2"), hash: "other" };
        await store.appendMatchTx(replayed);
        const stored = await store.loadMatch(m);
        assert.deepEqual(stored?.chain, [tx(m, 1), replayed]);
        assert.deepEqual(stored?.rolledBack, [
          { ...tx(m, 2), rolledBackAt: 5000 },
          { ...tx(m, 3), rolledBackAt: 5000 },
        ]);
      });

      it("lists a player's matches newest first, with its score and rank", async () => {
        const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
        await store.saveMatch(
          record(a, 100, [
            ["u1", 5],
            ["u2", 9],
          ]),
        );
        await store.saveMatch(
          record(b, 300, [
            ["u1", 9],
            ["u3", 2],
          ]),
        );
        await store.saveMatch(
          record(c, 200, [
            ["u2", 1],
            ["u3", 2],
          ]),
        );
        const mine = await store.matchesOf("u1", 10);
        assert.deepEqual(
          mine.map((s) => [s.matchId, s.score, s.rank, s.mode, s.status, s.endedAt]),
          [
            [b, 9, 1, "hamlet", "playing", null],
            [a, 5, 2, "hamlet", "playing", null],
          ],
        );
        assert.equal((await store.matchesOf("u1", 1)).length, 1);
        assert.deepEqual(await store.matchesOf("nobody", 10), []);
      });
    });

    it("answers ping while up", async () => {
      await store.ping();
    });

    it("takes a write probe while up, and refuses it once closed", async () => {
      await store.probe();
      await store.probe();
      await store.close();
      await assert.rejects(store.probe());
    });
  });
}

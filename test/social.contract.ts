/**
 * The social part of the store contract (PROTOCOL §7): friend links and leaderboard ranks, run on
 * every adapter from test/store.contract.ts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { newProfile } from "../src/domain/profile.js";
import type { Store } from "../src/persistence/store.js";

export function socialContract(store: () => Store) {
  const user = async (name: string) => {
    const a = await store().createAccount({ userId: randomUUID(), username: null, name, passwordHash: null });
    return a.userId;
  };
  const links = async (userId: string) => (await store().friendsOf(userId)).map((l) => `${l.name}:${l.state}`).sort();

  describe("friends", () => {
    it("requests, accepts, lists both sides, and refuses what is already so", async () => {
      const [ann, bob] = [await user("Ann"), await user("Bob")];
      assert.equal(await store().requestFriend(ann, bob, 200), "requested");
      assert.deepEqual(await links(ann), ["Bob:outgoing"]);
      assert.deepEqual(await links(bob), ["Ann:incoming"]);
      assert.equal(await store().requestFriend(ann, bob, 200), "already");
      assert.equal(await store().acceptFriend(ann, bob, 200), "not_found", "only the asked side accepts");
      assert.equal(await store().acceptFriend(bob, ann, 200), "friends");
      assert.deepEqual(await links(ann), ["Bob:friends"]);
      assert.deepEqual(await links(bob), ["Ann:friends"]);
      assert.equal(await store().acceptFriend(bob, ann, 200), "already");
      assert.equal(await store().requestFriend(bob, ann, 200), "already");
    });

    it("a request both ways makes friends at once", async () => {
      const [ann, bob] = [await user("Ann"), await user("Bob")];
      assert.equal(await store().requestFriend(ann, bob, 200), "requested");
      assert.equal(await store().requestFriend(bob, ann, 200), "friends");
      assert.deepEqual(await links(ann), ["Bob:friends"]);
    });

    it("removes a friend, declines and withdraws requests, both ways", async () => {
      const [ann, bob, cid] = [await user("Ann"), await user("Bob"), await user("Cid")];
      await store().requestFriend(ann, bob, 200);
      await store().acceptFriend(bob, ann, 200);
      assert.equal(await store().removeFriend(bob, ann), true);
      assert.deepEqual(await links(ann), []);
      assert.equal(await store().removeFriend(bob, ann), false);
      await store().requestFriend(ann, cid, 200);
      assert.equal(await store().removeFriend(cid, ann), true, "declined");
      await store().requestFriend(ann, cid, 200);
      assert.equal(await store().removeFriend(ann, cid), true, "withdrawn");
      assert.deepEqual(await links(cid), []);
      assert.equal(await store().acceptFriend(cid, ann, 200), "not_found");
    });

    it("holds at most `max` friends on either side", async () => {
      const [ann, bob, cid, dan] = [await user("Ann"), await user("Bob"), await user("Cid"), await user("Dan")];
      await store().requestFriend(ann, bob, 1);
      assert.equal(await store().acceptFriend(bob, ann, 1), "friends");
      assert.equal(await store().requestFriend(ann, cid, 1), "limit", "the asker is full");
      await store().requestFriend(cid, ann, 1);
      assert.equal(await store().acceptFriend(ann, cid, 1), "limit", "the accepter is full");
      await store().requestFriend(dan, bob, 1);
      assert.equal(await store().acceptFriend(bob, dan, 1), "limit");
      assert.deepEqual(await links(ann), ["Bob:friends", "Cid:incoming"]);
    });
  });

  describe("leaderboards", () => {
    it("ranks by index with ties sharing a rank, pages at any offset, and finds a player's rank", async () => {
      const players: Array<[string, number, number, number | undefined]> = [
        ["A", 50, 1300, 9000],
        ["B", 30, 1200, 7000],
        ["C", 30, 1200, 9000],
        ["D", 10, 1250, undefined],
        ["E", 30, 1100, 12000],
      ];
      const ids = new Map<string, string>();
      for (const [name, xp, rating, crypt] of players) {
        const userId = await user(name);
        ids.set(name, userId);
        const profile = { ...newProfile({ userId, name }, 100), xp, rating };
        await store().saveProfile(crypt === undefined ? profile : { ...profile, bests: { crypt } }, `seed-${name}`);
      }
      const page = async (board: "level" | "crypt-fastest" | "match-rating", limit: number, offset: number) =>
        (await store().leaderboard(board, limit, offset)).map((e) => `${e.rank}:${e.name}:${e.score}`);

      const level = await page("level", 10, 0);
      assert.deepEqual(
        level.map((e) => e.split(":")[0]),
        ["1", "2", "2", "2", "5"],
      );
      assert.deepEqual([level[0], level[4]], ["1:A:50", "5:D:10"]);
      assert.deepEqual(level.slice(1, 4).sort(), ["2:B:30", "2:C:30", "2:E:30"]);
      // A page that starts inside a tie still gives the tie its shared rank.
      assert.deepEqual(
        (await page("level", 2, 2)).map((e) => e.split(":")[0]),
        ["2", "2"],
      );
      assert.deepEqual(await page("level", 2, 4), ["5:D:10"]);
      assert.deepEqual(await page("level", 2, 10), []);

      // Within a tie the order is by userId (random here): compare ties as sets.
      const crypt = await page("crypt-fastest", 10, 0);
      assert.deepEqual([crypt[0], crypt[3]], ["1:B:7000", "4:E:12000"]);
      assert.deepEqual(crypt.slice(1, 3).sort(), ["2:A:9000", "2:C:9000"]);
      const rating = await page("match-rating", 10, 0);
      assert.deepEqual([rating[0], rating[1], rating[4]], ["1:A:1300", "2:D:1250", "5:E:1100"]);
      assert.deepEqual(rating.slice(2, 4).sort(), ["3:B:1200", "3:C:1200"]);

      assert.deepEqual(await store().rankOf("level", ids.get("C")!), { rank: 2, score: 30 });
      assert.deepEqual(await store().rankOf("crypt-fastest", ids.get("E")!), { rank: 4, score: 12000 });
      assert.equal(await store().rankOf("crypt-fastest", ids.get("D")!), null, "no clear, no crypt rank");
      assert.equal(await store().rankOf("level", randomUUID()), null);
    });

    it("follows profile saves", async () => {
      const userId = await user("Riser");
      const v1 = await store().saveProfile({ ...newProfile({ userId, name: "Riser" }, 100), xp: 5 }, "r-1");
      const other = await user("Other");
      await store().saveProfile({ ...newProfile({ userId: other, name: "Other" }, 100), xp: 10 }, "o-1");
      assert.equal((await store().rankOf("level", userId))?.rank, 2);
      await store().saveProfile({ ...v1, xp: 20 }, "r-2");
      assert.deepEqual(await store().rankOf("level", userId), { rank: 1, score: 20 });
    });
  });
}

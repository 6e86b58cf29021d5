/**
 * Two copies of one profile, as two processes hold them (a world on one, a match on the other):
 * the copy written second is refused as outdated, and what it changed is rebased onto the stored
 * profile unless both changed the same group of fields.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { addItem, newProfile, rebaseProfile, type Profile } from "../src/domain/profile.js";
import { ProfileCache } from "../src/persistence/profiles.js";
import { SqliteStore } from "../src/persistence/sqlite.js";

const base: Profile = { ...newProfile({ userId: "u1", name: "erin" }, 100), version: 3 };
const stats = (won: number) => ({
  kills: 0,
  deaths: 0,
  gathered: 0,
  trades: 0,
  matchesPlayed: won,
  matchesWon: won,
  dungeonsCleared: 0,
});

describe("rules: rebasing a profile copy", () => {
  it("takes each group only one side changed, and the stored version", () => {
    const mine = { ...base, location: { world: "meadow", x: 10, y: 20 }, hp: 80 };
    const theirs = { ...base, rating: 1216, ratedMatches: ["m1"], version: 4 };
    assert.deepEqual(rebaseProfile(base, mine, theirs), {
      ...base,
      location: { world: "meadow", x: 10, y: 20 },
      hp: 80,
      rating: 1216,
      ratedMatches: ["m1"],
      version: 4,
    });
  });

  it("refuses when both changed one group, goods and escrow counting as one", () => {
    const mine = { ...base, inventory: addItem(base.inventory, "wood", 1) };
    assert.equal(rebaseProfile(base, mine, { ...base, gold: 5, version: 4 }), null);
    assert.equal(
      rebaseProfile(base, mine, { ...base, escrow: [{ tradeId: "t1", items: [], gold: 0 }], version: 4 }),
      null,
    );
    assert.equal(rebaseProfile(base, { ...base, xp: 10 }, { ...base, stats: stats(1), version: 4 }), null);
  });

  it("keeps a field one side removed, and fields outside the groups on their own", () => {
    const withEscrow = { ...base, escrow: [{ tradeId: "t1", items: [], gold: 0 }] };
    const mine: Profile = { ...withEscrow };
    delete mine.escrow;
    const theirs = { ...withEscrow, name: "Erin", version: 4 };
    const rebased = rebaseProfile(withEscrow, mine, theirs)!;
    assert.equal(rebased.name, "Erin");
    assert.ok(!("escrow" in rebased));
  });
});

describe("profile copies on two processes", () => {
  let dir: string;
  let store: SqliteStore;
  const log = pino({ level: "silent" });
  const cache = () => new ProfileCache(store, log, { intervalMs: 60_000, maxPending: 100 });
  const account = { userId: "u1", name: "erin" };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "realmgate-copies-"));
    store = new SqliteStore(join(dir, "realmgate.db"));
    await store.createAccount({ ...account, username: null, passwordHash: null });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the second copy's changes on top of the first's, and keeps writing it", async () => {
    const [world, match] = [cache(), cache()];
    const walking = await world.checkout(account);
    const playing = await match.checkout(account);
    playing.rating = 1216;
    playing.ratedMatches = ["m1"];
    match.touch("u1");
    assert.equal(await match.flush("u1"), true);

    walking.location = { world: "meadow", x: 10, y: 20 };
    world.touch("u1");
    assert.equal(await world.flush("u1"), true, "rebased and written, not dropped");
    assert.equal(walking.rating, 1216, "the room's own object took the other copy's change");
    let stored = await store.loadProfile("u1");
    assert.deepEqual([stored?.location, stored?.rating], [{ world: "meadow", x: 10, y: 20 }, 1216]);

    // Both copies go on: each later write lands on top of the other's.
    walking.location = { world: "meadow", x: 30, y: 20 };
    world.touch("u1");
    assert.equal(await world.flush("u1"), true);
    playing.stats = stats(1);
    match.touch("u1");
    assert.equal(await match.flush("u1"), true);
    stored = await store.loadProfile("u1");
    assert.deepEqual(
      [stored?.location, stored?.rating, stored?.stats],
      [{ world: "meadow", x: 30, y: 20 }, 1216, stats(1)],
    );
  });

  it("drops the copy written second when both changed its goods, and keeps the first's", async () => {
    const [one, two] = [cache(), cache()];
    const first = await one.checkout(account);
    const second = await two.checkout(account);
    first.inventory = addItem(first.inventory, "wood", 1);
    one.touch("u1");
    assert.equal(await one.flush("u1"), true);
    second.inventory = addItem(second.inventory, "stone", 1);
    two.touch("u1");
    assert.equal(await two.flush("u1"), false);
    assert.equal(two.get("u1"), undefined, "the outdated copy is dropped");
    assert.deepEqual((await store.loadProfile("u1"))?.inventory, [{ item: "wood", qty: 1 }]);
  });
});

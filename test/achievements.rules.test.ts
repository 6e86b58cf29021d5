/** The achievement rules (src/rules/achievements.ts) from fixed events: stats, bests, unlocks once. */
import assert from "node:assert/strict";
import { achievements } from "../src/content/achievements.js";
import { emptyStats } from "../src/domain/social.js";
import { advance, type PlayEvent, type Progress } from "../src/rules/achievements.js";

const me = { sessionId: "s1", userId: "u1" };
const fresh = (): Progress => ({ stats: emptyStats(), achievements: [], bests: {} });
const ev = (room: string, label: string, type: string, data: Record<string, unknown>): PlayEvent => ({
  room,
  label,
  type,
  data,
});

describe("achievement rules", () => {
  it("a trade counts for both sides and unlocks trader once", () => {
    const trade = ev("world", "meadow", "trade", { from: "u1", to: "u2", items: [] });
    const one = advance(fresh(), trade, me, 10, achievements)!;
    assert.equal(one.progress.stats.trades, 1);
    assert.deepEqual(
      one.unlocked.map((a) => a.id),
      ["trader"],
    );
    assert.deepEqual(one.progress.achievements, [{ id: "trader", at: 10 }]);
    const other = advance(fresh(), trade, { sessionId: "s2", userId: "u2" }, 10, achievements)!;
    assert.equal(other.progress.stats.trades, 1);
    const two = advance(one.progress, trade, me, 20, achievements)!;
    assert.equal(two.progress.stats.trades, 2);
    assert.deepEqual(two.unlocked, []);
    assert.deepEqual(two.progress.achievements, [{ id: "trader", at: 10 }]);
    assert.equal(advance(fresh(), trade, { sessionId: "s3", userId: "u3" }, 10, achievements), null);
  });

  it("ignores events that do not concern the player, and leaves the old progress alone", () => {
    const before = fresh();
    assert.equal(
      advance(before, ev("world", "meadow", "gathered", { sessionId: "s2", qty: 1 }), me, 1, achievements),
      null,
    );
    const after = advance(before, ev("world", "meadow", "gathered", { sessionId: "s1", qty: 3 }), me, 1, achievements)!;
    assert.equal(after.progress.stats.gathered, 3);
    assert.equal(before.stats.gathered, 0);
  });

  it("gatherer at 50 gathered; kills, deaths, first-steps only in a world", () => {
    let p = { ...fresh(), stats: { ...emptyStats(), gathered: 49 } };
    const got = advance(p, ev("world", "meadow", "gathered", { sessionId: "s1", qty: 1 }), me, 5, achievements)!;
    assert.deepEqual(
      got.unlocked.map((a) => a.id),
      ["gatherer"],
    );
    p = fresh();
    const kill = ev("dungeon", "crypt", "combat", { source: "s1", target: "e1", killed: true });
    assert.equal(advance(p, kill, me, 1, achievements)!.progress.stats.kills, 1);
    assert.equal(advance(p, { ...kill, data: { source: "s1", killed: false } }, me, 1, achievements), null);
    assert.equal(
      advance(p, ev("dungeon", "crypt", "died", { hero: "s1" }), me, 1, achievements)!.progress.stats.deaths,
      1,
    );
    assert.deepEqual(
      advance(p, ev("world", "dunes", "joined", { sessionId: "s1" }), me, 1, achievements)!.unlocked.map((a) => a.id),
      ["first-steps"],
    );
    assert.deepEqual(
      advance(p, ev("dungeon", "crypt", "joined", { sessionId: "s1" }), me, 1, achievements)!.unlocked,
      [],
    );
  });

  it("a clear gives every hero of the party the clear and keeps the fastest time per dungeon", () => {
    const clear = (ms: number, label = "crypt") =>
      ev("dungeon", label, "cleared", { xp: 10, heroes: ["s1", "s2"], ms });
    const one = advance(fresh(), clear(9000), me, 1, achievements)!;
    assert.deepEqual(
      one.unlocked.map((a) => a.id),
      ["first-clear", "crypt-conqueror"],
    );
    assert.deepEqual(one.progress.bests, { crypt: 9000 });
    const slower = advance(one.progress, clear(12000), me, 2, achievements)!;
    assert.deepEqual(slower.progress.bests, { crypt: 9000 });
    assert.equal(slower.progress.stats.dungeonsCleared, 2);
    const faster = advance(slower.progress, clear(7000), me, 3, achievements)!;
    assert.deepEqual(faster.progress.bests, { crypt: 7000 });
    const training = advance(fresh(), clear(100, "training"), me, 1, achievements)!;
    assert.deepEqual(
      training.unlocked.map((a) => a.id),
      ["first-clear"],
    );
    assert.equal(advance(fresh(), clear(100), { sessionId: "s9", userId: "u9" }, 1, achievements), null);
  });

  it("a finished match counts for its players, the winner's win, and unlocks builder", () => {
    const finished = ev("match", "hamlet", "finished", {
      winner: "u1",
      scores: [
        { userId: "u1", name: "A", score: 5 },
        { userId: "u2", name: "B", score: 2 },
      ],
    });
    const won = advance(fresh(), finished, me, 1, achievements)!;
    assert.deepEqual([won.progress.stats.matchesPlayed, won.progress.stats.matchesWon], [1, 1]);
    assert.deepEqual(
      won.unlocked.map((a) => a.id),
      ["builder"],
    );
    const lost = advance(fresh(), finished, { sessionId: "s2", userId: "u2" }, 1, achievements)!;
    assert.deepEqual([lost.progress.stats.matchesPlayed, lost.progress.stats.matchesWon], [1, 0]);
    assert.equal(advance(fresh(), finished, { sessionId: "x", userId: "spectator" }, 1, achievements), null);
  });
});

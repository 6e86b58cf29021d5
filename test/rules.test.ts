import assert from "node:assert/strict";
import { RejectCode } from "../src/protocol/codes.js";
import { checkChat } from "../src/rules/chat.js";
import { checkGather } from "../src/rules/gather.js";
import { diffVisible, selectFirst, SpatialGrid, updateEvery } from "../src/rules/interest.js";
import { checkMove, type Mover } from "../src/rules/movement.js";
import { addItem } from "../src/domain/profile.js";
import { createRng } from "../src/domain/rng.js";
import { buildTileMap, segmentBlocked } from "../src/domain/tilemap.js";

const map = buildTileMap(1000, 1000, 10, [
  { x: 50, y: 0, w: 1, h: 100 }, // a one-tile wall at x 500-510, the whole height
]);
const policy = { speed: 100, maxBankMs: 500, tolerance: 0.1 };
const at = (x: number, y: number, extra: Partial<Mover> = {}): Mover => ({
  x,
  y,
  moveBudget: 0,
  lastMoveAt: 0,
  ...extra,
});

describe("rules: movement", () => {
  it("accepts a step within speed × elapsed time and spends the budget", () => {
    const v = checkMove(at(100, 100), { x: 110, y: 100 }, { now: 100, map, policy });
    assert.ok(v.ok);
    assert.deepEqual({ x: v.x, y: v.y, lastMoveAt: v.lastMoveAt }, { x: 110, y: 100, lastMoveAt: 100 });
    assert.equal(v.moveBudget, 0);
  });

  it("refuses a step longer than speed allows, within its tolerance", () => {
    assert.ok(checkMove(at(100, 100), { x: 111, y: 100 }, { now: 100, map, policy }).ok, "10 % tolerance");
    const v = checkMove(at(100, 100), { x: 112, y: 100 }, { now: 100, map, policy });
    assert.equal(v.ok ? "ok" : v.code, RejectCode.MoveTooFast);
  });

  it("caps what standing still banks, so a long pause does not allow a teleport", () => {
    const v = checkMove(at(100, 100), { x: 200, y: 100 }, { now: 60_000, map, policy });
    assert.equal(v.ok ? "ok" : v.code, RejectCode.MoveTooFast, "a minute still banks only 500 ms = 50 units");
    assert.ok(checkMove(at(100, 100), { x: 150, y: 100 }, { now: 60_000, map, policy }).ok);
  });

  it("absorbs jitter: two steps arriving together after a delay are fine", () => {
    const first = checkMove(at(100, 100), { x: 110, y: 100 }, { now: 200, map, policy });
    assert.ok(first.ok);
    assert.equal(first.moveBudget, 10, "the delay earned 20, the step spent 10");
    const second = checkMove(at(110, 100, first), { x: 120, y: 100 }, { now: 201, map, policy });
    assert.ok(second.ok);
  });

  it("rounds the target to whole units", () => {
    const v = checkMove(at(100, 100), { x: 104.6, y: 99.4 }, { now: 100, map, policy });
    assert.ok(v.ok);
    assert.deepEqual({ x: v.x, y: v.y }, { x: 105, y: 99 });
  });

  it("refuses a target outside the map", () => {
    for (const target of [
      { x: -1, y: 5 },
      { x: 5, y: 1000.5 },
    ]) {
      const v = checkMove(at(0, 0), target, { now: 10_000, map, policy });
      assert.equal(v.ok ? "ok" : v.code, RejectCode.MoveOutOfBounds);
    }
  });

  it("refuses a step across a blocked tile, even a thin wall", () => {
    const v = checkMove(at(495, 300), { x: 515, y: 305 }, { now: 1000, map, policy });
    assert.equal(v.ok ? "ok" : v.code, RejectCode.MoveBlocked);
  });
});

describe("rules: tile map", () => {
  it("walks every tile a segment crosses", () => {
    assert.equal(segmentBlocked(map, { x: 0, y: 0 }, { x: 499, y: 999 }), false);
    assert.equal(segmentBlocked(map, { x: 0, y: 0 }, { x: 999, y: 999 }), true);
    assert.equal(segmentBlocked(map, { x: 999, y: 10 }, { x: 511, y: 900 }), false, "right of the wall");
    assert.equal(segmentBlocked(map, { x: 505, y: 10 }, { x: 505, y: 10 }), true, "standing in the wall");
    // A diagonal that touches the wall's corner tile only.
    const corner = buildTileMap(100, 100, 10, [{ x: 5, y: 5, w: 1, h: 1 }]);
    assert.equal(segmentBlocked(corner, { x: 0, y: 0 }, { x: 99, y: 99 }), true);
    assert.equal(segmentBlocked(corner, { x: 0, y: 20 }, { x: 40, y: 99 }), false);
  });
});

describe("rules: interest", () => {
  it("returns the nearest ids within the radius, capped, ties broken by id", () => {
    const grid = new SpatialGrid<string>(100);
    grid.set("self", 500, 500);
    grid.set("b", 520, 500); // 20
    grid.set("a", 480, 500); // 20, ties with b
    grid.set("c", 500, 560); // 60
    grid.set("far", 700, 500); // 200: outside
    assert.deepEqual(grid.nearest({ x: 500, y: 500 }, 100, 10, "self"), ["a", "b", "c"]);
    assert.deepEqual(grid.nearest({ x: 500, y: 500 }, 100, 2, "self"), ["a", "b"]);
    grid.set("far", 500, 590); // moved within range, across cells
    assert.deepEqual(grid.nearest({ x: 500, y: 500 }, 100, 10, "self"), ["a", "b", "c", "far"]);
    grid.delete("a");
    assert.deepEqual(grid.nearest({ x: 500, y: 500 }, 100, 10, "self"), ["b", "c", "far"]);
    assert.equal(grid.size, 4);
  });

  it("in a crowd, picks the same nearest as ranking every candidate", () => {
    const rng = createRng(7);
    const grid = new SpatialGrid<string>(50);
    const at = new Map<string, { x: number; y: number }>();
    for (let i = 0; i < 600; i++) {
      const p = { x: Math.floor(400 + rng.next() * 200), y: Math.floor(400 + rng.next() * 200) }; // whole units: ties
      at.set(`p${i}`, p);
      grid.set(`p${i}`, p.x, p.y);
    }
    const center = { x: 500, y: 500 };
    const keep = new Set([...at.keys()].filter((_, i) => i % 3 === 0));
    for (const [limit, hysteresis] of [
      [49, 0],
      [49, 10],
      [9, 10],
      [1, 0],
    ]) {
      const expected = [...at]
        .map(([id, p]) => ({ id, d2: (p.x - center.x) ** 2 + (p.y - center.y) ** 2 }))
        .filter(({ id, d2 }) => d2 <= 100 ** 2 && (d2 <= (100 - hysteresis) ** 2 || keep.has(id)))
        .map(({ id, d2 }) => ({ id, rank: Math.sqrt(d2) - (keep.has(id) ? hysteresis : 0) }))
        .sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map(({ id }) => id);
      assert.deepEqual(grid.nearest(center, 100, limit, undefined, keep, hysteresis), expected, `limit ${limit}`);
    }
  });

  it("selects the k first of a list without sorting it all", () => {
    const rng = createRng(11);
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: 1 + Math.floor(rng.next() * 80) }, () => Math.floor(rng.next() * 30));
      const k = 1 + Math.floor(rng.next() * items.length);
      const copy = [...items];
      selectFirst(copy, k, (a, b) => a - b);
      const sorted = [...items].sort((a, b) => a - b);
      assert.deepEqual(
        copy.slice(0, k).sort((a, b) => a - b),
        sorted.slice(0, k),
        `${items.join(",")} k=${k}`,
      );
      assert.deepEqual(
        [...copy].sort((a, b) => a - b),
        sorted,
        "a permutation",
      );
    }
  });

  it("ranks shown ids with some slack, so a capped set does not churn", () => {
    const grid = new SpatialGrid<string>(100);
    grid.set("a", 10, 0);
    grid.set("b", 12, 0);
    grid.set("c", 105, 0);
    const center = { x: 0, y: 0 };
    assert.deepEqual(grid.nearest(center, 100, 1), ["a"]);
    assert.deepEqual(
      grid.nearest(center, 100, 1, undefined, new Set(["b"]), 5),
      ["b"],
      "b stays although a is 2 nearer",
    );
    assert.deepEqual(
      grid.nearest(center, 100, 1, undefined, new Set(["b"]), 1),
      ["a"],
      "but not against more than the slack",
    );
    assert.deepEqual(
      grid.nearest(center, 100, 5, undefined, new Set(["c"]), 10),
      ["a", "b"],
      "never past the radius, shown or not",
    );
    grid.set("d", 95, 0);
    assert.deepEqual(
      grid.nearest(center, 100, 5, undefined, new Set(), 10),
      ["a", "b"],
      "a new id enters only within radius - slack",
    );
    assert.deepEqual(
      grid.nearest(center, 100, 5, undefined, new Set(["d"]), 10),
      ["a", "b", "d"],
      "a shown one stays up to the radius",
    );
  });

  it("diffs visible sets", () => {
    assert.deepEqual(diffVisible(new Set(["a", "b"]), ["b", "c"]), { add: ["c"], remove: ["a"] });
    assert.deepEqual(diffVisible(new Set(["a"]), ["a"]), { add: [], remove: [] });
  });

  it("sends far neighbours' positions less often, by distance, rank among the nearest and device", () => {
    const rates = {
      byDistance: [
        { within: 0.5, every: 1 },
        { within: 1, every: 4 },
      ],
      byRank: [
        { first: 3, every: 1 },
        { first: Infinity, every: 8 },
      ],
    };
    const at = (fraction: number, rank = 0, slowdown?: number) =>
      updateEvery(fraction * fraction, rank, rates, slowdown);
    assert.deepEqual([at(0), at(0.5), at(0.51), at(1)], [1, 1, 4, 4]);
    assert.equal(at(1.05), 4, "past the radius (the hysteresis slack) the last band holds");
    assert.deepEqual([at(0.1, 2), at(0.1, 3), at(0.9, 2), at(0.9, 3)], [1, 8, 4, 8], "the larger interval wins");
    assert.deepEqual([at(0.1, 0, 2), at(0.9, 0, 2), at(0.9, 5, 2)], [2, 8, 16]);
  });
});

describe("rules: chat, gather, inventory, rng", () => {
  it("trims chat and checks 1-200 characters", () => {
    assert.deepEqual(checkChat("  hello \n", 200), { ok: true, text: "hello" });
    assert.equal((checkChat("   ", 200) as { code: string }).code, RejectCode.ChatEmpty);
    assert.equal((checkChat("x".repeat(201), 200) as { code: string }).code, RejectCode.ChatTooLong);
    assert.ok(checkChat("é".repeat(200), 200).ok);
    assert.ok(checkChat("🙂".repeat(200), 200).ok, "counted in characters, not UTF-16 units");
  });

  it("checks gather cooldown, range and amount", () => {
    const policy = { range: 50, cooldownMs: 1000 };
    const source = { x: 100, y: 100, amount: 2, item: "wood", yield: 3 };
    const actor = { x: 120, y: 100, lastGatherAt: 0 };
    assert.deepEqual(checkGather(actor, source, { now: 1000, policy }), { ok: true, item: "wood", qty: 2 });
    assert.equal(
      (checkGather(actor, source, { now: 999, policy }) as { code: string }).code,
      RejectCode.GatherCooldown,
    );
    // Room time is fractional; the message says whole milliseconds.
    assert.equal(
      (checkGather(actor, source, { now: 223.710969, policy }) as { message: string }).message,
      "gathering again needs 777 ms more",
    );
    assert.equal(
      (checkGather({ ...actor, x: 151 }, source, { now: 5000, policy }) as { code: string }).code,
      RejectCode.GatherOutOfRange,
    );
    assert.equal(
      (checkGather(actor, { ...source, amount: 0 }, { now: 5000, policy }) as { code: string }).code,
      RejectCode.GatherDepleted,
    );
  });

  it("stacks items without mutating the inventory it was given", () => {
    const before = [{ item: "wood", qty: 1 }];
    assert.deepEqual(addItem(before, "wood", 2), [{ item: "wood", qty: 3 }]);
    assert.deepEqual(addItem(before, "stone", 1), [
      { item: "wood", qty: 1 },
      { item: "stone", qty: 1 },
    ]);
    assert.deepEqual(before, [{ item: "wood", qty: 1 }]);
  });

  it("a seeded generator repeats its sequence", () => {
    const a = createRng(42);
    const b = createRng(42);
    const seqA = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      seqA,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      seqA,
      Array.from({ length: 5 }, () => createRng(43).next()),
    );
    assert.ok(seqA.every((v) => v >= 0 && v < 1));
  });
});

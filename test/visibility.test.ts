/**
 * Which logged events a player may read (src/rules/visibility.ts): a pure function of the event's
 * data and the reader's seat.
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { canSee, visibleTo, type EventViewer } from "../src/rules/visibility.js";

const viewer: EventViewer = {
  userId: "u-me",
  sessionIds: ["s-me"],
  shared: false,
  at: { x: 1000, y: 1000 },
  radius: 300,
};

describe("event visibility", () => {
  it("shows the reader's own events wherever they happened", () => {
    assert.ok(canSee(viewer, { userId: "u-me", x: 5000, y: 5000 }));
    assert.ok(canSee(viewer, { sessionId: "s-me", portal: "gate" }));
    assert.ok(canSee(viewer, { hero: "s-me" }));
    assert.ok(canSee(viewer, { source: "e1", target: "s-me" }));
  });

  it("shows others' events within the view radius of where the reader stands, and hides them beyond", () => {
    assert.ok(canSee(viewer, { userId: "u-other", x: 1150, y: 950 }));
    assert.ok(canSee(viewer, { userId: "u-other", x: 1300, y: 1000 }), "on the edge counts as near");
    assert.ok(!canSee(viewer, { userId: "u-other", x: 1301, y: 1000 }));
    assert.ok(!canSee(viewer, { userId: "u-other", x: 1150, y: 1400 }));
  });

  it("hides others' events that have no place, and everything placed when the reader has no body", () => {
    assert.ok(!canSee(viewer, { userId: "u-other", portal: "gate" }));
    const bodiless: EventViewer = { userId: "u-me", sessionIds: ["s-me"], shared: false, radius: 300 };
    assert.ok(!canSee(bodiless, { userId: "u-other", x: 1000, y: 1000 }));
    assert.ok(canSee(bodiless, { userId: "u-me", x: 1000, y: 1000 }));
  });

  it("shows the reader's party's events", () => {
    const member: EventViewer = { ...viewer, party: "p1" };
    assert.ok(canSee(member, { party: "p1", x: 9000, y: 9000 }));
    assert.ok(!canSee(member, { party: "p2", x: 9000, y: 9000 }));
    assert.ok(!canSee(viewer, { party: "p1", x: 9000, y: 9000 }), "no party, no party events");
  });

  it("shows everything in a room whose members share it (a dungeon party, a match)", () => {
    const shared: EventViewer = { userId: "u-me", sessionIds: ["s-me"], shared: true };
    assert.ok(canSee(shared, { source: "s-other", target: "e1" }));
    assert.ok(canSee(shared, { loot: "l1", x: 9000, y: 9000 }));
  });

  it("filters a page and keeps its order", () => {
    const page = [
      { seq: 1, data: { userId: "u-other", x: 5000, y: 5000 } },
      { seq: 2, data: { userId: "u-me" } },
      { seq: 3, data: { userId: "u-other", x: 1010, y: 990 } },
    ];
    assert.deepEqual(
      visibleTo(page, viewer).map((e) => e.seq),
      [2, 3],
    );
  });
});

/**
 * The user directory (src/cluster/users.ts): finding a user's seats and reaching its session
 * through the room that holds it, over real SDK clients.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "mocha";
import type { Room } from "@colyseus/sdk";
import { LocalPresence } from "@colyseus/core";
import { pino } from "pino";
import { seatKey } from "../src/cluster/users.js";
import { SeatBook } from "../src/rooms/seats.js";
import { guest, nextMessage, sdk, startApp, type TestApp } from "./helpers.js";

describe("user directory", function () {
  this.timeout(20_000);
  let app: TestApp;
  before(async () => {
    app = await startApp();
  });
  after(() => app.stop());

  it("finds a user's seat, delivers to that session once, and closes it with the given code", async () => {
    const me = await guest(app);
    assert.deepEqual(await app.services.users.where(me.userId), []);
    assert.equal(await app.services.users.deliver(me.userId, "note", { n: 1 }), false);

    const room: Room = await sdk(app, me.token).joinOrCreate("world", { world: "meadow" });
    await nextMessage(room, "welcome");
    assert.deepEqual(await app.services.users.where(me.userId), [{ kind: "world", roomId: room.roomId }]);
    assert.equal(await app.services.users.deliver(me.userId, "note", { n: 1 }, ["dungeon"]), false);
    const note = nextMessage<{ n: number }>(room, "note");
    assert.equal(await app.services.users.deliver(me.userId, "note", { n: 2 }), true);
    assert.deepEqual(await note, { n: 2 });

    const closed = new Promise<number>((resolve) => room.onLeave(resolve));
    assert.equal(await app.services.users.close(me.userId, 4104, "auth/banned: test"), 1);
    assert.equal(await closed, 4104);
    assert.deepEqual(await app.services.users.where(me.userId), []);
  });
});

describe("seats: a close that reaches a join under way", () => {
  it("is kept for the join, which settles with it; with no join under way it finds nothing", async () => {
    const presence = new LocalPresence();
    const seats = new SeatBook("world", "room-1", presence, pino({ level: "silent" }));
    assert.equal(seats.closeJoining("u1", 4104, "auth/banned: x"), false);
    await seats.record("u1"); // the join has recorded its seat, and not taken it yet
    assert.equal(await presence.hget(seatKey("world"), "u1"), "room-1");
    assert.equal(seats.closeJoining("u1", 4104, "auth/banned: x"), true);
    assert.deepEqual(seats.settle("u1"), { code: 4104, reason: "auth/banned: x" });
    assert.equal(seats.closeJoining("u1", 4104, "auth/banned: x"), false); // settled: the seat answers now
    await seats.record("u2");
    assert.equal(seats.settle("u2"), undefined);
  });
});

import assert from "node:assert/strict";
import { worlds } from "../src/content/worlds.js";
import { newProfile } from "../src/domain/profile.js";
import type { Profile } from "../src/persistence/store.js";
import { Bot, guest, http, nextMessage, startApp, until, type TestApp } from "./helpers.js";
import type { SeatReservation } from "@colyseus/sdk";
import type { Reject, WorldState, WorldWelcome } from "../client/index.js";

/** `travel {world, reservation}`, with the reservation as the SDK consumes it. */
type Travel = { world: string; reservation: SeatReservation };

const room = (app: TestApp, id: string) => app.colyseus.getRoomById<WorldState>(id);

/** A guest whose saved profile stands next to meadow's east gate, with some items and hurt. */
async function traveller(app: TestApp, extra: Partial<Profile> = {}) {
  const user = await guest(app);
  await app.services.store.saveProfile(
    {
      ...newProfile(user, 100),
      hp: 77,
      level: 3,
      inventory: [{ item: "wood", qty: 3 }],
      location: { world: "meadow", x: 1870, y: 1000 },
      ...extra,
    },
    "test-setup",
  );
  return user;
}

describe("travel", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  it("moves a player through a portal with hp, level and inventory, never in both worlds", async () => {
    const user = await traveller(app);
    const bot = await Bot.join(app, { world: "meadow" }, user);
    const meadowId = bot.room.roomId;
    const answer = nextMessage<Travel>(bot.room, "travel");
    bot.send("travel", { portal: "meadow-east-gate" });
    const { world, reservation } = await answer;
    assert.equal(world, "dunes");
    assert.ok(
      !room(app, meadowId).state.players.has(bot.room.sessionId),
      "the body left meadow before the client got its reservation",
    );
    const saved = await app.services.store.loadProfile(user.userId);
    assert.equal(saved?.location?.world, "dunes", "the profile was written before the hand-over");

    await bot.room.leave();
    const arrived = await bot.client.consumeSeatReservation<WorldState>(reservation);
    arrived.onMessage("welcome", () => undefined); // a new room sends its welcome: take it
    await until(arrived, () => arrived.state.players?.get(arrived.sessionId) !== undefined);
    assert.equal(arrived.state.world, "dunes");
    const me = arrived.state.players.get(arrived.sessionId)!;
    assert.deepEqual([me.hp, me.level, me.userId], [77, 3, user.userId]);
    const exit = worlds.find((w) => w.id === "dunes")!.portals[0];
    assert.ok(Math.hypot(me.x - exit.x, me.y - exit.y) <= 60, "arrives beside the exit portal");
    const profile = (await http<{ inventory: unknown }>(app, "GET", "/api/me", undefined, user.token)).body;
    assert.deepEqual(profile.inventory, [{ item: "wood", qty: 3 }]);

    // Arriving through a portal starts a cooldown; the way back is refused for now.
    const back = new Bot(bot.client, arrived, { speed: 180 } as WorldWelcome, user);
    await back.expectReject("travel", { portal: "dunes-west-gate" }, "travel/cooldown");
    // Leaving and joining again does not reset it: the arrival is kept with the profile.
    await arrived.leave();
    const again = await Bot.join(app, { world: "dunes" }, user);
    await again.expectReject("travel", { portal: "dunes-west-gate" }, "travel/cooldown");
    await again.leave();
  });

  it("refuses an unknown portal and one out of reach", async () => {
    const bot = await Bot.join(app);
    await bot.expectReject("travel", { portal: "nowhere" }, "travel/no_portal");
    await bot.expectReject("travel", { portal: "dunes-west-gate" }, "travel/no_portal");
    await bot.expectReject("travel", { portal: "meadow-east-gate" }, "travel/out_of_range");
    await bot.leave();
  });

  it("loses nobody when the reservation goes unused", async () => {
    const user = await traveller(app);
    const bot = await Bot.join(app, { world: "meadow" }, user);
    const answer = nextMessage<Travel>(bot.room, "travel");
    bot.send("travel", { portal: "meadow-east-gate" });
    await answer;
    await bot.room.leave(); // and never consumes the reservation
    const again = await Bot.join(app, { world: "dunes" }, user);
    const exit = worlds.find((w) => w.id === "dunes")!.portals[0];
    assert.ok(Math.hypot(again.me.x - exit.x, again.me.y - exit.y) <= 60, "the player is at the arrival point");
    assert.equal(again.me.hp, 77);
    // Joining afresh instead of through the reservation does not skip the arrival's cooldown.
    await again.expectReject("travel", { portal: "dunes-west-gate" }, "travel/cooldown");
    await again.leave();
  });

  it("lists world instances with their player counts", async () => {
    const a = await Bot.join(app, { world: "meadow" });
    const list = (
      await http<Array<{ roomId: string; world: string; players: number; maxPlayers: number }>>(
        app,
        "GET",
        "/api/instances?room=world&world=meadow",
        undefined,
        a.user.token,
      )
    ).body;
    const mine = list.find((i) => i.roomId === a.room.roomId)!;
    assert.equal(mine.world, "meadow");
    assert.ok(mine.players >= 1);
    assert.equal(mine.maxPlayers, 500);
    await a.leave();
  });
});

describe("travel through a full bridge", function () {
  this.timeout(30_000);
  let app: TestApp;
  const narrow = worlds.map((w) =>
    w.id === "meadow" ? { ...w, portals: w.portals.map((p) => ({ ...p, capacity: 1 })) } : w,
  );
  before(async () => (app = await startApp({}, narrow)));
  after(async () => app.stop());

  it("lets one player through and refuses the other with travel/target_full", async () => {
    const [u1, u2] = [await traveller(app), await traveller(app, { location: { world: "meadow", x: 1875, y: 1010 } })];
    const [a, b] = [await Bot.join(app, { world: "meadow" }, u1), await Bot.join(app, { world: "meadow" }, u2)];
    assert.equal(a.room.roomId, b.room.roomId);
    const outcomes = [a, b].map((bot) =>
      Promise.race([
        nextMessage<Travel>(bot.room, "travel").then(() => "travel"),
        nextMessage<Reject>(bot.room, "reject", 5000, (r) => r.action === "travel").then((r) => r.code),
      ]),
    );
    a.send("travel", { portal: "meadow-east-gate" });
    b.send("travel", { portal: "meadow-east-gate" });
    assert.deepEqual((await Promise.all(outcomes)).sort(), ["travel", "travel/target_full"]);
    await Promise.all([a.room.leave(), b.room.leave()]);
  });
});

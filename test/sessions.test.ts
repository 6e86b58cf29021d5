/**
 * PROTOCOL §6, sessions over HTTP, against a real server: a player written from the section alone
 * (test/http-player.ts) plays a world, switches to WebSocket and back, and sees what a WebSocket
 * player of the same kind of seat sees.
 */
import assert from "node:assert/strict";
import type { Reject, WorldState, WorldWelcome } from "../client/index.js";
import { newProfile } from "../src/domain/profile.js";
import { Bot, guest, isAt, sdk, startApp, until, type TestApp } from "./helpers.js";
import { call, HttpError, HttpPlayer } from "./http-player.js";

/** The world state as JSON (what a poll's `state` holds). */
interface WorldJson {
  world: string;
  tick: number;
  players: Record<string, { x: number; y: number; hp: number; userId: string; name: string }>;
  portals: Record<string, unknown>;
  resources: Record<string, unknown>;
}

async function placeBeforeJoin(app: TestApp, user: { userId: string; name: string }, x: number, y: number) {
  await app.services.store.saveProfile(
    { ...newProfile(user, 100), location: { world: "meadow", x, y } },
    "test-placement",
  );
}

/** Opens a world session and polls until the welcome and the own body have arrived. */
async function openWorld(app: TestApp, user: { token: string }, options: object = {}) {
  const player = await HttpPlayer.open<WorldJson>(app.url, user.token, "world", options);
  const welcome = await player.next<WorldWelcome>("welcome");
  await player.until(() => player.state?.players[player.sessionId] !== undefined, 5000, "own body");
  return { player, welcome };
}

/** A legal step over HTTP: polls until the time since the last move covers it, then moves and waits for the body. */
async function stepTo(player: HttpPlayer<WorldJson>, speed: number, x: number, y: number, since: { at: number }) {
  const me = () => player.state!.players[player.sessionId];
  const dist0 = Math.hypot(x - me().x, y - me().y);
  const earned = () => (Math.min(performance.now() - since.at, 400) / 1000) * speed * 0.9;
  while (earned() < Math.min(dist0, speed * 0.1)) await player.poll(100);
  const f = Math.min(1, earned() / Math.hypot(x - me().x, y - me().y));
  const target = { x: Math.round(me().x + (x - me().x) * f), y: Math.round(me().y + (y - me().y) * f) };
  const from = player.received.length;
  const [seq] = await player.send({ type: "move", payload: target });
  await player.until(
    () =>
      isAt(me(), target) ||
      player.received.slice(from).some((m) => m.type === "reject" && (m.payload as Reject).seq === seq),
    5000,
    `move to ${target.x},${target.y}`,
  );
  const refused = player.received.slice(from).find((m) => m.type === "reject" && (m.payload as Reject).seq === seq);
  if (refused) throw new Error(`move refused: ${JSON.stringify(refused.payload)}`);
  since.at = performance.now();
}

async function walkTo(player: HttpPlayer<WorldJson>, speed: number, x: number, y: number) {
  const since = { at: performance.now() };
  while (!isAt(player.state!.players[player.sessionId], { x, y })) await stepTo(player, speed, x, y, since);
}

describe("sessions over HTTP (PROTOCOL §6)", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  it("plays a world over HTTP alone: moves, sees a neighbour appear and vanish, chats, and is refused with codes", async () => {
    const me = await guest(app, "Poller");
    const other = await guest(app, "Walker");
    await placeBeforeJoin(app, me, 1000, 450);
    await placeBeforeJoin(app, other, 1000, 850);
    const { player, welcome } = await openWorld(app, me);
    assert.equal(player.info.room, "world");
    assert.match(player.info.reconnectionToken, new RegExp(`^${player.info.roomId}:`));
    assert.equal(welcome.sessionId, player.sessionId);

    // A neighbour over WebSocket, far away: not in the HTTP view.
    const walker = await Bot.join(app, {}, other);
    assert.equal(walker.room.roomId, player.info.roomId);
    await player.poll(200);
    assert.ok(!(walker.room.sessionId in player.state!.players), "nothing about the far player");

    // It walks near: the HTTP view gets it; it walks away: the HTTP view loses it.
    await walker.walkTo(1000, 600);
    await player.until(() => walker.room.sessionId in player.state!.players, 5000, "walker visible");
    await walker.walkTo(1000, 850);
    await player.until(() => !(walker.room.sessionId in player.state!.players), 5000, "walker gone");

    // The HTTP player moves itself; the WebSocket player sees it move.
    await walkTo(player, welcome.speed, 1000, 520);
    assert.ok(isAt(player.state!.players[player.sessionId], { x: 1000, y: 520 }));
    assert.ok(isAt(app.colyseus.getRoomById<WorldState>(player.info.roomId).state.players.get(player.sessionId)!, { x: 1000, y: 520 }));

    // Chat goes to the room and comes back to the HTTP player as a room message.
    await player.send({ type: "chat", payload: { text: "hello over http" } });
    const chat = await player.next<{ text: string; name: string }>("chat", (m) => m.text === "hello over http");
    assert.equal(chat.name, "Poller");

    // Refusals arrive as `reject` messages with the protocol's codes.
    const tooFar = await player.expectReject("move", { x: 2000, y: 2000 });
    assert.ok(["move/too_fast", "move/out_of_bounds"].includes(tooFar.code), tooFar.code);
    const stale = await (async () => {
      player.seq -= 5; // a seq already used
      return player.expectReject("chat", { text: "again" });
    })();
    assert.equal(stale.code, "seq/stale");
    player.seq += 5;
    const bad = await player.expectReject("move", { x: "east" });
    assert.equal(bad.code, "input/invalid");
    const empty = await player.expectReject("chat", { text: "   " });
    assert.equal(empty.code, "chat/empty");

    // DELETE releases the seat and saves the profile.
    await player.leave();
    const saved = await app.services.store.loadProfile(me.userId);
    assert.ok(isAt(saved!.location!, { x: 1000, y: 520 }), JSON.stringify(saved?.location));
    await assert.rejects(player.poll(0), (e: HttpError) => e.status === 404 && e.code === "session/not_found");
    await walker.leave();
  });
});

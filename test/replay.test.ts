/**
 * Replays of any room from the admin export alone: the seed, the content version and the command
 * log re-run through the pure simulation reach the room's own state, field by field.
 */
import type { Schema } from "@colyseus/schema";
import assert from "node:assert/strict";
import { policy } from "../src/content/policy.js";
import { replay, type ReplayLog } from "../src/engine/replay.js";
import { KINDS } from "../src/rooms/index.js";
import type { KindRoom } from "../src/rooms/KindRoom.js";
import { Bot, fight, guest, http, nextMessage, sdk, startApp, until, type TestApp } from "./helpers.js";
import type { Tx } from "../src/domain/match.js";
import type { MatchState } from "../src/schema/MatchState.js";
import type { DungeonState, ServerMessages } from "../client/index.js";

const ADMIN = { ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" };
const basic = "Basic " + Buffer.from("admin:correct-horse-battery").toString("base64");

describe("replays", function () {
  this.timeout(90_000);
  let app: TestApp;
  before(async () => (app = await startApp(ADMIN)));
  after(async () => app.stop());

  async function exportOf(roomId: string): Promise<ReplayLog> {
    const res = await fetch(`${app.url}/api/rooms/${roomId}/replay`, { headers: { authorization: basic } });
    assert.equal(res.status, 200);
    return (await res.json()) as ReplayLog;
  }

  /** Freezes the room's simulation at a tick, exports the log, replays it, and compares. */
  async function assertReplays(roomId: string): Promise<ReplayLog> {
    const room = app.colyseus.getRoomById(roomId) as unknown as KindRoom;
    const live = room.checkpoint();
    const log = await exportOf(roomId);
    // The export runs to the latest mark; replay to the checkpoint's tick.
    const upTo = { ...log, tick: live.tick, entries: log.entries.filter((e) => e.tick <= live.tick) };
    const kind = KINDS.find((k) => k.name === log.kind)!;
    const { sim, rngState } = replay(kind, upTo, app.services.content, policy);
    assert.deepStrictEqual(structuredClone(sim), live.sim, "the replayed simulation equals the room's");
    assert.equal(rngState, live.rngState, "the random generator is at the same position");
    const state = kind.state.create(sim) as Schema;
    kind.state.sync(sim, state, live.tick);
    assert.deepStrictEqual(state.toJSON(), live.state, "the synchronized state too");
    return log;
  }

  it("refuses the export without admin credentials, and 404s an unknown room", async () => {
    const bot = await Bot.join(app);
    assert.equal(
      (await http(app, "GET", `/api/rooms/${bot.room.roomId}/replay`, undefined, bot.user.token)).status,
      401,
    );
    const unknown = await fetch(`${app.url}/api/rooms/nope/replay`, { headers: { authorization: basic } });
    assert.equal(unknown.status, 404);
    await bot.leave();
  });

  it("replays a world session: walks, a refusal, a gather, chat, a leave", async () => {
    const a = await Bot.join(app);
    const b = await Bot.join(app);
    await a.expectReject("move", { x: a.me.x + 900, y: a.me.y }, "move/too_fast");
    await a.walkTo(1130, 950); // oak-1 at (1150, 950)
    const gathered = nextMessage(a.room, "gathered");
    a.send("gather", { resource: "oak-1" });
    await gathered;
    const heard = nextMessage(b.room, "chat");
    a.send("chat", { text: "hello" });
    await heard;
    await b.walkTo(b.me.x + 20, b.me.y);
    await b.leave();
    const log = await assertReplays(a.room.roomId);
    assert.equal(log.kind, "world");
    assert.equal(log.contentVersion, app.services.content.version);
    const ops = log.entries.map((e) => (e.op === "cmd" ? (e.command as { type: string }).type : e.op));
    for (const op of ["join", "move", "gather", "chat", "leave"]) assert.ok(ops.includes(op), `${op} is logged`);
    assert.ok(
      log.entries.every((e) => e.op !== "cmd" || e.at > 0),
      "each command carries the time it was applied at",
    );
    await a.leave();
  });

  it("replays a crypt run to the clear", async () => {
    const strike = (await http<{ range: number; cooldownMs: number }>(app, "GET", "/api/abilities/strike")).body;
    const party = `party-${Math.random()}`;
    const a = await Bot.join<DungeonState>(app, { dungeon: "crypt", party }, undefined, "dungeon");
    const b = await Bot.join<DungeonState>(app, { dungeon: "crypt", party }, undefined, "dungeon");
    const cleared = nextMessage<ServerMessages["dungeon"]["cleared"]>(a.room, "cleared", 90_000);
    await Promise.all([fight(a, strike), fight(b, strike)]);
    await cleared;
    const log = await assertReplays(a.room.roomId);
    assert.equal(log.kind, "dungeon");
    assert.ok(log.entries.filter((e) => e.op === "cmd").length > 10);
    await Promise.all([a.leave(), b.leave()]);
  });

  it("replays a match to the same chain and the same matchId", async () => {
    const code = `replay-${Math.random()}`;
    const seat = async () => {
      const user = await guest(app);
      const room = await sdk(app, user.token).joinOrCreate<MatchState>("match", { mode: "duel", code });
      await nextMessage(room, "welcome");
      room.onMessage("tx", () => undefined);
      return room;
    };
    const [a, b] = [await seat(), await seat()];
    a.send("ready", { seq: 1, ready: true });
    b.send("ready", { seq: 1, ready: true });
    await until(a, () => a.state.status === "playing", 5000, "playing");
    let seq = 1;
    for (const room of [a, b, a]) {
      const head = room.state.chainHead;
      const tx = nextMessage<Tx>(a, "tx");
      room.send("turn", { seq: ++seq, prev: head, actions: [{ type: "build", building: "tent", x: seq, y: 1 }] });
      await tx;
      // Each client's patch may come before or after the other's: wait on each room for its own.
      await until(a, () => a.state.chainHead !== head);
      await until(b, () => b.state.chainHead === a.state.chainHead);
    }
    const log = await assertReplays(a.roomId);
    assert.equal(log.kind, "match");
    assert.match(log.instanceId, /^[0-9a-f-]{36}$/);
    await Promise.all([a.leave(), b.leave()]);
  });
});

/**
 * Achievements and stats from real play over SDK clients (PROTOCOL §7): `first-steps` exactly
 * once across a reconnection and a new session, `gatherer`, `first-clear` and `crypt-conqueror`
 * from a crypt clear, `builder` from a finished match; GET /api/me shows them with the stats.
 */
import assert from "node:assert/strict";
import type { Room } from "@colyseus/sdk";
import { matchModes } from "../src/content/matches.js";
import { newProfile } from "../src/domain/profile.js";
import { emptyStats, type Stats, type Unlocked } from "../src/domain/social.js";
import type { MatchMode } from "../src/rules/match.js";
import type { DungeonState, WorldState } from "../client/index.js";
import type { MatchState } from "../src/schema/MatchState.js";
import { Bot, fight, guest, http, nextMessage, sdk, startApp, until, type TestApp } from "./helpers.js";

interface Me {
  achievements: Unlocked[];
  stats: Stats;
}
interface Achieved {
  id: string;
  name: string;
}

const quick: MatchMode = { ...matchModes[0], id: "quick", rounds: 2, turnSeconds: 600 };

/** Collects every `achievement` a room receives, from the moment it is called. */
function collect(room: Room): string[] {
  const got: string[] = [];
  room.onMessage("achievement", (a: Achieved) => got.push(a.id));
  return got;
}

/** Resolves once `got` holds `id` (checked on each `achievement`). */
async function unlocked(room: Room, got: string[], id: string, ms = 10_000): Promise<void> {
  while (!got.includes(id)) await nextMessage<Achieved>(room, "achievement", ms);
}

describe("achievements and stats from real play", function () {
  this.timeout(120_000);
  let app: TestApp;
  let strike: { range: number; cooldownMs: number };
  before(async () => {
    app = await startApp({}, { matchModes: [...matchModes, quick] });
    strike = (await http<{ range: number; cooldownMs: number }>(app, "GET", "/api/abilities/strike")).body;
  });
  after(async () => app.stop());

  const me = async (token: string) => (await http<Me>(app, "GET", "/api/me", undefined, token)).body;

  it("serves the catalogue", async () => {
    const list = (await http<Array<Record<string, unknown>>>(app, "GET", "/api/achievements")).body;
    const ids = list.map((a) => a.id);
    for (const id of ["first-steps", "first-clear", "crypt-conqueror", "trader", "builder", "gatherer"])
      assert.ok(ids.includes(id), id);
    for (const a of list) assert.deepEqual(Object.keys(a).sort(), ["description", "id", "name"]);
  });

  it("sends first-steps once across a reconnection and a new session; gatherer at 50 gathered", async () => {
    const user = await guest(app, "Walker");
    // 49 gathered already, standing by oak-1 (1150, 950): the next gather is the 50th.
    await app.services.store.saveProfile(
      {
        ...newProfile(user, 100),
        location: { world: "meadow", x: 1130, y: 950 },
        stats: { ...emptyStats(), gathered: 49 },
      },
      "test-seed",
    );
    const fresh = await me(user.token);
    assert.deepEqual(fresh.achievements, []);

    const room = await sdk(app, user.token).joinOrCreate<WorldState>("world", { world: "meadow" });
    const first = collect(room);
    room.onMessage("welcome", () => undefined);
    await unlocked(room, first, "first-steps");
    const at = (await me(user.token)).achievements.find((a) => a.id === "first-steps")?.at;
    assert.equal(typeof at, "number");

    // A dropped connection comes back to the same session: nothing is unlocked again.
    room.reconnection.minUptime = 0;
    const back = new Promise<void>((resolve) => room.onReconnect(() => resolve()));
    (room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
    await back;
    await room.leave();

    // A new session of the same player: first-steps is on the profile already.
    const again = await sdk(app, user.token).joinOrCreate<WorldState>("world", { world: "meadow" });
    const second = collect(again);
    const bot = new Bot(undefined as never, again, await nextMessage(again, "welcome"), user);
    await until(again, () => again.state.players.has(again.sessionId), 5000, "own body");
    const gathered = nextMessage(again, "gathered");
    bot.send("gather", { resource: "oak-1" });
    await gathered;
    // Unlocks are announced in the order they happen: had first-steps been sent again on this
    // join, it would have arrived before gatherer.
    await unlocked(again, second, "gatherer");
    assert.deepEqual(first, ["first-steps"]);
    assert.deepEqual(second, ["gatherer"]);
    const after = await me(user.token);
    assert.deepEqual(
      after.achievements.map((a) => a.id),
      ["first-steps", "gatherer"],
    );
    assert.equal(after.achievements[0].at, at);
    assert.equal(after.stats.gathered, 50);
    await again.leave();
  });

  it("a crypt clear gives every hero first-clear, crypt-conqueror, the time and the kills", async () => {
    const party = `crypt-${Math.random()}`;
    const a = await Bot.join<DungeonState>(app, { dungeon: "crypt", party }, undefined, "dungeon");
    const b = await Bot.join<DungeonState>(app, { dungeon: "crypt", party }, undefined, "dungeon");
    const got = [collect(a.room), collect(b.room)];
    const enemies = a.room.state.enemies.size;
    await Promise.all([fight(a, strike), fight(b, strike)]);
    assert.equal(a.room.state.status, "cleared");
    await unlocked(a.room, got[0], "crypt-conqueror");
    await unlocked(b.room, got[1], "crypt-conqueror");
    for (const ids of got) assert.deepEqual(ids, ["first-clear", "crypt-conqueror"]);
    await Promise.all([a.leave(), b.leave()]);
    const profiles = await Promise.all([a, b].map((bot) => app.services.store.loadProfile(bot.user.userId)));
    const [pa, pb] = profiles.map((p) => p!);
    assert.equal(pa.stats?.dungeonsCleared, 1);
    assert.equal(pb.stats?.dungeonsCleared, 1);
    assert.equal((pa.stats?.kills ?? 0) + (pb.stats?.kills ?? 0), enemies, "every kill is counted once");
    assert.ok((pa.bests?.crypt ?? 0) > 0, "the run's time is kept");
    assert.equal(pa.bests?.crypt, pb.bests?.crypt, "every hero of the party gets the same time");
    const shown = await me(a.user.token);
    assert.equal(shown.stats.dungeonsCleared, 1);
    assert.deepEqual(shown.achievements.map((x) => x.id).sort(), ["crypt-conqueror", "first-clear"]);
  });

  it("a finished match gives builder, and counts played and won", async () => {
    const code = `ach-${Math.random()}`;
    const join = async () => {
      const user = await guest(app, `M${Math.floor(Math.random() * 1e6)}`);
      const room = await sdk(app, user.token).joinOrCreate<MatchState>("match", { mode: "quick", code });
      for (const type of ["welcome", "tx", "finished", "reject", "aborted"]) room.onMessage(type, () => undefined);
      return { user, room, got: collect(room) };
    };
    const a = await join();
    const b = await join();
    a.room.send("ready", { seq: 1, ready: true });
    b.room.send("ready", { seq: 1, ready: true });
    await until(a.room, () => a.room.state.status === "playing", 5000, "playing");
    // A match ends (rather than aborts) once a turn was played: a plays one, then b forfeits.
    const played = nextMessage(b.room, "tx");
    a.room.send("turn", { seq: 2, prev: "", actions: [] });
    await played;
    b.room.send("forfeit", { seq: 2 });
    await unlocked(a.room, a.got, "builder");
    await unlocked(b.room, b.got, "builder");
    const [sa, sb] = [(await me(a.user.token)).stats, (await me(b.user.token)).stats];
    assert.deepEqual([sa.matchesPlayed, sa.matchesWon], [1, 1]);
    assert.deepEqual([sb.matchesPlayed, sb.matchesWon], [1, 0]);
    await Promise.all([a.room.leave(), b.room.leave()]);
  });
});

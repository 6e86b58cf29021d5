/**
 * PROTOCOL §6, sessions over HTTP, against a real server: a player written from the section alone
 * (test/http-player.ts) plays a world, switches to WebSocket and back, and sees what a WebSocket
 * player of the same kind of seat sees.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import type { DungeonState, Reject, WorldState, WorldWelcome } from "../client/index.js";
import type { MatchState } from "../src/schema/MatchState.js";
import { worlds } from "../src/content/worlds.js";
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

/** Where a session's own body is in its last `state` (a world's `players`, a dungeon's `heroes`). */
type Body<S> = (player: HttpPlayer<S>) => { x: number; y: number };
const worldBody: Body<WorldJson> = (player) => player.state!.players[player.sessionId];

/** A legal step over HTTP: polls until the time since the last move covers it, then moves and waits for the body. */
async function stepTo<S>(
  player: HttpPlayer<S>,
  body: Body<S>,
  speed: number,
  x: number,
  y: number,
  since: { at: number },
) {
  const me = () => body(player);
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

async function walkTo<S>(player: HttpPlayer<S>, speed: number, x: number, y: number, body?: Body<S>) {
  const me = body ?? (worldBody as unknown as Body<S>);
  const since = { at: performance.now() };
  while (!isAt(me(player), { x, y })) await stepTo(player, me, speed, x, y, since);
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
    assert.ok(
      isAt(app.colyseus.getRoomById<WorldState>(player.info.roomId).state.players.get(player.sessionId)!, {
        x: 1000,
        y: 520,
      }),
    );

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

  it("keeps a long poll waiting while only the tick changes, and wakes it for a message", async () => {
    const user = await guest(app);
    const { player } = await openWorld(app, user, { world: "dunes" });
    // A first join unlocks `first-steps` once the profile is saved: read it before the quiet wait.
    await player.until(() => player.received.some((m) => m.type === "achievement"), 10_000, "first-steps");
    await player.poll(0);
    const at = player.cursor;
    // Alone in a world where nothing moves: 20 patches go by, each with a new tick, and none is news.
    const quiet = await player.poll(1000);
    assert.deepEqual([quiet.cursor, quiet.state, quiet.messages], [at, undefined, []]);
    const woken = player.poll(20_000);
    await player.send({ type: "chat", payload: { text: "anyone?" } });
    assert.deepEqual(
      (await woken).messages.map((m) => m.type),
      ["chat"],
    );
    await player.leave();
  });

  it("serves the same view as a WebSocket client's decoded state, field by field, and nothing beyond aoiRadius", async () => {
    const [a, b, near, far] = await Promise.all([guest(app), guest(app), guest(app), guest(app)]);
    await placeBeforeJoin(app, a, 1000, 450);
    await placeBeforeJoin(app, b, 1000, 450);
    await placeBeforeJoin(app, near, 1040, 450);
    await placeBeforeJoin(app, far, 1000, 850);
    const nearBot = await Bot.join(app, {}, near);
    const farBot = await Bot.join(app, {}, far);
    const { player, welcome } = await openWorld(app, a, { device: "mobile" });
    const ws = await Bot.join(app, { device: "mobile" }, b);
    assert.equal(ws.room.roomId, player.info.roomId);

    // Both seats stand on the same spot with the same device: the same players, portals and
    // resources, every field equal (the tick moves on between the two reads).
    const withoutTick = (json: unknown) => {
      const { tick: _, ...rest } = json as WorldJson;
      return rest;
    };
    const wsView = () => withoutTick((ws.room.state as unknown as { toJSON(): unknown }).toJSON());
    // (Maps may list their entries in another order: each view adds bodies as they come into it.)
    await player.until(() => isDeepStrictEqual(withoutTick(player.state), wsView()), 5000, "equal views");
    assert.deepEqual(withoutTick(player.state), wsView());
    const seen = Object.keys(player.state!.players).sort();
    assert.deepEqual(seen, [player.sessionId, ws.room.sessionId, nearBot.room.sessionId].sort());
    assert.ok(!seen.includes(farBot.room.sessionId));

    // While the far player walks around, every view the HTTP player gets keeps within the radius.
    const views: WorldJson[] = [];
    const walking = farBot.walkTo(1000, 600).then(() => farBot.walkTo(1000, 850));
    let done = false;
    void walking.finally(() => (done = true));
    while (!done) {
      const answer = await player.poll(500);
      if (answer.state) views.push(answer.state);
    }
    await walking;
    const mine = player.state!.players[player.sessionId];
    assert.ok(
      views.some((v) => farBot.room.sessionId in v.players),
      "the walker was seen on its way near",
    );
    for (const view of views)
      for (const body of Object.values(view.players))
        assert.ok(Math.hypot(body.x - mine.x, body.y - mine.y) <= welcome.aoiRadius, JSON.stringify(body));
    await Promise.all([player.leave(), ws.leave(), nearBot.leave(), farBot.leave()]);
  });

  it("switches to WebSocket and back keeping sessionId, body and seq", async () => {
    const user = await guest(app);
    const { player, welcome } = await openWorld(app, user);
    await walkTo(
      player,
      welcome.speed,
      player.state!.players[player.sessionId].x + 12,
      player.state!.players[player.sessionId].y,
    );
    const body = { ...player.state!.players[player.sessionId] };
    const sessionId = player.sessionId;
    const seq = player.seq;

    // HTTP → WebSocket with the SDK's reconnect.
    const client = sdk(app, user.token);
    const room = await client.reconnect<WorldState>(player.info.reconnectionToken);
    room.onMessage("*", () => undefined);
    assert.equal(room.sessionId, sessionId);
    await until(room, () => room.state.players?.get(sessionId) !== undefined);
    assert.ok(isAt(room.state.players.get(sessionId)!, body));
    await player.poll(0);
    assert.equal(player.closed?.code, 4002);
    assert.match(player.closed.reason, /^session\/switched/);
    await assert.rejects(player.send({ type: "chat", payload: { text: "late" } }), (e: HttpError) => e.status === 410);
    player.seq--; // that one never reached the room
    const ws = new Bot<WorldState>(client, room, welcome, user);
    ws.seq = seq - 1;
    // The seq count carried over: an old one is stale, the next one is taken.
    const stale = await ws.expectReject("chat", { text: "old" }, "seq/stale");
    assert.equal(stale.seq, seq);
    ws.seq = seq;
    await ws.stepTo(body.x + 8, body.y);
    const wsBody = { x: ws.me.x, y: ws.me.y };

    // WebSocket → HTTP: the socket drops and the seat is taken over inside its window.
    room.reconnection.enabled = false;
    const dropped = new Promise<void>((resolve) => room.onLeave(() => resolve()));
    (room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
    await dropped;
    const back = await HttpPlayer.resume<WorldJson>(app.url, user.token, room.reconnectionToken, ws.seq);
    assert.equal(back.sessionId, sessionId);
    assert.notEqual(back.info.reconnectionToken, player.info.reconnectionToken);
    assert.notEqual(back.info.reconnectionToken, room.reconnectionToken);
    await back.until(() => back.state?.players[sessionId] !== undefined, 5000, "body after resume");
    assert.ok(isAt(back.state!.players[sessionId], wsBody));
    back.seq = ws.seq - 1;
    assert.equal((await back.expectReject("chat", { text: "old" })).code, "seq/stale");
    back.seq = ws.seq;
    await walkTo(back, welcome.speed, wsBody.x + 6, wsBody.y);
    await back.leave();
  });

  it("answers 403 to another user's calls on a session, and to a resume of another user's seat", async () => {
    const owner = await guest(app);
    const stranger = await guest(app);
    const { player } = await openWorld(app, owner);
    const as = (path: string, method = "GET", body?: unknown) => call(app.url, stranger.token, method, path, body);
    const forbidden = (e: HttpError) => e.status === 403 && e.code === "auth/forbidden";
    await assert.rejects(as(`/api/sessions/${player.sessionId}/poll?cursor=0`), forbidden);
    await assert.rejects(
      as(`/api/sessions/${player.sessionId}/messages`, "POST", [{ type: "chat", payload: { seq: 99, text: "x" } }]),
      forbidden,
    );
    await assert.rejects(as(`/api/sessions/${player.sessionId}`, "DELETE"), forbidden);
    await assert.rejects(
      as("/api/sessions/resume", "POST", { reconnectionToken: player.info.reconnectionToken }),
      forbidden,
    );
    // Without a token: 401.
    await assert.rejects(
      call(app.url, "", "GET", `/api/sessions/${player.sessionId}/poll`),
      (e: HttpError) => e.status === 401,
    );
    // The owner's session is untouched.
    const answer = await player.poll(0);
    assert.equal(answer.closed, undefined);
    await player.leave();
  });
});

describe("sessions over HTTP: join rules and limits", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp({ RECONNECT_SECONDS: "1" })));
  after(async () => app.stop());

  const open = (token: string, body: unknown) => call(app.url, token, "POST", "/api/sessions", body);
  const refused = (status: number, code: string) => (e: HttpError) => e.status === status && e.code === code;

  it("refuses an HTTP join with the join's codes, and malformed calls with input/invalid", async () => {
    await assert.rejects(open("", { room: "world" }), refused(401, "auth/missing_token"));
    await assert.rejects(open("not.a.token", { room: "world" }), refused(401, "auth/invalid_token"));
    const user = await guest(app);
    const expired = await app.services.tokens.sign(user, Math.floor(Date.now() / 1000) - 7200, 3600);
    await assert.rejects(open(expired, { room: "world" }), refused(401, "auth/expired_token"));
    await assert.rejects(open(user.token, { room: "castle" }), refused(400, "input/invalid"));
    await assert.rejects(
      open(user.token, { room: "world", options: { world: "atlantis" } }),
      refused(400, "input/invalid"),
    );
    const { player } = await openWorld(app, user);
    const path = `/api/sessions/${player.sessionId}/messages`;
    const chat = (i: number) => ({ type: "chat", payload: { seq: 100 + i, text: "x" } });
    await assert.rejects(
      call(
        app.url,
        user.token,
        "POST",
        path,
        Array.from({ length: 21 }, (_, i) => chat(i)),
      ),
      refused(400, "input/invalid"),
    );
    await assert.rejects(call(app.url, user.token, "POST", path, []), refused(400, "input/invalid"));
    await assert.rejects(call(app.url, user.token, "POST", path, { type: "chat" }), refused(400, "input/invalid"));
    await assert.rejects(
      call(app.url, user.token, "DELETE", "/api/sessions/nosuchsession"),
      refused(404, "session/not_found"),
    );
    await player.leave();
  });

  it("keeps one seat per user and kind: a WebSocket join ends the HTTP session, and the other way round", async () => {
    const user = await guest(app);
    const { player } = await openWorld(app, user);
    const ws = await Bot.join(app, {}, user);
    await player.until(() => player.closed !== undefined, 5000, "HTTP session closed");
    assert.equal(player.closed!.code, 4101);
    assert.match(player.closed!.reason, /^session\/replaced/);
    await assert.rejects(player.send({ type: "chat", payload: { text: "x" } }), refused(410, "session/closed"));

    const closed = new Promise<number>((resolve) => ws.room.onLeave((code) => resolve(code)));
    const again = await openWorld(app, user);
    assert.equal(await closed, 4101);
    const bodies = [...app.colyseus.getRoomById<WorldState>(again.player.info.roomId).state.players.values()].filter(
      (p) => p.userId === user.userId,
    );
    assert.deepEqual(
      bodies.map((b) => b.sessionId),
      [again.player.sessionId],
    );
    await again.player.leave();
  });

  it("limits how many sessions a user opens", async () => {
    const user = await guest(app);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${app.url}/api/sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
        body: JSON.stringify({ room: "world" }),
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, "rate/limited");
      } else await res.text();
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 429]);
    assert.ok(Number(retryAfter) >= 1);
  });

  it("bounds what a session holds between polls: the oldest messages go, and the poll says how many", async () => {
    const user = await guest(app);
    const { player } = await openWorld(app, user);
    // A first join unlocks `first-steps` once the profile is saved: read it first, so only notices overflow.
    await player.until(() => player.received.some((m) => m.type === "achievement"), 10_000, "first-steps");
    for (let i = 0; i < 300; i++) await app.services.users.deliver(user.userId, "notice", { i });
    const answer = await player.poll(0);
    const notices = answer.messages.filter((m) => m.type === "notice").map((m) => (m.payload as { i: number }).i);
    assert.ok(answer.messages.length <= 256, `${answer.messages.length} held`);
    assert.equal(notices[notices.length - 1], 299);
    assert.deepEqual(
      notices,
      Array.from({ length: notices.length }, (_, k) => 300 - notices.length + k),
    );
    assert.equal(answer.dropped, 300 - notices.length);
    // Nothing more was lost after that.
    await app.services.users.deliver(user.userId, "notice", { i: 300 });
    const next = await player.poll(1000);
    assert.equal(next.dropped, undefined);
    assert.deepEqual(
      next.messages.map((m) => m.payload),
      [{ i: 300 }],
    );
    await player.leave();
  });

  it("drops a session nobody polls, then releases its seat and saves its profile after the reconnection window", async () => {
    const user = await guest(app);
    const watcher = await Bot.join(app);
    const { player, welcome } = await openWorld(app, user);
    await walkTo(
      player,
      welcome.speed,
      player.state!.players[player.sessionId].x + 10,
      player.state!.players[player.sessionId].y,
    );
    const at = { ...player.state!.players[player.sessionId] };
    await until(watcher.room, () => watcher.sees.includes(player.sessionId), 5000, "watcher sees the HTTP player");
    // No more polls: after the idle time and the reconnection window the body goes.
    await until(watcher.room, () => !watcher.sees.includes(player.sessionId), 15_000, "body gone");
    const saved = await app.services.store.loadProfile(user.userId);
    assert.ok(isAt(saved!.location!, at));
    await player.poll(0);
    assert.equal(player.closed?.code, 1006);
    assert.match(player.closed.reason, /^session\/idle/);
    await assert.rejects(
      HttpPlayer.resume(app.url, user.token, player.info.reconnectionToken),
      refused(404, "session/not_found"),
    );
    await watcher.leave();
  });
});

/** The dungeon state as JSON. */
interface DungeonJson {
  dungeon: string;
  status: string;
  heroes: Record<string, { x: number; y: number; hp: number; userId: string }>;
  enemies: Record<string, { id: string; hp: number; maxHp: number }>;
}

/** The match state as JSON. */
interface MatchJson {
  status: string;
  turn: string;
  chainLength: number;
  chainHead: string;
  players: Record<string, { userId: string; ready: boolean }>;
  tiles: Record<string, { x: number; y: number; building: string; owner: string }>;
}

describe("sessions over HTTP beyond the world: travel, dungeons, matches (PROTOCOL §6)", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  it("travels through a portal: the session ends with travel/departed, a new one in the target world keeps the profile, and a friend's where follows", async () => {
    const me = await guest(app, "Wanderer");
    const friend = await guest(app, "Homebody");
    await app.services.store.saveProfile(
      {
        ...newProfile(me, 100),
        hp: 77,
        level: 3,
        inventory: [{ item: "wood", qty: 3 }],
        location: { world: "meadow", x: 1870, y: 1000 },
      },
      "test-placement",
    );
    await call(app.url, friend.token, "POST", "/api/friends", { userId: me.userId });
    await call(app.url, me.token, "POST", `/api/friends/${friend.userId}/accept`);
    type Friends = { friends: Array<{ userId: string; online: boolean; where: Record<string, string> | null }> };
    const whereIsMe = async () =>
      (await call<Friends>(app.url, friend.token, "GET", "/api/friends")).friends.find((f) => f.userId === me.userId)!;
    assert.deepEqual(await whereIsMe(), { userId: me.userId, name: "Wanderer", online: false, where: null });

    const { player } = await openWorld(app, me, { world: "meadow" });
    assert.deepEqual((await whereIsMe()).where, { room: "world", world: "meadow" });

    // Alone in meadow: the room closes as the body leaves, before the player reads anything.
    const meadow = app.colyseus.getRoomById<WorldState>(player.info.roomId);
    const disposed = new Promise<void>((resolve) =>
      (meadow as unknown as { _events: NodeJS.EventEmitter })._events.once("dispose", () => resolve()),
    );
    await player.send({ type: "travel", payload: { portal: "meadow-east-gate" } });
    await disposed;
    // The session outlives its room: the `travel` message and the close are still read.
    const travel = await player.next<{ world: string; reservation: unknown }>("travel");
    assert.equal(travel.world, "dunes");
    await player.until(() => player.closed !== undefined, 5000, "session closed after travel");
    assert.equal(player.closed!.code, 4000);
    assert.match(player.closed!.reason, /^travel\/departed/);
    assert.equal((await whereIsMe()).where, null, "between the worlds, seated nowhere");
    await assert.rejects(
      player.send({ type: "chat", payload: { text: "still here?" } }),
      (e: HttpError) => e.status === 410 && e.code === "session/closed",
    );

    // PROTOCOL §6 (extensions): an HTTP client opens a new session in the target world.
    const arrived = await openWorld(app, me, { world: travel.world });
    assert.notEqual(arrived.player.info.roomId, player.info.roomId);
    const body = arrived.player.state!.players[arrived.player.sessionId];
    assert.equal((arrived.player.state as WorldJson).world, "dunes");
    assert.deepEqual([body.hp, body.userId], [77, me.userId]);
    const exit = worlds.find((w) => w.id === "dunes")!.portals[0];
    assert.ok(Math.hypot(body.x - exit.x, body.y - exit.y) <= 60, "arrives beside the exit portal");
    const profile = await call<{ level: number; inventory: unknown }>(app.url, me.token, "GET", "/api/me");
    assert.deepEqual([profile.level, profile.inventory], [3, [{ item: "wood", qty: 3 }]]);
    // A fresh join is held by the arrival's cooldown as a used reservation is: no bouncing between worlds.
    assert.equal((await arrived.player.expectReject("travel", { portal: "dunes-west-gate" })).code, "travel/cooldown");
    assert.deepEqual((await whereIsMe()).where, { room: "world", world: "dunes" });

    await arrived.player.leave();
    assert.deepEqual((await whereIsMe()).where, null);
  });

  it("joins a dungeon over HTTP, walks to a dummy and strikes it: the hit comes back as `combat`", async () => {
    const user = await guest(app);
    const player = await HttpPlayer.open<DungeonJson>(app.url, user.token, "dungeon", { dungeon: "training" });
    assert.equal(player.info.room, "dungeon");
    const welcome = await player.next<{ dungeon: string; speed: number }>("welcome");
    assert.equal(welcome.dungeon, "training");
    const hero: Body<DungeonJson> = (p) => p.state!.heroes[p.sessionId];
    await player.until(() => player.state?.heroes[player.sessionId] !== undefined, 5000, "own hero");
    assert.equal(
      app.colyseus.getRoomById<DungeonState>(player.info.roomId).state.heroes.get(player.sessionId)?.userId,
      user.userId,
    );

    assert.equal((await player.expectReject("attack", { target: "dummy-1" })).code, "attack/out_of_range");
    await walkTo(player, welcome.speed, 225, 150, hero);
    const maxHp = player.state!.enemies["dummy-1"].maxHp;
    const [seq] = await player.send({ type: "attack", payload: { target: "dummy-1" } });
    const hit = await player.next<{ source: string; target: string; ability: string; damage: number }>("combat");
    assert.deepEqual([hit.source, hit.target, hit.ability], [player.sessionId, "dummy-1", "strike"]);
    assert.ok(hit.damage >= 1);
    assert.ok(
      !player.received.some((m) => m.type === "reject" && (m.payload as Reject).seq === seq),
      "the attack was not refused",
    );
    await player.until(() => player.state!.enemies["dummy-1"].hp === maxHp - hit.damage, 5000, "dummy hurt");
    assert.equal(player.state!.status, "active");
    await player.leave();
    assert.equal(
      app.colyseus.getRoomById<DungeonState>(player.info.roomId)?.state.heroes.has(player.sessionId) ?? false,
      false,
    );
  });

  it("joins a match over HTTP beside a WebSocket player, readies, and plays one turn", async () => {
    const code = `http-${Math.random()}`;
    const first = await guest(app);
    const second = await guest(app);
    const player = await HttpPlayer.open<MatchJson>(app.url, first.token, "match", { mode: "duel", code });
    assert.equal(player.info.room, "match");
    const welcome = await player.next<{ matchId: string; mode: string; spectator: boolean }>("welcome");
    assert.deepEqual([welcome.mode, welcome.spectator], ["duel", false]);
    const other = await sdk(app, second.token).joinOrCreate<MatchState>("match", { mode: "duel", code });
    for (const type of ["welcome", "reject", "tx", "finished", "chain", "pong"]) other.onMessage(type, () => undefined);
    assert.equal(other.roomId, player.info.roomId);

    await player.send({ type: "ready", payload: { ready: true } });
    other.send("ready", { seq: 1, ready: true });
    await player.until(() => player.state?.status === "playing", 5000, "playing");
    assert.equal(player.state!.turn, player.sessionId, "the first to join plays first");

    const tx = player.next<{ index: number; actions: unknown[]; hash: string }>("tx");
    await player.send({
      type: "turn",
      payload: { prev: player.state!.chainHead, actions: [{ type: "build", building: "tent", x: 1, y: 1 }] },
    });
    const played = await tx;
    assert.equal(played.index, 1);
    assert.deepEqual(played.actions, [{ type: "build", building: "tent", x: 1, y: 1 }]);
    await player.until(
      () => player.state!.turn === other.sessionId && player.state!.chainHead === played.hash,
      5000,
      "turn passed",
    );
    await until(other, () => other.state.chainHead === played.hash, 5000, "the WebSocket player sees the turn");
    assert.ok(Object.values(player.state!.tiles).some((t) => t.building === "tent" && t.owner === first.userId));

    await player.leave();
    await other.leave();
  });
});

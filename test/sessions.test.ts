/**
 * PROTOCOL §6, sessions over HTTP, against a real server: a player written from the section alone
 * (test/http-player.ts) plays a world, switches to WebSocket and back, and sees what a WebSocket
 * player of the same kind of seat sees.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
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

/**
 * Security findings about rooms and connections, each tried again as an attacker would: over raw
 * HTTP and WebSockets and real SDK clients, against real servers (two processes and a private
 * Redis where the rule is cluster-wide).
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "mocha";
import { matchMaker } from "@colyseus/core";
import { encode, type Iterator } from "@colyseus/schema";
import { WebSocket } from "ws";
import { policy } from "../src/content/policy.js";
import { seatKey } from "../src/cluster/users.js";
import { Bot, describeCluster, eventually, guest, http, nextMessage, sdk, startApp, type TestApp } from "./helpers.js";

interface Matchmade {
  status: number;
  retryAfter: string | null;
  body: { roomId?: string; code?: number; error?: string };
}

/** One matchmaking call over raw HTTP, as a script would make it (no SDK). */
async function matchmake(
  base: string,
  method: string,
  room: string,
  token: string,
  options: object,
): Promise<Matchmade> {
  const res = await fetch(`${base}/matchmake/${method}/${room}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(options),
  });
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (text ? JSON.parse(text) : { error: `(HTTP ${res.status}, no body)` }) as Matchmade["body"],
  };
}

const { join: joins, create: creations } = policy.userLimits;

describe("security: per-user limits on room joins and creations (one process)", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => {
    app = await startApp();
  });
  after(() => app.stop());

  it("refuses the room creation past the limit with 429, Retry-After and join/rate_limited", async () => {
    const attacker = await guest(app);
    for (let i = 0; i < creations.limit; i++) {
      const res = await matchmake(app.url, "create", "dungeon", attacker.token, {
        dungeon: "training",
        party: `p${i}`,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const refused = await matchmake(app.url, "create", "dungeon", attacker.token, { dungeon: "training", party: "x" });
    assert.equal(refused.status, 429);
    assert.match(refused.body.error ?? "", /^join\/rate_limited: /);
    assert.ok(Number(refused.retryAfter) >= 1 && Number(refused.retryAfter) <= 60, `Retry-After ${refused.retryAfter}`);
    // A joinOrCreate that would make a room is a creation too, and the SDK shows the code.
    await assert.rejects(
      sdk(app, attacker.token).joinOrCreate("dungeon", { dungeon: "training", party: "fresh" }),
      /join\/rate_limited/,
    );
  });

  it("refuses the join past the limit, and leaves other players alone", async () => {
    const attacker = await guest(app);
    for (let i = 0; i < joins.limit; i++) {
      const res = await matchmake(app.url, "joinOrCreate", "world", attacker.token, { world: "meadow" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const refused = await matchmake(app.url, "joinOrCreate", "world", attacker.token, { world: "meadow" });
    assert.equal(refused.status, 429);
    assert.match(refused.body.error ?? "", /^join\/rate_limited: /);
    assert.ok(refused.retryAfter !== null);
    // An honest player on the same server joins as ever.
    const honest = await guest(app);
    const room = await sdk(app, honest.token).joinOrCreate("world", { world: "meadow" });
    room.onMessage("welcome", () => undefined);
    await room.leave();
  });
});

describeCluster("security: per-user limits across processes (two processes, one Redis)", {}, function (cluster) {
  this.timeout(60_000);

  it("counts one user's room creations on every process together", async () => {
    const { a, b } = cluster;
    const res = await fetch(`${a.url}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const { token } = (await res.json()) as { token: string };
    const answers: Matchmade[] = [];
    // Alternating processes: per process, each would allow the whole limit.
    for (let i = 0; i < creations.limit * 2; i++) {
      const server = i % 2 === 0 ? a : b;
      answers.push(await matchmake(server.url, "create", "dungeon", token, { dungeon: "training", party: `c${i}` }));
    }
    assert.equal(answers.filter((r) => r.status === 200).length, creations.limit);
    const refused = answers.filter((r) => r.status === 429);
    assert.equal(refused.length, creations.limit);
    for (const r of refused) {
      assert.match(r.body.error ?? "", /^join\/rate_limited: /);
      assert.ok(r.retryAfter !== null);
    }
  });
});

/** Colyseus's protocol codes (the low five bits of a frame's first byte; @colyseus/shared-types). */
const JOIN_ROOM = 10;
const ROOM_DATA = 13;

/** A raw WebSocket seat: matchmaking over HTTP, the socket, the JOIN_ROOM handshake and its ack. */
async function rawSeat(app: TestApp, token: string) {
  const seat = (await matchmake(app.url, "joinOrCreate", "world", token, { world: "meadow" })).body as {
    roomId: string;
    sessionId: string;
    processId: string;
  };
  const ws = new WebSocket(
    `ws://127.0.0.1:${app.port}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}&_authToken=${token}`,
  );
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const reconnectionToken = await new Promise<string>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      if ((data[0] & 0x1f) !== JOIN_ROOM) return;
      ws.send(Buffer.from([JOIN_ROOM])); // the client's acknowledgement, as the SDK sends it
      resolve(data.subarray(2, 2 + data[1]).toString());
    });
  });
  return { ...seat, ws, closed, reconnectionToken };
}

describe("security: a payload msgpack cannot decode", function () {
  this.timeout(20_000);
  let app: TestApp;
  before(async () => {
    app = await startApp(); // RECONNECT_SECONDS=5: a dropped body would be held that long
  });
  after(() => app.stop());

  it("closes with 4103 input/undecodable and ends the seat without a reconnection window", async () => {
    const me = await guest(app);
    const seat = await rawSeat(app, me.token);
    const room = matchMaker.getLocalRoomById(seat.roomId);
    await eventually(() => app.services.presence.hget(seatKey("world"), me.userId).then((r) => r === seat.roomId));

    // ROOM_DATA, the type "move", then a msgpack string that claims 32 bytes and holds one.
    const frame = Buffer.alloc(16);
    frame[0] = ROOM_DATA;
    const it: Iterator = { offset: 1 };
    encode.string(frame, "move", it);
    for (const byte of [0xd9, 0x20, 0x61]) frame[it.offset++] = byte;
    seat.ws.send(frame.subarray(0, it.offset));

    const { code, reason } = await seat.closed;
    assert.equal(code, 4103);
    assert.match(reason, /^input\/undecodable: /);
    // Once the room has let the connection go, nothing holds the body for it.
    await eventually(() => Promise.resolve(!room.clients.some((c) => c.sessionId === seat.sessionId)));
    // What the SDK's reconnect sends: the room id in the path, the token in the body.
    const back = await matchmake(app.url, "reconnect", seat.roomId, me.token, {
      reconnectionToken: seat.reconnectionToken,
    });
    assert.notEqual(back.status, 200, "the reconnection token no longer opens the seat");
    await eventually(() => app.services.presence.hget(seatKey("world"), me.userId).then((r) => r === null));
  });
});

interface EventsPage {
  events: Array<{ seq: number; type: string; data: Record<string, unknown> }>;
  last: number;
}

describe("security: players read only the events about what they could see", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => {
    app = await startApp({ ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" });
  });
  after(() => app.stop());

  it("shows a gather to its player and to one near it, not to one far away; the admin sees it all", async () => {
    const gatherer = await Bot.join(app, { world: "meadow" });
    const watcher = await Bot.join(app, { world: "meadow" });
    assert.equal(watcher.room.roomId, gatherer.room.roomId);
    const roomId = gatherer.room.roomId;
    await gatherer.walkTo(1130, 950); // oak-1 stands at (1150, 950); aoiRadius is 300
    const got = nextMessage(gatherer.room, "gathered");
    gatherer.send("gather", { resource: "oak-1" });
    await got;

    const read = async (bot: Bot) =>
      (await http<EventsPage>(app, "GET", `/api/events/${roomId}`, undefined, bot.user.token)).body;
    const gathers = (page: EventsPage) => page.events.filter((e) => e.type === "gathered");
    const own = await read(gatherer);
    assert.equal(gathers(own).length, 1);
    assert.equal(gathers(own)[0].data.userId, gatherer.user.userId);
    assert.equal(gathers(await read(watcher)).length, 1, "near the spawn, the watcher could see the tree");

    await watcher.walkTo(1000, 1350); // about 430 from the tree
    const far = await read(watcher);
    assert.deepEqual(gathers(far), [], "too far now to read who gathered where");
    assert.ok(far.last >= gathers(own)[0].seq, "`last` lets the reader page on past what it may not see");

    const auth = "Basic " + Buffer.from("admin:correct-horse-battery").toString("base64");
    const admin = (await (
      await fetch(`${app.url}/api/events/${roomId}`, { headers: { authorization: auth } })
    ).json()) as EventsPage;
    assert.equal(gathers(admin).length, 1);
    await Promise.all([gatherer.leave(), watcher.leave()]);
  });
});

/** A raw TCP connection to the server, with what it receives and when the server closes it. */
async function rawSocket(app: TestApp, send?: string) {
  const socket: Socket = connect(app.port, "127.0.0.1");
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString()));
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  if (send) socket.write(send);
  return { socket, closed, received: () => received };
}

describe("security: connections", function () {
  this.timeout(20_000);

  it("answers 408 and closes a connection that does not finish its handshake within seconds", async () => {
    const app = await startApp({ HTTP_HANDSHAKE_MS: "1000" }); // 5 s by default
    try {
      const silent = await rawSocket(app);
      const partial = await rawSocket(app, "GET /matchmake HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n");
      // Node's own default would hold both for 60-90 s, past this test's timeout.
      assert.match(await silent.closed, /^HTTP\/1\.1 408 /);
      assert.match(await partial.closed, /^HTTP\/1\.1 408 /);
    } finally {
      await app.stop();
    }
  });

  it("caps the connections one address holds open, with 429 http/too_many_connections", async () => {
    const app = await startApp({ MAX_CONNECTIONS_PER_ADDRESS: "3", CONNECTION_CAP_LOOPBACK: "true" });
    try {
      const held = [await rawSocket(app), await rawSocket(app), await rawSocket(app)];
      const refused = await rawSocket(app);
      const answer = await refused.closed;
      assert.match(answer, /^HTTP\/1\.1 429 /);
      assert.match(answer, /"code":"http\/too_many_connections"/);
      assert.equal(held.map((h) => h.received()).join(""), "", "the first three are open and untouched");
      // One closes: the address may connect again.
      held[0].socket.destroy();
      await eventually(async () => (await fetch(`${app.url}/health/live`)).status === 200);
      for (const h of held) h.socket.destroy();
    } finally {
      await app.stop();
    }
  });
});

/**
 * Social across processes (PROTOCOL §7), with two real server processes, a private redis-server
 * and one SQLite store: two users befriend each other, see each other online and where (a world
 * on another process), whisper across processes exactly once, read their rank, and get
 * `first-steps` once; a friend's `where` follows a travel from meadow to dunes.
 */
import assert from "node:assert/strict";
import { Client, type Room, type SeatReservation } from "@colyseus/sdk";
import { newProfile } from "../src/domain/profile.js";
import type { Reject, ServerMessages, WorldState } from "../client/index.js";
import { describeCluster, eventually, nextMessage, until, withSharedStore, type ServerProcess } from "./helpers.js";

type Whispered = ServerMessages["world"]["whisper"];
interface Friends {
  friends: Array<{ userId: string; name: string; online: boolean; where: Record<string, string> | null }>;
  incoming: Array<{ userId: string; name: string }>;
  outgoing: Array<{ userId: string; name: string }>;
}
interface User {
  token: string;
  userId: string;
  name: string;
}

async function call<B>(server: ServerProcess, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as B };
}

async function register(server: ServerProcess, username: string): Promise<User> {
  const res = await call<User>(server, "POST", "/auth/register", undefined, { username, password: "a-password-1" });
  assert.equal(res.status, 201);
  return res.body;
}

async function joinWorld(server: ServerProcess, user: User, world: string) {
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = user.token;
  const room: Room<unknown, WorldState> = await client.joinOrCreate<WorldState>("world", { world });
  room.reconnection.enabled = false;
  const whispers: Whispered[] = [];
  const achievements: string[] = [];
  room.onMessage("whisper", (w: Whispered) => whispers.push(w));
  room.onMessage("achievement", (a: { id: string }) => achievements.push(a.id));
  for (const type of ["welcome", "reject", "chat", "pong"]) room.onMessage(type, () => undefined);
  await until(room, () => room.state.players?.get(room.sessionId) !== undefined);
  return { room, whispers, achievements };
}

describeCluster("social across processes: two processes, one Redis, one SQLite", {}, function (cluster) {
  this.timeout(90_000);

  it("friends see each other online and where, whisper across processes once, and read their rank", async () => {
    const { a, b } = cluster;
    const suffix = Math.floor(Math.random() * 1e6);
    const ann = await register(a, `ann_${suffix}`);
    const bob = await register(b, `bob_${suffix}`);
    await register(a, `cid_${suffix}`); // registered, never seated

    // Ann asks on one process; Bob sees it and accepts on the other.
    const asked = await call<{ status: string }>(a, "POST", "/api/friends", ann.token, { username: `bob_${suffix}` });
    assert.deepEqual(asked, { status: 201, body: { status: "requested" } });
    const again = await call<{ error: { code: string } }>(a, "POST", "/api/friends", ann.token, {
      username: `bob_${suffix}`,
    });
    assert.equal(again.body.error.code, "friends/already");
    const self = await call<{ error: { code: string } }>(a, "POST", "/api/friends", ann.token, {
      username: `ann_${suffix}`,
    });
    assert.deepEqual([self.status, self.body.error.code], [400, "friends/self"]);
    const nobody = await call<{ error: { code: string } }>(a, "POST", "/api/friends", ann.token, {
      username: `nobody_${suffix}`,
    });
    assert.deepEqual([nobody.status, nobody.body.error.code], [404, "friends/not_found"]);
    const pending = (await call<Friends>(b, "GET", "/api/friends", bob.token)).body;
    assert.deepEqual(pending.incoming, [{ userId: ann.userId, name: ann.name }]);
    assert.deepEqual((await call<Friends>(a, "GET", "/api/friends", ann.token)).body.outgoing, [
      { userId: bob.userId, name: bob.name },
    ]);
    const accepted = await call<{ status: string }>(b, "POST", `/api/friends/${ann.userId}/accept`, bob.token);
    assert.deepEqual(accepted, { status: 200, body: { status: "friends" } });
    const offline = (await call<Friends>(a, "GET", "/api/friends", ann.token)).body;
    assert.deepEqual(offline.friends, [{ userId: bob.userId, name: bob.name, online: false, where: null }]);

    // Ann plays in meadow through one process, Bob in dunes through the other.
    const annIn = await joinWorld(a, ann, "meadow");
    const bobIn = await joinWorld(b, bob, "dunes");
    const listed = (await call<Array<{ roomId: string; processId: string }>>(a, "GET", "/api/instances", ann.token))
      .body;
    const processOf = (roomId: string) => listed.find((l) => l.roomId === roomId)?.processId;
    assert.notEqual(processOf(annIn.room.roomId), processOf(bobIn.room.roomId), "the worlds run on two processes");

    await eventually(
      async () => {
        const { friends } = (await call<Friends>(a, "GET", "/api/friends", ann.token)).body;
        return friends[0]?.online === true && friends[0].where?.world === "dunes";
      },
      15_000,
      "Ann sees Bob online in dunes",
    );
    const seen = (await call<Friends>(a, "GET", "/api/friends", ann.token)).body.friends[0];
    assert.deepEqual(seen.where, { room: "world", world: "dunes" });
    const seenBack = (await call<Friends>(b, "GET", "/api/friends", bob.token)).body.friends[0];
    assert.deepEqual([seenBack.online, seenBack.where], [true, { room: "world", world: "meadow" }]);

    // Whispers by username and by userId cross to the other process, each exactly once.
    annIn.room.send("whisper", { seq: 1, to: `bob_${suffix}`, text: "  hello, Bob  " });
    const first = await nextMessage<Whispered>(bobIn.room, "whisper", 10_000);
    assert.equal(first.from, ann.userId);
    assert.equal(first.name, ann.name);
    assert.equal(first.text, "hello, Bob");
    assert.equal(typeof first.at, "number");
    const second = nextMessage<Whispered>(bobIn.room, "whisper", 10_000, (w) => w.text === "again");
    annIn.room.send("whisper", { seq: 2, to: bob.userId, text: "again" });
    await second;
    const back = nextMessage<Whispered>(annIn.room, "whisper", 10_000);
    bobIn.room.send("whisper", { seq: 1, to: `ann_${suffix}`, text: "hi Ann" });
    assert.equal((await back).from, bob.userId);
    assert.deepEqual(
      bobIn.whispers.map((w) => w.text),
      ["hello, Bob", "again"],
    );

    // Refusals: chat's text rule, and a target seated nowhere.
    const tooLong = nextMessage<Reject>(annIn.room, "reject", 10_000, (r) => r.seq === 3);
    annIn.room.send("whisper", { seq: 3, to: bob.userId, text: "x".repeat(201) });
    assert.deepEqual([(await tooLong).action, (await tooLong).code], ["whisper", "chat/too_long"]);
    const toCid = nextMessage<Reject>(annIn.room, "reject", 10_000, (r) => r.seq === 4);
    annIn.room.send("whisper", { seq: 4, to: `cid_${suffix}`, text: "are you there?" });
    assert.equal((await toCid).code, "whisper/offline");
    const toNobody = nextMessage<Reject>(annIn.room, "reject", 10_000, (r) => r.seq === 5);
    annIn.room.send("whisper", { seq: 5, to: `nobody_${suffix}`, text: "hello?" });
    assert.equal((await toNobody).code, "whisper/offline");

    // Ranks, with `me` for a Bearer token.
    const board = await call<{ id: string; entries: Array<{ rank: number; userId: string }>; me: { rank: number } }>(
      a,
      "GET",
      "/api/leaderboards/match-rating?limit=50",
      ann.token,
    );
    assert.equal(board.body.id, "match-rating");
    assert.ok(board.body.entries.some((e) => e.userId === bob.userId && e.rank === board.body.me.rank));

    // first-steps, once each.
    await eventually(
      () => Promise.resolve(annIn.achievements.length > 0 && bobIn.achievements.length > 0),
      10_000,
      "unlocks",
    );
    assert.deepEqual([annIn.achievements, bobIn.achievements], [["first-steps"], ["first-steps"]]);

    // Bob leaves: Ann sees him offline, and whispers to him are refused.
    await bobIn.room.leave();
    await eventually(
      async () => {
        const { friends } = (await call<Friends>(a, "GET", "/api/friends", ann.token)).body;
        return friends[0]?.online === false && friends[0].where === null;
      },
      15_000,
      "Ann sees Bob offline",
    );
    const gone = nextMessage<Reject>(annIn.room, "reject", 10_000, (r) => r.seq === 6);
    annIn.room.send("whisper", { seq: 6, to: bob.userId, text: "still there?" });
    assert.equal((await gone).code, "whisper/offline");

    // Removing works from either side.
    const removed = await call(b, "DELETE", `/api/friends/${ann.userId}`, bob.token);
    assert.equal(removed.status, 204);
    assert.deepEqual((await call<Friends>(a, "GET", "/api/friends", ann.token)).body.friends, []);
    await annIn.room.leave();
  });

  it("a friend's where follows a travel through a portal from meadow to dunes", async () => {
    const { a, b } = cluster;
    const suffix = Math.floor(Math.random() * 1e6);
    const cat = await register(a, `cat_${suffix}`);
    const dan = await register(b, `dan_${suffix}`);
    await call(a, "POST", "/api/friends", cat.token, { userId: dan.userId });
    assert.equal((await call(b, "POST", `/api/friends/${cat.userId}/accept`, dan.token)).status, 200);
    await withSharedStore(cluster.dataDir, (store) =>
      store.saveProfile({ ...newProfile(cat, 100), location: { world: "meadow", x: 1870, y: 1000 } }, "test-placement"),
    );
    const whereIsCat = async () =>
      (await call<Friends>(b, "GET", "/api/friends", dan.token)).body.friends.find((f) => f.userId === cat.userId)
        ?.where;

    const client = new Client(`ws://127.0.0.1:${a.port}`);
    client.auth.token = cat.token;
    const meadow = await joinWorld(a, cat, "meadow");
    assert.deepEqual(await whereIsCat(), { room: "world", world: "meadow" });

    const travel = nextMessage<{ world: string; reservation: SeatReservation }>(meadow.room, "travel", 10_000);
    meadow.room.send("travel", { seq: 1, portal: "meadow-east-gate" });
    const { world, reservation } = await travel;
    assert.equal(world, "dunes");
    await meadow.room.leave();
    const dunes = await client.consumeSeatReservation<WorldState>(reservation);
    dunes.reconnection.enabled = false;
    dunes.onMessage("*", () => undefined);
    await until(dunes, () => dunes.state.players?.get(dunes.sessionId) !== undefined);
    assert.deepEqual(await whereIsCat(), { room: "world", world: "dunes" });
    await dunes.leave();
    await eventually(async () => (await whereIsCat()) === null, 10_000, "Cat seated nowhere after leaving");
  });
});

/**
 * Accounts and session security across processes (PROTOCOL §8): two server processes share a
 * private redis-server and one SQLite store. A ban set through one process closes the user's
 * connection on the other with 4104; a logout on one makes the token fail on the other; the auth
 * rate limit and the failed-login limit count on both.
 */
import assert from "node:assert/strict";
import { Client, type Room } from "@colyseus/sdk";
import { describeCluster, nextMessage, type ServerProcess } from "./helpers.js";

type Failure = { error: { code: string; message: string } };
type Session = { token: string; userId: string; name: string };

const adminAuth = "Basic " + Buffer.from("admin:local-process-password").toString("base64");
let nextIp = 1;
/** Each request of these tests comes from an address of its own, unless one is given: the auth limit is on. */
const freshIp = () => `10.60.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;

async function call<B = unknown>(
  server: ServerProcess,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; ip?: string; admin?: boolean } = {},
): Promise<{ status: number; body: B; headers: Headers }> {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": options.ip ?? freshIp(),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.admin ? { authorization: adminAuth } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as B, headers: res.headers };
}

const guestAt = async (server: ServerProcess) =>
  (await call<Session>(server, "POST", "/auth/guest", { body: {} })).body;

async function joinAt(server: ServerProcess, token: string): Promise<Room> {
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = token;
  const room = await client.joinOrCreate("world", { world: "meadow" });
  room.reconnection.enabled = false;
  for (const type of ["reject", "chat", "pong"]) room.onMessage(type, () => undefined);
  await nextMessage(room, "welcome");
  return room;
}

describeCluster(
  "accounts: two processes, one Redis",
  {
    RECONNECT_SECONDS: "2",
    AUTH_RATE_PER_MIN: "5",
    LOG_LEVEL: "warn",
    TRUST_PROXY: "loopback", // the tests name each client in X-Forwarded-For, as a local proxy would
  },
  function (cluster) {
    this.timeout(90_000);

    it("bans through one process a user seated on the other: closed with 4104 auth/banned, refused on both", async () => {
      const { a, b } = cluster;
      const user = await guestAt(b);
      const room = await joinAt(b, user.token);
      const closed = new Promise<[number, string | undefined]>((resolve) =>
        room.onLeave((code, reason) => resolve([code, reason])),
      );
      const seen = await call<{ rooms: Array<{ roomId: string }> }>(a, "GET", `/api/admin/users/${user.userId}`, {
        admin: true,
      });
      assert.deepEqual(seen.body.rooms, [{ kind: "world", roomId: room.roomId }]);
      // Ban through the process that does not hold the room (the only world room so far).
      const holds = async (server: ServerProcess) =>
        /realmgate_rooms\{room="world",world="meadow"\} 1/.test(await server.metricsText());
      const ownerIsB = await holds(b);
      assert.notEqual(await holds(a), ownerIsB, "exactly one process holds the room");
      const banner = ownerIsB ? a : b;

      const ban = await call<{ closed: number }>(banner, "POST", `/api/admin/users/${user.userId}/ban`, {
        admin: true,
        body: { minutes: 10, reason: "botting" },
      });
      assert.equal(ban.status, 200);
      assert.equal(ban.body.closed, 1);
      const [code, reason] = await closed;
      assert.equal(code, 4104);
      assert.match(reason ?? "", /^auth\/banned: botting/);

      for (const server of [a, b]) {
        const me = await call<Failure>(server, "GET", "/api/me", { token: user.token });
        assert.equal(me.status, 403);
        assert.equal(me.body.error.code, "auth/banned");
        await assert.rejects(joinAt(server, user.token), /auth\/banned/);
      }
      assert.match(await banner.metricsText(), /realmgate_bans_total\{action="ban"\} 1/);

      assert.equal(
        (await call(ownerIsB ? b : a, "DELETE", `/api/admin/users/${user.userId}/ban`, { admin: true })).status,
        200,
      );
      assert.equal((await call(banner, "GET", "/api/me", { token: user.token })).status, 200);
    });

    it("logs out on one process: the token then fails on the other, over HTTP and in joins", async () => {
      const { a, b } = cluster;
      const user = await guestAt(a);
      assert.equal((await call(b, "GET", "/api/me", { token: user.token })).status, 200);
      assert.equal((await call(a, "POST", "/auth/logout", { token: user.token })).status, 204);
      const me = await call<Failure>(b, "GET", "/api/me", { token: user.token });
      assert.equal(me.status, 401);
      assert.equal(me.body.error.code, "auth/unauthorized");
      await assert.rejects(joinAt(b, user.token), /auth\/invalid_token/);
      assert.match(await a.metricsText(), /realmgate_token_revocations_total 1/);
    });

    it("limits auth requests per address across both processes (AUTH_RATE_PER_MIN=5)", async () => {
      const { a, b } = cluster;
      const ip = "10.61.0.1";
      const statuses: number[] = [];
      for (const server of [a, b, a, b, a, b, a])
        statuses.push((await call(server, "POST", "/auth/guest", { body: {}, ip })).status);
      assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429]);
      const limited = await call<Failure>(b, "POST", "/auth/guest", { body: {}, ip });
      assert.equal(limited.body.error.code, "rate/limited");
      assert.match(limited.headers.get("retry-after") ?? "", /^([1-9]|1[0-2])$/);
      // Another address is not affected.
      assert.equal((await call(a, "POST", "/auth/guest", { body: {} })).status, 201);
    });

    it("counts failed logins of one account across both processes", async () => {
      const { a, b } = cluster;
      const password = "cluster-password-1";
      assert.equal(
        (await call(a, "POST", "/auth/register", { body: { username: "cluster_cid", password } })).status,
        201,
      );
      for (const server of [a, b, a, b, a]) {
        const wrong = await call(server, "POST", "/auth/login", {
          body: { username: "cluster_cid", password: "nope" },
        });
        assert.equal(wrong.status, 401);
      }
      const locked = await call<Failure>(b, "POST", "/auth/login", { body: { username: "cluster_cid", password } });
      assert.equal(locked.status, 429);
      assert.equal(locked.body.error.code, "auth/locked");
    });

    it("fails closed while Redis is down: Bearer routes answer 503 dependency/down (Redis killed and restarted)", async () => {
      const { a, redis } = cluster;
      const user = await guestAt(a);
      await redis.kill();
      try {
        const me = await call<Failure>(a, "GET", "/api/me", { token: user.token });
        assert.equal(me.status, 503);
        assert.equal(me.body.error.code, "dependency/down");
      } finally {
        await redis.start(); // the processes stop cleanly only with their Redis back
      }
    });
  },
);

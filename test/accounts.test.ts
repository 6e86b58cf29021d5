/**
 * Accounts and session security (PROTOCOL §8) on one process, over real HTTP and SDK clients:
 * refresh, logout and revocation, device pinning and its signals, bans and the admin's user route,
 * the per-account failed-login limit, and the fair password queue. test/accounts.cluster.test.ts
 * checks the cluster-wide rules with two processes and Redis.
 */
import assert from "node:assert/strict";
import type { Room } from "@colyseus/sdk";
import { after, before, describe, it } from "mocha";
import { FairQueue, QueueFullError } from "../src/auth/queue.js";
import { MemoryShared } from "../src/cluster/shared.js";
import { guest, nextMessage, sdk, startApp, type TestApp } from "./helpers.js";

type Failure = { error: { code: string; message: string } };
type Session = { token: string; userId: string; name: string };

const ADMIN = { ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" };
const adminAuth = "Basic " + Buffer.from("admin:correct-horse-battery").toString("base64");
const DEVICE = "device-fingerprint-0001";

async function call<B = unknown>(
  app: TestApp,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: B; headers: Headers }> {
  const res = await fetch(app.url + path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as B, headers: res.headers };
}

const admin = <B = unknown>(app: TestApp, method: string, path: string, body?: unknown) =>
  call<B>(app, method, path, { body, headers: { authorization: adminAuth } });

/** Asks for a world seat over HTTP, as the SDK does, from address `ip`; answers the status and body. */
const matchmake = (app: TestApp, token: string, ip: string, extra: Record<string, string> = {}) =>
  call<Failure | { sessionId: string }>(app, "POST", "/matchmake/joinOrCreate/world", {
    body: { world: "meadow" },
    token,
    headers: { "x-forwarded-for": ip, ...extra },
  });

const signalCount = async (app: TestApp, signal: string) => {
  const text = await app.services.metrics.text();
  return [...text.matchAll(new RegExp(`^realmgate_security_signals_total\\{signal="${signal}"[^}]*\\} (\\d+)`, "gm"))]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
};

async function joinWorld(app: TestApp, token: string, options: Record<string, unknown> = {}): Promise<Room> {
  const room = await sdk(app, token).joinOrCreate("world", { world: "meadow", ...options });
  room.reconnection.enabled = false;
  for (const type of ["reject", "chat", "pong"]) room.onMessage(type, () => undefined);
  await nextMessage(room, "welcome");
  return room;
}

describe("accounts: tokens, devices, bans (one process)", function () {
  this.timeout(60_000);
  let app: TestApp;
  before(async () => {
    // The tests speak as a proxy on loopback would, naming each client in X-Forwarded-For.
    app = await startApp({ ...ADMIN, TRUST_PROXY: "loopback" });
  });
  after(() => app.stop());

  it("refreshes a token: a fresh one for the same user and name", async () => {
    const me = await guest(app, "Refresher");
    const res = await call<Session>(app, "POST", "/auth/refresh", { token: me.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.userId, me.userId);
    assert.equal(res.body.name, "Refresher");
    assert.notEqual(res.body.token, me.token);
    assert.equal((await call(app, "GET", "/api/me", { token: res.body.token })).status, 200);
    const none = await call<Failure>(app, "POST", "/auth/refresh");
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, "auth/unauthorized");
  });

  it("logs out: the token then fails on HTTP (auth/unauthorized) and in joins (auth/invalid_token)", async () => {
    const me = await guest(app);
    const other = await call<Session>(app, "POST", "/auth/refresh", { token: me.token });
    assert.equal((await call(app, "GET", "/api/me", { token: me.token })).status, 200);
    const before = Number(/realmgate_token_revocations_total (\d+)/.exec(await app.services.metrics.text())![1]);

    assert.equal((await call(app, "POST", "/auth/logout", { token: me.token })).status, 204);
    const me401 = await call<Failure>(app, "GET", "/api/me", { token: me.token });
    assert.equal(me401.status, 401);
    assert.equal(me401.body.error.code, "auth/unauthorized");
    assert.match(me401.body.error.message, /revoked/);
    assert.equal((await call(app, "POST", "/auth/refresh", { token: me.token })).status, 401);
    await assert.rejects(sdk(app, me.token).joinOrCreate("world", { world: "meadow" }), /auth\/invalid_token/);
    // Only that token: another one of the same user still works.
    assert.equal((await call(app, "GET", "/api/me", { token: other.body.token })).status, 200);
    const after = Number(/realmgate_token_revocations_total (\d+)/.exec(await app.services.metrics.text())![1]);
    assert.equal(after, before + 1);
  });

  it("pins a token to its device: joins and HTTP without the same fingerprint are refused and counted", async () => {
    const bad = await call<Failure>(app, "POST", "/auth/guest", { body: { fingerprint: "short" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "input/invalid");

    const pinned = await call<Session>(app, "POST", "/auth/guest", { body: { fingerprint: DEVICE } });
    assert.equal(pinned.status, 201);
    const token = pinned.body.token;
    const mismatches = await signalCount(app, "fingerprint_mismatch");

    const noHeader = await call<Failure>(app, "GET", "/api/me", { token });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body.error.code, "auth/fingerprint_mismatch");
    const withHeader = await call(app, "GET", "/api/me", { token, headers: { "x-device-fingerprint": DEVICE } });
    assert.equal(withHeader.status, 200);

    await assert.rejects(joinWorld(app, token), /auth\/fingerprint_mismatch/);
    await assert.rejects(joinWorld(app, token, { fingerprint: "another-device-000" }), /auth\/fingerprint_mismatch/);
    const header = await matchmake(app, token, "10.1.0.1", { "x-device-fingerprint": "another-device-000" });
    assert.match((header.body as Failure).error?.message ?? JSON.stringify(header.body), /auth\/fingerprint_mismatch/);
    assert.equal(await signalCount(app, "fingerprint_mismatch"), mismatches + 4);

    // The right device gets in, by option or by header; a refresh keeps the pin.
    const room = await joinWorld(app, token, { fingerprint: DEVICE });
    await room.leave();
    const seat = await matchmake(app, token, "10.1.0.1", { "x-device-fingerprint": DEVICE });
    assert.equal(seat.status, 200, JSON.stringify(seat.body));
    const fresh = await call<Session>(app, "POST", "/auth/refresh", {
      token,
      headers: { "x-device-fingerprint": DEVICE },
    });
    assert.equal(fresh.status, 200);
    assert.equal((await call(app, "GET", "/api/me", { token: fresh.body.token })).status, 403);

    // The admin sees the user's signals.
    const user = await admin<{ signals: Array<{ signal: string }> }>(
      app,
      "GET",
      `/api/admin/users/${pinned.body.userId}`,
    );
    assert.ok(user.body.signals.some((s) => s.signal === "fingerprint_mismatch"));
  });

  it("counts address_change when one token joins from another address", async () => {
    const me = await guest(app);
    const changes = await signalCount(app, "address_change");
    assert.equal((await matchmake(app, me.token, "10.2.0.1")).status, 200);
    assert.equal((await matchmake(app, me.token, "10.2.0.1")).status, 200);
    assert.equal(await signalCount(app, "address_change"), changes);
    assert.equal((await matchmake(app, me.token, "10.2.0.2")).status, 200);
    assert.equal(await signalCount(app, "address_change"), changes + 1);
    const user = await admin<{ signals: Array<{ signal: string }> }>(app, "GET", `/api/admin/users/${me.userId}`);
    assert.deepEqual(
      user.body.signals.map((s) => s.signal),
      ["address_change"],
    );
  });

  it("bans: closes the seat with 4104 auth/banned, refuses login, guest reuse, joins and HTTP until lifted", async () => {
    const password = "ban-me-password";
    const reg = await call<Session>(app, "POST", "/auth/register", {
      body: { username: "banned_bob", password, fingerprint: DEVICE + "-bob" },
    });
    assert.equal(reg.status, 201);
    const { token, userId } = reg.body;
    const room = await joinWorld(app, token, { fingerprint: DEVICE + "-bob" });
    const closed = new Promise<[number, string | undefined]>((resolve) =>
      room.onLeave((code, reason) => resolve([code, reason])),
    );

    assert.equal(
      (await call(app, "POST", `/api/admin/users/${userId}/ban`, { body: { minutes: 5, reason: "x" } })).status,
      401,
    );
    const badBan = await admin<Failure>(app, "POST", `/api/admin/users/${userId}/ban`, { minutes: 0, reason: "x" });
    assert.equal(badBan.status, 400);
    const ban = await admin<{ ban: { until: number; reason: string }; closed: number }>(
      app,
      "POST",
      `/api/admin/users/${userId}/ban`,
      { minutes: 5, reason: "cheating" },
    );
    assert.equal(ban.status, 200);
    assert.equal(ban.body.closed, 1);
    assert.equal(ban.body.ban.reason, "cheating");
    const [code, reason] = await closed;
    assert.equal(code, 4104);
    assert.match(reason ?? "", /^auth\/banned/);

    const login = await call<Failure>(app, "POST", "/auth/login", { body: { username: "banned_bob", password } });
    assert.equal(login.status, 403);
    assert.equal(login.body.error.code, "auth/banned");
    const reuse = await call<Failure>(app, "POST", "/auth/guest", { body: { fingerprint: DEVICE + "-bob" } });
    assert.equal(reuse.status, 403);
    assert.equal(reuse.body.error.code, "auth/banned");
    const me = await call<Failure>(app, "GET", "/api/me", {
      token,
      headers: { "x-device-fingerprint": DEVICE + "-bob" },
    });
    assert.equal(me.body.error.code, "auth/banned");
    const refresh = await call<Failure>(app, "POST", "/auth/refresh", {
      token,
      headers: { "x-device-fingerprint": DEVICE + "-bob" },
    });
    assert.equal(refresh.body.error.code, "auth/banned");
    await assert.rejects(joinWorld(app, token, { fingerprint: DEVICE + "-bob" }), /auth\/banned/);

    const seen = await admin<{ username: string; ban: { reason: string } | null; rooms: unknown[]; profile: unknown }>(
      app,
      "GET",
      `/api/admin/users/${userId}`,
    );
    assert.equal(seen.status, 200);
    assert.equal(seen.body.username, "banned_bob");
    assert.equal(seen.body.ban?.reason, "cheating");
    assert.deepEqual(seen.body.rooms, []);
    assert.ok(seen.body.profile);

    assert.equal((await admin(app, "DELETE", `/api/admin/users/${userId}/ban`)).status, 200);
    assert.equal((await admin(app, "DELETE", `/api/admin/users/${userId}/ban`)).status, 404);
    const again = await call(app, "POST", "/auth/login", { body: { username: "banned_bob", password } });
    assert.equal(again.status, 200);
    const back = await joinWorld(app, token, { fingerprint: DEVICE + "-bob" });
    const where = await admin<{ rooms: Array<{ kind: string; roomId: string }> }>(
      app,
      "GET",
      `/api/admin/users/${userId}`,
    );
    assert.deepEqual(where.body.rooms, [{ kind: "world", roomId: back.roomId }]);
    await back.leave();

    const metrics = await app.services.metrics.text();
    assert.match(metrics, /realmgate_bans_total\{action="ban"\} 1/);
    assert.match(metrics, /realmgate_bans_total\{action="lift"\} 1/);
    assert.match(metrics, /realmgate_banned_connections_closed_total 1/);
    assert.match(metrics, /realmgate_banned_refusals_total\{where="login"\} 1/);
    assert.equal((await admin(app, "GET", "/api/admin/users/nobody-at-all")).status, 404);
  });

  it("refuses a join reserved before a ban and connecting after it with 4104 auth/banned, seating nobody", async () => {
    const me = await guest(app, "Latecomer");
    const reserved = await matchmake(app, me.token, "10.3.0.1");
    assert.equal(reserved.status, 200, JSON.stringify(reserved.body));
    // The ban lands between the seat reservation (onAuth passed) and the connection (onJoin).
    const ban = await admin<{ closed: number }>(app, "POST", `/api/admin/users/${me.userId}/ban`, {
      minutes: 5,
      reason: "too late",
    });
    assert.equal(ban.status, 200);
    assert.equal(ban.body.closed, 0); // nothing seated yet to close
    const refused = await sdk(app, me.token)
      .consumeSeatReservation(reserved.body as never)
      .then(
        () => assert.fail("the join went through"),
        (err: { code: number; message: string }) => err,
      );
    assert.equal(refused.code, 4104);
    assert.equal(refused.message, "auth/banned: too late");
    const seen = await admin<{ rooms: unknown[] }>(app, "GET", `/api/admin/users/${me.userId}`);
    assert.deepEqual(seen.body.rooms, []);
    assert.equal((await admin(app, "DELETE", `/api/admin/users/${me.userId}/ban`)).status, 200);
  });

  it("refuses a join reserved before its token was logged out and connecting after it, as an invalid token", async () => {
    const me = await guest(app, "LeftEarly");
    const reserved = await matchmake(app, me.token, "10.3.0.2");
    assert.equal(reserved.status, 200, JSON.stringify(reserved.body));
    assert.equal((await call(app, "POST", "/auth/logout", { token: me.token })).status, 204);
    await assert.rejects(
      sdk(app, me.token).consumeSeatReservation(reserved.body as never),
      /^Error: auth\/invalid_token|auth\/invalid_token/,
    );
    const seen = await admin<{ rooms: unknown[] }>(app, "GET", `/api/admin/users/${me.userId}`);
    assert.deepEqual(seen.body.rooms, []);
  });

  it("locks an account after 5 failed logins, even for the right password, with auth/locked and Retry-After", async () => {
    const password = "the-right-password";
    assert.equal(
      (await call(app, "POST", "/auth/register", { body: { username: "locked_lou", password } })).status,
      201,
    );
    for (let i = 0; i < 5; i++) {
      const wrong = await call(app, "POST", "/auth/login", { body: { username: "locked_lou", password: "wrong" + i } });
      assert.equal(wrong.status, 401);
    }
    const locked = await call<Failure>(app, "POST", "/auth/login", { body: { username: "LOCKED_LOU", password } });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, "auth/locked");
    assert.ok(Number(locked.headers.get("retry-after")) > 60, locked.headers.get("retry-after") ?? "");
  });

  it("queues scrypt fairly: a burst from one address is refused past its share, another address gets in", async () => {
    const password = "fair-queue-password";
    assert.equal(
      (await call(app, "POST", "/auth/register", { body: { username: "honest_hal", password } })).status,
      201,
    );
    const burst = Array.from({ length: 8 }, (_, i) =>
      call<Failure>(app, "POST", "/auth/login", {
        body: { username: `nobody${i}`, password: "x" },
        headers: { "x-forwarded-for": "10.9.9.9" },
      }),
    );
    const honest = call(app, "POST", "/auth/login", {
      body: { username: "honest_hal", password },
      headers: { "x-forwarded-for": "10.8.8.8" },
    });
    const results = await Promise.all(burst);
    assert.equal((await honest).status, 200);
    const refused = results.filter((r) => r.status === 429);
    assert.ok(refused.length >= 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of refused) {
      assert.equal(r.body.error.code, "rate/limited");
      assert.match(r.headers.get("retry-after") ?? "", /^\d+$/);
    }
    assert.ok(results.filter((r) => r.status === 401).length <= 3);
  });
});

describe("accounts: the password queue", () => {
  /** A task that runs until released, recording when it started. */
  const gate = (log: string[], name: string) => {
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    return { run: () => (log.push(name), done), release: () => release() };
  };

  it("serves waiting keys round-robin, so one key's burst waits behind itself", async () => {
    const queue = new FairQueue({ concurrency: 1, maxQueued: 100, maxPerKey: 100 });
    const log: string[] = [];
    const tasks = ["a1", "a2", "a3", "a4", "b1", "c1"].map((name) => ({ name, ...gate(log, name) }));
    const runs = tasks.map((t) => queue.run(t.name[0], t.run));
    for (const t of tasks) t.release();
    await Promise.all(runs);
    // a1 was running; then one of each waiting key in turn: a2, b1, c1, then a's rest.
    assert.deepEqual(log, ["a1", "a2", "b1", "c1", "a3", "a4"]);
  });

  it("refuses past a key's share and past the queue's length, saying when to retry", async () => {
    const queue = new FairQueue({ concurrency: 1, maxQueued: 2, maxPerKey: 2 }, 400);
    const log: string[] = [];
    const a1 = gate(log, "a1");
    const a2 = gate(log, "a2");
    const runs = [queue.run("a", a1.run), queue.run("a", a2.run)];
    assert.throws(
      () => queue.run("a", () => Promise.resolve()),
      (err: QueueFullError) => err.scope === "key",
    );
    const b = gate(log, "b");
    runs.push(queue.run("b", b.run));
    assert.throws(
      () => queue.run("c", () => Promise.resolve()),
      (err: QueueFullError) => err.scope === "all" && err.retryAfterMs > 0,
    );
    for (const g of [a1, a2, b]) g.release();
    await Promise.all(runs);
    assert.deepEqual(queue.stats, { running: 0, queued: 0 });
    await queue.run("a", () => Promise.resolve()); // room again
  });

  it("keeps token buckets, counters and lists with their TTL in memory as Redis does", async () => {
    let now = 1_000;
    const shared = new MemoryShared(() => now);
    const take = () => shared.take("k", 1000, 2, now);
    assert.deepEqual(
      [await take(), await take()].map((t) => t.allowed),
      [true, true],
    );
    assert.deepEqual(await take(), { allowed: false, retryAfterMs: 1000 });
    now += 1000;
    assert.equal((await take()).allowed, true);
    assert.equal(await shared.count("c", 500), 1);
    assert.equal(await shared.count("c", 500), 2);
    now += 500;
    assert.equal(await shared.count("c", 500), 1);
    await shared.push("l", "x", 2, 100);
    await shared.push("l", "y", 2, 100);
    await shared.push("l", "z", 2, 100);
    assert.deepEqual(await shared.list("l"), ["z", "y"]);
    now += 100;
    assert.deepEqual(await shared.list("l"), []);
  });
});

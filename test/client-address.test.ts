/**
 * Whose X-Forwarded-For is believed (`TRUST_PROXY`, src/http/client-address.ts): the walk itself
 * as a pure function, the setting's parsing, and a real server with and without a trusted proxy.
 * From a peer that is not trusted, forged X-Forwarded-For / X-Real-IP headers change nothing: the
 * `/auth/*` rate limit and a join's address (`address_change`) see the real peer. Behind a trusted
 * proxy the forwarded client is what counts, the connection cap included.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { after, before, describe, it } from "mocha";
import { Client, type Room } from "@colyseus/sdk";
import { loadConfig } from "../src/config.js";
import { clientAddress, normalizeAddress, proxyTrust } from "../src/http/client-address.js";
import { nextMessage, startApp, type TestApp } from "./helpers.js";

const trust = (value: string) =>
  proxyTrust(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp", TRUST_PROXY: value }).trustProxy);

describe("client address: the walk", () => {
  it("believes no header by default: the peer is the client", () => {
    const none = trust("");
    assert.equal(clientAddress("127.0.0.1", "6.6.6.6", none), "127.0.0.1");
    assert.equal(clientAddress("::ffff:203.0.113.9", "6.6.6.6, 7.7.7.7", none), "203.0.113.9");
    assert.equal(clientAddress(undefined, "6.6.6.6", none), "unknown");
  });

  it("reads X-Forwarded-For from the right, one entry per trusted proxy; a forged left part is passed over", () => {
    const local = trust("loopback,10.0.0.0/8");
    assert.equal(clientAddress("127.0.0.1", "203.0.113.9", local), "203.0.113.9");
    // The client forged "6.6.6.6"; the proxy appended the address it saw.
    assert.equal(clientAddress("127.0.0.1", "6.6.6.6, 203.0.113.9", local), "203.0.113.9");
    // Two trusted hops (an edge at 10.1.2.3, then the local proxy).
    assert.equal(clientAddress("::1", ["6.6.6.6, 203.0.113.9", "10.1.2.3"], local), "203.0.113.9");
    // Every hop trusted: the leftmost is all there is.
    assert.equal(clientAddress("127.0.0.1", "10.0.0.5", local), "10.0.0.5");
    // An untrusted peer's header is ignored; so is an entry that is not an address.
    assert.equal(clientAddress("198.51.100.1", "6.6.6.6", local), "198.51.100.1");
    assert.equal(clientAddress("127.0.0.1", "6.6.6.6, 10.0.0.5, not-an-ip", local), "127.0.0.1");
    assert.equal(clientAddress("127.0.0.1", "203.0.113.9:443", local), "127.0.0.1");
  });

  it("trusts a hop count whatever the addresses", () => {
    const one = trust("1");
    assert.equal(clientAddress("198.51.100.1", "6.6.6.6, 203.0.113.9", one), "203.0.113.9");
    assert.equal(clientAddress("198.51.100.1", "6.6.6.6, 203.0.113.9", trust("2")), "6.6.6.6");
    assert.equal(clientAddress("198.51.100.1", "6.6.6.6", trust("0")), "198.51.100.1");
  });

  it("reads IPv4-mapped IPv6 addresses as IPv4, in ranges and in the answer", () => {
    assert.equal(normalizeAddress("::FFFF:127.0.0.1"), "127.0.0.1");
    assert.equal(clientAddress("::ffff:127.0.0.1", "::ffff:203.0.113.9", trust("127.0.0.1")), "203.0.113.9");
    assert.equal(clientAddress("2001:db8::7", "203.0.113.9", trust("2001:db8::/32")), "203.0.113.9");
  });

  it("refuses a TRUST_PROXY it cannot read, naming the variable and the entry", () => {
    for (const bad of ["loopbak", "10.0.0.0/33", "1.2.3", "17", "10.0.0.1/8/2"])
      assert.throws(
        () => loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp", TRUST_PROXY: bad }),
        /Invalid configuration: TRUST_PROXY must be/,
        bad,
      );
    assert.deepEqual(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp" }).trustProxy, { kind: "none" });
  });
});

const signalCount = async (app: TestApp, signal: string) => {
  const text = await app.services.metrics.text();
  return [...text.matchAll(new RegExp(`^realmgate_security_signals_total\\{signal="${signal}"[^}]*\\} (\\d+)`, "gm"))]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
};

/** A world seat asked for over HTTP with `headers`, as a client behind (or pretending to be behind) a proxy. */
const matchmake = (app: TestApp, token: string, headers: Record<string, string>) =>
  fetch(`${app.url}/matchmake/joinOrCreate/world`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ world: "meadow" }),
  }).then((res) => res.status);

const guestFrom = async (app: TestApp, forwardedFor: string) => {
  const res = await fetch(`${app.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: "{}",
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};

/** A guest's token made without HTTP, for joins once the HTTP limit is spent. */
async function tokenFor(app: TestApp): Promise<string> {
  const account = await app.services.store.createAccount({
    userId: randomUUID(),
    username: null,
    name: "Proxied",
    passwordHash: null,
  });
  return app.services.tokens.sign({ userId: account.userId, name: account.name });
}

describe("client address: a client that forges X-Forwarded-For (no trusted proxy)", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => {
    app = await startApp({ AUTH_RATE_PER_MIN: "2" });
  });
  after(() => app.stop());

  it("stays under its real address for the /auth/* rate limit", async () => {
    assert.equal((await guestFrom(app, "10.50.0.1")).status, 201);
    assert.equal((await guestFrom(app, "10.50.0.2")).status, 201);
    const third = await guestFrom(app, "10.50.0.3");
    assert.equal(third.status, 429);
    assert.equal(third.body.error?.code, "rate/limited");
  });

  it("joins under its real address: forged X-Forwarded-For or X-Real-IP raise no address_change", async () => {
    const me = { token: await tokenFor(app) };
    const before = await signalCount(app, "address_change");
    assert.equal(await matchmake(app, me.token, { "x-forwarded-for": "10.51.0.1" }), 200);
    assert.equal(await matchmake(app, me.token, { "x-forwarded-for": "10.51.0.2" }), 200);
    assert.equal(await matchmake(app, me.token, { "x-real-ip": "10.51.0.3", "x-client-ip": "10.51.0.4" }), 200);
    assert.equal(await signalCount(app, "address_change"), before);
  });
});

/** A bare WebSocket upgrade sent as if forwarded for `forwardedFor`: the answer's status and error code. */
function upgrade(app: TestApp, forwardedFor: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port: app.port,
      host: "127.0.0.1",
      path: "/",
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "x-forwarded-for": forwardedFor,
      },
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve({ status: 101 });
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { error: { code: string } }).error.code }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("client address: behind a trusted proxy (TRUST_PROXY=loopback)", function () {
  this.timeout(30_000);
  let app: TestApp;
  const rooms: Room[] = [];
  before(async () => {
    app = await startApp({ TRUST_PROXY: "loopback", AUTH_RATE_PER_MIN: "2", MAX_CONNECTIONS_PER_ADDRESS: "2" });
  });
  after(async () => {
    await Promise.all(rooms.map((room) => room.leave().catch(() => undefined)));
    await app.stop();
  });

  it("counts the /auth/* rate limit per forwarded client", async () => {
    assert.equal((await guestFrom(app, "6.6.6.6, 10.52.0.1")).status, 201);
    assert.equal((await guestFrom(app, "7.7.7.7, 10.52.0.1")).status, 201);
    assert.equal((await guestFrom(app, "10.52.0.1")).status, 429); // the forged left part changes nothing
    assert.equal((await guestFrom(app, "10.52.0.2")).status, 201);
  });

  it("caps the WebSockets of each forwarded client, while the proxy's own connections are not capped", async () => {
    const tokens = await Promise.all([0, 1, 2, 3].map(() => tokenFor(app)));
    const join = async (token: string, forwardedFor: string) => {
      const client = new Client(`ws://127.0.0.1:${app.port}`, { headers: { "x-forwarded-for": forwardedFor } });
      client.auth.token = token;
      const room = await client.joinOrCreate("world", { world: "meadow" });
      room.reconnection.enabled = false;
      rooms.push(room);
      await nextMessage(room, "welcome");
      return room;
    };
    await join(tokens[0], "10.53.0.1");
    await join(tokens[1], "10.53.0.1");
    const third = await upgrade(app, "10.53.0.1");
    assert.equal(third.status, 429);
    assert.equal(third.code, "http/too_many_connections");
    await join(tokens[3], "10.53.0.2");
  });
});

/**
 * The client kit's `connectWithFallback` against a real server behind a TCP proxy that can cut
 * WebSockets (and refuse new ones) while plain HTTP goes through: a mobile network that flaps.
 * The player keeps walking while its WebSocket is killed five times within a minute; a token pinned
 * to a device (PROTOCOL §8) plays on over HTTP with the kit's fingerprint, and another is refused.
 */
import assert from "node:assert/strict";
import { createServer, connect, type Server, type Socket } from "node:net";
import { connectWithFallback, type FallbackConnection, type Transport } from "../client/fallback.js";
import { signIn, type Reject, type WorldState, type WorldWelcome } from "../client/index.js";
import { freePort, guest, isAt, startApp, type TestApp } from "./helpers.js";

/** Passes TCP to the server; cuts the WebSocket connections on demand, and refuses new ones while `wsDown`. */
class FlakyProxy {
  wsDown = false;
  cuts = 0;
  private readonly sockets = new Set<Socket>();
  private readonly websockets = new Set<[Socket, Socket]>();
  private server!: Server;
  port = 0;

  constructor(private readonly target: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => {
      const upstream = connect(this.target, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => socket.destroy());
        socket.on("close", () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      // Any request on the connection may be an upgrade (HTTP clients reuse kept-alive connections).
      let websocket = false;
      client.on("data", (chunk: Buffer) => {
        if (!websocket && /^upgrade:\s*websocket/im.test(chunk.toString("latin1"))) {
          if (this.wsDown) return client.destroy();
          websocket = true;
          this.websockets.add([client, upstream]);
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }

  /** Kills every WebSocket connection at once, both ways, as a network failure would. */
  cut(): void {
    this.cuts++;
    for (const pair of this.websockets) for (const socket of pair) socket.destroy();
    this.websockets.clear();
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type Body = { x: number; y: number; hp: number };
type WorldJson = { players: Record<string, Body> };

/** Resolves when `conn` reports `transport`; fails after `ms`. */
function transport(conn: FallbackConnection, wanted: Transport, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no switch to ${wanted} within ${ms} ms`));
    }, ms);
    const off = conn.on("transport", (t) => {
      if (t !== wanted) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Resolves on the next state the connection reports. */
const nextState = (conn: FallbackConnection) =>
  new Promise<void>((resolve) => {
    const off = conn.on("state", () => {
      off();
      resolve();
    });
  });

describe("connectWithFallback (client kit)", function () {
  this.timeout(90_000);
  let app: TestApp;
  let proxy: FlakyProxy;
  before(async () => {
    app = await startApp({ RECONNECT_SECONDS: "10" });
    proxy = new FlakyProxy(app.port);
    await proxy.start();
  });
  after(async () => {
    await proxy.close();
    await app.stop();
  });

  it("keeps playing with its body intact while its WebSocket is killed five times in a minute", async () => {
    const user = await guest(app, "Flapper");
    const conn = await connectWithFallback(proxy.url, user.token, "world", {
      wsFailures: 2,
      wsRetryMs: 1500,
      pollWaitMs: 2000,
    });
    const sessionId = conn.sessionId;
    const rejects: Reject[] = [];
    conn.on("message", (type, payload) => type === "reject" && rejects.push(payload as Reject));
    const transports: Transport[] = [];
    conn.on("transport", (t) => transports.push(t));
    while (!conn.welcome || !(conn.state as WorldJson | undefined)?.players[sessionId]) await nextState(conn);
    const { speed } = conn.welcome as WorldWelcome;
    const me = () => (conn.state as WorldJson).players[sessionId];
    const roomId = (await app.services.users.where(user.userId)).find((s) => s.kind === "world")!.roomId;
    const server = () => app.colyseus.getRoomById<WorldState>(roomId);
    const serverBody = () => server().state.players.get(sessionId);

    // Walks back and forth in small legal steps, each confirmed by the state it gets back.
    let lastAck = performance.now();
    let direction = 1;
    const step = async () => {
      const from = { ...me() };
      // Movement is paced by time (the speed rule); over HTTP a quiet world sends no state to count it by.
      while ((Math.min(performance.now() - lastAck, 400) / 1000) * speed * 0.9 < 8)
        await new Promise((resolve) => setTimeout(resolve, 20));
      if (from.x > 1300) direction = -1;
      if (from.x < 900) direction = 1;
      const target = { x: Math.round(from.x + 8 * direction), y: Math.round(from.y) };
      conn.send("move", target);
      while (!isAt(me(), target)) await nextState(conn);
      lastAck = performance.now();
      return target;
    };
    const walk = async (steps: number) => {
      let at: { x: number; y: number } = { ...me() };
      for (let i = 0; i < steps; i++) at = await step();
      return at;
    };
    /** After a cut: the server holds the body where the player last saw it, with its hp. */
    const intact = (at: { x: number; y: number }) => {
      const body = serverBody();
      assert.ok(body, "the body is still in the world");
      assert.ok(isAt(body, at), `server body at ${body.x},${body.y}, player at ${at.x},${at.y}`);
      assert.equal(body.hp, 100);
    };
    const started = performance.now();

    // 1: one cut; the WebSocket comes straight back.
    let at = await walk(3);
    const ws1 = transport(conn, "ws");
    proxy.cut();
    await ws1;
    intact(at);
    at = await walk(3);

    // 2: cut, and no WebSocket gets through: the second failure moves it to HTTP; it plays on.
    proxy.wsDown = true;
    const http2 = transport(conn, "http");
    proxy.cut();
    await http2;
    intact(at);
    at = await walk(4);
    assert.equal(conn.transport, "http");
    // WebSockets work again: it goes back by itself.
    const ws2 = transport(conn, "ws");
    proxy.wsDown = false;
    await ws2;
    intact(at);
    at = await walk(3);

    // 3: a cut while failures are recent: straight to HTTP, then back.
    const http3 = transport(conn, "http");
    const ws3 = http3.then(() => transport(conn, "ws"));
    proxy.cut();
    await http3;
    intact(at);
    at = await walk(3);
    await ws3;
    intact(at);
    at = await walk(2);

    // 4: cut with WebSockets refused for a while: tries to go back fail, the seat stays on HTTP.
    proxy.wsDown = true;
    const http4 = transport(conn, "http");
    proxy.cut();
    await http4;
    intact(at);
    at = await walk(3);
    // A try to go back fails (the socket is refused) and the seat is taken over HTTP again.
    await transport(conn, "http");
    intact(at);
    at = await walk(3);
    intact(at);
    const ws4 = transport(conn, "ws");
    proxy.wsDown = false;
    await ws4;
    at = await walk(2);

    // 5: one last cut.
    const back5 = transport(conn, "http").catch(() => undefined);
    const ws5 = transport(conn, "ws", 20_000);
    proxy.cut();
    await ws5;
    await back5;
    intact(at);
    at = await walk(3);
    intact(at);

    const elapsed = performance.now() - started;
    assert.equal(proxy.cuts, 5);
    assert.ok(elapsed < 60_000, `five cuts took ${Math.round(elapsed)} ms`);
    assert.equal(conn.transport, "ws");
    assert.equal(conn.sessionId, sessionId);
    assert.ok(conn.switches.toHttp >= 5 && conn.switches.toWs >= 4, JSON.stringify(conn.switches));
    assert.ok(transports.includes("http"));
    // Every action was taken, in order, with one seq count: no refusal at all.
    assert.deepEqual(rejects, []);
    const bodies = [...server().state.players.values()].filter((p) => p.userId === user.userId);
    assert.equal(bodies.length, 1);
    await conn.leave();
    const saved = await app.services.store.loadProfile(user.userId);
    assert.ok(isAt(saved!.location!, at));
  });

  it("signs in pinned to a device, joins and plays on over HTTP with that fingerprint; another one is refused and counted", async () => {
    const device = `kit-device-${Math.random().toString(36).slice(2, 10)}`;
    const username = `pinned_${Math.floor(Math.random() * 1e6)}`;
    await signIn(proxy.url, "register", { username, password: "a-password-1" }, device);
    const session = await signIn(proxy.url, "login", { username, password: "a-password-1" }, device);
    const mismatches = async () => {
      const text = await app.services.metrics.text();
      return [...text.matchAll(/^realmgate_security_signals_total\{signal="fingerprint_mismatch"[^}]*\} (\d+)/gm)]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    };
    const before = await mismatches();
    await assert.rejects(
      connectWithFallback(proxy.url, session.token, "world", { fingerprint: "another-device-0001" }),
      /auth\/fingerprint_mismatch/,
    );
    await assert.rejects(connectWithFallback(proxy.url, session.token, "world"), /auth\/fingerprint_mismatch/);
    assert.equal(await mismatches(), before + 2, "each refused join is counted");

    const conn = await connectWithFallback(proxy.url, session.token, "world", {
      fingerprint: device,
      wsFailures: 1,
      wsRetryMs: 60_000,
      pollWaitMs: 2000,
    });
    while (!(conn.state as WorldJson | undefined)?.players[conn.sessionId]) await nextState(conn);
    const ended = new Promise<string>((resolve) => conn.on("leave", (_code, reason) => resolve(reason)));
    // The WebSocket fails: the seat is taken over HTTP, whose every call needs the fingerprint's header.
    proxy.wsDown = true;
    try {
      const http = transport(conn, "http");
      proxy.cut();
      await http;
      const said = new Promise<void>((resolve) =>
        conn.on(
          "message",
          (type, payload) => type === "chat" && (payload as { text: string }).text === "pinned" && resolve(),
        ),
      );
      conn.send("chat", { text: "pinned" });
      await said;
      assert.equal(conn.transport, "http");
      assert.equal(await mismatches(), before + 2, "nothing refused on the way");
      await conn.leave();
      assert.equal(await ended, "left");
      assert.deepEqual(await app.services.users.where(session.userId), []);
    } finally {
      proxy.wsDown = false;
    }
  });
});

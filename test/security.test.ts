/**
 * Security findings, each tried again as an attacker would, over real HTTP against a real server.
 */
import { testSigningKey } from "../bench/server-process.js";
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "mocha";
import { seatKey } from "../src/cluster/users.js";
import { guest, http, sdk, startApp, type TestApp } from "./helpers.js";

const ADMIN = { ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" };
const ALLOWED = "https://play.example.com";

interface ErrorBody {
  error: { code: string; message: string };
}

/** Sends `length` bytes of body with raw node:http, as an attacker would (no fetch limits). */
function post(
  app: TestApp,
  path: string,
  length: number,
  chunked = false,
): Promise<{ status: number; body: ErrorBody }> {
  return new Promise((resolve, reject) => {
    const req = request(app.url + path, {
      method: "POST",
      headers: chunked
        ? { "content-type": "application/json" }
        : { "content-type": "application/json", "content-length": String(length) },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as ErrorBody }));
    });
    // The server may answer and close before the whole body is written: that is the point.
    req.on("error", (err: NodeJS.ErrnoException) =>
      err.code === "EPIPE" || err.code === "ECONNRESET" ? undefined : reject(err),
    );
    req.write("{" + " ".repeat(Math.max(0, Math.min(length, 64 * 1024) - 2)));
    if (!chunked) return; // the declared length is never completed: the server must not wait for it
    req.end("}");
  });
}

describe("security", function () {
  this.timeout(20_000);
  let app: TestApp;

  before(async () => {
    app = await startApp({ ...ADMIN, CORS_ORIGINS: ALLOWED });
  });
  after(() => app.stop());

  describe("request bodies are capped on every route", () => {
    it("refuses a 500 MiB matchmaking body with 413 before reading it", async () => {
      const res = await post(app, "/matchmake/create/dungeon", 500 * 1024 * 1024);
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, "http/too_large");
    });
    it("refuses a chunked body of unknown size", async () => {
      const res = await post(app, "/matchmake/joinOrCreate/world", 0, true);
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, "http/too_large");
    });
    it("refuses an oversized body on the game routes too", async () => {
      const res = await post(app, "/auth/guest", 17 * 1024);
      assert.equal(res.status, 413);
    });
    it("lets an honest request through", async () => {
      const me = await guest(app, "Honest");
      assert.equal(me.name, "Honest");
    });
  });

  describe("CORS answers only the allow-list, never on the monitor or admin routes", () => {
    const preflight = (path: string, origin: string) =>
      fetch(app.url + path, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });

    it("gives an allowed origin credentials", async () => {
      const res = await preflight("/matchmake/joinOrCreate/world", ALLOWED);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    });
    it("gives another origin nothing, on Colyseus's routes and ours", async () => {
      for (const path of ["/matchmake/joinOrCreate/world", "/auth/guest"]) {
        const res = await fetch(app.url + path, { method: "POST", headers: { origin: "https://evil.example" } });
        assert.equal(res.headers.get("access-control-allow-origin"), null, path);
        assert.equal(res.headers.get("access-control-allow-credentials"), null, path);
      }
    });
    it("never answers CORS on /monitor or /api/admin, even for an allowed origin", async () => {
      for (const path of ["/monitor", "/monitor/api", "/api/admin/users/x"]) {
        const res = await preflight(path, ALLOWED);
        assert.equal(res.headers.get("access-control-allow-origin"), null, path);
      }
    });
  });

  describe("headers", () => {
    it("sends nosniff and frame-options on the monitor and the API, and no X-Powered-By", async () => {
      const auth = "Basic " + Buffer.from("admin:correct-horse-battery").toString("base64");
      for (const path of ["/monitor", "/health"]) {
        const res = await fetch(app.url + path, { headers: { authorization: auth } });
        assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
        assert.equal(res.headers.get("x-frame-options"), "DENY", path);
        assert.equal(res.headers.get("x-powered-by"), null, path);
      }
    });
    it("keeps the JSON 404 for unknown routes", async () => {
      const res = await http(app, "GET", "/api/nothing-here");
      assert.equal(res.status, 404);
      assert.equal((res.body as ErrorBody).error.code, "http/not_found");
    });
  });

  describe("admin basic auth", () => {
    it("locks an address out after 10 failed guesses, even with the right password then", async () => {
      const basic = (pass: string) => ({ authorization: "Basic " + Buffer.from(`admin:${pass}`).toString("base64") });
      for (let i = 0; i < 10; i++) {
        const res = await fetch(app.url + "/monitor/", { headers: basic(`guess-${i}`) });
        assert.equal(res.status, 401);
      }
      const res = await fetch(app.url + "/monitor/", { headers: basic("correct-horse-battery") });
      assert.equal(res.status, 429);
      assert.equal(((await res.json()) as ErrorBody).error.code, "rate/limited");
    });
  });

  describe("dungeon parties", () => {
    it("lists an instance only to its party, and refuses a join by id from outside it", async () => {
      const [leader, intruder, friend] = await Promise.all([guest(app), guest(app), guest(app)]);
      const party = `party-${leader.userId}`;
      const room = await sdk(app, leader.token).joinOrCreate("dungeon", { dungeon: "training", party });
      try {
        await assert.rejects(
          sdk(app, intruder.token).joinById(room.roomId, { dungeon: "training" }),
          /join\/not_member/,
        );
        await assert.rejects(
          sdk(app, intruder.token).joinById(room.roomId, { dungeon: "training", party: "guess" }),
          /join\/not_member/,
        );
        const listed = async (query: string, token?: string) =>
          http(app, "GET", `/api/instances?${query}`, undefined, token);
        assert.equal((await listed("room=dungeon")).status, 401);
        assert.deepEqual((await listed("room=dungeon", intruder.token)).body, []);
        assert.deepEqual((await listed("room=dungeon&party=guess", intruder.token)).body, []);
        const own = (await listed(`room=dungeon&party=${party}`, friend.token)).body as Array<Record<string, unknown>>;
        assert.deepEqual(
          own.map((l) => l.roomId),
          [room.roomId],
        );
        assert.ok(!JSON.stringify(own).includes(party), "the listing shows no party id");
        const member = await sdk(app, friend.token).joinById(room.roomId, { dungeon: "training", party });
        assert.equal(member.roomId, room.roomId);
        await member.leave();
      } finally {
        await room.leave();
      }
    });
  });
});

// Each of these runs a server of its own: Colyseus's matchmaker is one per process, so they must
// not overlap the shared server above.
describe("security, on servers of their own", function () {
  this.timeout(20_000);

  describe("/metrics in production", () => {
    it("is closed without METRICS_TOKEN, and open with it", async () => {
      const prod = {
        ...ADMIN,
        NODE_ENV: "production",
        JWT_SECRET: "q7Vd0-kE3xZp_9LmT2wRbN8yHc4uJfA6",
        MATCH_SIGNING_KEY: testSigningKey(),
      };
      const closed = await startApp(prod);
      try {
        const res = await http(closed, "GET", "/metrics");
        assert.equal(res.status, 401);
        assert.equal((res.body as ErrorBody).error.code, "auth/unauthorized");
      } finally {
        await closed.stop();
      }
      const token = "Zr8-Kq2xWv5_Lm9Tb3Ny";
      const open = await startApp({ ...prod, METRICS_TOKEN: token });
      try {
        const res = await fetch(open.url + "/metrics", { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /realmgate_/);
      } finally {
        await open.stop();
      }
    });
  });

  describe("seats", () => {
    it("records no seat for a refused join (a seat grants the room's events)", async () => {
      const broken = await startApp();
      try {
        const me = await guest(broken);
        await broken.services.store.close(); // the profile cannot be loaded: the join is refused in onJoin
        await assert.rejects(sdk(broken, me.token).joinOrCreate("world"), /store\/unavailable/);
        assert.equal(await broken.services.presence.hget(seatKey("world"), me.userId), null);
      } finally {
        await broken.stop();
      }
    });
  });
});

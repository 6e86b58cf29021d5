import assert from "node:assert/strict";
import { emptyStats } from "../src/domain/social.js";
import { http, startApp, type TestApp } from "./helpers.js";

/** A session, as the auth routes answer it. */
type Session = { token: string; userId: string; name: string };
/** An error answer. */
type Failure = { error: { code: string; message: string } };

describe("HTTP: auth, profile, content, health", () => {
  let app: TestApp;
  before(async () => (app = await startApp()));
  after(async () => app.stop());

  it("creates guests with a token", async () => {
    const res = await http<Session>(app, "POST", "/auth/guest", { name: "Ann" });
    assert.equal(res.status, 201);
    assert.equal(res.body.name, "Ann");
    assert.match(res.body.userId, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.token.split(".").length, 3);
    const anon = await http<Session>(app, "POST", "/auth/guest");
    assert.equal(anon.status, 201);
    assert.match(anon.body.name, /^Guest-\d{4}$/);
  });

  it("registers, refuses a taken name with 409 and bad input with 400", async () => {
    const ok = await http<Session>(app, "POST", "/auth/register", { username: "frank_1", password: "password1" });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.name, "frank_1");
    const taken = await http<Failure>(app, "POST", "/auth/register", { username: "FRANK_1", password: "password2" });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, "auth/username_taken");
    for (const body of [
      { username: "ab", password: "password1" },
      { username: "bad name", password: "password1" },
      { username: "gina", password: "short" },
      { username: "x".repeat(21), password: "password1" },
      {},
    ]) {
      const res = await http<Failure>(app, "POST", "/auth/register", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, "input/invalid");
      assert.equal(typeof res.body.error.message, "string");
    }
    const notJson = await http<Failure>(app, "POST", "/auth/register", "{nope");
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, "input/invalid");
  });

  it("logs in, with one answer for an unknown user and a wrong password", async () => {
    await http(app, "POST", "/auth/register", { username: "hank", password: "password1" });
    const ok = await http<Session>(app, "POST", "/auth/login", { username: "hank", password: "password1" });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.name, "hank");
    const wrong = await http<Failure>(app, "POST", "/auth/login", { username: "hank", password: "password2" });
    const unknown = await http<Failure>(app, "POST", "/auth/login", { username: "nobody", password: "password1" });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(wrong.body.error.code, "auth/invalid_credentials");
  });

  it("serves the profile to its owner only", async () => {
    const user = (await http<Session>(app, "POST", "/auth/guest", { name: "Ivy" })).body;
    const me = await http<object>(app, "GET", "/api/me", undefined, user.token);
    assert.equal(me.status, 200);
    assert.deepEqual(
      { ...me.body, hp: undefined },
      {
        userId: user.userId,
        name: "Ivy",
        level: 1,
        xp: 0,
        gold: 0,
        inventory: [],
        location: { world: "meadow", x: 1000, y: 1000 },
        rating: 1200,
        achievements: [],
        stats: emptyStats(),
        hp: undefined,
      },
    );
    assert.equal((await http(app, "GET", "/api/me")).status, 401);
    const bad = await http<Failure>(app, "GET", "/api/me", undefined, user.token.slice(0, -2) + "xx");
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, "auth/unauthorized");
  });

  it("serves world templates and 404s unknown ids with a code", async () => {
    const list = await http<Array<{ id: string }>>(app, "GET", "/api/worlds");
    assert.deepEqual(list.body.map((w) => w.id).sort(), ["dunes", "meadow"]);
    const meadow = await http<{ portals: Array<{ to: string }> }>(app, "GET", "/api/worlds/meadow");
    assert.equal(meadow.body.portals[0].to, "dunes");
    const missing = await http<Failure>(app, "GET", "/api/worlds/atlantis");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "content/not_found");
    for (const [method, path] of [
      ["GET", "/api/nothing-here"],
      ["GET", "/nope"],
      ["POST", "/health"],
    ]) {
      const noRoute = await http<Failure>(app, method, path);
      assert.equal(noRoute.status, 404, path);
      assert.equal(noRoute.body.error.code, "http/not_found");
    }
  });

  it("reports health", async () => {
    assert.deepEqual((await http<unknown>(app, "GET", "/health")).body, { status: "ok" });
  });
});

// These boot servers of their own (one matchmaker per process: never two servers at once).
describe("HTTP: other configurations", () => {
  it("names the store in /health when it is down", async () => {
    const broken = await startApp();
    try {
      await broken.services.store.close();
      const res = await http<{ down: string[] }>(broken, "GET", "/health");
      assert.equal(res.status, 503);
      assert.deepEqual(res.body.down, ["store (sqlite)"]);
    } finally {
      await broken.stop();
    }
  });

  it("rate-limits the auth routes per address", async () => {
    const limited = await startApp({ AUTH_RATE_PER_MIN: "5" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await http(limited, "POST", "/auth/login", { username: "nobody", password: "x" })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      const res = await http<Failure>(limited, "POST", "/auth/guest", {});
      assert.equal(res.status, 429);
      assert.equal(res.body.error.code, "rate/limited");
      // 5 a minute refill one attempt every 12 s: the 429 says when, in whole seconds.
      const raw = await fetch(`${limited.url}/auth/guest`, { method: "POST" });
      assert.equal(raw.status, 429);
      assert.match(raw.headers.get("retry-after") ?? "", /^([1-9]|1[0-2])$/);
    } finally {
      await limited.stop();
    }
  });
});

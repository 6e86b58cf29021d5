import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sum } from "../bench/prometheus.js";
import { Bot, freePort, http, ServerProcess, startApp, type TestApp } from "./helpers.js";

const ADMIN = { ADMIN_USER: "admin", ADMIN_PASSWORD: "correct-horse-battery" };
const basic = (user: string, pass: string) => "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");

/**
 * Parses Prometheus text exposition format strictly enough to fail on a malformed line, and
 * returns every sample as `name{labels}` → value.
 */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample =
    // eslint-disable-next-line max-len -- one Prometheus sample line, kept as one regular expression
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[Nn]a[Nn]|\+Inf|-Inf))$/;
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = sample.exec(line);
    assert.ok(m, `not Prometheus text: ${line}`);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}

describe("observability", function () {
  this.timeout(30_000);
  let app: TestApp;
  before(async () => (app = await startApp(ADMIN)));
  after(async () => app.stop());

  const scrape = async () => parsePrometheus(await (await fetch(`${app.url}/metrics`)).text());

  it("serves the monitor to the admin only", async () => {
    for (const path of ["/monitor", "/monitor/api"]) {
      const anonymous = await fetch(app.url + path);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic/);
      assert.equal((await fetch(app.url + path, { headers: { authorization: basic("admin", "nope") } })).status, 401);
    }
    const page = await fetch(`${app.url}/monitor/`, {
      headers: { authorization: basic("admin", "correct-horse-battery") },
    });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const api = await fetch(`${app.url}/monitor/api`, {
      headers: { authorization: basic("admin", "correct-horse-battery") },
    });
    assert.equal(api.status, 200);
  });

  it("exports Prometheus metrics whose counters move with cheats, floods and drops", async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const name of [
      "realmgate_rooms",
      "realmgate_clients",
      "realmgate_tick_duration_seconds",
      "realmgate_sent_bytes_total",
      "realmgate_messages_received_total",
      "realmgate_rejects_total",
      "realmgate_connection_drops_total",
      "realmgate_reconnections_total",
      "realmgate_reconnections_failed_total",
      "realmgate_rtt_seconds",
      "realmgate_nodejs_eventloop_lag_seconds",
      "realmgate_process_resident_memory_bytes",
      "realmgate_room_state_bytes",
      "realmgate_store_pending_saves",
      "realmgate_store_save_failures_total",
      "realmgate_store_save_duration_seconds",
      "realmgate_security_signals_total",
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), `${name} is exported`);
    }
    const before = parsePrometheus(text);

    const cheater = await Bot.join(app);
    const flooder = await Bot.join(app);
    const dropper = await Bot.join(app);
    await cheater.expectReject("move", { x: cheater.me.x + 800, y: cheater.me.y }, "move/too_fast");
    for (let i = 0; i < 12; i++) flooder.send("chat", { text: `spam ${i}` });
    await flooder.expectReject("chat", { text: "and more" }, "rate/limited");
    dropper.room.reconnection.enabled = false;
    const dropped = new Promise<void>((resolve) => dropper.room.onLeave(() => resolve()));
    (dropper.room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
    await dropped;
    await cheater.room.waitForNextPatch();

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sum(after, name, labels) - sum(before, name, labels);
    assert.equal(moved("realmgate_rejects_total", { room: "world", world: "meadow", code: "move/too_fast" }), 1);
    assert.ok(moved("realmgate_rejects_total", { code: "rate/limited" }) >= 1);
    assert.ok(moved("realmgate_security_signals_total", { signal: "invalid_action", world: "meadow" }) >= 1);
    assert.ok(moved("realmgate_security_signals_total", { signal: "rate_limited", world: "meadow" }) >= 1);
    assert.ok(moved("realmgate_messages_received_total", { room: "world", type: "chat" }) >= 13);
    assert.ok(moved("realmgate_connection_drops_total", { room: "world", world: "meadow" }) >= 1);
    assert.ok(moved("realmgate_sent_bytes_total", { room: "world", kind: "patch" }) > 0);
    assert.ok(moved("realmgate_tick_duration_seconds_count", { room: "world" }) > 0);
    assert.ok(sum(after, "realmgate_clients", { room: "world", world: "meadow" }) >= 2);
    assert.ok(sum(after, "realmgate_rooms", { room: "world", world: "meadow" }) >= 1);
    assert.ok(sum(after, "realmgate_room_state_bytes", { world: "meadow" }) > 0);
    assert.equal(sum(after, "realmgate_store_up"), 1);
    await Promise.all([cheater.leave(), flooder.leave()]);
  });

  it("counts a failed login and a refused join as auth failures", async () => {
    const before = await scrape();
    await http(app, "POST", "/auth/login", { username: "nobody", password: "wrong-password" });
    await assert.rejects(Bot.join(app, {}, { token: "forged.token.here", userId: "x", name: "x" }));
    const after = await scrape();
    const moved = (labels: Record<string, string>) =>
      sum(after, "realmgate_security_signals_total", labels) - sum(before, "realmgate_security_signals_total", labels);
    assert.equal(moved({ signal: "auth_failure", room: "http" }), 1);
    assert.equal(moved({ signal: "auth_failure", room: "world", world: "meadow" }), 1);
  });

  it("answers liveness and readiness", async () => {
    assert.deepEqual((await http(app, "GET", "/health/live")).body, { status: "ok" });
    assert.deepEqual((await http(app, "GET", "/health/ready")).body, { status: "ok" });
  });
});

// Each of these boots a server of its own: Colyseus's matchmaker is one per process, so two
// servers must not run at once.
describe("observability: other configurations", function () {
  this.timeout(30_000);

  it("keeps the monitor closed when no admin credentials are configured", async () => {
    const open = await startApp();
    try {
      assert.equal((await fetch(`${open.url}/monitor/`)).status, 401);
    } finally {
      await open.stop();
    }
  });

  it("guards /metrics with METRICS_TOKEN when it is set", async () => {
    const guarded = await startApp({ METRICS_TOKEN: "a-metrics-token-of-length" });
    try {
      assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401);
      const ok = await fetch(`${guarded.url}/metrics`, {
        headers: { authorization: "Bearer a-metrics-token-of-length" },
      });
      assert.equal(ok.status, 200);
      parsePrometheus(await ok.text());
    } finally {
      await guarded.stop();
    }
  });
});

describe("production start-up and logs", function () {
  this.timeout(60_000);

  it("refuses to start in production without secrets, with one clear line", () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../src/index.ts")], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "production",
          DATA_DIR: mkdtempSync(join(tmpdir(), "realmgate-prod-")),
          ...env,
        },
        encoding: "utf8",
        timeout: 30_000,
      });
    const noSecret = run({ ADMIN_USER: "admin", ADMIN_PASSWORD: "a-long-password" });
    assert.equal(noSecret.status, 1);
    assert.equal(noSecret.stderr.trim(), "Invalid configuration: JWT_SECRET is required when NODE_ENV=production");
    const noAdmin = run({ JWT_SECRET: "s".repeat(40) });
    assert.equal(noAdmin.status, 1);
    assert.equal(
      noAdmin.stderr.trim(),
      "Invalid configuration: ADMIN_USER and ADMIN_PASSWORD are required when NODE_ENV=production",
    );
  });

  it("stops at once on a busy port, with one line naming PORT and exit code 1", async () => {
    const port = await freePort();
    const busy = createServer().listen(port);
    await once(busy, "listening");
    try {
      const run = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../src/index.ts")], {
        env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: mkdtempSync(join(tmpdir(), "realmgate-port-")) },
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(run.status, 1);
      assert.equal(
        run.stderr.trim(),
        `PORT ${port} is already in use; stop the other server or set PORT to a free port`,
      );
    } finally {
      busy.close();
    }
  });

  it("gives up on an unreachable PostgreSQL after STORE_STARTUP_SECONDS, with one line and exit code 1", async () => {
    const port = await freePort(); // nothing listens there
    const run = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../src/index.ts")], {
      env: {
        PATH: process.env.PATH,
        PORT: String(await freePort()),
        DATA_DIR: mkdtempSync(join(tmpdir(), "realmgate-pg-")),
        DATABASE_URL: `postgres://127.0.0.1:${port}/realmgate`,
        STORE_STARTUP_SECONDS: "1",
        LOG_LEVEL: "silent",
      },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr.trim(),
      /^the store at DATABASE_URL is unreachable after 1 s \(.+\); start it or fix DATABASE_URL$/,
    );
  });

  it("writes JSON logs with room context and never a token or a password", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "realmgate-logs-"));
    const server = new ServerProcess(await freePort(), dataDir, { LOG_LEVEL: "debug" });
    try {
      await server.start();
      const password = "a-secret-password-123";
      const reg = await fetch(`${server.url}/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "logtester", password }),
      });
      const { token } = (await reg.json()) as { token: string };
      await fetch(`${server.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "logtester", password: "wrong-password-456" }),
      });
      const bot = await Bot.join({ port: server.port } as TestApp, {}, { token, userId: "", name: "logtester" });
      await bot.expectReject("move", { x: -1, y: 0 }, "move/out_of_bounds");
      await bot.leave();
      await server.stop("SIGTERM");

      const lines = server.output.split("\n").filter((l) => l.startsWith("{"));
      assert.ok(lines.length > 5);
      const records = lines.map(
        (l) => JSON.parse(l) as { roomId?: string; sessionId?: string; tick?: unknown; security?: string },
      );
      assert.ok(
        records.some((r) => r.roomId && r.sessionId && typeof r.tick === "number"),
        "room lines carry roomId, sessionId and tick",
      );
      assert.ok(
        records.some((r) => r.security === "invalid_action"),
        "cheats are logged as security signals",
      );
      for (const secret of [token, password, "wrong-password-456", "local-process-secret", "local-process-password"])
        assert.ok(!server.output.includes(secret), `the log contains a secret (${secret.slice(0, 8)}…)`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

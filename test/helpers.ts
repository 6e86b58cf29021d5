/**
 * Test fixtures: a real server (real SQLite in a temporary DATA_DIR, real WebSocket transport)
 * and real SDK clients. Waits are on events, with a timeout that fails the test.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColyseusTestServer } from "@colyseus/testing";
import { Client, type Room } from "@colyseus/sdk";
import { createApp, createServices } from "../src/app.config.js";
import { loadConfig } from "../src/config.js";
import { loadContent, type ContentSources } from "../src/content/index.js";
import type { WorldTemplate } from "../src/content/worlds.js";
import { createLogger } from "../src/log.js";
import type { Services } from "../src/services.js";
import type {
  DungeonState,
  DungeonWelcome,
  Enemy,
  Hero,
  Player,
  Reject,
  SyncMap,
  WorldState,
  WorldWelcome,
} from "../client/index.js";
import { freePort, ServerProcess } from "../bench/server-process.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
export { freePort, ServerProcess } from "../bench/server-process.js";

// @colyseus/testing loads @colyseus/tools, which on import reads /etc/environment and .env files and
// prints a banner for each. The server reads its own config (src/config.ts); keep the test output clean.
const { boot } = await (async () => {
  process.env.DOTENV_CONFIG_QUIET = "true";
  const info = console.info;
  console.info = () => undefined;
  try {
    return await import("@colyseus/testing");
  } finally {
    console.info = info;
  }
})();

export interface TestApp {
  colyseus: ColyseusTestServer;
  services: Services;
  port: number;
  url: string;
  dataDir: string;
  /** Shuts the server down gracefully; the data directory is removed unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startApp(
  env: Record<string, string> = {},
  content?: WorldTemplate[] | ContentSources,
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "realmgate-test-"));
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    RECONNECT_SECONDS: "5",
    AUTH_RATE_PER_MIN: "0",
    ...env,
  });
  const services = await createServices(config, createLogger(config), loadContent(content));
  const colyseus = await boot(createApp(services) as Parameters<typeof boot>[0], port);
  return {
    colyseus,
    services,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async stop({ keepData = false } = {}) {
      await colyseus.shutdown();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function http<B = unknown>(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: B }> {
  const res = await fetch(app.url + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // The caller names the shape of the route's answer.
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as B };
}

export async function guest(app: TestApp, name?: string): Promise<{ token: string; userId: string; name: string }> {
  const res = await http<{ token: string; userId: string; name: string }>(
    app,
    "POST",
    "/auth/guest",
    name ? { name } : {},
  );
  if (res.status !== 201) throw new Error(`guest login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** An SDK client holding `token`. */
export function sdk(app: TestApp, token?: string): Client {
  const client = new Client(`ws://127.0.0.1:${app.port}`);
  if (token) client.auth.token = token;
  return client;
}

/** Resolves with the next message of `type` on `room` (and rejects after `ms`). */
export function nextMessage<T = unknown>(
  room: Room,
  type: string,
  ms = 5000,
  where: (m: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${type}' message within ${ms} ms`));
    }, ms);
    const off = room.onMessage(type, (message: T) => {
      if (!where(message)) return;
      clearTimeout(timer);
      off();
      resolve(message);
    });
  });
}

/** Resolves once `predicate()` holds after a state patch (checked at once, then on every patch). */
export function until(room: Room, predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => {
      room.onStateChange.remove(check);
      reject(new Error(`${what} not reached within ${ms} ms`));
    }, ms);
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      room.onStateChange.remove(check);
      resolve();
    };
    room.onStateChange(check);
  });
}

/** Positions travel as float32 when that keeps 1e-4 precision, so compare within that. */
export const isAt = (a: { x: number; y: number }, b: { x: number; y: number }) =>
  Math.abs(a.x - b.x) < 1e-3 && Math.abs(a.y - b.y) < 1e-3;

/** The welcome a room of state `S` sends. */
export type WelcomeOf<S> = S extends DungeonState ? DungeonWelcome : WorldWelcome;

/** What `Bot` reads of either state: a world's players or a dungeon's heroes. */
type Bodies = Partial<{ players: SyncMap<Player>; heroes: SyncMap<Hero> }>;

/** A test player: an SDK room with a `seq` counter and helpers that wait on the server's answers. */
export class Bot<S = WorldState> {
  seq = 0;
  private lastAck = performance.now();

  constructor(
    readonly client: Client,
    readonly room: Room<unknown, S>,
    readonly welcome: WelcomeOf<S>,
    readonly user: { token: string; userId: string; name: string },
  ) {
    // Messages a test does not wait for are fine to drop (the SDK warns about unhandled types).
    for (const type of [
      "reject",
      "chat",
      "pong",
      "gathered",
      "combat",
      "picked",
      "phase",
      "cleared",
      "failed",
      "achievement",
    ])
      room.onMessage(type, () => undefined);
  }

  static async join<S = WorldState>(
    app: TestApp,
    options: Record<string, unknown> = {},
    user?: { token: string; userId: string; name: string },
    roomName = "world",
  ): Promise<Bot<S>> {
    user ??= await guest(app, `P${Math.floor(Math.random() * 1e6)}`);
    const client = sdk(app, user.token);
    const room = await client.joinOrCreate<S>(roomName, options);
    const welcome = await nextMessage<WelcomeOf<S>>(room, "welcome");
    await until(
      room,
      () => {
        const state = room.state as Bodies;
        return state.players?.get?.(room.sessionId) !== undefined || state.heroes?.get?.(room.sessionId) !== undefined;
      },
      5000,
      "own body",
    );
    return new Bot<S>(client, room, welcome, user);
  }

  /** The own body: a world's Player or a dungeon's Hero. */
  get me(): { x: number; y: number; hp: number; alive?: boolean; mana?: number } {
    const state = this.room.state as Bodies;
    return (state.players ?? state.heroes)!.get(this.room.sessionId)!;
  }

  /** Ids of the players this client currently receives. */
  get sees(): string[] {
    return [...(this.room.state as Bodies).players!.keys()].sort();
  }

  send(type: string, payload: Record<string, unknown> = {}): number {
    const seq = ++this.seq;
    this.room.send(type, { seq, ...payload });
    return seq;
  }

  /** Sends an action and resolves with the `reject` the server answers it with. */
  async expectReject(type: string, payload: Record<string, unknown> = {}, code?: string): Promise<Reject> {
    const seq = this.seq + 1;
    const reject = nextMessage<Reject>(this.room, "reject", 5000, (r) => r.seq === seq);
    this.send(type, payload);
    const r = await reject;
    if (code) if (r.code !== code) throw new Error(`expected ${code}, got ${r.code}: ${r.message}`);
    return r;
  }

  /** One legal step toward (x, y): waits on patches until the time since the last accepted move covers it. */
  async stepTo(x: number, y: number): Promise<void> {
    const speed: number = this.welcome.speed;
    const dist0 = Math.hypot(x - this.me.x, y - this.me.y);
    // Earned distance, 10 % under the speed and well under the server's half-second cap on banking.
    const earned = () => (Math.min(performance.now() - this.lastAck, 400) / 1000) * speed * 0.9;
    while (earned() < Math.min(dist0, speed * 0.1)) await this.room.waitForNextPatch();
    const { x: fromX, y: fromY } = this.me;
    const dist = Math.hypot(x - fromX, y - fromY);
    const allowed = earned();
    const f = dist <= allowed ? 1 : allowed / dist;
    // Positions are whole units: the server rounds, so round here too.
    const target = { x: Math.round(fromX + (x - fromX) * f), y: Math.round(fromY + (y - fromY) * f) };
    const seq = this.seq + 1;
    let refused: Reject | undefined;
    const off = this.room.onMessage("reject", (r: Reject) => {
      if (r.seq === seq) refused = r;
    });
    this.send("move", target);
    try {
      await until(
        this.room,
        () => refused !== undefined || isAt(this.me, target),
        5000,
        `move to ${target.x},${target.y}`,
      );
    } finally {
      off();
    }
    if (refused) throw new Error(`move refused: ${refused.code} ${refused.message}`);
    this.lastAck = performance.now();
  }

  /** Walks to (x, y) in legal steps. */
  async walkTo(x: number, y: number): Promise<void> {
    while (!isAt(this.me, { x, y })) await this.stepTo(x, y);
  }

  /** The server restarted this body's movement allowance (a revival): start counting again. */
  resetMoveClock(): void {
    this.lastAck = performance.now();
  }

  leave(): Promise<number> {
    return this.room.leave();
  }
}

/**
 * Plays a dungeon: walks to the nearest living enemy (or only `only`) and strikes it, respecting
 * the cooldown, until the run ends (or `only` is dead).
 */
export async function fight(
  bot: Bot<DungeonState>,
  strike: { range: number; cooldownMs: number },
  only?: string,
): Promise<void> {
  const state = bot.room.state;
  let readyAt = 0;
  while (state.status !== "cleared" && state.status !== "failed") {
    const me = bot.me;
    const enemies = [...state.enemies.values()].filter((e) => e.alive && (only === undefined || e.id === only));
    if (!me || enemies.length === 0) break;
    if (!me.alive) {
      await bot.room.waitForNextPatch();
      bot.resetMoveClock();
      continue;
    }
    const dist = (e: Enemy) => Math.hypot(e.x - me.x, e.y - me.y);
    const target = enemies.sort((a, b) => dist(a) - dist(b))[0];
    const d = dist(target);
    if (d <= strike.range * 0.85) {
      if (performance.now() < readyAt) {
        await bot.room.waitForNextPatch();
        continue;
      }
      readyAt = performance.now() + strike.cooldownMs + 60;
      bot.send("attack", { target: target.id, ability: "strike" });
      await bot.room.waitForNextPatch();
    } else {
      const f = (d - strike.range * 0.6) / d;
      try {
        await bot.stepTo(me.x + (target.x - me.x) * f, me.y + (target.y - me.y) * f);
      } catch (err) {
        // A pillar in the way, or the body died (and maybe revived, with a fresh allowance) mid-step: look again.
        if (!/move refused: (move\/blocked|move\/too_fast|actor\/dead)/.test(String(err))) throw err;
        bot.resetMoveClock();
        if (/blocked/.test(String(err))) await bot.stepTo(me.x, me.y + (350 - me.y) * 0.2).catch(() => undefined);
      }
    }
  }
}

/** A private redis-server on a free port, started and killed by the test (no persistence). */
export class RedisServer {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  static available(): boolean {
    return spawnSync("redis-server", ["--version"]).status === 0;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and resolves once it accepts connections. */
  start(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    return new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  }

  /** Kills it outright (an outage, not a shutdown). */
  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.child || this.child.exitCode !== null) return resolve();
      this.child.once("exit", () => resolve());
      this.child.kill("SIGKILL");
    });
  }
}

/** Polls `check` until it holds, for conditions in another process that send no event. */
export async function eventually(check: () => Promise<boolean>, ms = 15_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Settings the fixtures give every server process they start under Redis (src/config.ts): a trade
 * step that waits on a killed process's room gives up after 2 s rather than 5, and recovery sweeps
 * every 0.5 s rather than 3, so a crash is recovered in about a second; the lease stays long (10 s
 * rather than 15) so that a slow but live coordinator in the race test is not overtaken. Redis
 * reconnection attempts come at most 500 ms apart rather than 5 s, so an outage is noticed and
 * left within a second or two.
 */
export const CLUSTER_TEST_ENV: Readonly<Record<string, string>> = {
  REDIS_RECONNECT_MAX_MS: "500",
  TRADE_LEASE_MS: "10000",
  TRADE_RECOVERY_MS: "500",
  TRADE_STEP_TIMEOUT_MS: "2000",
};

/** Two server processes behind one private Redis, sharing one data directory (and so one SQLite). */
export interface Cluster {
  redis: RedisServer;
  a: ServerProcess;
  b: ServerProcess;
  dataDir: string;
  /** SIGTERMs both processes, kills Redis and removes the data directory. */
  stop(): Promise<void>;
}

/** Runs `use` on the SQLite file that processes sharing `dataDir` write, opened for this call only. */
export async function withSharedStore<T>(dataDir: string, use: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore(join(dataDir, "realmgate.db"));
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * Starts a `Cluster`. `env` is added to both processes' environment; as a function it is given
 * the data directory first (to set up a shared store there, say).
 */
export async function startCluster(
  env: Record<string, string> | ((dataDir: string) => Promise<Record<string, string>>) = {},
): Promise<Cluster> {
  const dataDir = mkdtempSync(join(tmpdir(), "realmgate-cluster-"));
  const redis = new RedisServer(await freePort());
  const servers: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop("SIGTERM")));
    await redis.kill();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await redis.start();
    const extra = typeof env === "function" ? await env(dataDir) : env;
    for (const port of [await freePort(), await freePort()]) {
      const server = new ServerProcess(port, dataDir, {
        ...CLUSTER_TEST_ENV,
        REDIS_URL: redis.url,
        PUBLIC_ADDRESS: `127.0.0.1:${port}`,
        ...extra,
      });
      servers.push(server);
      await server.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { redis, a: servers[0], b: servers[1], dataDir, stop };
}

/**
 * A suite around one `Cluster` its tests share: started before the first test, stopped after the
 * last. `body` registers the tests (and may set `this.timeout`); the cluster's fields are filled in
 * once it has started, so read them inside hooks and tests. Without redis-server the suite prints
 * one SKIPPED line and registers a test that says so.
 */
export function describeCluster(
  title: string,
  env: Parameters<typeof startCluster>[0],
  body: (this: Mocha.Suite, cluster: Cluster) => void,
): void {
  if (!RedisServer.available()) {
    console.log(`${title}: SKIPPED: no redis-server on this machine (apt-get install redis-server)`);
    describe(title, () => it("SKIPPED: no redis-server on this machine"));
    return;
  }
  describe(title, function () {
    const cluster = {} as Cluster;
    before(async () => {
      Object.assign(cluster, await startCluster(env));
    });
    after(async () => cluster.stop?.());
    body.call(this, cluster);
  });
}

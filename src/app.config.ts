/**
 * Defines the server: services built from the config, the rooms, the HTTP routes. `index.ts`
 * starts it; the tests boot it with `@colyseus/testing`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { ConfigOptions } from "@colyseus/tools";
import { defineServer, LocalDriver, LocalPresence, type Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { createMatchSigner } from "./auth/match-key.js";
import { Tokens } from "./auth/tokens.js";
import { AccountGuard } from "./auth/guard.js";
import { FairQueue } from "./auth/queue.js";
import { MemoryShared, RedisShared } from "./cluster/shared.js";
import { redactUrl, type Config } from "./config.js";
import { loadContent } from "./content/index.js";
import { policy } from "./content/policy.js";
import { errorHandler, notFound } from "./http/errors.js";
import { installRequestGate } from "./http/gate.js";
import { limitConnections } from "./http/connections.js";
import { proxyTrust } from "./http/client-address.js";
import { gameRoutes } from "./http/routes.js";
import { playPage } from "./http/play.js";
import type { Logger } from "./log.js";
import { openStore } from "./persistence/index.js";
import { RedisCluster, Sequences } from "./cluster/redis.js";
import { Users } from "./cluster/users.js";
import { ProfileChanges } from "./cluster/profile-changes.js";
import { Trades } from "./trade/trades.js";
import { UserLimits } from "./cluster/limits.js";
import { leastLoadedProcess } from "./cluster/placement.js";
import { EventLog } from "./persistence/events.js";
import { StoreHealth } from "./persistence/health.js";
import { ProfileCache } from "./persistence/profiles.js";
import { replaySpill, Spill, type SpillRecord } from "./persistence/spill.js";
import { defineRooms, KINDS } from "./rooms/index.js";
import { Metrics } from "./telemetry/metrics.js";
import { SecuritySignals } from "./telemetry/security.js";
import { adminRoutes } from "./http/admin.js";
import { sessionRoutes } from "./http/sessions.js";
import { HttpSessions } from "./sessions/hub.js";
import type { Services } from "./services.js";

/** How long a stopping server keeps trying to write to the store before it spills the rest to disk. */
const SHUTDOWN_SAVE_MS = 3000;

export async function createServices(cfg: Config, log: Logger, content = loadContent()): Promise<Services> {
  const store = await openStore(cfg, log);
  const storeHealth = new StoreHealth(store, log.child({ component: "store-health" }));
  const profiles = new ProfileCache(
    store,
    log.child({ component: "profiles" }),
    { intervalMs: cfg.saveIntervalMs, maxPending: cfg.maxPendingSaves },
    storeHealth,
  );
  const events = new EventLog(store, log.child({ component: "events" }), {
    ...policy.events,
    ttlMs: cfg.eventTtlSec * 1000,
  });
  storeHealth.on("up", () => void events.retryNow());
  // What the last run could not write goes to the store (or back into memory) before any join.
  const spill = new Spill(cfg.dataDir, log.child({ component: "spill" }));
  await replaySpill(spill, store, profiles, events, log.child({ component: "spill" }));
  await storeHealth.check();
  const redis = cfg.redisUrl
    ? new RedisCluster(cfg.redisUrl, log.child({ component: "redis" }), cfg.redisReconnectMaxMs)
    : undefined;
  if (redis)
    log.info({ url: redactUrl(cfg.redisUrl!), publicAddress: cfg.publicAddress }, "using Redis presence and driver");
  const metrics = new Metrics({
    saves: () => profiles.snapshot(),
    events: () => events.snapshot(),
    storeUp: () => (storeHealth.up ? 1 : 0),
    redisUp: redis && (() => (redis.up ? 1 : 0)),
  });
  profiles.on("saved", (_userId: string, latencyMs: number) => metrics.saveDuration.observe(latencyMs / 1000));
  const presence = redis?.presence ?? new LocalPresence();
  const users = new Users(
    presence,
    KINDS.map((kind) => kind.name),
    log.child({ component: "users" }),
  );
  const trades = new Trades({
    store,
    profiles,
    users,
    events,
    metrics,
    log: log.child({ component: "trades" }),
    self: Trades.identity(cfg.publicAddress, cfg.port),
    fault: cfg.tradeFault,
    timing: cfg.trade,
    achievements: [...content.achievements.values()],
  });
  const security = new SecuritySignals(metrics, log.child({ component: "security" }));
  const shared = redis ? new RedisShared(redis.client) : new MemoryShared();
  const { passwordQueue, ...guardPolicy } = policy.accounts;
  return {
    config: cfg,
    log,
    store,
    storeHealth,
    spill,
    profiles,
    events,
    presence,
    driver: redis?.driver ?? new LocalDriver(),
    redis,
    sequences: new Sequences(redis),
    users,
    trades,
    profileChanges: new ProfileChanges({
      profiles,
      users,
      log: log.child({ component: "profile-changes" }),
      achievements: [...content.achievements.values()],
      store,
    }),
    limits: new UserLimits(policy.userLimits, redis),
    sessions: new HttpSessions(cfg, presence, log.child({ component: "sessions" })),
    tokens: new Tokens(cfg.jwtSecret, cfg.tokenTtlSec),
    shared,
    guard: new AccountGuard(shared, security, metrics, guardPolicy, cfg.tokenTtlSec * 1000),
    passwordQueue: new FairQueue(passwordQueue),
    matchSigner: createMatchSigner(cfg.matchSigningKey),
    content,
    metrics,
    security,
  };
}

/**
 * The Colyseus app definition, in the shape `@colyseus/tools` and `@colyseus/testing` take:
 * `serve()` below runs it in production, `boot()` in the tests.
 */
export function createApp(services: Services): Omit<ConfigOptions, "~rooms" | "~routes"> {
  const { config: cfg, log, profiles, events, store, storeHealth, spill } = services;
  const trusts = proxyTrust(cfg.trustProxy);
  return {
    // Both serve() below and @colyseus/tools (the tests) build the transport through this hook.
    initializeTransport: (options: { server: HttpServer }) => {
      installRequestGate(options.server, cfg.corsOrigins, trusts);
      limitConnections(options.server, { ...policy.http, ...cfg.connections }, trusts);
      return new WebSocketTransport(options);
    },
    options: {
      presence: services.presence,
      driver: services.driver,
      publicAddress: cfg.publicAddress,
      selectProcessIdToCreateRoom: leastLoadedProcess,
      greet: false,
    },
    rooms: defineRooms(services),
    initializeExpress: (app) => {
      // For req.protocol and req.hostname; the client's address is src/http/client-address.ts's (`addressOf`).
      app.set("trust proxy", trusts);
      app.disable("x-powered-by");
      app.use(adminRoutes(services));
      app.use(sessionRoutes(services));
      app.use(gameRoutes(services));
      app.use(playPage()); // the browser client, built into dist/web/
      app.use(notFound); // Colyseus's own routes (/matchmake) are matched before express
      app.use(errorHandler(log));
    },
    initializeGameServer: (server) => {
      profiles.start();
      events.start();
      storeHealth.start();
      services.trades.start();
      services.sessions.start();
      services.profileChanges.start();
      server.onShutdown(async () => {
        services.trades.stop();
        services.profileChanges.stop();
        services.sessions.stop();
        profiles.stop();
        events.stop();
        storeHealth.stop();
        // Keep trying until the deadline, then put what is left in the spill: nothing is lost.
        const deadline = performance.now() + SHUTDOWN_SAVE_MS;
        for (;;) {
          await Promise.all([profiles.flushAll(), events.retryNow()]);
          if (profiles.pending + events.snapshot().buffered === 0 || performance.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const left: SpillRecord[] = profiles.unwritten().map(({ profile, opId }) => ({
          type: "profile",
          at: Date.now(),
          opId,
          profile,
        }));
        const unwrittenEvents = events.unwritten();
        if (unwrittenEvents.length > 0) left.push({ type: "events", at: Date.now(), events: unwrittenEvents });
        try {
          spill.write(left);
          if (left.length > 0)
            log.warn(
              { profiles: profiles.pending, events: unwrittenEvents.length, file: spill.file },
              "stopped; the store refused the last writes, so they were spilled to disk and the next start writes them",
            );
          else log.info("stopped; every profile and event saved");
        } catch (err) {
          log.error(
            { err, profiles: profiles.pending, events: unwrittenEvents.length },
            "stopping with unsaved data: the store refused the last writes and the spill could not be written",
          );
        }
        await store.close();
        await services.redis?.close();
      });
    },
  };
}

/**
 * Starts an app on `port`, as `@colyseus/tools`' `listen()` does, minus what does not suit a
 * production server: it loads no .env or /etc/environment over the real environment and adds no
 * instance number to the port. Tells a process manager (PM2 `wait_ready`) once it listens.
 */
export async function serve(app: Omit<ConfigOptions, "~rooms" | "~routes">, port: number): Promise<Server> {
  const transport = app.initializeTransport!({ server: createHttpServer() });
  const server = defineServer({ ...app.options, transport, rooms: app.rooms ?? {}, express: app.initializeExpress });
  app.initializeGameServer?.(server);
  await server.listen(port);
  process.send?.("ready");
  return server;
}

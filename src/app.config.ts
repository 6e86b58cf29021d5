/**
 * Defines the server: services built from the config, the rooms, the HTTP routes. `index.ts`
 * starts it; the tests boot it with `@colyseus/testing`.
 */
import type { ConfigOptions } from "@colyseus/tools";
import { defineServer, LocalDriver, LocalPresence, type Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { Tokens } from "./auth/tokens.js";
import { redactUrl, type Config } from "./config.js";
import { loadContent } from "./content/index.js";
import { errorHandler, notFound } from "./http/errors.js";
import { gameRoutes } from "./http/routes.js";
import { playPage } from "./http/play.js";
import type { Logger } from "./log.js";
import { openStore } from "./persistence/index.js";
import { RedisCluster, Sequences } from "./cluster/redis.js";
import { leastLoadedProcess } from "./cluster/placement.js";
import { EventLog } from "./persistence/events.js";
import { ProfileCache } from "./persistence/profiles.js";
import { defineRooms } from "./rooms/index.js";
import { Metrics } from "./telemetry/metrics.js";
import { SecuritySignals } from "./telemetry/security.js";
import { adminRoutes } from "./http/admin.js";
import type { Services } from "./services.js";

export async function createServices(cfg: Config, log: Logger, content = loadContent()): Promise<Services> {
  const store = await openStore(cfg, log);
  const profiles = new ProfileCache(store, log.child({ component: "profiles" }), {
    intervalMs: cfg.saveIntervalMs,
    maxPending: cfg.maxPendingSaves,
  });
  const events = new EventLog(store, log.child({ component: "events" }), {
    flushMs: 250,
    ttlMs: cfg.eventTtlSec * 1000,
    maxBuffered: 200_000,
  });
  const redis = cfg.redisUrl ? new RedisCluster(cfg.redisUrl, log.child({ component: "redis" })) : undefined;
  if (redis)
    log.info({ url: redactUrl(cfg.redisUrl!), publicAddress: cfg.publicAddress }, "using Redis presence and driver");
  const metrics = new Metrics({
    saves: () => profiles.snapshot(),
    events: () => events.snapshot(),
    redisUp: redis && (() => (redis.up ? 1 : 0)),
  });
  profiles.on("saved", (_userId: string, latencyMs: number) => metrics.saveDuration.observe(latencyMs / 1000));
  return {
    config: cfg,
    log,
    store,
    profiles,
    events,
    presence: redis?.presence ?? new LocalPresence(),
    driver: redis?.driver ?? new LocalDriver(),
    redis,
    sequences: new Sequences(redis),
    tokens: new Tokens(cfg.jwtSecret, cfg.tokenTtlSec),
    content,
    metrics,
    security: new SecuritySignals(metrics, log.child({ component: "security" })),
  };
}

/**
 * The Colyseus app definition, in the shape `@colyseus/tools` and `@colyseus/testing` take:
 * `serve()` below runs it in production, `boot()` in the tests.
 */
export function createApp(services: Services): Omit<ConfigOptions, "~rooms" | "~routes"> {
  const { config: cfg, log, profiles, events, store } = services;
  return {
    options: {
      presence: services.presence,
      driver: services.driver,
      transport: new WebSocketTransport(),
      publicAddress: cfg.publicAddress,
      selectProcessIdToCreateRoom: leastLoadedProcess,
      greet: false,
    },
    rooms: defineRooms(services),
    initializeExpress: (app) => {
      app.set("trust proxy", "loopback");
      app.use(adminRoutes(services));
      app.use(gameRoutes(services));
      app.use(playPage()); // the browser client, built into dist/web/
      app.use(notFound); // Colyseus's own routes (/matchmake) are matched before express
      app.use(errorHandler(log));
    },
    initializeGameServer: (server) => {
      profiles.start();
      events.start();
      server.onShutdown(async () => {
        profiles.stop();
        events.stop();
        await Promise.all([profiles.flushAll(), events.flush()]);
        const unsaved = profiles.pending + events.snapshot().buffered;
        if (unsaved > 0)
          log.error(
            { profiles: profiles.pending, events: events.snapshot().buffered },
            "stopping with unsaved data: the store refused the last writes",
          );
        else log.info("stopped; every profile and event saved");
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
  const server = defineServer({ ...app.options, rooms: app.rooms ?? {}, express: app.initializeExpress });
  await app.initializeGameServer?.(server);
  await server.listen(port);
  process.send?.("ready");
  return server;
}

/**
 * Defines the server: services built from the config, the rooms, the HTTP routes. `index.ts`
 * starts it; the tests boot it with `@colyseus/testing`.
 */
import config from "@colyseus/tools";
import { LocalDriver, LocalPresence } from "@colyseus/core";
import { Tokens } from "./auth/tokens.js";
import type { Config } from "./config.js";
import { loadContent } from "./content/index.js";
import { errorHandler, notFound } from "./http/errors.js";
import { gameRoutes } from "./http/routes.js";
import type { Logger } from "./log.js";
import { openStore } from "./persistence/index.js";
import { EventLog } from "./persistence/events.js";
import { ProfileCache } from "./persistence/profiles.js";
import { defineRooms } from "./rooms/index.js";
import type { Services } from "./rooms/services.js";

export async function createServices(cfg: Config, log: Logger, content = loadContent()): Promise<Services> {
  const store = await openStore(cfg, log);
  return {
    config: cfg,
    log,
    store,
    profiles: new ProfileCache(store, log.child({ component: "profiles" }), { intervalMs: cfg.saveIntervalMs, maxPending: cfg.maxPendingSaves }),
    events: new EventLog(store, log.child({ component: "events" }), { flushMs: 250, ttlMs: cfg.eventTtlSec * 1000, maxBuffered: 200_000 }),
    presence: new LocalPresence(),
    tokens: new Tokens(cfg.jwtSecret, cfg.tokenTtlSec),
    content,
  };
}

/** The Colyseus app definition for `listen()` (production) and `boot()` (tests). */
export function createApp(services: Services) {
  const { config: cfg, log, profiles, events, store } = services;
  return config({
    options: {
      presence: services.presence,
      driver: new LocalDriver(),
      publicAddress: cfg.publicAddress,
      greet: false,
    },
    rooms: defineRooms(services),
    initializeExpress: (app) => {
      app.set("trust proxy", "loopback");
      app.use(gameRoutes(services));
      app.use(["/api", "/auth"], notFound);
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
        if (unsaved > 0) log.error({ profiles: profiles.pending, events: events.snapshot().buffered }, "stopping with unsaved data: the store refused the last writes");
        else log.info("stopped; every profile and event saved");
        await store.close();
      });
    },
  });
}

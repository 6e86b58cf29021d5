/**
 * HTTP routes of PROTOCOL §1 that belong to the game: accounts, the profile, content, health.
 * Handlers parse with zod, call the use case, and map the outcome to a status.
 */
import { policy } from "../content/policy.js";
import { matchMaker } from "@colyseus/core";
import express, { type Request, type Router } from "express";
import { z } from "zod";
import { Accounts } from "../auth/accounts.js";
import { HttpErrorCode } from "../protocol/codes.js";
import { newProfile, START_RATING } from "../domain/profile.js";
import { progressOf } from "../domain/social.js";
import type { SharedState } from "../cluster/shared.js";
import { describeIssue } from "../validators/messages.js";
import { visibleTo, type EventViewer } from "../rules/visibility.js";
import type { Services } from "../services.js";
import { KINDS } from "../rooms/index.js";
import { isAdmin, requireAdmin } from "./admin.js";
import { addressOf } from "./client-address.js";
import { matchRoutes } from "./matches.js";
import { tradeRoutes } from "./trades.js";
import { socialRoutes } from "./social.js";
import { addTokenRoutes, adminUserRoutes, Fingerprint, mapQueueFull, refusalError, userAuth } from "./accounts.js";
import { HttpError, route } from "./errors.js";

const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(20)
  .regex(/^[\p{L}\p{N}_ .-]+$/u, "may hold letters, digits, spaces and _ . -");
const Username = z.string().regex(/^[A-Za-z0-9_]{3,20}$/, "must be 3-20 characters of A-Z, a-z, 0-9 and _");
const Password = z.string().min(8, "must be at least 8 characters").max(200);

const GuestBody = z.object({ name: DisplayName.optional(), fingerprint: Fingerprint.optional() });
const Credentials = z.object({ username: Username, password: Password, fingerprint: Fingerprint.optional() });
const LoginBody = z.object({
  username: z.string().max(100),
  password: z.string().max(200),
  fingerprint: Fingerprint.optional(),
});
const InstancesQuery = z.object({
  room: z.enum(["world", "dungeon", "match"]).default("world"),
  world: z.string().max(64).optional(),
  /** A kind with a membership option (a dungeon's party) lists only the instances of this one. */
  party: z.string().max(64).optional(),
});
const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new HttpError(400, HttpErrorCode.InputInvalid, describeIssue(parsed.error));
  return parsed.data;
}

/**
 * Per-address token buckets for the auth routes (brute force and account spam): `perMinute` at
 * once, refilled evenly. In `SharedState`, so cluster-wide with Redis and per process without it.
 */
function authRateLimit(perMinute: number, shared: SharedState): express.RequestHandler {
  if (perMinute === 0) return (_req, _res, next) => next();
  const intervalMs = 60_000 / perMinute;
  return (req, _res, next) => {
    shared.take(`rate:auth:${addressOf(req)}`, intervalMs, perMinute, Date.now()).then((result) => {
      if (result.allowed) return next();
      const retryAfterSeconds = Math.ceil(result.retryAfterMs / 1000);
      next(
        new HttpError(
          429,
          HttpErrorCode.RateLimited,
          `too many attempts; try again in ${retryAfterSeconds} s`,
          retryAfterSeconds,
        ),
      );
    }, next);
  };
}

function registerError(reason: "username_taken" | "looks_taken" | "name_reserved", username: string): HttpError {
  if (reason === "name_reserved")
    return new HttpError(409, HttpErrorCode.AuthNameReserved, `usernames may not start with "Guest"`);
  const why = reason === "looks_taken" ? "looks like a username that exists" : "is taken";
  return new HttpError(409, HttpErrorCode.AuthUsernameTaken, `the username "${username}" ${why}`);
}

export function gameRoutes(services: Services): Router {
  const { store, tokens, profiles, content, events, config } = services;
  const accounts = new Accounts(store, tokens, services.guard, services.passwordQueue);
  const caller = (req: Request, fingerprint?: string) => ({ ip: addressOf(req), fingerprint });
  const firstWorld = [...content.worlds.values()][0].template;
  const router = express.Router();
  router.use(express.json({ limit: "16kb" }));

  const auth = express.Router();
  auth.use(authRateLimit(services.config.authRatePerMin, services.shared));
  auth.post(
    "/guest",
    route(async (req, res) => {
      const { name, fingerprint } = parse(GuestBody, req.body);
      const result = await accounts.guest(name, caller(req, fingerprint));
      if (!result.ok && result.reason === "banned") throw refusalError(result.refusal);
      if (!result.ok)
        throw new HttpError(409, HttpErrorCode.AuthNameReserved, `the name "${name}" is, or looks like, a username`);
      res.status(201).json(result.session);
    }),
  );
  auth.post(
    "/register",
    route(async (req, res) => {
      const { username, password, fingerprint } = parse(Credentials, req.body);
      const result = await accounts.register(username, password, caller(req, fingerprint)).catch(mapQueueFull);
      if (!result.ok) throw registerError(result.reason, username);
      res.status(201).json(result.session);
    }),
  );
  auth.post(
    "/login",
    route(async (req, res) => {
      const { username, password, fingerprint } = parse(LoginBody, req.body);
      const result = await accounts.login(username, password, caller(req, fingerprint)).catch(mapQueueFull);
      if (!result.ok && result.reason === "banned") throw refusalError(result.refusal);
      if (!result.ok && result.reason === "locked") {
        const seconds = Math.ceil(result.retryAfterMs / 1000);
        throw new HttpError(
          429,
          HttpErrorCode.AuthLocked,
          `too many failed logins for this account; try again in ${seconds} s`,
          seconds,
        );
      }
      if (!result.ok) {
        services.security.signal("auth_failure", { room: "http", world: "-", ip: addressOf(req) });
        throw new HttpError(401, HttpErrorCode.AuthInvalidCredentials, "wrong username or password");
      }
      res.json(result.session);
    }),
  );
  router.use("/auth", auth);

  // Revocation, bans and device pinning (PROTOCOL §8) are checked on every player route.
  const requireUser = userAuth(services);
  addTokenRoutes(auth, services, accounts, requireUser);
  router.use(adminUserRoutes(services));

  router.get(
    "/api/me",
    route(async (req, res) => {
      const claims = await requireUser(req);
      // A player in play has a fresher profile in memory than in the store.
      const profile =
        profiles.get(claims.userId) ??
        (await store.loadProfile(claims.userId)) ??
        newProfile(claims, policy.startingHp);
      const { userId, name, level, xp, gold, hp, inventory, rating = START_RATING } = profile;
      // Before the first join a player has no place yet: it will appear at the first world's spawn.
      const location = profile.location ?? { world: firstWorld.id, x: firstWorld.spawn.x, y: firstWorld.spawn.y };
      const { achievements, stats } = progressOf(profile);
      res.json({ userId, name, level, xp, gold, hp, inventory, location, rating, achievements, stats });
    }),
  );

  router.use(matchRoutes(services, requireUser, requireAdmin(services)));
  router.use(tradeRoutes(services, requireUser));
  router.use(socialRoutes(services, requireUser));

  // Content, read-only: /api/worlds, /api/dungeons, /api/abilities, /api/combat-stats, ...
  const catalog = new Map(
    Object.entries(content.catalog).map(([kind, items]) => [kind, new Map(items.map((i) => [i.id, i]))]),
  );
  router.get("/api/:kind", (req, res, next) => {
    const items = catalog.get(req.params.kind);
    if (!items) return next();
    res.json([...items.values()]);
  });
  router.get("/api/:kind/:id", (req, res, next) => {
    const items = catalog.get(req.params.kind);
    if (!items) return next();
    const item = items.get(req.params.id);
    if (!item)
      throw new HttpError(404, HttpErrorCode.ContentNotFound, `no ${req.params.kind} entry "${req.params.id}"`);
    res.json(item);
  });

  router.get(
    "/api/events/:roomId",
    route(async (req, res) => {
      const { after, limit } = parse(EventsQuery, req.query);
      const roomId = req.params.roomId as string;
      let viewer: EventViewer | null = null;
      if (!isAdmin(req, config)) {
        const claims = await requireUser(req);
        const seats = await services.users.where(claims.userId);
        if (seats.some((seat) => seat.roomId === roomId))
          viewer = (await matchMaker
            .remoteRoomCall(roomId, "eventViewer", [claims.userId])
            .catch(() => null)) as EventViewer | null;
        if (!viewer)
          throw new HttpError(
            403,
            HttpErrorCode.Forbidden,
            "only admins and players seated in that room may read its events",
          );
      }
      await events.flush();
      const page = await store.eventsAfter(roomId, after, limit);
      // A player reads only what it could see; `last` lets it page on past what it may not.
      res.json({ roomId, events: viewer ? visibleTo(page, viewer) : page, last: page.at(-1)?.seq ?? after });
    }),
  );

  // Live instances of a room kind across every process, with their player counts (to players only).
  router.get(
    "/api/instances",
    route(async (req, res) => {
      await requireUser(req);
      const { room, world, party } = parse(InstancesQuery, req.query);
      // Where a kind has members (a dungeon's party), a player sees only what it may join.
      const key = KINDS.find((k) => k.name === room)?.membership;
      const listings = (await matchMaker.query({ name: room })).filter(
        (l) => !key || (party !== undefined && (l.metadata as Record<string, unknown> | undefined)?.[key] === party),
      );
      // A world instance's filter option is `world`, a dungeon's `dungeon`.
      const mapOf = (l: (typeof listings)[number]) =>
        (l.metadata as { world?: string; dungeon?: string } | undefined)?.world ??
        (l.metadata as { dungeon?: string } | undefined)?.dungeon ??
        null;
      res.json(
        listings
          .filter((l) => !world || mapOf(l) === world)
          .map((l) => ({
            roomId: l.roomId,
            room: l.name,
            world: mapOf(l),
            players: l.clients,
            maxPlayers: l.maxClients,
            locked: l.locked,
            processId: l.processId,
          })),
      );
    }),
  );

  // Readiness: 503 naming each required dependency that is down, with the reason. The store is
  // judged by a write probe made now (joined with one under way), not by how the last profile write went.
  router.get(
    ["/health", "/health/ready"],
    route(async (_req, res) => {
      const down: string[] = [];
      const { storeHealth } = services;
      const storeUp = await storeHealth.check();
      if (!storeUp) down.push(`store (${store.kind})`);
      if (services.redis && !(await services.redis.check())) down.push("redis");
      if (down.length)
        res.status(503).json({
          status: "unavailable",
          down,
          store: storeHealth.snapshot(),
          saves: profiles.snapshot(),
          events: events.snapshot(),
        });
      else res.json({ status: "ok" });
    }),
  );

  return router;
}

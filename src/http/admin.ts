/**
 * Admin routes: the Colyseus monitor behind HTTP basic auth, Prometheus metrics (optionally behind
 * a bearer token), and liveness. None of them is open to anyone without credentials, except
 * liveness, and metrics outside production when no METRICS_TOKEN is set (metrics carry no user data).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { monitor } from "@colyseus/monitor";
import express, { type Request, type RequestHandler, type Router } from "express";
import type { Config } from "../config.js";
import { policy } from "../content/policy.js";
import { HttpErrorCode } from "../protocol/codes.js";
import type { Services } from "../services.js";
import { HttpError, route } from "./errors.js";
import { addressOf } from "./client-address.js";
import { exportReplay } from "./replay.js";

const digest = (s: string) => createHash("sha256").update(s).digest();
/** Compares secrets in constant time; hashing first makes both sides the same length. */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** Whether the request carries the admin credentials as HTTP basic auth. */
export function isAdmin(req: Request, config: Pick<Config, "admin">): boolean {
  if (!config.admin) return false;
  const match = /^Basic\s+(\S+)$/i.exec(req.get("authorization") ?? "");
  if (!match) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  const userOk = sameSecret(decoded.slice(0, colon), config.admin.user);
  const passOk = sameSecret(decoded.slice(colon + 1), config.admin.password);
  return userOk && passOk;
}

/**
 * Failed admin logins per address: past `policy.adminAuth.failures` within the window, the address
 * is locked out (429, even with the right credentials) until the window passes. Per process.
 */
function adminLockout(): { locked(ip: string, now: number): boolean; failed(ip: string, now: number): void } {
  const { failures, windowMs } = policy.adminAuth;
  const seen = new Map<string, number[]>();
  const recent = (ip: string, now: number) => (seen.get(ip) ?? []).filter((at) => now - at < windowMs);
  return {
    locked: (ip, now) => recent(ip, now).length >= failures,
    failed(ip, now) {
      seen.set(ip, [...recent(ip, now), now]);
      if (seen.size > 10_000) for (const [k, v] of seen) if (now - v[v.length - 1] >= windowMs) seen.delete(k);
    },
  };
}

/** Lets admins through (HTTP basic auth); answers 401 to anyone else, and 429 to an address locked out. */
export function requireAdmin(services: Services): RequestHandler {
  const lockout = adminLockout();
  return (req, res, next) => {
    const ip = addressOf(req);
    const now = Date.now();
    if (lockout.locked(ip, now))
      return next(new HttpError(429, HttpErrorCode.RateLimited, "too many failed admin logins; wait a minute"));
    if (isAdmin(req, services.config)) return next();
    lockout.failed(ip, now);
    services.security.signal("auth_failure", { room: "http", world: "-", path: req.baseUrl || req.path, ip });
    res.set("WWW-Authenticate", 'Basic realm="Realmgate admin", charset="UTF-8"');
    next(new HttpError(401, HttpErrorCode.AuthUnauthorized, "admin credentials required"));
  };
}

export function adminRoutes(services: Services): Router {
  const { config, metrics, log } = services;
  const router = express.Router();

  // Without admin credentials (development only: production requires them) nobody can pass.
  router.use("/monitor", requireAdmin(services), ...(config.admin ? [monitor() as unknown as RequestHandler] : []));
  if (!config.admin) log.warn("monitor is off: set ADMIN_USER and ADMIN_PASSWORD to serve /monitor");

  router.get(
    "/metrics",
    route(async (req, res) => {
      // In production the metrics are never open: without a token nobody passes.
      if (config.metricsToken || config.production) {
        const token = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1] ?? "";
        if (!config.metricsToken || !sameSecret(token, config.metricsToken))
          throw new HttpError(401, HttpErrorCode.AuthUnauthorized, "send Authorization: Bearer <METRICS_TOKEN>");
      }
      res.type(metrics.registry.contentType).send(await metrics.text());
    }),
  );

  router.get(
    "/api/rooms/:roomId/replay",
    requireAdmin(services),
    route(async (req, res) => {
      const log = await exportReplay(services, req.params.roomId as string);
      if (!log) throw new HttpError(404, HttpErrorCode.NotFound, "no replay log for that room");
      res.json(log);
    }),
  );

  router.get("/health/live", (_req, res) => void res.json({ status: "ok" }));
  return router;
}

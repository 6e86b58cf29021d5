/**
 * Session security over HTTP (PROTOCOL §8): the Bearer check every player route uses (revocation,
 * bans, device pinning), `POST /auth/refresh` and `/auth/logout`, and the admin's user routes:
 * ban, lift, look up. The rules themselves live in src/auth/guard.ts.
 */
import express, { type Request, type Router } from "express";
import { z } from "zod";
import type { Accounts } from "../auth/accounts.js";
import type { Refusal } from "../auth/guard.js";
import { QueueFullError } from "../auth/queue.js";
import type { VerifiedClaims } from "../auth/tokens.js";
import { policy } from "../content/policy.js";
import { CloseCodes, CloseReason, HttpErrorCode } from "../protocol/codes.js";
import type { Services } from "../services.js";
import { describeIssue } from "../validators/messages.js";
import { requireAdmin } from "./admin.js";
import { HttpError, route } from "./errors.js";

/** The optional device fingerprint of `/auth/guest`, `/auth/register` and `/auth/login`. */
export const Fingerprint = z.string().min(8).max(128);

/** The header a pinned token's holder sends its fingerprint in. */
export const FINGERPRINT_HEADER = "x-device-fingerprint";

const BanBody = z.object({
  minutes: z.number().int().min(1).max(policy.accounts.banMaxMinutes),
  reason: z.string().trim().min(1).max(200),
});

/** The token of the request's `Authorization: Bearer <token>` header, if any. */
export const bearerToken = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1];

/** The HTTP error of a guard's refusal. */
export function refusalError(refusal: Refusal): HttpError {
  switch (refusal.code) {
    case "revoked":
      return new HttpError(401, HttpErrorCode.AuthUnauthorized, refusal.message);
    case "banned":
      return new HttpError(403, HttpErrorCode.AuthBanned, refusal.message);
    case "fingerprint_mismatch":
      return new HttpError(403, HttpErrorCode.AuthFingerprintMismatch, refusal.message);
  }
}

/** The HTTP error of a full password queue: 429 for the address that filled its share, 503 when all is full. */
export function queueError(err: QueueFullError): HttpError {
  const seconds = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return err.scope === "key"
    ? new HttpError(429, HttpErrorCode.RateLimited, `${err.message}; try again in ${seconds} s`, seconds)
    : new HttpError(503, HttpErrorCode.AuthBusy, `${err.message}; try again in ${seconds} s`, seconds);
}

/**
 * The Bearer check of player routes: a valid token, not revoked, of a user not banned, sent with
 * the fingerprint it is pinned to (header X-Device-Fingerprint). Answers the token's claims.
 */
export function userAuth(services: Services): (req: Request) => Promise<VerifiedClaims> {
  return async (req) => {
    const token = bearerToken(req);
    if (!token)
      throw new HttpError(401, HttpErrorCode.AuthUnauthorized, "send the header Authorization: Bearer <token>");
    const verdict = await services.tokens.verify(token);
    if (!verdict.ok)
      throw new HttpError(401, HttpErrorCode.AuthUnauthorized, `the token is ${verdict.reason}; log in again`);
    const refusal = await services.guard.admit(verdict.claims, {
      fingerprint: req.get(FINGERPRINT_HEADER),
      room: "http",
      world: "-",
    });
    if (refusal) throw refusalError(refusal);
    return verdict.claims;
  };
}

/** `POST /refresh` and `POST /logout`, added to the `/auth` router (and its rate limit). */
export function addTokenRoutes(
  auth: Router,
  services: Services,
  accounts: Accounts,
  requireUser: (req: Request) => Promise<VerifiedClaims>,
): void {
  auth.post(
    "/refresh",
    route(async (req, res) => {
      res.json(await accounts.refresh(await requireUser(req)));
    }),
  );
  auth.post(
    "/logout",
    route(async (req, res) => {
      // Any valid token may be revoked, from any device: revoking only ever takes rights away.
      const token = bearerToken(req);
      const verdict = token ? await services.tokens.verify(token) : undefined;
      if (!verdict?.ok)
        throw new HttpError(401, HttpErrorCode.AuthUnauthorized, "send the header Authorization: Bearer <token>");
      await services.guard.revoke(verdict.claims);
      res.status(204).end();
    }),
  );
}

/** `/api/admin/users/:userId` (GET), and its `/ban` (POST, DELETE), behind the admin's basic auth. */
export function adminUserRoutes(services: Services): Router {
  const { guard, users, store, profiles, metrics, log } = services;
  const router = express.Router();
  router.use("/api/admin/users", requireAdmin(services));

  router.post(
    "/api/admin/users/:userId/ban",
    route(async (req, res) => {
      const userId = req.params.userId as string;
      const parsed = BanBody.safeParse(req.body ?? {});
      if (!parsed.success) throw new HttpError(400, HttpErrorCode.InputInvalid, describeIssue(parsed.error));
      const { minutes, reason } = parsed.data;
      const ban = await guard.ban(userId, minutes, reason);
      // Stored first, then closed: a join racing the close is refused by the stored ban.
      const closed = await users.close(userId, CloseCodes.Banned, `${CloseReason.Banned}: ${reason}`);
      metrics.bannedClosed.inc(closed);
      log.warn({ userId, minutes, reason, closed }, "user banned");
      res.json({ userId, ban, closed });
    }),
  );

  router.delete(
    "/api/admin/users/:userId/ban",
    route(async (req, res) => {
      const userId = req.params.userId as string;
      const lifted = await guard.unban(userId);
      if (!lifted) throw new HttpError(404, HttpErrorCode.NotFound, "that user is not banned");
      log.warn({ userId }, "ban lifted");
      res.json({ userId, ban: null });
    }),
  );

  router.get(
    "/api/admin/users/:userId",
    route(async (req, res) => {
      const userId = req.params.userId as string;
      const account = await store.getAccount(userId);
      if (!account) throw new HttpError(404, HttpErrorCode.NotFound, "no such user");
      const [stored, ban, signals, rooms] = await Promise.all([
        profiles.get(userId) ? Promise.resolve(profiles.get(userId)) : store.loadProfile(userId),
        guard.banOf(userId),
        guard.recentSignals(userId),
        users.where(userId),
      ]);
      const { username, name, createdAt } = account;
      res.json({
        userId,
        username,
        name,
        guest: username === null,
        createdAt,
        profile: stored ?? null,
        ban,
        signals,
        rooms,
      });
    }),
  );
  return router;
}

/** Turns a full password queue into its HTTP error; rethrows anything else. */
export function mapQueueFull(err: unknown): never {
  if (err instanceof QueueFullError) throw queueError(err);
  throw err;
}

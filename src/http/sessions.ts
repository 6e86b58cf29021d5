/**
 * PROTOCOL §6: sessions over HTTP. The routes check the Bearer token and the shapes, join through
 * the matchmaker (the rooms' own onAuth and seat rules), and hand each call to the process that
 * holds the session's room (src/sessions/hub.ts). The game itself runs in the room, unchanged.
 */
import { matchMaker } from "@colyseus/core";
import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import { policy } from "../content/policy.js";
import { HttpErrorCode, JoinErrorCode } from "../protocol/codes.js";
import type { Services } from "../services.js";
import { joinFailure, type SessionResult } from "../sessions/hub.js";
import { HttpError, route } from "./errors.js";
import { addressOf } from "./client-address.js";
import { bearerToken, FINGERPRINT_HEADER, userAuth } from "./accounts.js";
import { parse } from "./routes.js";

const OpenBody = z.object({
  room: z.enum(["world", "dungeon", "match"]),
  options: z.record(z.string(), z.unknown()).default({}),
});
const ResumeBody = z.object({ reconnectionToken: z.string().regex(/^[\w-]+:[\w-]+$/, "must be roomId:token") });
const Messages = z
  .array(z.object({ type: z.string().min(1).max(64), payload: z.unknown() }))
  .min(1)
  .max(policy.sessions.maxMessagesPerPost);
const PollQuery = z.object({
  cursor: z.coerce.number().int().min(0).default(0),
  wait: z.coerce.number().int().min(0).default(0),
});
const SessionId = z.string().regex(/^[\w-]{1,64}$/, "is not a session id");

function answer(res: Response, result: SessionResult): void {
  if (!result.ok) {
    res.status(result.status).json({ error: { code: result.code, message: result.message } });
    return;
  }
  if (result.body === undefined) res.status(result.status).end();
  else res.status(result.status).json(result.body);
}

export function sessionRoutes(services: Services): Router {
  const { sessions } = services;
  // Revocation, bans and device pinning (PROTOCOL §8) hold here as on every player route.
  const requireUser = userAuth(services);
  const router = express.Router();
  router.use("/api/sessions", express.json({ limit: policy.http.maxBodyBytes }));

  const limit = (userId: string) => {
    if (!sessions.allowCreation(userId))
      throw new HttpError(
        429,
        HttpErrorCode.RateLimited,
        "too many sessions opened by this user; try again shortly",
        Math.ceil(1 / policy.sessions.create.perSecond),
      );
  };

  /** Opening a session is a join: a token problem answers with the join's own codes. */
  const joiningUser = async (req: Request) => {
    const token = bearerToken(req);
    if (!token) return joinFailure(new Error(`${JoinErrorCode.AuthMissing}: send Authorization: Bearer <token>`));
    const verdict = await services.tokens.verify(token);
    if (!verdict.ok)
      return joinFailure(
        new Error(
          `${verdict.reason === "expired" ? JoinErrorCode.AuthExpired : JoinErrorCode.AuthInvalid}: the token is ${verdict.reason}; log in again`,
        ),
      );
    return { ...verdict.claims, token };
  };

  router.post(
    "/api/sessions",
    route(async (req, res) => {
      const user = await joiningUser(req);
      if ("ok" in user) return answer(res, user);
      const fingerprint = req.get(FINGERPRINT_HEADER);
      const { room, options } = parse(OpenBody, req.body);
      limit(user.userId);
      // The same matchmaking as a WebSocket join: the kind's onAuth, its filters, its seat rules.
      let reservation: Awaited<ReturnType<typeof matchMaker.joinOrCreate>>;
      try {
        reservation = await matchMaker.joinOrCreate(room, options, {
          token: user.token,
          ip: addressOf(req),
          // The device fingerprint reaches onAuth as a WebSocket join's header would.
          headers: new Headers(fingerprint ? { [FINGERPRINT_HEADER]: fingerprint } : {}),
        });
      } catch (err) {
        return answer(res, joinFailure(err));
      }
      answer(
        res,
        await sessions.route(reservation.roomId, {
          op: "open",
          sessionId: reservation.sessionId,
          userId: user.userId,
        }),
      );
    }),
  );

  router.post(
    "/api/sessions/resume",
    route(async (req, res) => {
      const user = await requireUser(req);
      const { reconnectionToken } = parse(ResumeBody, req.body);
      limit(user.userId);
      const roomId = reconnectionToken.slice(0, reconnectionToken.indexOf(":"));
      answer(res, await sessions.route(roomId, { op: "resume", token: reconnectionToken, userId: user.userId }));
    }),
  );

  router.post(
    "/api/sessions/:sessionId/messages",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const sessionId = parse(SessionId, req.params.sessionId);
      const messages = parse(Messages, req.body);
      answer(res, await sessions.call({ op: "send", sessionId, userId, messages }));
    }),
  );

  router.get(
    "/api/sessions/:sessionId/poll",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const sessionId = parse(SessionId, req.params.sessionId);
      const { cursor, wait } = parse(PollQuery, req.query);
      const result = await sessions.call({
        op: "poll",
        sessionId,
        userId,
        cursor,
        wait: Math.min(wait, policy.sessions.maxWaitMs),
      });
      answer(res, result);
    }),
  );

  router.delete(
    "/api/sessions/:sessionId",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const sessionId = parse(SessionId, req.params.sessionId);
      answer(res, await sessions.call({ op: "leave", sessionId, userId }));
    }),
  );

  return router;
}

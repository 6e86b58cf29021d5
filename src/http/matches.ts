/**
 * HTTP routes of matches (PROTOCOL §4): the public signing key, a match's history with its chain,
 * the caller's matches, and the admin rollback.
 */
import { matchMaker } from "@colyseus/core";
import express, { type Request, type RequestHandler, type Router } from "express";
import { z } from "zod";
import { HttpErrorCode } from "../protocol/codes.js";
import type { KindRoom } from "../rooms/KindRoom.js";
import type { Services } from "../services.js";
import { describeIssue } from "../validators/messages.js";
import { HttpError, route } from "./errors.js";

const MatchesQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });
const RollbackBody = z.object({ to: z.number().int().min(0) });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new HttpError(400, HttpErrorCode.InputInvalid, describeIssue(parsed.error));
  return parsed.data;
}

/** The room playing a match on this process, if any. */
function localRoom(roomId: string): KindRoom | undefined {
  try {
    return (matchMaker.getLocalRoomById(roomId) as KindRoom | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

export function matchRoutes(
  services: Services,
  requireUser: (req: Request) => Promise<{ userId: string }>,
  requireAdmin: RequestHandler,
): Router {
  const { store, matchSigner } = services;
  const router = express.Router();

  router.get("/api/matches/key", (_req, res) => {
    res.json({ kid: matchSigner.kid, jwk: matchSigner.jwk });
  });

  router.get(
    "/api/me/matches",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const { limit } = parse(MatchesQuery, req.query);
      res.json(await store.matchesOf(userId, limit));
    }),
  );

  router.get(
    "/api/matches/:matchId",
    route(async (req, res) => {
      const matchId = req.params.matchId as string;
      let stored = await store.loadMatch(matchId);
      // A match played here may have writes still queued: answer once they have landed.
      const room = stored && localRoom(stored.record.roomId);
      if (room) {
        await room.settled();
        stored = await store.loadMatch(matchId);
      }
      if (!stored) throw new HttpError(404, HttpErrorCode.MatchNotFound, `no match "${matchId}"`);
      const { roomId: _room, ...record } = stored.record;
      res.json({ ...record, chain: stored.chain, rolledBack: stored.rolledBack });
    }),
  );

  router.post(
    "/api/matches/:matchId/rollback",
    requireAdmin,
    route(async (req, res) => {
      const { to } = parse(RollbackBody, req.body);
      const matchId = req.params.matchId as string;
      const stored = await store.loadMatch(matchId);
      if (!stored) throw new HttpError(404, HttpErrorCode.MatchNotFound, `no match "${matchId}"`);
      if (stored.record.status !== "playing")
        throw new HttpError(409, HttpErrorCode.MatchNotPlaying, `the match is ${stored.record.status}`);
      const verdict = (await matchMaker
        .remoteRoomCall(stored.record.roomId, "operate", ["rollback", { to }])
        .catch(() => null)) as { ok: boolean; code?: string; message?: string } | null;
      if (!verdict)
        throw new HttpError(409, HttpErrorCode.MatchNotPlaying, "the match's room is gone (a restart ends live play)");
      if (!verdict.ok)
        throw new HttpError(
          verdict.code === HttpErrorCode.InputInvalid ? 400 : 409,
          verdict.code === HttpErrorCode.InputInvalid ? HttpErrorCode.InputInvalid : HttpErrorCode.MatchNotPlaying,
          verdict.message ?? "refused",
        );
      await localRoom(stored.record.roomId)?.settled();
      const after = await store.loadMatch(matchId);
      res.json({ matchId, to, chainHead: after?.chain.at(-1)?.hash ?? "" });
    }),
  );

  return router;
}

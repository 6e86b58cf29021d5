/**
 * HTTP routes of PROTOCOL §7: friends (with online status and `where`, cluster-wide from
 * presence) and leaderboards. Achievements are content (`GET /api/achievements`) and `GET /api/me`.
 */
import { matchMaker } from "@colyseus/core";
import express, { type Request, type Router } from "express";
import type { z } from "zod";
import { policy } from "../content/policy.js";
import { BOARDS, type BoardId } from "../domain/social.js";
import { HttpErrorCode } from "../protocol/codes.js";
import type { Services } from "../services.js";
import { describeIssue } from "../validators/messages.js";
import { BoardQuery, FriendRequest } from "../validators/social.js";
import { HttpError, route } from "./errors.js";

/** Where a user is: its room kind and the world, dungeon or match mode (never a party or a private code). */
export interface Where {
  room: string;
  world?: string;
  dungeon?: string;
  mode?: string;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new HttpError(400, HttpErrorCode.InputInvalid, describeIssue(parsed.error));
  return parsed.data;
}

/**
 * The user's first seat in the cluster (kind order), read from presence and the room listing;
 * null when seated nowhere.
 */
export async function whereIs(services: Services, userId: string): Promise<Where | null> {
  for (const seat of await services.users.where(userId)) {
    const [listing] = await matchMaker.query({ roomId: seat.roomId });
    if (!listing) continue; // a seat left behind by a process that died
    const meta = (listing.metadata ?? {}) as Record<string, unknown>;
    const where: Where = { room: listing.name };
    for (const key of ["world", "dungeon", "mode"] as const) if (typeof meta[key] === "string") where[key] = meta[key];
    return where;
  }
  return null;
}

export function socialRoutes(
  services: Services,
  requireUser: (req: Request) => Promise<{ userId: string; name: string }>,
): Router {
  const { store } = services;
  const max = policy.social.maxFriends;
  const router = express.Router();

  const refused = {
    not_found: () => new HttpError(404, HttpErrorCode.FriendsNotFound, "no such request or friend"),
    already: () => new HttpError(409, HttpErrorCode.FriendsAlready, "already friends, or already asked"),
    limit: () => new HttpError(409, HttpErrorCode.FriendsLimit, `at most ${max} friends`),
  };

  router.post(
    "/api/friends",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const body = parse(FriendRequest, req.body);
      const other =
        "username" in body ? await store.findAccountByUsername(body.username) : await store.getAccount(body.userId);
      if (!other) throw new HttpError(404, HttpErrorCode.FriendsNotFound, "no such user");
      if (other.userId === userId) throw new HttpError(400, HttpErrorCode.FriendsSelf, "you cannot befriend yourself");
      const outcome = await store.requestFriend(userId, other.userId, max);
      if (outcome === "already" || outcome === "limit") throw refused[outcome]();
      res.status(outcome === "requested" ? 201 : 200).json({ status: outcome });
    }),
  );

  router.post(
    "/api/friends/:userId/accept",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const outcome = await store.acceptFriend(userId, String(req.params.userId), max);
      if (outcome !== "friends") throw refused[outcome]();
      res.json({ status: "friends" });
    }),
  );

  router.delete(
    "/api/friends/:userId",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      if (!(await store.removeFriend(userId, String(req.params.userId)))) throw refused.not_found();
      res.status(204).end();
    }),
  );

  router.get(
    "/api/friends",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      const links = await store.friendsOf(userId);
      const friends = await Promise.all(
        links
          .filter((l) => l.state === "friends")
          .map(async ({ userId: id, name }) => {
            const where = await whereIs(services, id);
            return { userId: id, name, online: where !== null, where };
          }),
      );
      const side = (state: string) =>
        links.filter((l) => l.state === state).map(({ userId: id, name }) => ({ userId: id, name }));
      res.json({ friends, incoming: side("incoming"), outgoing: side("outgoing") });
    }),
  );

  router.get("/api/leaderboards", (_req, res) => {
    res.json(BOARDS.map(({ id, name, order }) => ({ id, name, order })));
  });

  router.get(
    "/api/leaderboards/:id",
    route(async (req, res) => {
      const board = BOARDS.find((b) => b.id === req.params.id);
      if (!board)
        throw new HttpError(404, HttpErrorCode.LeaderboardNotFound, `no leaderboard "${String(req.params.id)}"`);
      const { limit, offset } = parse(BoardQuery(policy.social.boardPage, policy.social.boardPageMax), req.query);
      const user = req.get("authorization") ? await requireUser(req) : null;
      const id: BoardId = board.id;
      const [entries, me] = await Promise.all([
        store.leaderboard(id, limit, offset),
        user ? store.rankOf(id, user.userId) : null,
      ]);
      res.json(me ? { id, entries, me } : { id, entries });
    }),
  );

  return router;
}

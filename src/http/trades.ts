/** `GET /api/trades` (PROTOCOL §5): the caller's open offers, incoming and outgoing. */
import express, { type Request, type Router } from "express";
import type { Services } from "../services.js";
import { route } from "./errors.js";

export function tradeRoutes(services: Services, requireUser: (req: Request) => Promise<{ userId: string }>): Router {
  const router = express.Router();
  router.get(
    "/api/trades",
    route(async (req, res) => {
      const { userId } = await requireUser(req);
      res.json(await services.trades.openOf(userId));
    }),
  );
  return router;
}

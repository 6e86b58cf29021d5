import type { ErrorRequestHandler, RequestHandler } from "express";
import { HttpErrorCode } from "../protocol/codes.js";
import type { Logger } from "../log.js";
import { StoreUnavailableError } from "../persistence/store.js";

/** An error with its HTTP status and protocol code; the error handler turns it into the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    /** For a 429 or 503: whole seconds until a retry can succeed (sent as `Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Wraps an async handler so that a rejection reaches the error handler. */
export const route =
  (handler: (...args: Parameters<RequestHandler>) => Promise<unknown>): RequestHandler =>
  (req, res, next) =>
    handler(req, res, next).catch(next);

export const notFound: RequestHandler = (req, _res, next) =>
  next(new HttpError(404, HttpErrorCode.NotFound, `no route ${req.method} ${req.originalUrl.split("?")[0]}`));

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof HttpError) {
      // Every 429 says when to come back, and so does a 503 that knows.
      if (err.status === 429 || err.retryAfterSeconds !== undefined)
        res.set("Retry-After", String(Math.max(1, Math.ceil(err.retryAfterSeconds ?? 1))));
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
      return;
    }
    if (err instanceof StoreUnavailableError) {
      log.warn({ err, method: req.method, path: req.path }, "store unavailable");
      res.status(503).json({
        error: { code: HttpErrorCode.DependencyDown, message: "the store is unavailable; try again shortly" },
      });
      return;
    }
    // express.json() reports unparsable bodies with a 4xx status.
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(400).json({ error: { code: HttpErrorCode.InputInvalid, message: "the body is not valid JSON" } });
      return;
    }
    log.error({ err, method: req.method, path: req.path }, "request failed");
    res.status(500).json({ error: { code: HttpErrorCode.Internal, message: "internal error" } });
  };
}

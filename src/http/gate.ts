/**
 * The request gate: runs before every other `request` listener of the HTTP server, Colyseus's
 * matchmaking router included, whatever order they were added in. It decides the client's address
 * (src/http/client-address.ts) of every request and WebSocket upgrade before anything reads it, caps
 * request bodies (413 before a byte is read), answers CORS from the allow-list alone, and sets the
 * security headers.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { matchMaker } from "@colyseus/core";
import { policy } from "../content/policy.js";
import { HttpErrorCode } from "../protocol/codes.js";
import { withRetryAfter } from "./retry-after.js";
import { stampClientAddress, type Trusts } from "./client-address.js";

/** Paths that never answer another origin, allowed or not. */
const NO_CORS = /^\/(monitor|api\/admin)(\/|$)/;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

function refuse(res: ServerResponse, status: number, code: HttpErrorCode, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json", Connection: "close" });
  res.end(JSON.stringify({ error: { code, message } }));
}

/** Why a request's body cannot be taken, or undefined when it can. */
function bodyProblem(req: IncomingMessage, maxBytes: number): string | undefined {
  const length = req.headers["content-length"];
  if (length === undefined) {
    // A body without a length (chunked) could be of any size: only bodiless requests go without one.
    return req.headers["transfer-encoding"]
      ? `a request body needs a Content-Length of at most ${maxBytes} bytes`
      : undefined;
  }
  return Number(length) > maxBytes ? `a request body may hold at most ${maxBytes} bytes` : undefined;
}

function corsHeaders(req: IncomingMessage, origins: ReadonlySet<string>): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !origins.has(origin) || NO_CORS.test((req.url ?? "/").split("?")[0])) return { Vary: "Origin" };
  return {
    Vary: "Origin",
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Device-Fingerprint",
    "Access-Control-Allow-Methods": "GET, POST, DELETE",
    "Access-Control-Max-Age": "600",
  };
}

/**
 * Installs the gate on `server`. `origins` are the exact origins (`https://play.example.com`)
 * allowed to call the API from a browser; every other origin gets no CORS header at all. `trusts`
 * says which peers' X-Forwarded-For is believed (`TRUST_PROXY`).
 */
export function installRequestGate(server: Server, origins: readonly string[], trusts: Trusts): void {
  const allowed = new Set(origins);
  // Colyseus adds its own permissive CORS headers (any origin, with credentials) to every
  // response; the gate answers CORS instead, so Colyseus's are emptied.
  matchMaker.controller.DEFAULT_CORS_HEADERS = {} as typeof matchMaker.controller.DEFAULT_CORS_HEADERS;
  matchMaker.controller.getCorsHeaders = () => ({});

  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === "upgrade") stampClientAddress(args[0] as IncomingMessage, trusts);
    if (event !== "request") return emit(event, ...args);
    const [req, res] = args as [IncomingMessage, ServerResponse];
    stampClientAddress(req, trusts);
    for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...corsHeaders(req, allowed) }))
      res.setHeader(name, value);
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return true;
    }
    const problem = bodyProblem(req, policy.http.maxBodyBytes);
    if (problem) {
      refuse(res, 413, HttpErrorCode.TooLarge, problem);
      req.resume(); // drain what already arrived; Connection: close ends the rest
      return true;
    }
    // A 429 from the matchmaking router (per-user join limits) carries the wait its refusal noted.
    return withRetryAfter((wait) => {
      const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
      res.writeHead = (status: number, ...rest: unknown[]) => {
        if (status === 429 && wait.seconds !== undefined && !res.hasHeader("Retry-After"))
          res.setHeader("Retry-After", String(wait.seconds));
        return writeHead(status, ...rest);
      };
      return emit(event, ...args);
    });
  }) as typeof server.emit;
}

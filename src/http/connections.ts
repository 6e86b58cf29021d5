/**
 * Connection hygiene at the socket level, before HTTP or WebSocket code sees a byte: a handshake
 * timeout (a connection must complete its request head, a WebSocket upgrade included, within
 * `handshakeMs`, else it gets `408` and is closed), and a cap on the connections one address may
 * hold open at once (past it, `429 http/too_many_connections` and the socket is closed).
 *
 * The address is the client's (src/http/client-address.ts). A proxy `TRUST_PROXY` trusts carries
 * many clients, so its own sockets are not counted: each WebSocket it opens is counted under the
 * client it forwards (the upgrade's X-Forwarded-For), from the upgrade until it closes. Its plain
 * HTTP requests share pooled sockets and are not counted per client (the `/auth/*` rate limit still
 * is). Loopback addresses are not capped unless asked: the tests and the benchmark run hundreds
 * of clients from 127.0.0.1.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import { HttpErrorCode } from "../protocol/codes.js";
import { normalizeAddress, stampClientAddress, type Trusts } from "./client-address.js";

export interface ConnectionLimits {
  /** Open connections per remote address; 0 = no cap. */
  maxPerAddress: number;
  /** Whether loopback addresses are capped too. */
  capLoopback: boolean;
  /** Time for a connection to send its whole request head (the WebSocket handshake included). */
  handshakeMs: number;
  /** Time for a whole request, head and body (bodies are at most 16 KiB). */
  requestMs: number;
}

const isLoopback = (address: string) =>
  address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");

function tooMany(max: number): string {
  const body = JSON.stringify({
    error: {
      code: HttpErrorCode.TooManyConnections,
      message: `at most ${max} open connections per address; close one and try again`,
    },
  });
  return [
    "HTTP/1.1 429 Too Many Requests",
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Retry-After: 1",
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

export function limitConnections(server: Server, limits: ConnectionLimits, trusts: Trusts): void {
  server.headersTimeout = limits.handshakeMs;
  server.requestTimeout = limits.requestMs;
  // How often Node checks those two timeouts (read when the server starts listening; default 30 s).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    1000,
    limits.handshakeMs,
  );
  if (limits.maxPerAddress === 0) return;

  const open = new Map<string, number>();
  const exempt = (address: string) => !limits.capLoopback && isLoopback(address);
  /** Counts the socket under `address` until it closes; past the cap, answers 429, closes it and says false. */
  const hold = (socket: Socket, address: string): boolean => {
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxPerAddress) {
      socket.end(tooMany(limits.maxPerAddress), () => socket.destroy());
      return false;
    }
    open.set(address, count);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
    return true;
  };

  server.on("connection", (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (!peer || trusts(peer, 0)) return; // a trusted proxy's: counted per client at the upgrade
    const address = normalizeAddress(peer);
    if (!exempt(address)) hold(socket, address);
  });

  // Runs before the WebSocket transport's own upgrade listener, which it skips past the cap.
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event !== "upgrade") return emit(event, ...args);
    const [req, socket] = args as [IncomingMessage, Socket];
    const peer = socket.remoteAddress;
    if (!peer || !trusts(peer, 0)) return emit(event, ...args);
    const address = stampClientAddress(req, trusts);
    if (exempt(address) || hold(socket, address)) return emit(event, ...args);
    return true;
  }) as typeof server.emit;
}

/**
 * The one place a client's address is decided, for everything that counts or remembers per
 * address: the connection cap (src/http/connections.ts), the `/auth/*` rate limit and the password
 * queue (src/http/routes.ts), the admin's failed-login signal, and the address a room join sees
 * (`ctx.ip` in `onAuth`, which feeds `address_change`).
 *
 * The address is the direct peer's, unless that peer is a proxy `TRUST_PROXY` trusts: then
 * X-Forwarded-For is read from its right end (the entry the nearest proxy appended), one entry per
 * trusted hop, and the first address not trusted is the client's. Nothing else is believed: a
 * client that sends X-Forwarded-For (or X-Real-IP, X-Client-IP) itself is counted under its own
 * address. It is the walk Express's `trust proxy` makes.
 *
 * Colyseus reads `x-real-ip`, then `x-forwarded-for`, then `x-client-ip` for `ctx.ip`, on the
 * matchmaking request and the WebSocket upgrade alike, and believes them from anyone: the request
 * gate stamps every request and upgrade (`stampClientAddress`) before Colyseus sees it, so its
 * `x-real-ip` is always the address decided here.
 */
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { ProxyTrust } from "../config.js";

/** Whether the peer at `address`, `hop` steps from this server (0: the direct peer), is a trusted proxy. */
export type Trusts = (address: string, hop: number) => boolean;

/** Lower case, and an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as the IPv4 address it maps. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1] : a;
}

export function proxyTrust(trust: ProxyTrust): Trusts {
  switch (trust.kind) {
    case "none":
      return () => false;
    case "hops":
      return (_address, hop) => hop < trust.hops;
    case "ranges": {
      const list = new BlockList();
      for (const range of trust.ranges) {
        const [ip, prefix] = range.split("/");
        list.addSubnet(ip, Number(prefix), isIP(ip) === 6 ? "ipv6" : "ipv4");
      }
      return (address) => {
        const a = normalizeAddress(address);
        const family = isIP(a);
        return family !== 0 && list.check(a, family === 6 ? "ipv6" : "ipv4");
      };
    }
  }
}

/**
 * The client's address, from the direct peer and the X-Forwarded-For it sent. An entry that is
 * not an IP address (a port, a name, garbage) ends the walk at the hop that passed it on.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusts: Trusts,
): string {
  let address = normalizeAddress(peer ?? "");
  if (!address) return "unknown";
  if (!forwardedFor) return address;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map(normalizeAddress)
    .filter(Boolean)
    .reverse();
  for (let hop = 0; hop < entries.length && trusts(address, hop); hop++) {
    if (isIP(entries[hop]) === 0) break;
    address = entries[hop];
  }
  return address;
}

const STAMP = Symbol("realmgate.clientAddress");
type Stamped = IncomingMessage & { [STAMP]?: string };

/**
 * Decides the address of a request or upgrade once, keeps it on the request, and leaves Colyseus
 * only that to read (`x-real-ip`, which it reads first; `x-client-ip` removed). Answers the address.
 */
export function stampClientAddress(req: IncomingMessage, trusts: Trusts): string {
  const stamped = req as Stamped;
  if (stamped[STAMP] !== undefined) return stamped[STAMP];
  const address = clientAddress(req.socket?.remoteAddress, req.headers["x-forwarded-for"], trusts);
  stamped[STAMP] = address;
  req.headers["x-real-ip"] = address;
  delete req.headers["x-client-ip"];
  return address;
}

/** The address `stampClientAddress` decided; the direct peer's for a request it never saw. */
export function addressOf(req: IncomingMessage): string {
  return (req as Stamped)[STAMP] ?? clientAddress(req.socket?.remoteAddress, undefined, () => false);
}

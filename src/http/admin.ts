import { timingSafeEqual, createHash } from "node:crypto";
import type { Request } from "express";
import type { Config } from "../config.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Whether the request carries the admin credentials as HTTP basic auth (compared in constant time). */
export function isAdmin(req: Request, config: Pick<Config, "admin">): boolean {
  if (!config.admin) return false;
  const match = /^Basic\s+(\S+)$/i.exec(req.get("authorization") ?? "");
  if (!match) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  // Hashing first makes both sides the same length, so the comparison leaks no length either.
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(config.admin.user));
  const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(config.admin.password));
  return userOk && passOk;
}

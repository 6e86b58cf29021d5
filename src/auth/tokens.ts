/**
 * Session tokens: JWTs signed with HS256. Verification accepts HS256 only (the algorithm is
 * pinned, so a token claiming `alg: none` or an asymmetric algorithm is refused) and requires
 * an expiry. Every token carries a `jti` (so one token can be revoked, src/auth/guard.ts) and, when
 * it was issued for a device fingerprint, `fp`: a hash of that fingerprint (the token pins the device
 * without showing its fingerprint).
 */
import { createHash, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

const ALG = "HS256";
const ISSUER = "realmgate";

export interface TokenClaims {
  userId: string;
  name: string;
  /** The hash of the device fingerprint the token is pinned to (`fingerprintHash`), if any. */
  fp?: string;
}

/** What a verified token says: its claims, its id and its expiry (epoch seconds). */
export interface VerifiedClaims extends TokenClaims {
  jti: string;
  exp: number;
}

/** The `fp` claim of a fingerprint: not the fingerprint itself, which the token's holder can read. */
export const fingerprintHash = (fingerprint: string): string =>
  createHash("sha256").update(`realmgate-device:${fingerprint}`).digest("base64url");

export type VerifyResult = { ok: true; claims: VerifiedClaims } | { ok: false; reason: "invalid" | "expired" };

export class Tokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSec: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(claims: TokenClaims, nowSec = Math.floor(Date.now() / 1000), ttlSec = this.ttlSec): Promise<string> {
    return new SignJWT({ name: claims.name, ...(claims.fp ? { fp: claims.fp } : {}) })
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuer(ISSUER)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + ttlSec)
      .sign(this.key);
  }

  async verify(token: string): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        requiredClaims: ["exp", "sub", "jti"],
      });
      const { sub, name, jti, exp, fp } = payload;
      if (typeof sub !== "string" || typeof name !== "string" || typeof jti !== "string" || typeof exp !== "number")
        return { ok: false, reason: "invalid" };
      if (fp !== undefined && typeof fp !== "string") return { ok: false, reason: "invalid" };
      return { ok: true, claims: { userId: sub, name, jti, exp, ...(fp ? { fp } : {}) } };
    } catch (err) {
      return { ok: false, reason: err instanceof errors.JWTExpired ? "expired" : "invalid" };
    }
  }
}

/**
 * Session tokens: JWTs signed with HS256. Verification accepts HS256 only (the algorithm is
 * pinned, so a token claiming `alg: none` or an asymmetric algorithm is refused) and requires
 * an expiry.
 */
import { errors, jwtVerify, SignJWT } from "jose";

const ALG = "HS256";
const ISSUER = "realmgate";

export interface TokenClaims {
  userId: string;
  name: string;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: "invalid" | "expired" };

export class Tokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSec: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(claims: TokenClaims, nowSec = Math.floor(Date.now() / 1000), ttlSec = this.ttlSec): Promise<string> {
    return new SignJWT({ name: claims.name })
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setSubject(claims.userId)
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
        requiredClaims: ["exp", "sub"],
      });
      if (typeof payload.sub !== "string" || typeof payload.name !== "string") return { ok: false, reason: "invalid" };
      return { ok: true, claims: { userId: payload.sub, name: payload.name } };
    } catch (err) {
      return { ok: false, reason: err instanceof errors.JWTExpired ? "expired" : "invalid" };
    }
  }
}

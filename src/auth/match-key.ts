/**
 * The key that signs match transactions (PROTOCOL §4): `MATCH_SIGNING_KEY`, the same in every
 * process, so any process's signatures check against the one public key at GET /api/matches/key.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type JsonWebKey } from "node:crypto";

export interface MatchSigner {
  /** A short id of the public key: the first 16 hex digits of the SHA-256 of its `x`. */
  kid: string;
  /** The Ed25519 public JWK: `{kty: "OKP", crv: "Ed25519", x}`. */
  jwk: JsonWebKey;
  /** The Ed25519 signature of the UTF-8 bytes of `hash`, base64url. Deterministic. */
  sign(hash: string): string;
}

export function createMatchSigner(pkcs8Pem: string): MatchSigner {
  const privateKey = createPrivateKey(pkcs8Pem);
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: "jwk" });
  const kid = createHash("sha256").update(String(x)).digest("hex").slice(0, 16);
  return {
    kid,
    jwk: { kty, crv, x },
    sign: (hash) => sign(null, Buffer.from(hash, "utf8"), privateKey).toString("base64url"),
  };
}

/**
 * Checks a match's transaction chain (PROTOCOL §4) in Node, for servers, tests and client
 * developers alike: the steps of src/rules/match-verify.ts answered with node:crypto. It imports
 * no server code. A browser runs the same steps over WebCrypto (web/chain.ts).
 *
 * A chain is valid when every transaction:
 * - counts from 1 without gaps and names the same match;
 * - links to the one before it (`prev`, "" for the first);
 * - carries the SHA-256 `hash` of its canonical body, signed (`sig`) with the server's Ed25519 key;
 * - names the player whose turn it was;
 * - and, re-simulated from the mode's initial state with the players in turn order, gives its `stateHash`.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";
import { sha256Hex, type MatchMode, type Tx } from "./match.js";
import { chainSteps, runChainSteps, type ChainCheck } from "./match-verify.js";

export type { ChainCheck };

/** The public key from `GET /api/matches/key` (`{kid, jwk}`), or a KeyObject. */
export function matchPublicKey(key: { jwk: JsonWebKey } | JsonWebKey | KeyObject): KeyObject {
  if ("type" in key && typeof key.type === "string" && key.type === "public") return key as KeyObject;
  const jwk = "jwk" in key ? (key.jwk as JsonWebKey) : (key as JsonWebKey);
  return createPublicKey({ key: jwk, format: "jwk" });
}

/** Whether `sig` (base64url) is the Ed25519 signature of the UTF-8 bytes of `hash`. */
export const verifySignature = (hash: string, sig: string, key: KeyObject): boolean =>
  verify(null, Buffer.from(hash, "utf8"), key, Buffer.from(sig, "base64url"));

/**
 * Verifies `chain` for a match of `mode` whose players, in turn order, are `players` (userIds).
 * Checks every transaction in order and stops at the first failure (the steps in match-verify.ts).
 */
export function verifyChain(
  chain: readonly Tx[],
  options: { mode: MatchMode; players: readonly string[]; key: KeyObject; matchId?: string },
): ChainCheck {
  const { key, ...rest } = options;
  return runChainSteps(chainSteps(chain, rest), { sha256Hex, verify: (hash, sig) => verifySignature(hash, sig, key) });
}

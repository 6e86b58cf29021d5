/**
 * Checks a match's transaction chain (PROTOCOL §4), for servers, tests and client developers
 * alike. It imports no server code: only node:crypto and the pure match rules, so a client can
 * carry it as is.
 *
 * A chain is valid when every transaction:
 * - counts from 1 without gaps and names the same match;
 * - links to the one before it (`prev`, "" for the first);
 * - carries the SHA-256 `hash` of its canonical body, signed (`sig`) with the server's Ed25519 key;
 * - names the player whose turn it was;
 * - and, re-simulated from the mode's initial state with the players in turn order, gives its `stateHash`.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";
import { playTurn, startBoard, stateHash, toAct, txHash, type MatchMode, type Tx } from "./match.js";

export type ChainCheck = { ok: true; stateHash: string } | { ok: false; index: number; reason: string };

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
 * Checks every transaction in order and stops at the first failure.
 */
export function verifyChain(
  chain: readonly Tx[],
  options: { mode: MatchMode; players: readonly string[]; key: KeyObject; matchId?: string },
): ChainCheck {
  let board = startBoard(options.mode, options.players);
  let prev = "";
  let hash = stateHash(board, options.mode);
  const matchId = options.matchId ?? chain[0]?.matchId;
  for (const [i, tx] of chain.entries()) {
    const fail = (reason: string): ChainCheck => ({ ok: false, index: tx.index, reason });
    if (tx.index !== i + 1) return fail(`index ${tx.index} where ${i + 1} was due`);
    if (tx.matchId !== matchId) return fail(`names match ${tx.matchId}, not ${matchId}`);
    if (tx.prev !== prev) return fail("prev does not link to the transaction before");
    if (txHash(tx) !== tx.hash) return fail("hash does not match the transaction");
    if (!verifySignature(tx.hash, tx.sig, options.key)) return fail("bad signature");
    if (tx.player !== toAct(board)) return fail(`player ${tx.player} acted on ${toAct(board) || "nobody"}'s turn`);
    if (tx.timeout && tx.actions.length > 0) return fail("a timeout carries actions");
    const played = playTurn(board, options.mode, tx.actions);
    if (!played.ok) return fail(`the actions do not apply: ${played.message}`);
    board = played.board;
    hash = stateHash(board, options.mode);
    if (hash !== tx.stateHash) return fail("stateHash differs from the re-simulation");
    prev = tx.hash;
  }
  return { ok: true, stateHash: hash };
}

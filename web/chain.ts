/**
 * A match's chain checked in the browser: the server's own steps (src/rules/match-verify.ts, the
 * same code `verifyChain` runs in Node) answered with WebCrypto: SHA-256 with `crypto.subtle.digest`,
 * Ed25519 with `crypto.subtle.verify` against the public key of `GET /api/matches/key`.
 */
import { chainSteps, runChainStepsAsync, type ChainCheck } from "../src/rules/match-verify.js";
import type { MatchMode } from "../src/rules/match-board.js";
import type { Tx } from "../src/domain/match.js";

export type { ChainCheck, Tx, MatchMode };

/** One line of the chain panel: ✓ checked, ✗ the first failure (with why), · not reached. */
export interface TxVerdict {
  index: number;
  player: string;
  actions: number;
  timeout: boolean;
  hash: string;
  mark: "✓" | "✗" | "·";
  reason?: string;
}

export interface ChainReport {
  /** "live": the `tx` messages as they came; "history": `GET /api/matches/:matchId`. */
  source: "live" | "history";
  result: ChainCheck;
  txs: TxVerdict[];
}

const utf8 = new TextEncoder();

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Imports the `jwk` of `GET /api/matches/key` as an Ed25519 verifying key. */
export function importMatchKey(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["verify"]);
}

async function verifySig(key: CryptoKey, hash: string, sig: string): Promise<boolean> {
  try {
    return await crypto.subtle.verify("Ed25519", key, fromBase64Url(sig), utf8.encode(hash));
  } catch {
    return false; // a signature that does not even decode
  }
}

/** Checks `chain` and marks each transaction: ✓ up to the first failure, ✗ there, · after it. */
export async function verifyInBrowser(
  chain: readonly Tx[],
  options: { mode: MatchMode; players: readonly string[]; key: CryptoKey; matchId?: string },
  source: ChainReport["source"],
): Promise<ChainReport> {
  let passed = 0;
  const { key, ...rest } = options;
  const result = await runChainStepsAsync(
    chainSteps(chain, rest),
    { sha256Hex, verify: (hash, sig) => verifySig(key, hash, sig) },
    () => passed++,
  );
  // The checks go in order and stop at the first failure: the transactions before it passed.
  const txs = chain.map((tx, i): TxVerdict => ({
    index: tx.index,
    player: tx.player,
    actions: tx.actions.length,
    timeout: tx.timeout,
    hash: tx.hash,
    ...(i < passed ? { mark: "✓" } : i === passed && !result.ok ? { mark: "✗", reason: result.reason } : { mark: "·" }),
  }));
  return { source, result, txs };
}

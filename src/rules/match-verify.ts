/**
 * The checks of a match's transaction chain (PROTOCOL §4), once, for the server and the browser.
 * The hashing and the signature check are asked of the caller (a generator yields each question),
 * so the same steps run synchronously over node:crypto (src/rules/match-chain.ts) and
 * asynchronously over WebCrypto (web/chain.ts). Imports no Node module and no server code.
 *
 * A chain is valid when every transaction:
 * - counts from 1 without gaps and names the same match;
 * - links to the one before it (`prev`, "" for the first);
 * - carries the SHA-256 `hash` of its canonical body, signed (`sig`) with the server's Ed25519 key;
 * - names the player whose turn it was;
 * - and, re-simulated from the mode's initial state with the players in turn order, gives its `stateHash`.
 */
import type { Tx } from "../domain/match.js";
import { playTurn, startBoard, stateText, toAct, txText, type MatchMode } from "./match-board.js";

export type ChainCheck = { ok: true; stateHash: string } | { ok: false; index: number; reason: string };

export interface ChainOptions {
  mode: MatchMode;
  /** userIds in turn order. */
  players: readonly string[];
  /** Defaults to the first transaction's. */
  matchId?: string;
}

/**
 * What the steps ask of the caller: the lowercase hex SHA-256 of a UTF-8 text (answer: a string),
 * or whether `sig` (base64url) is the Ed25519 signature of the UTF-8 bytes of `hash` (answer: a
 * boolean). `passed` tells that a transaction passed every check (answer: nothing).
 */
export type ChainQuestion =
  { ask: "sha256"; text: string } | { ask: "signature"; hash: string; sig: string } | { ask: "passed"; index: number };

export type ChainSteps = Generator<ChainQuestion, ChainCheck, string | boolean | undefined>;

/** The checks, in order, stopping at the first failure; the caller answers each question. */
export function* chainSteps(chain: readonly Tx[], options: ChainOptions): ChainSteps {
  let board = startBoard(options.mode, options.players);
  let prev = "";
  let hash = (yield { ask: "sha256", text: stateText(board, options.mode) }) as string;
  const matchId = options.matchId ?? chain[0]?.matchId;
  for (const [i, tx] of chain.entries()) {
    const fail = (reason: string): ChainCheck => ({ ok: false, index: tx.index, reason });
    if (tx.index !== i + 1) return fail(`index ${tx.index} where ${i + 1} was due`);
    if (tx.matchId !== matchId) return fail(`names match ${tx.matchId}, not ${matchId}`);
    if (tx.prev !== prev) return fail("prev does not link to the transaction before");
    if ((yield { ask: "sha256", text: txText(tx) }) !== tx.hash) return fail("hash does not match the transaction");
    if (!(yield { ask: "signature", hash: tx.hash, sig: tx.sig })) return fail("bad signature");
    if (tx.player !== toAct(board)) return fail(`player ${tx.player} acted on ${toAct(board) || "nobody"}'s turn`);
    if (tx.timeout && tx.actions.length > 0) return fail("a timeout carries actions");
    const played = playTurn(board, options.mode, tx.actions);
    if (!played.ok) return fail(`the actions do not apply: ${played.message}`);
    board = played.board;
    hash = (yield { ask: "sha256", text: stateText(board, options.mode) }) as string;
    if (hash !== tx.stateHash) return fail("stateHash differs from the re-simulation");
    prev = tx.hash;
    yield { ask: "passed", index: tx.index };
  }
  return { ok: true, stateHash: hash };
}

/** The answers, given synchronously (the server, tests). */
export interface ChainCrypto {
  sha256Hex(text: string): string;
  verify(hash: string, sig: string): boolean;
}

/** The answers, given asynchronously (WebCrypto in a browser). */
export interface AsyncChainCrypto {
  sha256Hex(text: string): Promise<string>;
  verify(hash: string, sig: string): Promise<boolean>;
}

/** Runs the checks with synchronous crypto. */
export function runChainSteps(steps: ChainSteps, crypto: ChainCrypto, passed?: (index: number) => void): ChainCheck {
  let answer: string | boolean | undefined;
  for (;;) {
    const next = steps.next(answer);
    if (next.done) return next.value;
    const q = next.value;
    if (q.ask === "passed") passed?.(q.index);
    answer =
      q.ask === "sha256" ? crypto.sha256Hex(q.text) : q.ask === "signature" ? crypto.verify(q.hash, q.sig) : undefined;
  }
}

/** Runs the checks with asynchronous crypto; `passed` hears of each transaction that checked out. */
export async function runChainStepsAsync(
  steps: ChainSteps,
  crypto: AsyncChainCrypto,
  passed?: (index: number) => void,
): Promise<ChainCheck> {
  let answer: string | boolean | undefined;
  for (;;) {
    const next = steps.next(answer);
    if (next.done) return next.value;
    const q = next.value;
    if (q.ask === "passed") passed?.(q.index);
    answer =
      q.ask === "sha256"
        ? await crypto.sha256Hex(q.text)
        : q.ask === "signature"
          ? await crypto.verify(q.hash, q.sig)
          : undefined;
  }
}

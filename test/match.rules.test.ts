/**
 * The match rules and the chain verifier, called directly: lobby, turns all or nothing, income and
 * score, the end, forfeits, timeouts, rollback, Elo, and a signed chain checked (and tampered with).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { matchModes } from "../src/content/matches.js";
import { RejectCode } from "../src/protocol/codes.js";
import { matchPublicKey, verifyChain, verifySignature } from "../src/rules/match-chain.js";
import { chainSteps, runChainStepsAsync } from "../src/rules/match-verify.js";
import {
  addPlayer,
  applyMatch,
  canonicalJson,
  chainHead,
  createMatch,
  elo,
  rollback,
  score,
  stepMatch,
  takeRating,
  RATED_KEPT,
  turnSession,
  sha256Hex,
  txHash,
  type Action,
  type MatchEvent,
  type MatchSim,
  type Tx,
} from "../src/rules/match.js";

const hamlet = matchModes.find((m) => m.id === "hamlet")!;
const T0 = 1_000_000;

function lobby(n = 2): MatchSim {
  const sim = createMatch(hamlet, "m1");
  for (let i = 1; i <= n; i++) addPlayer(sim, { sessionId: `s${i}`, userId: `u${i}`, name: `P${i}`, rating: 1200 });
  return sim;
}

function started(n = 2): MatchSim {
  const sim = lobby(n);
  for (let i = 1; i <= n; i++) applyMatch(sim, `s${i}`, { type: "ready", ready: true }, T0);
  return sim;
}

const turn = (sim: MatchSim, s: string, actions: Action[], now = T0 + 10) =>
  applyMatch(sim, s, { type: "turn", prev: chainHead(sim), actions }, now);

const txs = (events: MatchEvent[]) => events.flatMap((e) => (e.type === "tx" ? [e.tx] : []));

describe("match rules", () => {
  it("starts when at least minPlayers are seated and all are ready", () => {
    const sim = lobby(2);
    applyMatch(sim, "s1", { type: "ready", ready: true }, T0);
    assert.equal(sim.status, "lobby");
    const { events } = applyMatch(sim, "s2", { type: "ready", ready: true }, T0);
    assert.equal(sim.status, "playing");
    assert.equal(events[0].type, "started");
    assert.equal(sim.board.round, 1);
    assert.equal(turnSession(sim), "s1");
    assert.equal(sim.board.gold.u2, hamlet.startGold);
    assert.equal(sim.turnEndsAt, T0 + hamlet.turnSeconds * 1000);
  });

  it("applies a turn all or nothing, and names the failing action's index", () => {
    const sim = started();
    const bad = turn(sim, "s1", [
      { type: "build", building: "hut", x: 0, y: 0 },
      { type: "build", building: "hut", x: 1, y: 0 },
      { type: "build", building: "hut", x: 0, y: 0 },
    ]);
    assert.equal(bad.verdict.ok, false);
    assert.ok(!bad.verdict.ok && bad.verdict.code === RejectCode.TurnInvalid && /action 2/.test(bad.verdict.message));
    assert.deepEqual(sim.board.tiles, {});
    assert.equal(sim.board.gold.u1, hamlet.startGold);
    assert.equal(sim.chain.length, 0);

    const ok = turn(sim, "s1", [{ type: "build", building: "farm", x: 2, y: 3 }]);
    assert.ok(ok.verdict.ok);
    const [tx] = txs(ok.events);
    assert.deepEqual(tx.actions, [{ type: "build", building: "farm", x: 2, y: 3 }]);
    assert.equal(tx.index, 1);
    assert.equal(tx.prev, "");
    assert.equal(tx.player, "u1");
    assert.equal(chainHead(sim), tx.hash);
    assert.equal(turnSession(sim), "s2");
    assert.equal(sim.board.gold.u1, hamlet.startGold - 8);
  });

  it("refuses out of turn, a stale prev, a spectator, and turns outside play", () => {
    const sim = lobby();
    assert.equal((turn(sim, "s1", []).verdict as { code: string }).code, RejectCode.MatchNotPlaying);
    applyMatch(sim, "s1", { type: "ready", ready: true }, T0);
    applyMatch(sim, "s2", { type: "ready", ready: true }, T0);
    assert.equal((turn(sim, "s2", []).verdict as { code: string }).code, RejectCode.TurnNotYours);
    turn(sim, "s1", []);
    const stale = applyMatch(sim, "s2", { type: "turn", prev: "", actions: [] }, T0);
    assert.equal((stale.verdict as { code: string }).code, RejectCode.TurnStale);
    sim.spectators.add("watcher");
    const spectator = applyMatch(sim, "watcher", { type: "forfeit" }, T0);
    assert.equal((spectator.verdict as { code: string }).code, RejectCode.MatchSpectator);
  });

  it("refuses demolishing another's building, off-board, unknown buildings and overspending", () => {
    const sim = started();
    turn(sim, "s1", [{ type: "build", building: "hut", x: 0, y: 0 }]);
    const code = (r: ReturnType<typeof turn>) => (r.verdict.ok ? "ok" : r.verdict.code);
    assert.equal(code(turn(sim, "s2", [{ type: "demolish", x: 0, y: 0 }])), RejectCode.TurnInvalid);
    assert.equal(code(turn(sim, "s2", [{ type: "build", building: "hut", x: 10, y: 0 }])), RejectCode.TurnInvalid);
    assert.equal(code(turn(sim, "s2", [{ type: "build", building: "castle", x: 1, y: 0 }])), RejectCode.TurnInvalid);
    assert.equal(code(turn(sim, "s2", [{ type: "build", building: "keep", x: 1, y: 0 }])), RejectCode.TurnInvalid);
    assert.equal(code(turn(sim, "s2", [])), "ok");
    assert.equal(code(turn(sim, "s1", [{ type: "demolish", x: 0, y: 0 }])), "ok");
    assert.deepEqual(sim.board.tiles, {});
  });

  it("pays income after the last player of a round, keeps the score current, and ends after the last round", () => {
    const sim = started();
    turn(sim, "s1", [{ type: "build", building: "farm", x: 0, y: 0 }]);
    assert.equal(score(sim, "u1"), 1 + Math.floor(12 / 10));
    turn(sim, "s2", [{ type: "build", building: "chapel", x: 1, y: 1 }]);
    assert.equal(sim.board.round, 2);
    assert.equal(sim.board.gold.u1, 12 + 3);
    assert.equal(score(sim, "u2"), 8);
    let last: MatchEvent[] = [];
    while (sim.status === "playing") last = turn(sim, turnSession(sim), []).events;
    assert.equal(sim.board.round, hamlet.rounds);
    assert.equal(turnSession(sim), "");
    const finished = last.find((e) => e.type === "finished");
    assert.ok(finished && finished.type === "finished");
    assert.equal(sim.board.gold.u1, 12 + 3 * hamlet.rounds);
    assert.equal(finished.winner, "u2");
    assert.deepEqual(
      finished.ratings.map((r) => [r.userId, r.before, r.after]),
      [
        ["u1", 1200, 1184],
        ["u2", 1200, 1216],
      ],
    );
  });

  it("passes a turn that times out on the room clock", () => {
    const sim = started();
    assert.deepEqual(stepMatch(sim, sim.turnEndsAt - 1), []);
    const [tx] = txs(stepMatch(sim, sim.turnEndsAt));
    assert.equal(tx.timeout, true);
    assert.deepEqual(tx.actions, []);
    assert.equal(turnSession(sim), "s2");
  });

  it("a forfeit passes the player's turns at once and ends the match when one is left", () => {
    const sim = started(3);
    turn(sim, "s1", []);
    const { events } = applyMatch(sim, "s2", { type: "forfeit" }, T0 + 20);
    assert.equal(txs(events)[0].timeout, true);
    assert.equal(turnSession(sim), "s3");
    turn(sim, "s3", []);
    turn(sim, "s1", []);
    // s2's turn passes by itself, so s3 is due.
    assert.equal(turnSession(sim), "s3");
    const end = applyMatch(sim, "s1", { type: "forfeit" }, T0 + 30).events;
    const finished = end.find((e) => e.type === "finished");
    assert.ok(finished && finished.type === "finished" && finished.winner === "u3");
    assert.equal(sim.status, "finished");
  });

  it("aborts a match that loses players before its first turn", () => {
    const sim = started(2);
    const events = applyMatch(sim, "s2", { type: "forfeit" }, T0).events;
    assert.equal(sim.status, "aborted");
    assert.equal(events[0].type, "aborted");
  });

  it("rolls back to the first `to` transactions and goes on from the turn due then", () => {
    const sim = started();
    turn(sim, "s1", [{ type: "build", building: "hut", x: 0, y: 0 }]);
    const head1 = chainHead(sim);
    turn(sim, "s2", [{ type: "build", building: "hut", x: 1, y: 0 }]);
    turn(sim, "s1", [{ type: "build", building: "hut", x: 2, y: 0 }]);
    const result = rollback(sim, 1, T0 + 99);
    assert.ok(result.ok);
    assert.equal(result.cut.length, 2);
    assert.equal(chainHead(sim), head1);
    assert.equal(turnSession(sim), "s2");
    assert.deepEqual(Object.keys(sim.board.tiles), ["0,0"]);
    assert.equal(sim.board.gold.u2, hamlet.startGold);
  });

  it("Elo is pairwise with K = 32", () => {
    const after = elo([
      { id: "a", rating: 1200, rank: 3 },
      { id: "b", rating: 1200, rank: 3 },
      { id: "c", rating: 1400, rank: 1 },
    ]);
    assert.equal(after.get("a"), 1200 + Math.round(32 * (1 - 1 / (1 + 10 ** 0.5))));
    assert.equal(after.get("c"), 1400 - Math.round(2 * 32 * (1 / (1 + 10 ** -0.5))));
  });

  it("a profile takes a match's rating once, whatever order and however often deliveries come", () => {
    const profile: { rating: number; ratedMatches?: string[] } = { rating: 1200 };
    assert.equal(takeRating(profile, "m1", 1216), true);
    assert.equal(takeRating(profile, "m2", 1230), true);
    // m1 delivered again (a retry, a second copy) after m2: the rating stays m2's.
    assert.equal(takeRating(profile, "m1", 1216), false);
    assert.deepEqual(profile, { rating: 1230, ratedMatches: ["m1", "m2"] });
    for (let i = 0; i < RATED_KEPT + 5; i++) takeRating(profile, `x${i}`, 1000 + i);
    assert.equal(profile.ratedMatches?.length, RATED_KEPT);
    assert.equal(profile.ratedMatches?.at(-1), `x${RATED_KEPT + 4}`);
  });

  it("canonical JSON sorts keys, drops whitespace and refuses non-integers", () => {
    assert.equal(canonicalJson({ b: [1, { d: "x", c: true }], a: null }), '{"a":null,"b":[1,{"c":true,"d":"x"}]}');
    assert.throws(() => canonicalJson({ a: 1.5 }));
  });
});

describe("match chain verifier", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const signed = (sim: MatchSim): Tx[] =>
    sim.chain.map((tx) => ({ ...tx, sig: sign(null, Buffer.from(tx.hash), privateKey).toString("base64url") }));

  function played(): MatchSim {
    const sim = started();
    turn(sim, "s1", [{ type: "build", building: "farm", x: 0, y: 0 }]);
    turn(sim, "s2", [{ type: "build", building: "hut", x: 5, y: 5 }]);
    stepMatch(sim, sim.turnEndsAt);
    turn(sim, "s2", [{ type: "demolish", x: 5, y: 5 }]);
    return sim;
  }
  const options = { mode: hamlet, players: ["u1", "u2"], key: matchPublicKey(publicKey.export({ format: "jwk" })) };

  it("accepts a chain as the server made it", () => {
    const sim = played();
    const check = verifyChain(signed(sim), options);
    assert.deepEqual(check, { ok: true, stateHash: sim.chain.at(-1)!.stateHash });
  });

  it("rejects tampered actions, a forged signature, a broken link and a wrong player", () => {
    const chain = signed(played());
    const tampered = structuredClone(chain);
    (tampered[1].actions[0] as { x: number }).x = 6;
    assert.deepEqual(verifyChain(tampered, options), {
      ok: false,
      index: 2,
      reason: "hash does not match the transaction",
    });

    const other = generateKeyPairSync("ed25519").publicKey;
    assert.equal((verifyChain(chain, { ...options, key: other }) as { reason: string }).reason, "bad signature");

    assert.equal((verifyChain([chain[0], chain[2]], options) as { index: number }).index, 3);
    assert.equal(verifyChain(chain, { ...options, players: ["u2", "u1"] }).ok, false);
  });

  it("runs the same steps with asynchronous crypto (as a browser does), with the same verdicts", async () => {
    const chain = signed(played());
    const tampered = structuredClone(chain);
    (tampered[1].actions[0] as { x: number }).x = 6;
    const { key, ...rest } = options;
    const asyncCrypto = {
      sha256Hex: (text: string) => Promise.resolve(sha256Hex(text)),
      verify: (hash: string, sig: string) => Promise.resolve(verifySignature(hash, sig, key)),
    };
    for (const c of [chain, tampered, [chain[0], chain[2]]]) {
      const passed: number[] = [];
      const check = await runChainStepsAsync(chainSteps(c, rest), asyncCrypto, (i) => passed.push(i));
      assert.deepEqual(check, verifyChain(c, options));
      // Every transaction before the first failure is reported as passed, in order, and none after.
      const upTo = check.ok ? c.length : c.findIndex((tx) => tx.index === check.index);
      assert.deepEqual(
        passed,
        c.slice(0, upTo).map((tx) => tx.index),
      );
    }
  });

  it("rejects a re-signed transaction whose stateHash the re-simulation does not give", () => {
    const sim = played();
    // A forged state, hashed again so that only the re-simulation can catch it.
    const forged = { ...sim.chain[0], stateHash: "0".repeat(64) };
    sim.chain[0] = { ...forged, hash: txHash(forged) };
    sim.chain[1] = { ...sim.chain[1], prev: sim.chain[0].hash };
    const check = verifyChain(signed(sim), options);
    assert.deepEqual(check, { ok: false, index: 1, reason: "stateHash differs from the re-simulation" });
  });
});

/**
 * The match room over real SDK clients: a whole match with a spectator, the refusals, a timeout
 * pass, a forfeit, a dropped player who comes back, the chain from history verified with the
 * public key and re-simulated, ratings, the rollback, and history across a restart.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { join as joinPath } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { matchMaker } from "@colyseus/core";
import type { KindRoom } from "../src/rooms/KindRoom.js";
import type { Room } from "@colyseus/sdk";
import { matchModes } from "../src/content/matches.js";
import { policy } from "../src/content/policy.js";
import type { MatchMode } from "../src/rules/match.js";
import { matchPublicKey, verifyChain } from "../src/rules/match-chain.js";
import type { MatchSummary, StoredMatch, MatchRecord, Tx } from "../src/domain/match.js";
import type { RatingChange } from "../src/rules/match.js";
import type { MatchState } from "../src/schema/MatchState.js";
import type { JsonWebKey } from "node:crypto";
import type { Reject } from "../client/index.js";
import { Bot, eventually, guest, http, isAt, nextMessage, sdk, startApp, until, type TestApp } from "./helpers.js";
import type { Profile } from "../src/domain/profile.js";

/** Test modes: a short match with a long timer, and one whose turns time out at once. */
const quick: MatchMode = { ...matchModes[0], id: "quick", rounds: 2, turnSeconds: 600 };
const blitz: MatchMode = { ...matchModes[0], id: "blitz", rounds: 2, turnSeconds: 1 };

/** The match room's welcome. */
interface MatchWelcome {
  matchId: string;
  mode: string;
  spectator: boolean;
  maxActions: number;
  maxSpectators: number;
}
/** `finished {winner, scores, ratings}`. */
interface Finished {
  winner: string | null;
  scores: unknown;
  ratings: RatingChange[];
}
/** GET /api/matches/:matchId: the record, its chain and what a rollback cut off. */
type History = MatchRecord & Pick<StoredMatch, "chain" | "rolledBack">;
/** GET /api/matches/key. */
type PublicKey = { kid: string; jwk: JsonWebKey };

/** Drops the socket under an SDK room, as a network failure would. */
const dropSocket = (room: Room) =>
  (room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();

interface Seat {
  room: Room<unknown, MatchState>;
  user: { token: string; userId: string; name: string };
  welcome: MatchWelcome;
  txs: Tx[];
  seq: number;
}

let codes = 0;

describe("match room", function () {
  this.timeout(60_000);
  let app: TestApp;
  before(async () => {
    app = await startApp(
      { ADMIN_USER: "admin", ADMIN_PASSWORD: "a-long-admin-password" },
      {
        matchModes: [...matchModes, quick, blitz],
      },
    );
  });
  after(async () => app.stop());

  async function join(options: Record<string, unknown>, user?: Seat["user"]): Promise<Seat> {
    user ??= await guest(app, `M${Math.floor(Math.random() * 1e6)}`);
    const room = await sdk(app, user.token).joinOrCreate<MatchState>("match", options);
    const seat: Seat = { room, user, welcome: await nextMessage<MatchWelcome>(room, "welcome"), txs: [], seq: 0 };
    room.onMessage("tx", (tx: Tx) => seat.txs.push(tx));
    for (const type of ["reject", "finished", "rollback", "chain", "aborted", "pong"])
      room.onMessage(type, () => undefined);
    return seat;
  }

  const send = (s: Seat, type: string, payload: Record<string, unknown> = {}) => {
    const seq = ++s.seq;
    s.room.send(type, { seq, ...payload });
    return seq;
  };

  const rejected = async (s: Seat, type: string, payload: Record<string, unknown>) => {
    const seq = s.seq + 1;
    const reject = nextMessage<Reject>(s.room, "reject", 5000, (r) => r.seq === seq);
    send(s, type, payload);
    return reject;
  };

  /** Resolves once `s` has received the transaction `index`. */
  const received = async (s: Seat, index: number) => {
    while (!s.txs.some((t) => t.index === index)) await nextMessage<Tx>(s.room, "tx");
    return s.txs.find((t) => t.index === index)!;
  };

  /**
   * Plays one turn on the head the client knows (its last `tx`), as a client would, and resolves
   * with the transaction once every seat of the match has received it.
   */
  const play = async (s: Seat, actions: unknown[], everyone: Seat[]) => {
    const last = s.txs.at(-1);
    send(s, "turn", { prev: last?.hash ?? "", actions });
    const index = (last?.index ?? 0) + 1;
    for (const other of everyone) await received(other, index);
    return received(s, index);
  };

  /** Two players (and optionally a spectator) in a private match of `mode`, started. */
  async function match(mode: string, spectate = false) {
    const code = `c${++codes}-${Math.random()}`;
    const a = await join({ mode, code });
    const b = await join({ mode, code });
    const watcher = spectate ? await join({ mode, code, spectate: true }) : undefined;
    assert.equal(a.room.roomId, b.room.roomId);
    send(a, "ready", { ready: true });
    send(b, "ready", { ready: true });
    await until(a.room, () => a.room.state.status === "playing", 5000, "playing");
    await until(b.room, () => b.room.state.status === "playing", 5000, "playing for b");
    return { a, b, watcher, code };
  }

  const key = async () => matchPublicKey((await http<PublicKey>(app, "GET", "/api/matches/key")).body);

  it("serves the modes and the public key", async () => {
    const modes = (await http<MatchMode[]>(app, "GET", "/api/match-modes")).body;
    const hamlet = modes.find((m) => m.id === "hamlet")!;
    assert.ok(hamlet.buildings.length >= 4);
    assert.deepEqual(hamlet.board, { width: 10, height: 10 });
    assert.equal((await http<MatchMode>(app, "GET", "/api/match-modes/hamlet")).body.startGold, hamlet.startGold);
    const { body } = await http<PublicKey>(app, "GET", "/api/matches/key");
    assert.equal(body.jwk.kty, "OKP");
    assert.equal(body.jwk.crv, "Ed25519");
    assert.equal(typeof body.kid, "string");
  });

  it("seats players who give no code in one public lobby of their mode", async () => {
    const a = await join({ mode: "blitz" });
    const b = await join({ mode: "blitz" });
    try {
      assert.equal(b.room.roomId, a.room.roomId);
      assert.equal(a.welcome.mode, "blitz");
      await until(a.room, () => a.room.state.players?.size === 2, 5000, "both seated");
    } finally {
      await Promise.all([a.room.leave(), b.room.leave()]);
    }
  });

  it("two players and a spectator play a whole match; the chain from history verifies and re-simulates", async () => {
    const { a, b, watcher } = await match("quick", true);
    const w = watcher!;
    assert.equal(w.welcome.spectator, true);
    await until(w.room, () => w.room.state.spectators === 1 && w.room.state.players.size === 2);
    assert.equal(w.room.state.players.has(w.room.sessionId), false);
    assert.equal(a.room.state.turn, a.room.sessionId);

    const refusal = await rejected(w, "turn", { prev: w.room.state.chainHead, actions: [] });
    assert.equal(refusal.code, "match/spectator");

    const finished = nextMessage<Finished>(w.room, "finished", 10_000);
    const all = [a, b, w];
    await play(a, [{ type: "build", building: "farm", x: 1, y: 1 }], all);
    await play(b, [{ type: "build", building: "chapel", x: 2, y: 2 }], all);
    await play(a, [{ type: "build", building: "hut", x: 1, y: 2, extra: "dropped" }], all);
    await play(b, [], all);
    const result = await finished;
    assert.equal(result.winner, b.user.userId);
    assert.deepEqual(
      result.ratings.map((r) => [r.userId, r.before, r.after]),
      [
        [a.user.userId, 1200, 1184],
        [b.user.userId, 1200, 1216],
      ],
    );
    await until(w.room, () => w.room.state.status === "finished" && w.room.state.turn === "");
    assert.equal(w.txs.length, 4);
    assert.deepEqual(w.txs, a.txs);
    assert.deepEqual(w.txs[2].actions, [{ type: "build", building: "hut", x: 1, y: 2 }]);

    const history = (await http<History>(app, "GET", `/api/matches/${a.welcome.matchId}`)).body;
    assert.equal(history.status, "finished");
    assert.equal(history.winner, b.user.userId);
    assert.deepEqual(
      history.players.map((p) => p.userId),
      [a.user.userId, b.user.userId],
    );
    assert.deepEqual(history.chain, w.txs, "the history holds exactly the tx messages sent");
    const check = verifyChain(history.chain, {
      mode: quick,
      players: history.players.map((p) => p.userId),
      key: await key(),
    });
    assert.deepEqual(check, { ok: true, stateHash: w.txs.at(-1)!.stateHash });

    const tampered = structuredClone(history.chain);
    (tampered[0].actions[0] as { building: string }).building = "keep";
    assert.equal(
      verifyChain(tampered, { mode: quick, players: [a.user.userId, b.user.userId], key: await key() }).ok,
      false,
    );

    const me = (await http<{ rating: number }>(app, "GET", "/api/me", undefined, b.user.token)).body;
    assert.equal(me.rating, 1216);
    const mine = (await http<MatchSummary[]>(app, "GET", "/api/me/matches?limit=5", undefined, a.user.token)).body;
    assert.deepEqual(mine[0], {
      matchId: a.welcome.matchId,
      mode: "quick",
      status: "finished",
      score: history.players[0].score,
      rank: 2,
      endedAt: history.endedAt,
    });
    await Promise.all([a, b, w].map((s) => s.room.leave()));
  });

  it("refuses a player joining a match under way, out-of-turn and stale turns, and an invalid action at index 2", async () => {
    const { a, b, code } = await match("quick");
    await assert.rejects(join({ mode: "quick", code }), /match\/started/);
    assert.equal((await rejected(b, "turn", { prev: "", actions: [] })).code, "turn/not_yours");
    assert.equal((await rejected(a, "turn", { prev: "f".repeat(64), actions: [] })).code, "turn/stale");
    const invalid = await rejected(a, "turn", {
      prev: "",
      actions: [
        { type: "build", building: "hut", x: 0, y: 0 },
        { type: "build", building: "hut", x: 1, y: 0 },
        { type: "demolish", x: 5, y: 5 },
      ],
    });
    assert.equal(invalid.code, "turn/invalid");
    assert.match(invalid.message, /action 2/);
    // Nothing of the refused turn was applied (read on the server: a refusal sends no patch).
    const server = app.colyseus.getRoomById(a.room.roomId) as unknown as { onBeforePatch(): void; state: MatchState };
    server.onBeforePatch();
    assert.equal(server.state.chainLength, 0);
    assert.equal(server.state.tiles.size, 0);
    assert.equal(server.state.players.get(a.room.sessionId)!.gold, quick.startGold);
    assert.equal((await rejected(a, "ready", { ready: false })).code, "match/not_playing");
    await Promise.all([a, b].map((s) => s.room.leave()));
  });

  it("passes a turn that times out on the room clock", async () => {
    const { a, b } = await match("blitz");
    const tx = await nextMessage<Tx>(b.room, "tx", 10_000);
    assert.equal(tx.timeout, true);
    assert.deepEqual(tx.actions, []);
    assert.equal(tx.player, a.user.userId);
    await Promise.all([a, b].map((s) => s.room.leave()));
  });

  it("a forfeit ends a two-player match, the other player winning", async () => {
    const { a, b } = await match("quick");
    await play(a, [], [a, b]);
    const finished = nextMessage<Finished>(a.room, "finished");
    send(b, "forfeit");
    const result = await finished;
    assert.equal(result.winner, a.user.userId);
    await Promise.all([a, b].map((s) => s.room.leave()));
  });

  it("a dropped player keeps its seat and plays on when it comes back within the window", async () => {
    const { a, b } = await match("quick");
    a.room.reconnection.minUptime = 0;
    const back = new Promise<void>((resolve) => a.room.onReconnect(() => resolve()));
    dropSocket(a.room);
    await until(b.room, () => b.room.state.players.get(a.room.sessionId)?.connected === false, 5000, "seen dropped");
    await back;
    await until(b.room, () => b.room.state.players.get(a.room.sessionId)?.connected === true, 5000, "seen back");
    const tx = await play(a, [{ type: "build", building: "hut", x: 3, y: 3 }], [a, b]);
    assert.equal(tx.player, a.user.userId);
    await Promise.all([a, b].map((s) => s.room.leave()));
  });

  it("rolls back to `to` on the admin's word; the cut transactions stay in history, apart", async () => {
    const { a, b, watcher } = await match("quick", true);
    const all = [a, b, watcher!];
    const head1 = (await play(a, [{ type: "build", building: "hut", x: 0, y: 0 }], all)).hash;
    await play(b, [{ type: "build", building: "hut", x: 1, y: 0 }], all);
    await play(a, [{ type: "build", building: "hut", x: 2, y: 0 }], all);
    const told = nextMessage<{ to: number; chainHead: string }>(watcher!.room, "rollback");
    const auth = "Basic " + Buffer.from("admin:a-long-admin-password").toString("base64");
    const res = await fetch(`${app.url}/api/matches/${a.welcome.matchId}/rollback`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: auth },
      body: JSON.stringify({ to: 1 }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await told, { to: 1, chainHead: head1 });
    await until(b.room, () => b.room.state.chainLength === 1 && b.room.state.turn === b.room.sessionId);
    // A client drops what a rollback cut from the chain it holds.
    for (const s of all) s.txs.splice(1);
    const tx = await play(b, [{ type: "build", building: "farm", x: 4, y: 4 }], all);
    assert.equal(tx.index, 2);
    assert.equal(tx.prev, head1);
    const history = (await http<History>(app, "GET", `/api/matches/${a.welcome.matchId}`)).body;
    assert.deepEqual(
      history.chain.map((t) => t.hash),
      [head1, tx.hash],
    );
    assert.deepEqual(
      history.rolledBack.map((t) => t.index),
      [2, 3],
    );
    const check = verifyChain(history.chain, {
      mode: quick,
      players: [a.user.userId, b.user.userId],
      key: await key(),
    });
    assert.ok(check.ok);
    const unauthorized = await http<unknown>(app, "POST", `/api/matches/${a.welcome.matchId}/rollback`, { to: 0 });
    assert.equal(unauthorized.status, 401);
    await Promise.all([a, b, watcher!].map((s) => s.room.leave()));
  });

  it("writes a transaction played while the store is locked once the lock is gone", async () => {
    const { a, b } = await match("quick");
    const locker = new DatabaseSync(joinPath(app.dataDir, "realmgate.db"));
    locker.exec("BEGIN EXCLUSIVE");
    let tx: Tx;
    try {
      tx = await play(a, [{ type: "build", building: "farm", x: 1, y: 1 }], [a, b]);
      // The health probe writes after the transaction's write in the store's queue: once it has
      // failed, so has the transaction's first attempt.
      await once(app.services.storeHealth, "down");
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    await (matchMaker.getLocalRoomById(a.room.roomId) as KindRoom).settled();
    const history = (await http<History>(app, "GET", `/api/matches/${a.welcome.matchId}`)).body;
    assert.deepEqual(history.chain, [tx]);
  });

  it("answers `chain {after}` with the transactions a client missed", async () => {
    const { a, b } = await match("quick");
    await play(a, [], [a, b]);
    await play(b, [], [a, b]);
    const answer = nextMessage<{ txs: Tx[] }>(a.room, "chain");
    a.room.send("chain", { after: 1 }); // as the contract writes it, without seq
    const { txs } = await answer;
    assert.deepEqual(txs, [a.txs[1]]);
    const whole = nextMessage<{ txs: Tx[] }>(b.room, "chain");
    send(b, "chain");
    assert.deepEqual((await whole).txs, a.txs);
    await Promise.all([a, b].map((s) => s.room.leave()));
  });
});

describe("match history and the reconnection window", function () {
  this.timeout(60_000);

  async function seat(app: TestApp, code: string, user?: { token: string; userId: string; name: string }) {
    user ??= await guest(app);
    const room = await sdk(app, user.token).joinOrCreate<MatchState>("match", { mode: "quick", code });
    for (const type of ["welcome", "reject", "tx", "finished", "chain", "rollback", "aborted"])
      room.onMessage(type, () => undefined);
    return { room, user, welcome: await nextMessage<MatchWelcome>(room, "welcome") };
  }

  async function started(app: TestApp) {
    const code = `r-${Math.random()}`;
    const a = await seat(app, code);
    const b = await seat(app, code);
    a.room.send("ready", { seq: 1, ready: true });
    b.room.send("ready", { seq: 1, ready: true });
    await until(a.room, () => a.room.state.status === "playing");
    return { a, b };
  }

  /** Drops `s` for good: no reconnection, so its seat is held for the window and then given up. */
  const drop = (s: { room: Room }) => {
    s.room.reconnection.enabled = false;
    dropSocket(s.room);
  };

  it("a player gone past the window forfeits; before the first turn, the match is aborted", async () => {
    const app = await startApp({ RECONNECT_SECONDS: "1" }, { matchModes: [quick] });
    try {
      const early = await started(app);
      const aborted = nextMessage<{ at: number }>(early.b.room, "aborted", 10_000);
      drop(early.a);
      await until(early.b.room, () => early.b.room.state.players.get(early.a.room.sessionId)?.connected === false);
      assert.equal(typeof (await aborted).at, "number");
      await until(early.b.room, () => early.b.room.state.status === "aborted");

      const { a, b } = await started(app);
      const tx = nextMessage<Tx>(b.room, "tx");
      a.room.send("turn", { seq: 2, prev: "", actions: [] });
      await tx;
      const finished = nextMessage<Finished>(b.room, "finished", 10_000);
      drop(a);
      await until(b.room, () => b.room.state.players.get(a.room.sessionId)?.connected === false, 5000, "dropped");
      // With one player left once the window has passed, the match ends.
      const result = await finished;
      assert.equal(result.winner, b.user.userId);
      await until(b.room, () => b.room.state.status === "finished");
    } finally {
      await app.stop();
    }
  });

  it("keeps the history and the ratings across a restart", async () => {
    const first = await startApp({}, { matchModes: [quick] });
    const { a, b } = await started(first);
    const matchId: string = a.welcome.matchId;
    const finished = nextMessage<Finished>(a.room, "finished");
    let head = "";
    for (let i = 0; i < quick.rounds * 2; i++) {
      const s = i % 2 === 0 ? a : b;
      const tx = nextMessage<Tx>(s.room, "tx", 5000, (t) => t.index === i + 1);
      s.room.send("turn", {
        seq: i + 2,
        prev: head,
        actions: i === 1 ? [{ type: "build", building: "chapel", x: 0, y: 0 }] : [],
      });
      // The next player builds on the head it got; both receive every tx.
      head = (await tx).hash;
    }
    const result = await finished;
    await Promise.all([a.room.leave(), b.room.leave()]);
    const before = (await http<History>(first, "GET", `/api/matches/${matchId}`)).body;
    await first.stop({ keepData: true });

    const second = await startApp({ DATA_DIR: first.dataDir }, { matchModes: [quick] });
    try {
      const after = (await http<History>(second, "GET", `/api/matches/${matchId}`)).body;
      assert.deepEqual(after, before);
      assert.equal(after.chain.length, quick.rounds * 2);
      const key = matchPublicKey((await http<PublicKey>(second, "GET", "/api/matches/key")).body);
      assert.ok(verifyChain(after.chain, { mode: quick, players: [a.user.userId, b.user.userId], key }).ok);
      const rating = result.ratings.find((r) => r.userId === b.user.userId)!.after;
      assert.ok(rating > 1200);
      assert.equal(
        (await http<{ rating: number }>(second, "GET", "/api/me", undefined, b.user.token)).body.rating,
        rating,
      );
      const mine = (await http<MatchSummary[]>(second, "GET", "/api/me/matches", undefined, b.user.token)).body;
      assert.deepEqual(
        mine.map((m) => [m.matchId, m.status, m.rank]),
        [[matchId, "finished", 1]],
      );
    } finally {
      await second.stop();
    }
  });
});

describe("ratings of players who left", function () {
  this.timeout(60_000);
  /** A duel whose turns wait long: only a forfeit ends it early. */
  const duel: MatchMode = { ...matchModes.find((m) => m.id === "duel")!, id: "duel-slow", turnSeconds: 600 };
  type User = { token: string; userId: string; name: string };

  async function seat(app: TestApp, mode: string, code: string, user?: User) {
    user ??= await guest(app);
    const room = await sdk(app, user.token).joinOrCreate<MatchState>("match", { mode, code });
    for (const type of ["welcome", "reject", "tx", "finished", "chain", "rollback", "aborted"])
      room.onMessage(type, () => undefined);
    return { room, user, welcome: await nextMessage<MatchWelcome>(room, "welcome") };
  }

  /** `n` players in a private match of `mode`, started, the first turn played (so a forfeit is rated). */
  async function underWay(app: TestApp, mode: string, n: number) {
    const code = `left-${Math.random()}`;
    const seats: Awaited<ReturnType<typeof seat>>[] = [];
    for (let i = 0; i < n; i++) seats.push(await seat(app, mode, code));
    const first = nextMessage<Tx>(seats[n - 1].room, "tx");
    for (const s of seats) s.room.send("ready", { seq: 1, ready: true });
    await until(seats[0].room, () => seats[0].room.state.status === "playing");
    seats[0].room.send("turn", { seq: 2, prev: "", actions: [] });
    await first;
    return seats;
  }

  /** Resolves once every write the match room queued so far (its record, the ratings) has landed. */
  const settled = (roomId: string) => (matchMaker.getLocalRoomById(roomId) as KindRoom).settled();

  /** The stored rating of each rated player. */
  const storedRatings = async (app: TestApp, ratings: RatingChange[]) =>
    Promise.all(ratings.map(async (r) => [r.userId, (await app.services.store.loadProfile(r.userId))?.rating]));

  /** Resolves with the stored profile of `userId` once a save of it satisfies `check`: waits on `saved`. */
  async function storedWhen(app: TestApp, userId: string, check: (p: Profile) => boolean) {
    for (;;) {
      const saved = savedOf(app, userId);
      const stored = await app.services.store.loadProfile(userId);
      if (stored && check(stored)) return stored;
      await saved;
    }
  }

  /** Resolves at the next write of `userId`'s profile (and rejects after `ms`). */
  const savedOf = (app: TestApp, userId: string, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        app.services.profiles.off("saved", saved);
        reject(new Error(`no write of ${userId}'s profile within ${ms} ms`));
      }, ms);
      const saved = (id: string) => {
        if (id !== userId) return;
        clearTimeout(timer);
        app.services.profiles.off("saved", saved);
        resolve();
      };
      app.services.profiles.on("saved", saved);
    });

  let app: TestApp;
  before(async () => {
    app = await startApp({}, { matchModes: [...matchModes, duel, quick] });
  });
  after(async () => app.stop());

  it("a player who leaves a duel forfeits, and both stored ratings are the announced ones", async () => {
    const [a, b] = await underWay(app, duel.id, 2);
    const finished = nextMessage<Finished>(b.room, "finished");
    await a.room.leave();
    const result = await finished;
    assert.equal(result.winner, b.user.userId);
    const after = Object.fromEntries(result.ratings.map((r) => [r.userId, r.after]));
    assert.ok(after[a.user.userId] < 1200 && after[b.user.userId] > 1200, JSON.stringify(result.ratings));
    await settled(b.room.roomId);
    assert.deepEqual(
      await storedRatings(app, result.ratings),
      result.ratings.map((r) => [r.userId, r.after]),
    );
    const leaver = await app.services.store.loadProfile(a.user.userId);
    assert.deepEqual(leaver?.ratedMatches, [a.welcome.matchId]);
    // A forfeit counts as a match played (PROTOCOL §7), for the one who left as for the one seated.
    assert.deepEqual([leaver?.stats?.matchesPlayed, leaver?.stats?.matchesWon], [1, 0]);
    assert.ok(
      leaver?.achievements?.some((u) => u.id === "builder"),
      "builder unlocks for the leaver too",
    );
    await eventually(
      async () => (await app.services.store.loadProfile(b.user.userId))?.stats?.matchesWon === 1,
      5000,
      "the winner's stats",
    );
    assert.equal((await app.services.store.loadProfile(b.user.userId))?.stats?.matchesPlayed, 1);
    // Each rating was kept in the store until written, and is no more.
    const kept = await app.services.store.pendingChanges(Date.now() + 1, 100);
    assert.deepEqual(
      kept.filter((p) => p.id.startsWith(`${a.welcome.matchId}:`)),
      [],
    );
    await b.room.leave();
  });

  it("a rating kept pending by a process that died before writing it is delivered by a sweep, once", async () => {
    const user = await guest(app);
    const matchId = `crashed-${Math.random()}`;
    const finished = { winner: "someone-else", scores: [{ userId: user.userId, name: user.name, score: 3 }] };
    // What a match's process stores as it announces `finished`, had it died right after.
    await app.services.store.savePendingChange({
      id: `${matchId}:${user.userId}`,
      userId: user.userId,
      name: user.name,
      change: {
        type: "rating",
        matchId,
        rating: 1187,
        played: { room: "match", label: "duel", type: "finished", data: finished },
      },
      at: Date.now(),
    });
    const { sweepAfterMs } = policy.profileChanges;
    assert.equal(await app.services.profileChanges.sweep(Date.now()), 0, "not yet due: its delivery may be under way");
    assert.equal(await app.services.profileChanges.sweep(Date.now() + sweepAfterMs + 1), 1);
    const stored = await app.services.store.loadProfile(user.userId);
    assert.deepEqual([stored?.rating, stored?.ratedMatches, stored?.stats?.matchesPlayed], [1187, [matchId], 1]);
    assert.ok(stored?.achievements?.some((u) => u.id === "builder"));
    // Delivered and forgotten: a second sweep finds nothing, and nothing changes twice.
    assert.equal(await app.services.profileChanges.sweep(Date.now() + sweepAfterMs + 1), 0);
    assert.equal((await app.services.store.loadProfile(user.userId))?.stats?.matchesPlayed, 1);
  });

  it("a player who left long before the end, and is held nowhere, gets its rating in the store", async () => {
    const [a, b, c] = await underWay(app, quick.id, 3);
    const roomId = c.room.roomId;
    // Its seat is gone and its profile written and let go: the match plays on without it.
    const released = savedOf(app, a.user.userId);
    await a.room.leave();
    await released;
    await until(c.room, () => c.room.state.players.get(a.room.sessionId)?.connected === false);
    const finished = nextMessage<Finished>(c.room, "finished");
    b.room.send("forfeit", { seq: 3 });
    const result = await finished;
    assert.equal(result.winner, c.user.userId);
    await settled(roomId);
    assert.deepEqual(
      await storedRatings(app, result.ratings),
      result.ratings.map((r) => [r.userId, r.after]),
    );
    assert.equal(result.ratings.find((r) => r.userId === a.user.userId)!.after < 1200, true);
    await c.room.leave();
  });

  it("a leaver who sits in a world meanwhile gets its rating, and the world's later saves keep it", async () => {
    const slow = await startApp({ RECONNECT_SECONDS: "1" }, { matchModes: [duel] });
    try {
      const [a, b] = await underWay(slow, duel.id, 2);
      // The leaver joins a world while its match seat still waits for it (same process: one copy).
      const walker = await Bot.join(slow, {}, a.user);
      const finished = nextMessage<Finished>(b.room, "finished", 10_000);
      a.room.reconnection.enabled = false;
      dropSocket(a.room);
      const result = await finished; // the reconnection window ran out: a forfeit
      assert.equal(result.winner, b.user.userId);
      const rating = result.ratings.find((r) => r.userId === a.user.userId)!.after;
      assert.ok(rating < 1200);
      await settled(b.room.roomId);
      // The world writes the body as it moves and when it leaves: the rating stays.
      const start = { x: walker.me.x, y: walker.me.y };
      await walker.stepTo(start.x, start.y - 15);
      const moved = { x: walker.me.x, y: walker.me.y };
      assert.ok(!isAt(moved, start));
      const left = savedOf(slow, a.user.userId);
      await walker.leave();
      await left;
      const stored = await storedWhen(slow, a.user.userId, (p) => !!p.location && isAt(p.location, moved));
      assert.equal(stored.rating, rating);
      assert.equal(slow.services.profiles.get(a.user.userId), undefined, "the last holder let the profile go");
      await b.room.leave();
    } finally {
      await slow.stop();
    }
  });
});

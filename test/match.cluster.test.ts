/**
 * Matches across processes: two server processes with one Redis and one store sign with the same
 * key, so a chain played on one verifies with the public key served by the other; and a player who
 * forfeits a match on one process while it plays in a world on the other gets its rating there.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { matchModes } from "../src/content/matches.js";
import type { JsonWebKey } from "node:crypto";
import type { MatchRecord, StoredMatch, Tx } from "../src/domain/match.js";
import type { MatchState } from "../src/schema/MatchState.js";
import { matchPublicKey, verifyChain } from "../src/rules/match-chain.js";
import type { Profile } from "../src/domain/profile.js";
import type { RatingChange } from "../src/rules/match.js";
import {
  Bot,
  eventually,
  freePort,
  isAt,
  nextMessage,
  RedisServer,
  ServerProcess,
  describeCluster,
  withSharedStore,
  until,
  type TestApp,
} from "./helpers.js";

const duel = matchModes.find((m) => m.id === "duel")!;

/** GET /api/matches/:matchId: the record, its chain and what a rollback cut off. */
type History = MatchRecord & Pick<StoredMatch, "chain" | "rolledBack">;

/** GETs `path`; the caller names the shape of the answer. */
async function get<B = unknown>(server: ServerProcess, path: string, token?: string): Promise<B> {
  const res = await fetch(server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return (await res.json()) as B;
}

type User = { token: string; userId: string; name: string };

async function guestAt(server: ServerProcess): Promise<User> {
  const res = await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return (await res.json()) as User;
}

async function player(server: ServerProcess, code: string, user?: User) {
  user ??= await guestAt(server);
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = user.token;
  const room: Room<unknown, MatchState> = await client.joinOrCreate<MatchState>("match", { mode: "duel", code });
  room.reconnection.enabled = false;
  for (const type of ["reject", "tx", "finished"]) room.onMessage(type, () => undefined);
  const welcome = await nextMessage<{ matchId: string }>(room, "welcome");
  return { room, user, welcome };
}

describeCluster("match cluster: two processes, one Redis, one key", {}, function (cluster) {
  this.timeout(90_000);

  it("serves one public key from both processes, and a chain signed on one verifies with the other's", async () => {
    const { a, b } = cluster;
    const [keyA, keyB] = [
      await get<{ jwk: JsonWebKey }>(a, "/api/matches/key"),
      await get<{ jwk: JsonWebKey }>(b, "/api/matches/key"),
    ];
    assert.deepEqual(keyA, keyB);

    const code = `cluster-${Math.random()}`;
    const p1 = await player(a, code);
    const p2 = await player(b, code);
    assert.equal(p1.room.roomId, p2.room.roomId);
    p1.room.send("ready", { seq: 1, ready: true });
    p2.room.send("ready", { seq: 1, ready: true });
    await until(p1.room, () => p1.room.state.status === "playing");
    const finished = nextMessage<unknown>(p1.room, "finished", 10_000);
    let head = "";
    for (let i = 0; i < duel.rounds * 2; i++) {
      const s = i % 2 === 0 ? p1 : p2;
      const tx = nextMessage<Tx>(s.room, "tx", 5000, (t) => t.index === i + 1);
      const actions = i < 2 ? [{ type: "build", building: "tent", x: i, y: i }] : [];
      s.room.send("turn", { seq: i + 2, prev: head, actions });
      head = (await tx).hash;
    }
    await finished;
    const matchId: string = p1.welcome.matchId;

    // Both processes read the one store; the room's process may still be writing.
    let history!: History;
    await eventually(async () => {
      history = await get<History>(b, `/api/matches/${matchId}`);
      return history.status === "finished" && history.chain?.length === duel.rounds * 2;
    });
    const players = history.players.map((p) => p.userId);
    for (const key of [keyA, keyB])
      assert.deepEqual(verifyChain(history.chain, { mode: duel, players, key: matchPublicKey(key) }), {
        ok: true,
        stateHash: history.chain.at(-1)!.stateHash,
      });
    assert.deepEqual(await get(a, `/api/matches/${matchId}`), history);
    await Promise.all([p1.room.leave(), p2.room.leave()]);
  });
});

if (!RedisServer.available()) console.log("Match forfeit cluster suite SKIPPED: no redis-server on this machine");
else
  describe("match cluster: a forfeit by leaving while in a world on the other process", function () {
    this.timeout(90_000);
    const dataDir = mkdtempSync(join(tmpdir(), "realmgate-rating-"));
    const procs: ServerProcess[] = [];
    let redis: RedisServer | undefined;

    async function start(): Promise<ServerProcess> {
      const port = await freePort();
      const proc = new ServerProcess(port, dataDir, {
        REDIS_URL: redis!.url,
        PUBLIC_ADDRESS: `127.0.0.1:${port}`,
        RECONNECT_SECONDS: "1",
        SAVE_INTERVAL_MS: "250",
      });
      await proc.start();
      procs.push(proc);
      return proc;
    }

    /** The stored profile, read from the one SQLite file both processes write. */
    const stored = (userId: string): Promise<Profile | null> =>
      withSharedStore(dataDir, (store) => store.loadProfile(userId));

    /** The process that holds a room, by its listing. */
    async function processOf(server: ServerProcess, room: string, roomId: string, token: string) {
      const res = await fetch(`${server.url}/api/instances?room=${room}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as Array<{ roomId: string; processId: string }>).find((i) => i.roomId === roomId)
        ?.processId;
    }

    before(async () => {
      redis = new RedisServer(await freePort());
      await redis.start();
    });

    after(async () => {
      await Promise.all(procs.map((p) => p.stop("SIGTERM")));
      await redis?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("the leaver's world on the other process takes the rating, and its later saves keep it", async () => {
      // X starts alone, so the match lives on it; Y, started after, is the less loaded for the world.
      const x = await start();
      const code = `left-${Math.random()}`;
      const p1 = await player(x, code);
      const p2 = await player(x, code);
      p1.room.send("ready", { seq: 1, ready: true });
      p2.room.send("ready", { seq: 1, ready: true });
      await until(p1.room, () => p1.room.state.status === "playing");
      const first = nextMessage<Tx>(p2.room, "tx");
      p1.room.send("turn", { seq: 2, prev: "", actions: [] });
      await first;

      const y = await start();
      const walker = await Bot.join({ port: y.port } as TestApp, {}, p1.user);
      const token = p1.user.token;
      const [matchAt, worldAt] = [
        await processOf(x, "match", p1.room.roomId, token),
        await processOf(x, "world", walker.room.roomId, token),
      ];
      assert.ok(matchAt && worldAt && matchAt !== worldAt, `match on ${matchAt}, world on ${worldAt}`);
      // The world's copy is written first: the copy the match process holds is now the outdated one.
      await eventually(async () => (await stored(p1.user.userId))?.location !== null, 10_000, "world saved");

      const finished = nextMessage<{ winner: string; ratings: RatingChange[] }>(p2.room, "finished", 15_000);
      p1.room.onMessage("finished", () => undefined);
      p1.room.reconnection.enabled = false;
      (p1.room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
      const result = await finished; // its reconnection window ran out: a forfeit
      assert.equal(result.winner, p2.user.userId);
      const rating = (userId: string) => result.ratings.find((r) => r.userId === userId)!.after;
      await eventually(
        async () => (await stored(p1.user.userId))?.rating === rating(p1.user.userId),
        15_000,
        "the leaver's rating stored",
      );
      assert.equal((await stored(p2.user.userId))?.rating, rating(p2.user.userId));
      // The forfeit counts as played, in the copy the world on the other process holds.
      assert.equal((await stored(p1.user.userId))?.stats?.matchesPlayed, 1);

      // The world goes on writing the leaver's body: the rating stays.
      const start0 = { x: walker.me.x, y: walker.me.y };
      await walker.stepTo(start0.x, start0.y - 15);
      const moved = { x: walker.me.x, y: walker.me.y };
      assert.ok(!isAt(moved, start0));
      await walker.leave();
      await eventually(
        async () => {
          const p = await stored(p1.user.userId);
          return !!p?.location && isAt(p.location, moved);
        },
        15_000,
        "the world's last save",
      );
      assert.equal((await stored(p1.user.userId))?.rating, rating(p1.user.userId));
      await p2.room.leave();
    });
  });

/**
 * Matches across processes: two server processes with one Redis and one store sign with the same
 * key, so a chain played on one verifies with the public key served by the other.
 */
import assert from "node:assert/strict";
import { Client, type Room } from "@colyseus/sdk";
import { matchModes } from "../src/content/matches.js";
import type { JsonWebKey } from "node:crypto";
import type { MatchRecord, StoredMatch, Tx } from "../src/domain/match.js";
import type { MatchState } from "../src/schema/MatchState.js";
import { matchPublicKey, verifyChain } from "../src/rules/match-chain.js";
import { describeCluster, eventually, nextMessage, until, type ServerProcess } from "./helpers.js";

const duel = matchModes.find((m) => m.id === "duel")!;

/** GET /api/matches/:matchId: the record, its chain and what a rollback cut off. */
type History = MatchRecord & Pick<StoredMatch, "chain" | "rolledBack">;

/** GETs `path`; the caller names the shape of the answer. */
async function get<B = unknown>(server: ServerProcess, path: string, token?: string): Promise<B> {
  const res = await fetch(server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return (await res.json()) as B;
}

async function player(server: ServerProcess, code: string) {
  const res = await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const user = (await res.json()) as { token: string; userId: string };
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

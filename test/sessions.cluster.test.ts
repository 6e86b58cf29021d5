/**
 * HTTP sessions (PROTOCOL §6) across two real processes sharing a private Redis: a session's calls
 * may reach either process, and reach the room's own process over the matchmaker's room calls; a
 * session whose room closed after it travelled away is still read through either process.
 */
import assert from "node:assert/strict";
import { Client } from "@colyseus/sdk";
import type { WorldState } from "../client/index.js";
import { newProfile } from "../src/domain/profile.js";
import { describeCluster, eventually, until, withSharedStore, type ServerProcess } from "./helpers.js";
import { call, HttpError, HttpPlayer } from "./http-player.js";

interface WorldJson {
  players: Record<string, { x: number; y: number; userId: string }>;
}

async function guestAt(server: ServerProcess) {
  const res = await fetch(`${server.url}/auth/guest`, { method: "POST" });
  return (await res.json()) as { token: string; userId: string; name: string };
}

async function processOf(server: ServerProcess, token: string, roomId: string): Promise<string> {
  const res = await fetch(`${server.url}/api/instances?room=world`, { headers: { authorization: `Bearer ${token}` } });
  const list = (await res.json()) as Array<{ roomId: string; processId: string }>;
  return list.find((i) => i.roomId === roomId)!.processId;
}

describeCluster("sessions over HTTP, two processes and one Redis", { RECONNECT_SECONDS: "5" }, function (cluster) {
  this.timeout(60_000);

  it("serves every call of a session through either process, and switches to WebSocket and back across them", async () => {
    const { a, b } = cluster;
    const user = await guestAt(a);
    const other = await guestAt(b);
    // Two worlds, so that rooms live on both processes (placement takes the least loaded).
    const player = await HttpPlayer.open<WorldJson>(a.url, user.token, "world", { world: "meadow" });
    const second = await HttpPlayer.open<WorldJson>(b.url, other.token, "world", { world: "dunes" });
    const processes = new Set([
      await processOf(a, user.token, player.info.roomId),
      await processOf(a, user.token, second.info.roomId),
    ]);
    assert.equal(processes.size, 2, "the two rooms live on different processes");

    // Each call goes to the other process than the last one: half of them reach a process
    // that does not hold the room.
    const servers = [a, b];
    let turn = 0;
    const flip = (p: HttpPlayer<WorldJson>) => (p.base = servers[turn++ % 2].url);
    for (const p of [player, second]) {
      flip(p);
      await p.until(() => p.state?.players[p.sessionId] !== undefined, 10_000, "own body");
      for (let i = 0; i < 4; i++) {
        flip(p);
        await p.send({ type: "chat", payload: { text: `hello ${i}` } });
        flip(p);
        await p.next<{ text: string }>("chat", (m) => m.text === `hello ${i}`);
      }
      flip(p);
      const reject = await p.expectReject("move", { x: "far" });
      assert.equal(reject.code, "input/invalid");
    }

    // HTTP → WebSocket through process A, whichever holds the room.
    const client = new Client(`ws://127.0.0.1:${a.port}`);
    client.auth.token = user.token;
    const room = await client.reconnect<WorldState>(player.info.reconnectionToken);
    room.onMessage("*", () => undefined);
    assert.equal(room.sessionId, player.sessionId);
    await until(room, () => room.state.players?.get(player.sessionId) !== undefined);
    player.base = b.url;
    await player.until(() => player.closed !== undefined, 5000, "the HTTP session closed");
    assert.match(player.closed!.reason, /^session\/switched/);

    // WebSocket → HTTP through process B, once the socket is gone.
    room.reconnection.enabled = false;
    const gone = new Promise<void>((resolve) => room.onLeave(() => resolve()));
    (room.connection as unknown as { transport: { ws: { close(): void } } }).transport.ws.close();
    await gone;
    const back = await HttpPlayer.resume<WorldJson>(b.url, user.token, room.reconnectionToken, player.seq);
    assert.equal(back.sessionId, player.sessionId);
    back.base = a.url;
    await back.until(() => back.state?.players[back.sessionId] !== undefined, 10_000, "body after resume");
    // The last seq the seat took is the last chat's (the malformed move's was refused before it).
    const taken = player.seq - 1;
    back.seq = taken - 1;
    back.base = b.url;
    const stale = await back.expectReject("chat", { text: "again" });
    assert.equal(stale.code, "seq/stale");
    assert.equal(stale.seq, taken);
    back.seq = taken;
    await back.send({ type: "chat", payload: { text: "next" } });
    back.base = a.url;
    await back.next<{ text: string }>("chat", (m) => m.text === "next");

    // Another user's calls are refused on every process.
    for (const server of servers) {
      const res = await fetch(`${server.url}/api/sessions/${back.sessionId}/poll`, {
        headers: { authorization: `Bearer ${other.token}` },
      });
      assert.equal(res.status, 403);
    }

    await back.leave();
    await second.leave();
  });

  it("reads a travelled session through either process after its room has closed", async () => {
    const { a, b } = cluster;
    const user = await guestAt(a);
    await withSharedStore(cluster.dataDir, (store) =>
      store.saveProfile(
        { ...newProfile(user, 100), location: { world: "meadow", x: 1870, y: 1000 } },
        "test-placement",
      ),
    );
    const player = await HttpPlayer.open<WorldJson>(a.url, user.token, "world", { world: "meadow" });
    await player.until(() => player.state?.players[player.sessionId] !== undefined, 10_000, "own body");
    await player.send({ type: "travel", payload: { portal: "meadow-east-gate" } });
    // Alone in meadow: the room closes once the body has left, before anything more is read.
    const listed = async () => {
      const res = await fetch(`${a.url}/api/instances?room=world`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      return ((await res.json()) as Array<{ roomId: string }>).some((i) => i.roomId === player.info.roomId);
    };
    await eventually(async () => !(await listed()), 10_000, "meadow closed");

    // One of the two processes holds the session, the other reaches it over presence.
    for (const server of [a, b]) {
      const view = new HttpPlayer<WorldJson>(server.url, user.token, player.info);
      await view.until(() => view.closed !== undefined, 10_000, `closed, through ${server.url}`);
      assert.deepEqual(
        view.received.filter((m) => m.type === "travel").map((m) => (m.payload as { world: string }).world),
        ["dunes"],
      );
      assert.equal(view.closed!.code, 4000);
      await assert.rejects(
        call(server.url, user.token, "POST", `/api/sessions/${player.sessionId}/messages`, [
          { type: "chat", payload: { seq: 9, text: "x" } },
        ]),
        (e: HttpError) => e.status === 410 && e.code === "session/closed",
      );
    }
  });
});

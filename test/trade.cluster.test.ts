/**
 * Trade across processes (PROTOCOL §5) with real server processes, a private redis-server and one
 * shared SQLite store: two SDK clients in `meadow` and `dunes` on two processes trade; either
 * process is killed with SIGKILL at every step of the commit (the test-only TRADE_FAULT hook) and
 * restarted, after which every item and coin is where exactly one of "before" or "after" puts it;
 * and 20 trades race over one item between three players on two processes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import type { Goods, Reject, ServerMessages, WorldState } from "../client/index.js";
import { newProfile, type Profile } from "../src/domain/profile.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { CLUSTER_TEST_ENV, eventually, freePort, nextMessage, RedisServer, ServerProcess, until } from "./helpers.js";

type Says = ServerMessages["world"];
type User = { token: string; userId: string; name: string };
type Point = "offered" | "prepared" | "committed" | "cleanup";

interface Seated {
  user: User;
  room: Room<unknown, WorldState>;
  seq: number;
}

async function guestAt(server: ServerProcess): Promise<User> {
  const res = await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return (await res.json()) as User;
}

async function seat(server: ServerProcess, user: User, world: string): Promise<Seated> {
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = user.token;
  const room = await client.joinOrCreate<WorldState>("world", { world });
  room.reconnection.enabled = false;
  for (const type of ["welcome", "reject", "trade_sent", "trade_offer", "traded", "trade_closed"])
    room.onMessage(type, () => undefined);
  await until(room, () => room.state.players?.get(room.sessionId) !== undefined);
  return { user, room, seq: 0 };
}

function send(p: Seated, type: string, payload: object): number {
  p.seq++;
  p.room.send(type, { seq: p.seq, ...payload });
  return p.seq;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The part of a profile a trade touches, with item quantities summed. */
function holdings(p: Profile) {
  const items: Record<string, number> = {};
  for (const { item, qty } of p.inventory) items[item] = (items[item] ?? 0) + qty;
  return { items, gold: p.gold, escrow: p.escrow ?? [] };
}

function sum(...hs: Array<ReturnType<typeof holdings>>) {
  const items: Record<string, number> = {};
  let gold = 0;
  for (const h of hs) {
    for (const [item, qty] of Object.entries(h.items)) items[item] = (items[item] ?? 0) + qty;
    gold += h.gold;
  }
  return {
    items: Object.fromEntries(
      Object.entries(items)
        .filter(([, q]) => q > 0)
        .sort(),
    ),
    gold,
  };
}

/** Two processes on one Redis and one SQLite file; `first` starts alone so the first room lives on it. */
class Cluster {
  redis!: RedisServer;
  dataDir = mkdtempSync(join(tmpdir(), "realmgate-trade-"));
  procs: ServerProcess[] = [];

  async start(): Promise<void> {
    this.redis = new RedisServer(await freePort());
    await this.redis.start();
  }

  async process(fault?: Point, port?: number): Promise<ServerProcess> {
    port ??= await freePort();
    const env: Record<string, string> = {
      ...CLUSTER_TEST_ENV,
      REDIS_URL: this.redis.url,
      PUBLIC_ADDRESS: `127.0.0.1:${port}`,
      RECONNECT_SECONDS: "0",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
    };
    // The fault hook is refused in production, so a process that carries one runs as `test`.
    if (fault) Object.assign(env, { NODE_ENV: "test", TRADE_FAULT: fault });
    const proc = new ServerProcess(port, this.dataDir, env);
    await proc.start();
    this.procs.push(proc);
    return proc;
  }

  private opened: SqliteStore | undefined;

  /** The shared file, opened once: each opening starts a thread (about 150 ms of CPU), and `settled` polls. */
  store<T>(use: (store: SqliteStore) => Promise<T>): Promise<T> {
    this.opened ??= new SqliteStore(join(this.dataDir, "realmgate.db"));
    return use(this.opened);
  }

  async seed(user: User, inventory: Goods, gold: number): Promise<void> {
    await this.store((s) => s.saveProfile({ ...newProfile(user, 100), inventory, gold }, `seed-${user.userId}`));
  }

  async profile(userId: string): Promise<Profile> {
    return this.store(async (s) => (await s.loadProfile(userId))!);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.filter((p) => alive(p.pid)).map((p) => p.stop("SIGKILL")));
    await this.opened?.close();
    await this.redis?.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Which process a room lives on, by the public address of that process. */
async function processOf(server: ServerProcess, roomId: string): Promise<string> {
  const { token } = await guestAt(server);
  const list = (await (
    await fetch(`${server.url}/api/instances?room=world`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as Array<{ roomId: string; processId: string }>;
  return list.find((i) => i.roomId === roomId)!.processId;
}

const TERMS = { give: [{ item: "wood", qty: 2 }], gold: 4, want: [{ item: "stone", qty: 1 }], wantGold: 0 };
const BEFORE = {
  sender: { items: { wood: 5 }, gold: 10 },
  target: { items: { stone: 3 }, gold: 2 },
};
const AFTER = {
  sender: { items: { stone: 1, wood: 3 }, gold: 6 },
  target: { items: { stone: 2, wood: 2 }, gold: 6 },
};

if (!RedisServer.available()) {
  console.log("Trade cluster suite SKIPPED: no redis-server on this machine (apt-get install redis-server)");
  describe("trade across processes", () => it("SKIPPED: no redis-server on this machine"));
} else {
  describe("trade across processes", function () {
    this.timeout(180_000);
    let cluster: Cluster;
    beforeEach(async () => {
      cluster = new Cluster();
      await cluster.start();
    });
    afterEach(async () => cluster.stop());

    /** A sender in meadow on process X and a target in dunes on process Y, with goods. */
    async function pair(faults: { x?: Point; y?: Point } = {}) {
      const x = await cluster.process(faults.x);
      const [su, tu] = [await guestAt(x), await guestAt(x)];
      await cluster.seed(su, [{ item: "wood", qty: 5 }], 10);
      await cluster.seed(tu, [{ item: "stone", qty: 3 }], 2);
      const sender = await seat(x, su, "meadow");
      const y = await cluster.process(faults.y);
      const target = await seat(y, tu, "dunes");
      assert.notEqual(
        await processOf(y, sender.room.roomId),
        await processOf(y, target.room.roomId),
        "meadow and dunes live on different processes",
      );
      return { x, y, sender, target };
    }

    async function settled(tradeId: string, sender: User, target: User) {
      let state = "";
      await eventually(
        async () => {
          const record = await cluster.store((s) => s.loadTrade(tradeId));
          state = record?.state ?? "";
          if (!["done", "failed"].includes(state)) return false;
          const [a, b] = [await cluster.profile(sender.userId), await cluster.profile(target.userId)];
          return (a.escrow ?? []).length === 0 && (b.escrow ?? []).length === 0;
        },
        60_000,
        `trade ${tradeId} finished with no escrow left`,
      );
      const a = holdings(await cluster.profile(sender.userId));
      const b = holdings(await cluster.profile(target.userId));
      assert.deepEqual(sum(a, b), sum({ ...BEFORE.sender, escrow: [] }, { ...BEFORE.target, escrow: [] }));
      const now = { sender: { items: a.items, gold: a.gold }, target: { items: b.items, gold: b.gold } };
      const expected = state === "done" ? AFTER : BEFORE;
      assert.deepEqual(now, expected, `both from ${state === "done" ? "after" : "before"} the trade`);
      return state;
    }

    it("two SDK clients in meadow and dunes, on two processes, trade, and both see `traded`", async () => {
      const { sender, target } = await pair();
      const offered = nextMessage<Says["trade_offer"]>(target.room, "trade_offer", 10_000);
      const sent = nextMessage<Says["trade_sent"]>(sender.room, "trade_sent", 10_000);
      send(sender, "trade", { to: target.user.userId, ...TERMS });
      const offer = await offered;
      assert.equal(offer.tradeId, (await sent).tradeId);
      assert.equal(offer.from, sender.user.userId);
      const both = Promise.all([
        nextMessage<Says["traded"]>(sender.room, "traded", 15_000),
        nextMessage<Says["traded"]>(target.room, "traded", 15_000),
      ]);
      send(target, "trade_accept", { tradeId: offer.tradeId });
      const [a, b] = await both;
      assert.deepEqual(a.gave, { items: TERMS.give, gold: TERMS.gold });
      assert.deepEqual(b.gave, { items: TERMS.want, gold: TERMS.wantGold });
      assert.equal(await settled(offer.tradeId, sender.user, target.user), "done");
    });

    for (const point of ["offered", "prepared", "committed", "cleanup"] as const) {
      it(`kill -9 of the sender's process at '${point}': after restart, both before or both after`, async () => {
        const { x, sender, target } = await pair({ x: point });
        const offered = nextMessage<Says["trade_offer"]>(target.room, "trade_offer", 10_000);
        send(sender, "trade", { to: target.user.userId, ...TERMS });
        const offer = await offered;
        send(target, "trade_accept", { tradeId: offer.tradeId });
        await eventually(() => Promise.resolve(!alive(x.pid)), 30_000, "the sender's process killed itself");
        await cluster.process(undefined, x.port);
        await settled(offer.tradeId, sender.user, target.user);
      });

      it(`kill -9 of the target's (coordinating) process at '${point}': after restart, both before or both after`, async () => {
        const { x, y, sender, target } = await pair(point === "offered" ? {} : { y: point });
        const offered = nextMessage<Says["trade_offer"]>(target.room, "trade_offer", 10_000);
        send(sender, "trade", { to: target.user.userId, ...TERMS });
        const offer = await offered;
        if (point === "offered") {
          // Killed with the offer open: the offer outlives it, and the target accepts after its restart.
          await y.stop("SIGKILL");
          const back = await cluster.process(undefined, y.port);
          const again = await seat(back, target.user, "dunes");
          const traded = nextMessage<Says["traded"]>(again.room, "traded", 20_000);
          send(again, "trade_accept", { tradeId: offer.tradeId });
          await traded;
          assert.equal(await settled(offer.tradeId, sender.user, target.user), "done");
          return;
        }
        send(target, "trade_accept", { tradeId: offer.tradeId });
        await eventually(() => Promise.resolve(!alive(y.pid)), 30_000, "the target's process killed itself");
        await cluster.process(undefined, y.port);
        const state = await settled(offer.tradeId, sender.user, target.user);
        // Killed before the commit point: undone. At or after it: completed.
        assert.equal(state, point === "prepared" ? "failed" : "done");
        assert.ok(alive(x.pid));
      });
    }

    it("20 trades racing over one item between three players on two processes: one owner, exact totals", async () => {
      const x = await cluster.process();
      const users = [await guestAt(x), await guestAt(x), await guestAt(x)];
      await cluster.seed(users[0], [{ item: "crown", qty: 1 }], 100);
      await cluster.seed(users[1], [], 100);
      await cluster.seed(users[2], [], 100);
      const a = await seat(x, users[0], "meadow");
      const y = await cluster.process();
      const b = await seat(y, users[1], "dunes");
      const c = await seat(y, users[2], "dunes");
      const players = [a, b, c];
      assert.notEqual(await processOf(y, a.room.roomId), await processOf(y, b.room.roomId));

      let attempts = 0;
      let traded = 0;
      while (attempts < 20) {
        // Who holds the crown now, by the store.
        const owners = await Promise.all(users.map(async (u) => holdings(await cluster.profile(u.userId))));
        const holder = owners.findIndex((h) => (h.items.crown ?? 0) > 0);
        // Every player offers to both others: the holder gives the crown, the others ask for it.
        const offers: Array<Promise<{ to: number; tradeId: string }>> = [];
        players.forEach((p, i) =>
          players.forEach((q, j) => {
            if (i === j) return;
            offers.push(
              nextMessage<Says["trade_offer"]>(q.room, "trade_offer", 10_000, (o) => o.from === p.user.userId).then(
                (o) => ({ to: j, tradeId: o.tradeId }),
              ),
            );
            const terms =
              i === holder
                ? { give: [{ item: "crown", qty: 1 }], wantGold: 5 }
                : { want: [{ item: "crown", qty: 1 }], gold: 5 };
            send(p, "trade", { to: q.user.userId, ...terms });
          }),
        );
        const open = await Promise.all(offers);
        const outcomes = open.map(({ to, tradeId }) => {
          const q = players[to];
          const seq = q.seq + 1;
          const answer = Promise.race([
            // A commit whose settle waits for recovery (a busy store) sends `traded` only then.
            nextMessage<Says["traded"]>(q.room, "traded", 45_000, (t) => t.tradeId === tradeId).then(() => "traded"),
            nextMessage<Reject>(q.room, "reject", 45_000, (r) => r.action === "trade_accept" && r.seq === seq).then(
              (r) => r.code,
            ),
          ]);
          send(q, "trade_accept", { tradeId });
          return answer;
        });
        const results = await Promise.all(outcomes);
        attempts += results.length;
        traded += results.filter((r) => r === "traded").length;
        for (const r of results) assert.ok(r === "traded" || r === "trade/insufficient", r);
      }
      assert.ok(attempts >= 20);
      assert.ok(traded >= 1, "some trades went through");
      const end = await Promise.all(users.map(async (u) => holdings(await cluster.profile(u.userId))));
      assert.deepEqual(end.map((h) => h.items.crown ?? 0).sort(), [0, 0, 1], "the crown is in exactly one inventory");
      assert.equal(
        end.reduce((n, h) => n + h.gold, 0),
        300,
        "no coin made or lost",
      );
      assert.ok(end.every((h) => h.escrow.length === 0));
    });
  });
}

/**
 * Scale-out with real processes and a real Redis: two server processes share a private
 * redis-server and one store, and behave as one server to SDK clients. The suite runs once per
 * shared store: SQLite (one machine), and PostgreSQL where one is reachable.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Client, type Room, type SeatReservation } from "@colyseus/sdk";
import type { ServerMessages, WorldState } from "../client/index.js";
import { pino } from "pino";
import { RedisCluster } from "../src/cluster/redis.js";
import { PostgresStore } from "../src/persistence/postgres.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import type { Store } from "../src/persistence/store.js";
import { newProfile } from "../src/domain/profile.js";
import { describeCluster, eventually, freePort, isAt, nextMessage, until, type ServerProcess } from "./helpers.js";
import { freshSchema, postgresUnreachable } from "./pg.js";

/** A store the two processes share: the environment that selects it, and a way in for the test. */
interface SharedStore {
  name: string;
  /** Prepares an empty store; returns the processes' extra environment. */
  setup(dataDir: string): Promise<Record<string, string>>;
  open(dataDir: string): Promise<Store>;
  teardown(): Promise<void>;
}

const sqlite: SharedStore = {
  name: "SQLite",
  setup: () => Promise.resolve({}),
  open: (dataDir) => Promise.resolve(new SqliteStore(join(dataDir, "realmgate.db"))),
  teardown: () => Promise.resolve(),
};

function postgres(): SharedStore {
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined;
  return {
    name: "PostgreSQL",
    async setup() {
      schema = await freshSchema();
      return { DATABASE_URL: schema.url };
    },
    open: async () => PostgresStore.connect(schema!.url, { poolSize: 1 }),
    teardown: async () => schema?.drop(),
  };
}

const pgSkip = await postgresUnreachable();
if (pgSkip) console.log(`Cluster suite on PostgreSQL SKIPPED: ${pgSkip}`);
const STORES = pgSkip ? [sqlite] : [sqlite, postgres()];

async function guestAt(server: ServerProcess) {
  const res = await fetch(`${server.url}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return (await res.json()) as { token: string; userId: string; name: string };
}

/** Joins `world` by asking `server` (any process) for the seat. */
async function joinWorld(server: ServerProcess, token: string, world: string) {
  const client = new Client(`ws://127.0.0.1:${server.port}`);
  client.auth.token = token;
  const room: Room<unknown, WorldState> = await client.joinOrCreate<WorldState>("world", { world });
  room.reconnection.enabled = false;
  for (const type of ["welcome", "reject", "chat"]) room.onMessage(type, () => undefined);
  await until(room, () => room.state.players?.get(room.sessionId) !== undefined);
  return { client, room };
}

async function instances(server: ServerProcess) {
  const { token } = (await (await fetch(`${server.url}/auth/guest`, { method: "POST" })).json()) as { token: string };
  const headers = { authorization: `Bearer ${token}` };
  return (await (await fetch(`${server.url}/api/instances?room=world`, { headers })).json()) as Array<{
    roomId: string;
    world: string;
    processId: string;
    players: number;
  }>;
}

/** Readiness answers within its probes' timeout (1.5 s) whatever is down: an orchestrator's probe would time out. */
const health = async (server: ServerProcess) =>
  (await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(3000) })).json() as Promise<{
    status: string;
    down?: string[];
  }>;

for (const shared of STORES) {
  describeCluster(
    `cluster: two processes, one Redis, one ${shared.name}`,
    async (dir: string) => ({ ...(await shared.setup(dir)), RECONNECT_SECONDS: "2" }),
    function (cluster) {
      this.timeout(90_000);
      after(() => shared.teardown()); // after the cluster's own `after` stopped the processes

      it("joins a client through process B into a room that lives on process A", async () => {
        const { a, b } = cluster;
        const u1 = await guestAt(a);
        const u2 = await guestAt(b);
        const first = await joinWorld(a, u1.token, "meadow");
        const second = await joinWorld(b, u2.token, "meadow");
        assert.equal(second.room.roomId, first.room.roomId, "one room, whichever process was asked");
        await until(first.room, () => first.room.state.players.has(second.room.sessionId), 5000, "each sees the other");
        const listed = await instances(b);
        assert.equal(listed.filter((i) => i.world === "meadow").length, 1);
        assert.equal(listed.find((i) => i.roomId === first.room.roomId)!.players, 2);
        await Promise.all([first.room.leave(), second.room.leave()]);
      });

      it("moves a player from meadow on one process to dunes on the other, items and hp intact", async () => {
        const { a, b, dataDir } = cluster;
        const user = await guestAt(a);
        const keeper = await guestAt(b);
        const dunesHolder = await joinWorld(b, keeper.token, "dunes");
        const store = await shared.open(dataDir);
        await store.saveProfile(
          {
            ...newProfile(user, 100),
            hp: 64,
            inventory: [{ item: "stone", qty: 5 }],
            location: { world: "meadow", x: 1870, y: 1000 },
          },
          "cluster-setup",
        );
        await store.close();

        const source = await joinWorld(a, user.token, "meadow");
        const where = await instances(a);
        const meadowProcess = where.find((i) => i.roomId === source.room.roomId)!.processId;
        const dunesProcess = where.find((i) => i.roomId === dunesHolder.room.roomId)!.processId;
        assert.notEqual(meadowProcess, dunesProcess, "the two worlds live on different processes");

        const answer = nextMessage<
          Omit<ServerMessages["world"]["travel"], "reservation"> & { reservation: SeatReservation }
        >(source.room, "travel");
        source.room.send("travel", { seq: 1, portal: "meadow-east-gate" });
        const { world, reservation } = await answer;
        assert.equal(world, "dunes");
        assert.equal(reservation.processId, dunesProcess);
        await source.room.leave();
        const arrived = await source.client.consumeSeatReservation<WorldState>(reservation);
        arrived.onMessage("welcome", () => undefined); // a new room sends its welcome: take it
        await until(arrived, () => arrived.state.players?.get(arrived.sessionId) !== undefined);
        assert.equal(arrived.roomId, dunesHolder.room.roomId);
        assert.equal(arrived.state.players.get(arrived.sessionId)!.hp, 64);
        const me = (await (
          await fetch(`${b.url}/api/me`, { headers: { authorization: `Bearer ${user.token}` } })
        ).json()) as { inventory: unknown; location: { world: string } };
        assert.deepEqual(me.inventory, [{ item: "stone", qty: 5 }]);
        assert.equal(me.location.world, "dunes");
        const bodies = (await instances(a)).reduce((n, i) => n + i.players, 0);
        assert.equal(bodies, 2, "the traveller and the keeper: no body left behind in meadow");
        await Promise.all([arrived.leave(), dunesHolder.room.leave()]);
      });

      it("keeps rooms running through a Redis restart, refuses joins meanwhile, and recovers by itself", async () => {
        const { a, b, redis } = cluster;
        const u1 = await guestAt(a);
        const u2 = await guestAt(b);
        const player = await joinWorld(a, u1.token, "meadow");
        const start = {
          x: player.room.state.players.get(player.room.sessionId)!.x,
          y: player.room.state.players.get(player.room.sessionId)!.y,
        };

        await redis.kill();
        await eventually(
          async () => (await health(a)).down?.includes("redis") ?? false,
          15_000,
          "A reports Redis down",
        );
        assert.deepEqual((await health(b)).down, ["redis"]);

        // The room goes on: ticks advance and a move is still accepted.
        const tick = player.room.state.tick;
        await until(player.room, () => player.room.state.tick > tick + 5, 5000, "ticks advance");
        player.room.send("move", { seq: 1, x: start.x + 5, y: start.y });
        await until(
          player.room,
          () => isAt(player.room.state.players.get(player.room.sessionId)!, { x: start.x + 5, y: start.y }),
          5000,
          "move accepted",
        );

        // New joins fail fast with a clear error.
        await assert.rejects(joinWorld(b, u2.token, "meadow"), /presence\/unavailable/);

        await redis.start();
        await eventually(
          async () => (await health(a)).status === "ok" && (await health(b)).status === "ok",
          20_000,
          "both healthy again",
        );
        const late = await joinWorld(b, u2.token, "dunes");
        assert.equal(late.room.state.world, "dunes");
        await Promise.all([late.room.leave(), player.room.leave()]);
      });
    },
  );
}

describe("Redis readiness", () => {
  it("says Redis is down before the next reconnection attempt, however far the backoff has grown", async () => {
    // Nothing listens on this port: the client backs off 100, 200, 400, 800 ms... up to 5 s.
    const redis = new RedisCluster(`redis://127.0.0.1:${await freePort()}`, pino({ level: "silent" }), 5000);
    try {
      // (events.once would reject on the connection errors that come with each attempt.)
      const nextAttempt = () => new Promise<number>((resolve) => redis.client.once("reconnecting", resolve));
      while ((await nextAttempt()) < 1600);
      // A ping now would wait out three more attempts (1.6 + 3.2 + 5 s); readiness must not.
      const verdict = await Promise.race([
        redis.check(),
        nextAttempt().then(() => "a reconnection attempt came first"),
      ]);
      assert.equal(verdict, false);
    } finally {
      await redis.close();
      redis.presence.shutdown();
      await redis.driver.shutdown();
    }
  });
});

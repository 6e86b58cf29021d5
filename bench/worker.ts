/**
 * A load-generator thread. In a world, most clients speak the wire protocol directly
 * (loadtest/wire.ts: they send moves and count bytes, decoding no state) and the first `probes`
 * of the thread are full SDK clients that decode state, time action → ack and check that no
 * player beyond the interest radius ever shows. Dungeon bots, and every client with
 * `--generator sdk`, are SDK clients running the bots of loadtest/bots.ts. The main thread asks
 * for more clients, for a report (round trips, refusals, far players since the last one), and to
 * stop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Client, type Room } from "@colyseus/sdk";
import {
  DungeonFighter,
  fetchMap,
  guestToken,
  joinAsGuest,
  newStats,
  WorldWalker,
  type BotStats,
} from "../loadtest/bots.js";
import { WireConnection, WireWalker, type WireCounters } from "../loadtest/wire.js";

export interface WorkerInit {
  endpoint: string;
  httpUrl: string;
  kind: "world" | "dungeon";
  /** Global index of this worker's first bot (for names and parties). */
  firstIndex: number;
  /** "wire": cheap clients plus `probes` SDK clients per thread; "sdk": SDK clients only. */
  generator: "wire" | "sdk";
  probes: number;
  /** Whether the server runs interest management (the probes then check the radius). */
  aoi: boolean;
}

export type ToWorker = { type: "add"; count: number } | { type: "report" } | { type: "stop" };
export type FromWorker =
  | {
      type: "report";
      rtt: number[];
      rejects: Record<string, number>;
      connected: number;
      failed: number;
      joining: number;
      /** Players seen by a probe beyond the interest radius (must stay 0 with AOI on). */
      farSeen: number;
      probes: number;
    }
  | { type: "stopped" };

const init = workerData as WorkerInit;
/** The fields of `welcome` the bots read. */
type Welcome = { speed: number; aoiRadius?: number };
const port = parentPort!;
const stats: BotStats = newStats();
let next = init.firstIndex;
let connected = 0;
let failed = 0;
let joining = 0;
let farSeen = 0;
let probes = 0;
const wireCounters: WireCounters = { bytes: 0, frames: 0 };
const wires = new Set<WireConnection>();
const rooms = new Set<Room>();
const brains = new Set<{ stop(): void }>();
const JOIN_CONCURRENCY = 16;
const queue: Array<() => Promise<void>> = [];
let active = 0;

const strike = fetch(`${init.httpUrl}/api/abilities/strike`).then(
  (r) => r.json() as Promise<{ range: number; cooldownMs: number }>,
);
const map =
  init.kind === "world" ? fetchMap(init.httpUrl, "worlds", "meadow") : fetchMap(init.httpUrl, "dungeons", "crypt");

function pump(): void {
  while (active < JOIN_CONCURRENCY && queue.length > 0) {
    active++;
    void queue.shift()!().finally(() => {
      active--;
      pump();
    });
  }
}

/** A cheap world client: the wire protocol, no state decoded past its own starting position. */
async function joinWire(index: number): Promise<void> {
  joining++;
  try {
    const token = await guestToken(init.httpUrl, `bot-${index}`);
    const conn = new WireConnection(wireCounters);
    const welcome = new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no welcome within 10 s")), 10_000);
      conn.on<Welcome>("welcome", (w) => {
        clearTimeout(timer);
        resolve(w);
      });
    });
    // The walker must hear the first state, so it exists before the socket opens.
    const walker = new WireWalker(conn, await map, stats);
    await conn.join(init.httpUrl, token, "world", { world: "meadow", device: "desktop" });
    const w = await welcome;
    wires.add(conn);
    connected++;
    conn.onClose = () => {
      wires.delete(conn);
      connected--;
    };
    brains.add(walker);
    walker.start(w);
  } catch {
    failed++;
  } finally {
    joining--;
  }
}

async function joinOne(index: number, run = 0): Promise<void> {
  const probe = init.kind === "world" && probes < init.probes;
  if (init.kind === "world" && init.generator === "wire" && !probe) return joinWire(index);
  if (probe) probes++;
  joining++;
  const client = new Client(init.endpoint);
  try {
    const options =
      init.kind === "world"
        ? { world: "meadow", device: "desktop" }
        : { dungeon: "crypt", party: `bench-${Math.floor(index / 4)}-${run}` };
    const joined = await joinAsGuest(client, init.httpUrl, init.kind, options, `bot-${index}`);
    const room = joined.room;
    const welcome = joined.welcome as Welcome;
    room.reconnection.enabled = false;
    rooms.add(room);
    connected++;
    room.onLeave(() => {
      rooms.delete(room);
      connected--;
    });
    if (init.kind === "world") {
      const brain = new WorldWalker(room, welcome, await map, stats);
      brains.add(brain);
      if (probe && init.aoi) {
        // No player beyond the radius may be in a probe's state after any patch.
        const radius = welcome.aoiRadius ?? Infinity;
        room.onStateChange((state) => {
          const me = state.players?.get(room.sessionId);
          if (!me || !state.players) return;
          for (const [id, p] of state.players.entries())
            if (id !== room.sessionId && Math.hypot(p.x - me.x, p.y - me.y) > radius + 1e-6) farSeen++;
        });
      }
      brain.start();
    } else {
      const brain = new DungeonFighter(room, welcome, await map, stats, await strike, index % 4);
      brains.add(brain);
      // A cleared (or failed) run: the party leaves together and starts the next one.
      brain.onOver = () => {
        brain.stop();
        brains.delete(brain);
        void room
          .leave()
          .then(
            () => queue.push(() => joinOne(index, run + 1)),
            () => undefined,
          )
          .then(pump);
      };
      brain.start();
    }
  } catch {
    failed++;
  } finally {
    joining--;
  }
}

port.on("message", (msg: ToWorker) => void onMessage(msg));

async function onMessage(msg: ToWorker): Promise<void> {
  if (msg.type === "add") {
    for (let i = 0; i < msg.count; i++) {
      const index = next++;
      queue.push(() => joinOne(index));
    }
    pump();
  } else if (msg.type === "report") {
    const report: FromWorker = {
      type: "report",
      rtt: stats.rtt,
      rejects: stats.rejects,
      connected,
      failed,
      joining: joining + queue.length,
      farSeen,
      probes,
    };
    farSeen = 0;
    // Start a fresh window; the brains keep the same object, so swap its contents.
    stats.rtt = [];
    stats.rejects = {};
    port.postMessage(report);
  } else if (msg.type === "stop") {
    for (const brain of brains) brain.stop();
    queue.length = 0;
    await Promise.allSettled([...[...rooms].map((room) => room.leave()), ...[...wires].map((w) => w.leave())]);
    port.postMessage({ type: "stopped" } satisfies FromWorker);
  }
}

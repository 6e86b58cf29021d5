/**
 * A load-generator thread: real SDK clients running the bots of loadtest/bots.ts. The main thread
 * asks for more clients, for a report (round trips and refusals since the last one), and to stop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Client, type Room } from "@colyseus/sdk";
import { DungeonFighter, fetchMap, joinAsGuest, newStats, WorldWalker, type BotStats } from "../loadtest/bots.js";

export interface WorkerInit {
  endpoint: string;
  httpUrl: string;
  kind: "world" | "dungeon";
  /** Global index of this worker's first bot (for names and parties). */
  firstIndex: number;
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
    }
  | { type: "stopped" };

const init = workerData as WorkerInit;
const port = parentPort!;
let stats: BotStats = newStats();
let next = init.firstIndex;
let connected = 0;
let failed = 0;
let joining = 0;
const rooms = new Set<Room<any>>();
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
    queue.shift()!().finally(() => {
      active--;
      pump();
    });
  }
}

async function joinOne(index: number, run = 0): Promise<void> {
  joining++;
  const client = new Client(init.endpoint);
  try {
    const options =
      init.kind === "world"
        ? { world: "meadow", device: "desktop" }
        : { dungeon: "crypt", party: `bench-${Math.floor(index / 4)}-${run}` };
    const { room, welcome } = await joinAsGuest(client, init.httpUrl, init.kind, options, `bot-${index}`);
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

port.on("message", async (msg: ToWorker) => {
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
    };
    // Start a fresh window; the brains keep the same object, so swap its contents.
    stats.rtt = [];
    stats.rejects = {};
    port.postMessage(report);
  } else if (msg.type === "stop") {
    for (const brain of brains) brain.stop();
    queue.length = 0;
    await Promise.allSettled([...rooms].map((room) => room.leave()));
    port.postMessage({ type: "stopped" } satisfies FromWorker);
  }
});

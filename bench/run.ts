/**
 * The headless benchmark: `npm run bench [-- scenario ...] [--quick]`.
 *
 * For each scenario it starts the server in a process of its own on embedded defaults (SQLite in
 * a temporary DATA_DIR), drives it with real SDK clients spread over worker threads, reads the
 * server's own Prometheus metrics before and after a measured window, and writes
 * bench/results/<scenario>.json plus bench/results/RESULTS.md. Targets are printed next to the
 * figures; nothing here fails on a miss. `--quick` shortens the windows, `--workers N` sets the
 * generator threads, `--profile` makes the server write a CPU profile to bench/profiles/.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { pino } from "pino";
import { EventLog } from "../src/persistence/events.js";
import { SqliteStore } from "../src/persistence/sqlite.js";
import { bytesChart, rampChart } from "./charts.js";
import { freePort, ServerProcess } from "./server-process.js";
import { histogramQuantile, parseMetrics, sum, type Samples } from "./prometheus.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker.js";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: "boolean", default: false },
    workers: { type: "string" },
    profile: { type: "boolean", default: false },
    generator: { type: "string", default: "wire" },
    probes: { type: "string", default: "16" },
  },
});
const QUICK = flags.quick;
const WORKERS = Number(flags.workers ?? Math.max(2, cpus().length));
/** "wire": wire-protocol clients plus SDK probes; "sdk": every client a full SDK client (the old generator). */
const GENERATOR = flags.generator === "sdk" ? "sdk" : "wire";
/** Full SDK clients in a world scenario, spread over the threads. */
const PROBES = Number(flags.probes);
const RESULTS = join(import.meta.dirname, "results");

interface Scenario {
  name: string;
  kind: "world" | "dungeon";
  clients: number;
  aoi: boolean;
  warmupSec: number;
  measureSec: number;
  targets: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: "world-500",
    kind: "world",
    clients: 500,
    aoi: true,
    warmupSec: QUICK ? 4 : 10,
    measureSec: QUICK ? 10 : 30,
    targets:
      "CPU ≤ 30 % of a core, ≤ 2 KB/s per desktop client, action → ack p99 ≤ 75 ms, ≥ 10× fewer bytes than world-500-noaoi",
  },
  {
    name: "world-500-noaoi",
    kind: "world",
    clients: 500,
    aoi: false,
    warmupSec: QUICK ? 4 : 10,
    measureSec: QUICK ? 10 : 30,
    targets: "baseline for the AOI ratio",
  },
  {
    name: "dungeons-100x4",
    kind: "dungeon",
    clients: 400,
    aoi: true,
    warmupSec: QUICK ? 4 : 8,
    measureSec: QUICK ? 10 : 30,
    targets: "≥ 1,000 events/s persisted, none lost",
  },
];
/**
 * Ramp limits. Tick p99 past the 50 ms tick interval means the simulation falls behind. The round
 * trip from a move to the patch that shows it includes waiting for the next patch (up to 50 ms
 * at 20 patches a second) by construction, so its limit is that interval plus the 50 ms response
 * target.
 */
const RAMP = { step: 100, max: QUICK ? 1000 : 2000, stepSec: QUICK ? 5 : 8, tickLimitMs: 50, rttLimitMs: 100 };

/** Scenarios beyond the fixed-size ones: ramps on one process and on two. */
const EXTRA = ["ramp", "cluster-2"];

// --- progress -------------------------------------------------------------------------------

function progress(label: string, done: number, total: number, detail = ""): void {
  const width = 30;
  const filled = Math.round((Math.min(done, total) / total) * width);
  const line = `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${label} ${detail}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(110).slice(0, 110)}`);
  else if (done === total || Math.round(done) % 5 === 0) process.stderr.write(`${line}\n`);
}
const endProgress = () => process.stderr.isTTY && process.stderr.write("\n");

// --- the load generator -----------------------------------------------------------------------

class Generator {
  private readonly workers: Worker[] = [];

  /** With several servers (a cluster), each thread asks its own for matchmaking. */
  constructor(servers: ServerProcess | ServerProcess[], kind: Scenario["kind"], count: number, aoi: boolean) {
    const list = Array.isArray(servers) ? servers : [servers];
    for (let i = 0; i < count; i++) {
      const server = list[i % list.length];
      const init: WorkerInit = {
        endpoint: `ws://127.0.0.1:${server.port}`,
        httpUrl: server.url,
        kind,
        firstIndex: i * 100_000,
        generator: GENERATOR,
        probes: Math.ceil(PROBES / count),
        aoi,
      };
      this.workers.push(
        new Worker(new URL("./worker.ts", import.meta.url), { workerData: init, execArgv: ["--import", "tsx"] }),
      );
    }
  }

  /** Adds `n` clients, spread evenly (parties of four stay on one worker). */
  add(n: number): void {
    const per = Math.ceil(n / 4 / this.workers.length) * 4;
    let left = n;
    for (const w of this.workers) {
      const count = Math.min(per, left);
      left -= count;
      if (count > 0) w.postMessage({ type: "add", count } satisfies ToWorker);
    }
  }

  private ask<T extends FromWorker["type"]>(
    msg: ToWorker,
    answer: T,
  ): Promise<Array<Extract<FromWorker, { type: T }>>> {
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<Extract<FromWorker, { type: T }>>((resolve) => {
            const on = (m: FromWorker) => {
              if (m.type !== answer) return;
              w.off("message", on);
              resolve(m as Extract<FromWorker, { type: T }>);
            };
            w.on("message", on);
            w.postMessage(msg);
          }),
      ),
    );
  }

  /** Round trips and refusals since the last report, and the clients' state now. */
  async report() {
    const reports = await this.ask({ type: "report" }, "report");
    const rejects: Record<string, number> = {};
    for (const r of reports)
      for (const [code, n] of Object.entries(r.rejects)) rejects[code] = (rejects[code] ?? 0) + n;
    return {
      rtt: reports.flatMap((r) => r.rtt).sort((a, b) => a - b),
      rejects,
      connected: reports.reduce((s, r) => s + r.connected, 0),
      failed: reports.reduce((s, r) => s + r.failed, 0),
      joining: reports.reduce((s, r) => s + r.joining, 0),
      farSeen: reports.reduce((s, r) => s + r.farSeen, 0),
      probes: reports.reduce((s, r) => s + r.probes, 0),
    };
  }

  async stop(): Promise<void> {
    await this.ask({ type: "stop" }, "stopped");
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(server: ServerProcess): Promise<Samples> {
  return parseMetrics(await server.metricsText());
}

async function startServer(aoi: boolean): Promise<{ server: ServerProcess; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "realmgate-bench-"));
  const port = await freePort();
  // --profile: the server writes a V8 CPU profile (open it in Chrome DevTools) into bench/profiles.
  const profile: Record<string, string> = flags.profile
    ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(import.meta.dirname, "profiles")}` }
    : {};
  const server = new ServerProcess(port, dataDir, { AOI_ENABLED: String(aoi), LOG_LEVEL: "warn", ...profile });
  await server.start();
  return { server, dataDir };
}

/** Waits until every client asked for has joined (or failed), showing progress. */
async function waitForJoins(gen: Generator, label: string, target: number): Promise<void> {
  for (;;) {
    const r = await gen.report();
    progress(
      label,
      r.connected + r.failed,
      target,
      `joining ${r.connected}/${target}${r.failed ? `, ${r.failed} failed` : ""}`,
    );
    if (r.joining === 0 && r.connected + r.failed >= target) return;
    await sleep(500);
  }
}

/** Server-side figures over a window between two scrapes. */
function serverFigures(before: Samples, after: Samples, seconds: number, clients: number) {
  const delta = (name: string, labels: Record<string, string> = {}) =>
    sum(after, name, labels) - sum(before, name, labels);
  const cpuSec = delta("realmgate_process_cpu_seconds_total");
  const bytes = delta("realmgate_sent_bytes_total");
  const rejects: Record<string, number> = {};
  for (const [key, value] of after) {
    const m = /^realmgate_rejects_total\{.*code="([^"]+)"/.exec(key);
    if (m) rejects[m[1]] = (rejects[m[1]] ?? 0) + value - (before.get(key) ?? 0);
  }
  return {
    serverCpuPercent: (cpuSec / seconds) * 100,
    rssMb: sum(after, "realmgate_process_resident_memory_bytes") / 1e6,
    tickP50Ms: histogramQuantile(before, after, "realmgate_tick_duration_seconds", 0.5) * 1000,
    tickP99Ms: histogramQuantile(before, after, "realmgate_tick_duration_seconds", 0.99) * 1000,
    bytesPerSecPerClient: clients ? bytes / seconds / clients : 0,
    /** The same split by frame kind: state patches (and full states) against messages. */
    patchBytesPerSecPerClient: clients ? delta("realmgate_sent_bytes_total", { kind: "patch" }) / seconds / clients : 0,
    messageBytesPerSecPerClient: clients
      ? delta("realmgate_sent_bytes_total", { kind: "message" }) / seconds / clients
      : 0,
    eventsWrittenPerSec: delta("realmgate_events_written_total") / seconds,
    eventsLost: delta("realmgate_events_lost_total"),
    eventsBuffered: sum(after, "realmgate_events_buffered"),
    serverRejects: Object.fromEntries(Object.entries(rejects).filter(([, n]) => n > 0)),
  };
}

/**
 * What the event log itself can persist on this machine: events recorded as fast as the thread
 * can, written in batches to a fresh SQLite store. The dungeon scenario shows what play produces;
 * this shows the headroom above it.
 */
async function eventLogCapacity(): Promise<{ eventsPerSec: number; lost: number }> {
  const dir = mkdtempSync(join(tmpdir(), "realmgate-events-"));
  const store = new SqliteStore(join(dir, "realmgate.db"));
  const log = new EventLog(store, pino({ level: "silent" }), {
    flushMs: 250,
    ttlMs: 86_400_000,
    maxBuffered: 1_000_000,
  });
  const total = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    log.record(`room-${i % 100}`, "combat", {
      source: `hero-${i % 400}`,
      target: "skeleton-1",
      ability: "strike",
      damage: 12,
      crit: false,
      killed: false,
    });
    if (i % 1000 === 999) await log.flush();
  }
  await log.flush();
  const seconds = (performance.now() - t0) / 1000;
  const { written, lost } = log.snapshot();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { eventsPerSec: written / seconds, lost };
}

async function runScenario(s: Scenario) {
  const { server, dataDir } = await startServer(s.aoi);
  const gen = new Generator(server, s.kind, WORKERS, s.aoi);
  try {
    gen.add(s.clients);
    await waitForJoins(gen, s.name, s.clients);
    for (let t = 0; t < s.warmupSec; t++) {
      progress(s.name, t, s.warmupSec, `warming up ${t}/${s.warmupSec} s`);
      await sleep(1000);
    }
    await gen.report(); // discard warm-up samples
    const before = await scrape(server);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let t = 0; t < s.measureSec; t++) {
      progress(s.name, t, s.measureSec, `measuring ${t}/${s.measureSec} s`);
      await sleep(1000);
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = await scrape(server);
    const cpu = process.cpuUsage(cpu0);
    const r = await gen.report();
    progress(s.name, 1, 1, "done");
    endProgress();
    return {
      scenario: s.name,
      targets: s.targets,
      clientsAsked: s.clients,
      clientsHeld: r.connected,
      joinsFailed: r.failed,
      measuredSec: Math.round(seconds),
      ...serverFigures(before, after, seconds, r.connected),
      rttP50Ms: quantile(r.rtt, 0.5),
      rttP99Ms: quantile(r.rtt, 0.99),
      rttSamples: r.rtt.length,
      botRejects: r.rejects,
      farPlayersSeen: r.farSeen,
      generator: s.kind === "world" ? GENERATOR : "sdk",
      probes: s.kind === "world" ? (GENERATOR === "wire" ? r.probes : r.connected) : r.connected,
      generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
      generatorCpuPer100Clients: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 * (100 / Math.max(1, r.connected)),
    };
  } finally {
    await gen.stop();
    await server.stop("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Servers' figures over one window, summed (CPU, bytes) or worst (tick p99) across processes, and
 * each process's CPU and clients (how evenly the rooms spread).
 */
function clusterFigures(before: Samples[], after: Samples[], seconds: number, clients: number) {
  const each = before.map((b, i) => serverFigures(b, after[i], seconds, clients));
  return {
    serverCpuPercent: each.reduce((a, f) => a + f.serverCpuPercent, 0),
    processes: each.map((f, i) => ({
      cpuPercent: f.serverCpuPercent,
      clients: sum(after[i], "realmgate_clients"),
    })),
    // A process with no room yet has no tick samples (NaN): the worst of those that ran.
    tickP99Ms: Math.max(0, ...each.map((f) => f.tickP99Ms).filter(Number.isFinite)),
    bytesPerSecPerClient: each.reduce((a, f) => a + f.bytesPerSecPerClient, 0),
  };
}

/** Two server processes sharing a private Redis (presence and driver) and one data directory. */
async function startCluster(): Promise<{ servers: ServerProcess[]; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "realmgate-bench-"));
  const redisPort = await freePort();
  const redis = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    redis.stdout.on("data", (d: Buffer) => {
      out += String(d);
      if (out.includes("Ready to accept connections")) resolve();
    });
    redis.once("error", reject);
    redis.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  const servers: ServerProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const server = new ServerProcess(port, dataDir, {
      AOI_ENABLED: "true",
      LOG_LEVEL: "warn",
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PUBLIC_ADDRESS: `127.0.0.1:${port}`,
    });
    await server.start();
    servers.push(server);
  }
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop("SIGTERM")));
    await new Promise<void>((resolve) => {
      redis.once("exit", () => resolve());
      redis.kill("SIGTERM");
    });
  };
  return { servers, dataDir, stop };
}

/**
 * Adds clients a hundred at a time until tick p99 or ack p99 passes its limit. On one process
 * (`ramp`) or on two behind Redis (`cluster-2`, all threads' matchmaking spread over both).
 */
async function runRamp(cluster = false) {
  const one = cluster ? undefined : await startServer(true);
  const many = cluster ? await startCluster() : undefined;
  const servers = one ? [one.server] : many!.servers;
  const dataDir = one ? one.dataDir : many!.dataDir;
  const label = cluster ? "cluster-2" : "ramp";
  const gen = new Generator(servers, "world", WORKERS, true);
  const steps: Array<{
    clients: number;
    tickP99Ms: number;
    rttP99Ms: number;
    serverCpuPercent: number;
    generatorCpuPercent: number;
    processes?: Array<{ cpuPercent: number; clients: number }>;
    within: boolean;
  }> = [];
  let held = 0;
  let failed = 0;
  try {
    let retried = false;
    for (let clients = RAMP.step; clients <= RAMP.max; clients += RAMP.step) {
      if (!retried) gen.add(RAMP.step);
      await waitForJoins(gen, label, clients);
      await sleep(2000);
      await gen.report();
      const before = await Promise.all(servers.map(scrape));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(RAMP.stepSec * 1000);
      const after = await Promise.all(servers.map(scrape));
      const cpu = process.cpuUsage(cpu0);
      const r = await gen.report();
      failed = r.failed;
      const f = clusterFigures(before, after, (performance.now() - t0) / 1000, r.connected);
      const rttP99Ms = quantile(r.rtt, 0.99);
      const within = f.tickP99Ms <= RAMP.tickLimitMs && rttP99Ms <= RAMP.rttLimitMs && r.failed === 0;
      steps.push({
        clients: r.connected,
        tickP99Ms: f.tickP99Ms,
        rttP99Ms,
        serverCpuPercent: f.serverCpuPercent,
        generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / ((performance.now() - t0) / 1000)) * 100,
        ...(cluster ? { processes: f.processes } : {}),
        within,
      });
      progress(
        label,
        clients,
        RAMP.max,
        `${r.connected} clients: tick p99 ${f.tickP99Ms.toFixed(1)} ms, rtt p99 ${rttP99Ms.toFixed(1)} ms`,
      );
      // The machine is shared: one window over a limit is measured again before the ramp stops.
      if (!within && !retried) {
        retried = true;
        clients -= RAMP.step;
        continue;
      }
      if (!within) break;
      retried = false;
      held = r.connected;
    }
    endProgress();
    const single = cluster ? readJson(join(RESULTS, "ramp.json")) : undefined;
    return {
      scenario: label,
      ...(cluster
        ? {
            processes: 2,
            ratioToOneProcess: single?.clientsHeld ? held / single.clientsHeld : null,
            oneProcessHeld: single?.clientsHeld ?? null,
          }
        : {}),
      targets: cluster
        ? "≥ 1.8× the clients of one process (ramp), same limits"
        : `≥ 1,500 clients on one process (limits: tick p99 ≤ ${RAMP.tickLimitMs} ms, RTT p99 ≤ ${RAMP.rttLimitMs} ms)`,
      clientsHeld: held,
      joinsFailed: failed,
      limits: { tickP99Ms: RAMP.tickLimitMs, rttP99Ms: RAMP.rttLimitMs, maxTried: RAMP.max },
      steps,
    };
  } finally {
    await gen.stop();
    if (one) await one.server.stop("SIGTERM");
    else await many!.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function readJson(path: string): { clientsHeld?: number } | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as { clientsHeld?: number };
  } catch {
    return undefined;
  }
}

// --- results ----------------------------------------------------------------------------------

const fmt = (n: unknown, digits = 1) => (typeof n === "number" && Number.isFinite(n) ? n.toFixed(digits) : "—");
const codes = (o: Record<string, number> | undefined) =>
  o && Object.keys(o).length
    ? Object.entries(o)
        .map(([c, n]) => `${c} ${n}`)
        .join(", ")
    : "none";

/** One results file as read back: the fields of any scenario, each optional. */
interface Step {
  clients: number;
  tickP99Ms: number;
  rttP99Ms: number;
  serverCpuPercent: number;
  generatorCpuPercent?: number;
  processes?: Array<{ cpuPercent: number; clients: number }>;
}
interface Row {
  scenario: string;
  clientsHeld: number;
  clientsAsked?: number;
  joinsFailed?: number;
  serverCpuPercent?: number;
  rssMb?: number;
  tickP50Ms?: number;
  tickP99Ms?: number;
  rttP50Ms?: number;
  rttP99Ms?: number;
  bytesPerSecPerClient: number;
  patchBytesPerSecPerClient?: number;
  messageBytesPerSecPerClient?: number;
  eventsWrittenPerSec?: number;
  eventsLost?: number;
  botRejects?: Record<string, number>;
  farPlayersSeen?: number;
  generator?: string;
  probes?: number;
  generatorCpuPercent?: number;
  generatorCpuPer100Clients?: number;
  eventLogCapacity?: { eventsPerSec: number; lost: number };
  limits: { tickP99Ms: number; rttP99Ms: number; maxTried: number };
  steps: Step[];
  ratioToOneProcess?: number | null;
  oneProcessHeld?: number | null;
}

function markdown(results: Row[]): string {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, Node ${process.version}`;
  const rows = results
    .filter((r) => !EXTRA.includes(r.scenario))
    .map(
      (r) =>
        `| ${r.scenario} | ${r.clientsHeld}/${r.clientsAsked} (${r.joinsFailed} failed) | ${fmt(r.serverCpuPercent, 0)} % | ${fmt(r.rssMb, 0)} MB | ${fmt(r.tickP50Ms, 2)} / ${fmt(r.tickP99Ms, 2)} ms | ${fmt(r.rttP50Ms)} / ${fmt(r.rttP99Ms)} ms | ${fmt(r.bytesPerSecPerClient / 1000, 2)} KB/s | ${fmt(r.eventsWrittenPerSec, 0)} / ${r.eventsLost} | ${codes(r.botRejects)}${r.farPlayersSeen ? `, ${r.farPlayersSeen} far players seen` : ""} | ${fmt(r.generatorCpuPercent, 0)} % (${fmt(r.generatorCpuPer100Clients, 1)} % per 100; ${r.generator === "wire" ? `wire + ${r.probes} SDK probes` : "all SDK"}) |`,
    );
  const ramp = results.find((r) => r.scenario === "ramp");
  const cluster = results.find((r) => r.scenario === "cluster-2");
  const world = results.find((r) => r.scenario === "world-500");
  const noaoi = results.find((r) => r.scenario === "world-500-noaoi");
  const lines = [
    `Measured on ${machine}, ${new Date().toISOString().slice(0, 10)}, server and load generator on the same machine.`,
    "",
    "| scenario | clients held | server CPU (one core) | RSS | tick p50 / p99 | action → ack p50 / p99 | sent per client | events/s written / lost | bot refusals | generator CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
  const dungeons = results.find((r) => r.scenario === "dungeons-100x4");
  if (dungeons?.eventLogCapacity)
    lines.push(
      "",
      `Event log: play in dungeons-100x4 produced ${fmt(dungeons.eventsWrittenPerSec, 0)} events/s, all written (${dungeons.eventsLost} lost); the log alone persists ${fmt(dungeons.eventLogCapacity.eventsPerSec, 0)} events/s into SQLite on this machine (${dungeons.eventLogCapacity.lost} lost).`,
    );
  if (dungeons)
    lines.push(
      "",
      `Dungeon bytes per hero: ${fmt(dungeons.bytesPerSecPerClient, 0)} B/s (state patches ${fmt(dungeons.patchBytesPerSecPerClient, 0)}, messages ${fmt(dungeons.messageBytesPerSecPerClient, 0)}) against the estimate of about 150 B/s.`,
    );
  if (world && noaoi)
    lines.push(
      "",
      `AOI ratio: ${fmt(world.bytesPerSecPerClient / 1000, 2)} KB/s per client with interest management against ${fmt(noaoi.bytesPerSecPerClient / 1000, 2)} KB/s without: ${fmt(noaoi.bytesPerSecPerClient / world.bytesPerSecPerClient, 1)}× less.`,
    );
  if (ramp)
    lines.push(
      "",
      `Ramp: ${ramp.clientsHeld} clients held within tick p99 ≤ ${ramp.limits.tickP99Ms} ms and RTT p99 ≤ ${ramp.limits.rttP99Ms} ms (tried up to ${ramp.limits.maxTried}); steps: ${ramp.steps.map((s) => `${s.clients} → tick ${fmt(s.tickP99Ms)} ms, rtt ${fmt(s.rttP99Ms)} ms, cpu ${fmt(s.serverCpuPercent, 0)} %, generator ${fmt(s.generatorCpuPercent, 0)} %`).join("; ")}.`,
    );
  if (cluster)
    lines.push(
      "",
      `Cluster: two processes behind one Redis held ${cluster.clientsHeld} clients within the same limits, ${fmt(cluster.ratioToOneProcess, 2)}× one process (${cluster.oneProcessHeld}); steps: ${cluster.steps.map((s) => `${s.clients} → tick ${fmt(s.tickP99Ms)} ms, rtt ${fmt(s.rttP99Ms)} ms, cpu ${fmt(s.serverCpuPercent, 0)} %${s.processes ? ` (${s.processes.map((p) => `${fmt(p.cpuPercent, 0)} % for ${p.clients}`).join(" + ")})` : ""}, generator ${fmt(s.generatorCpuPercent, 0)} %`).join("; ")}.`,
    );
  return lines.join("\n") + "\n";
}

async function main() {
  const wanted = positionals.length ? positionals : [...SCENARIOS.map((s) => s.name), ...EXTRA];
  for (const name of wanted) {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario && !EXTRA.includes(name))
      throw new Error(`unknown scenario "${name}"; known: ${[...SCENARIOS.map((s) => s.name), ...EXTRA].join(", ")}`);
    const result = scenario ? await runScenario(scenario) : await runRamp(name === "cluster-2");
    // Measured once the server and the bots are gone, so that nothing else competes for the CPU.
    if (scenario?.kind === "dungeon") Object.assign(result, { eventLogCapacity: await eventLogCapacity() });
    writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(result, null, 2) + "\n");
    console.log(JSON.stringify(result));
  }
  const all = readdirSync(RESULTS)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(RESULTS, f), "utf8")) as Row);
  const order = [...SCENARIOS.map((s) => s.name), ...EXTRA];
  all.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  const table = markdown(all);
  writeFileSync(join(RESULTS, "RESULTS.md"), table);
  // Charts next to the JSON (shown in the README).
  const ramp = all.find((r) => r.scenario === "ramp");
  if (ramp?.steps?.length) writeFileSync(join(RESULTS, "ramp.svg"), rampChart(ramp.steps, ramp.limits));
  const rows = all.filter((r) => typeof r.bytesPerSecPerClient === "number");
  if (rows.length) writeFileSync(join(RESULTS, "bytes-per-client.svg"), bytesChart(rows));
  console.log("\n" + table);
}

await main();

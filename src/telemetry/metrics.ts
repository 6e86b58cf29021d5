/**
 * Prometheus metrics (prom-client), one registry per server. Rooms report into it through small
 * typed calls; gauges that describe live rooms and the store are computed at scrape time.
 *
 * Names start with `realmgate_`; labels are `room` (world, dungeon), `world` (the world or dungeon
 * id), and the kind of thing counted. No label carries a user or session id.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EventStats } from "../persistence/events.js";
import type { SaveStats } from "../persistence/profiles.js";

/** What the metrics read from a live room at scrape time. */
export interface RoomProbe {
  readonly kind: string;
  readonly world: string;
  readonly clientCount: number;
  /** Rough size of the room's state: the length of its JSON form. */
  stateBytes(): number;
  /** Adds the bytes the room counted since the last call to `realmgate_sent_bytes_total`. */
  flushBytes?(): void;
}

export interface MetricsSources {
  saves(): SaveStats;
  events(): EventStats;
  /** 1 while the store's write probe succeeds, 0 while it fails. */
  storeUp?(): number;
  /** 1 connected, 0 down; undefined when Redis is not configured. */
  redisUp?(): number | undefined;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2];
const TICK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

export class Metrics {
  readonly registry = new Registry();
  private readonly rooms = new Set<RoomProbe>();

  readonly tickDuration = new Histogram({
    name: "realmgate_tick_duration_seconds",
    help: "Duration of one simulation step",
    labelNames: ["room"],
    buckets: TICK_BUCKETS,
    registers: [this.registry],
  });
  readonly bytesSent = new Counter({
    name: "realmgate_sent_bytes_total",
    help: "Bytes sent to clients, by frame kind (patch = state patches and full states, message = everything else)",
    labelNames: ["room", "world", "kind"],
    registers: [this.registry],
    // Rooms count sends in plain numbers (a send is a hot path); they land here when scraped.
    collect: () => {
      for (const room of this.rooms) room.flushBytes?.();
    },
  });
  readonly messages = new Counter({
    name: "realmgate_messages_received_total",
    help: "Client messages received, by type",
    labelNames: ["room", "type"],
    registers: [this.registry],
  });
  readonly trades = new Counter({
    name: "realmgate_trades_total",
    help: "Trades by outcome: traded, declined, cancelled, expired, insufficient, unavailable",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly rejects = new Counter({
    name: "realmgate_rejects_total",
    help: "Actions refused, by reject code",
    labelNames: ["room", "world", "code"],
    registers: [this.registry],
  });
  readonly drops = new Counter({
    name: "realmgate_connection_drops_total",
    help: "Connections lost without a leave",
    labelNames: ["room", "world"],
    registers: [this.registry],
  });
  readonly reconnections = new Counter({
    name: "realmgate_reconnections_total",
    help: "Dropped sessions resumed within the reconnection window",
    labelNames: ["room", "world"],
    registers: [this.registry],
  });
  readonly failedReconnections = new Counter({
    name: "realmgate_reconnections_failed_total",
    help: "Dropped sessions whose window passed without a reconnection",
    labelNames: ["room", "world"],
    registers: [this.registry],
  });
  readonly rtt = new Histogram({
    name: "realmgate_rtt_seconds",
    help: "Round trip measured by server WebSocket pings",
    labelNames: ["room", "world"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly saveDuration = new Histogram({
    name: "realmgate_store_save_duration_seconds",
    help: "Duration of one profile write",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly security = new Counter({
    name: "realmgate_security_signals_total",
    help: "Suspicious activity: auth_failure, invalid_action, rate_limited, stale_seq, flood_disconnect, malformed_disconnect, fingerprint_mismatch, address_change",
    labelNames: ["signal", "room", "world"],
    registers: [this.registry],
  });
  readonly bans = new Counter({
    name: "realmgate_bans_total",
    help: "Bans set (action=ban) and lifted (action=lift) by admins",
    labelNames: ["action"],
    registers: [this.registry],
  });
  readonly bannedRefusals = new Counter({
    name: "realmgate_banned_refusals_total",
    help: "Requests and joins of banned users refused with auth/banned, by where (login, guest, http, or the room kind)",
    labelNames: ["where"],
    registers: [this.registry],
  });
  readonly bannedClosed = new Counter({
    name: "realmgate_banned_connections_closed_total",
    help: "Connections closed with 4104 auth/banned when their user was banned",
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: "realmgate_token_revocations_total",
    help: "Tokens revoked by POST /auth/logout",
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: "realmgate_" });
    const rooms = this.rooms;
    const byRoom = (value: (r: RoomProbe) => number) =>
      function (this: Gauge<"room" | "world">) {
        this.reset();
        for (const r of rooms) this.inc({ room: r.kind, world: r.world }, value(r));
      };
    new Gauge({
      name: "realmgate_rooms",
      help: "Live rooms",
      labelNames: ["room", "world"],
      registers: [this.registry],
      collect: byRoom(() => 1),
    });
    new Gauge({
      name: "realmgate_clients",
      help: "Connected clients",
      labelNames: ["room", "world"],
      registers: [this.registry],
      collect: byRoom((r) => r.clientCount),
    });
    new Gauge({
      name: "realmgate_room_state_bytes",
      help: "Estimated state size of live rooms (JSON length), summed",
      labelNames: ["room", "world"],
      registers: [this.registry],
      collect: byRoom((r) => r.stateBytes()),
    });

    const gauge = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    gauge(
      "realmgate_store_pending_saves",
      "Profiles changed in memory and not yet written",
      () => sources.saves().pending,
    );
    gauge("realmgate_store_held_profiles", "Profiles held in memory", () => sources.saves().held);
    gauge("realmgate_store_save_failures_total", "Profile writes that failed", () => sources.saves().failures);
    gauge("realmgate_store_saves_total", "Profile writes that succeeded", () => sources.saves().saves);
    gauge("realmgate_store_up", "1 while the store takes writes (its write probe succeeds), 0 while it does not", () =>
      sources.storeUp
        ? sources.storeUp()
        : sources.saves().consecutiveFailures === 0 && sources.events().consecutiveFailures === 0
          ? 1
          : 0,
    );
    gauge("realmgate_events_buffered", "Game events waiting to be written", () => sources.events().buffered);
    gauge("realmgate_events_written_total", "Game events written to the event log", () => sources.events().written);
    gauge(
      "realmgate_events_lost_total",
      "Game events dropped because the buffer was full",
      () => sources.events().lost,
    );
    gauge("realmgate_redis_up", "1 while Redis is connected, 0 while it is not (absent without Redis)", () =>
      sources.redisUp?.(),
    );
  }

  track(room: RoomProbe): () => void {
    this.rooms.add(room);
    return () => this.rooms.delete(room);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

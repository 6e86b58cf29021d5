/**
 * What a room reports about itself: bytes sent per client (patches apart from messages), round
 * trips, tick durations, refusals and drops, and the room in the metrics registry.
 */
import { Protocol, type Client } from "@colyseus/core";
import type { Metrics } from "../telemetry/metrics.js";

export class RoomTelemetry {
  private readonly labels: { room: string; world: string };
  private readonly untrack: () => void;
  private readonly unsent = { patch: 0, message: 0 };

  constructor(
    private readonly metrics: Metrics,
    kind: string,
    world: string,
    room: { clientCount(): number; stateBytes(): number },
  ) {
    this.labels = { room: kind, world };
    this.untrack = metrics.track({
      kind,
      world,
      get clientCount() {
        return room.clientCount();
      },
      stateBytes: () => room.stateBytes(),
      flushBytes: () => this.flushBytes(),
    });
  }

  /**
   * Counts every byte sent to this client, split into state patches and messages: in plain numbers
   * here, added to the metric when it is read (`flushBytes`), as a counter update per send costs
   * more than the count.
   */
  countBytes(client: Client): void {
    const unsent = this.unsent;
    const raw = client.raw.bind(client);
    client.raw = (data, ...rest) => {
      const code = data[0] & 0x1f; // the protocol code, without modifier bits (PROTOCOL_CODE_MASK)
      if (code === Protocol.ROOM_STATE || code === Protocol.ROOM_STATE_PATCH) unsent.patch += data.byteLength;
      else unsent.message += data.byteLength;
      return raw(data, ...rest);
    };
  }

  private flushBytes(): void {
    const { patch, message } = this.unsent;
    if (patch > 0) this.metrics.bytesSent.inc({ ...this.labels, kind: "patch" }, patch);
    if (message > 0) this.metrics.bytesSent.inc({ ...this.labels, kind: "message" }, message);
    this.unsent.patch = this.unsent.message = 0;
  }

  /** Pings each connected client at the WebSocket level and records the round trip. */
  sampleRtt(clients: Iterable<Client>): void {
    const histogram = this.metrics.rtt.labels(this.labels);
    for (const client of clients) {
      const ws = (client as Client & { ref?: WebSocketLike }).ref;
      if (!ws?.ping || !ws.once || ws.readyState !== 1) continue;
      const sent = performance.now();
      ws.once("pong", () => histogram.observe((performance.now() - sent) / 1000));
      ws.ping();
    }
  }

  /** Times one simulation step. */
  timeTick(step: () => void): void {
    const started = performance.now();
    step();
    this.metrics.tickDuration.labels({ room: this.labels.room }).observe((performance.now() - started) / 1000);
  }

  message(type: string) {
    return this.metrics.messages.labels({ room: this.labels.room, type });
  }
  refused(code: string): void {
    this.metrics.rejects.inc({ ...this.labels, code });
  }
  dropped(): void {
    this.metrics.drops.inc(this.labels);
  }
  reconnected(): void {
    this.metrics.reconnections.inc(this.labels);
  }
  failedReconnection(): void {
    this.metrics.failedReconnections.inc(this.labels);
  }
  dispose(): void {
    this.flushBytes();
    this.untrack();
  }
}

interface WebSocketLike {
  ping?: () => void;
  once?: (event: string, listener: () => void) => void;
  readyState?: number;
}

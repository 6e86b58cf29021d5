/**
 * The game event log: combat, loot, travel and anti-cheat refusals, appended with a per-room
 * sequence and a timestamp. Events are buffered and written in batches (a room never waits on
 * the store); a failed batch stays buffered and is retried with backoff. The buffer is bounded:
 * past `maxBuffered` the oldest events are dropped and counted as lost, and that is logged.
 */
import { backoffMs } from "./backoff.js";
import type { Logger } from "pino";
import type { GameEvent, Store } from "./store.js";

export interface EventLogOptions {
  flushMs: number;
  /** Events older than this are deleted (SQLite) or expire by TTL index (MongoDB). */
  ttlMs: number;
  maxBuffered: number;
  /** Events per write. */
  batchSize?: number;
}

export interface EventStats {
  buffered: number;
  written: number;
  lost: number;
  failures: number;
  consecutiveFailures: number;
}

export class EventLog {
  private readonly seqs = new Map<string, number>();
  private buffer: GameEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private retryAt = 0;
  private readonly stats = { written: 0, lost: 0, failures: 0, consecutiveFailures: 0 };

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly options: EventLogOptions,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushMs);
    this.pruneTimer ??= setInterval(() => void this.prune(), Math.min(this.options.ttlMs, 60_000));
    this.timer.unref();
    this.pruneTimer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    this.timer = this.pruneTimer = undefined;
  }

  /** Appends an event to the room's log and returns its sequence number. */
  record(roomId: string, type: string, data: Record<string, unknown>, at = Date.now()): number {
    const seq = (this.seqs.get(roomId) ?? 0) + 1;
    this.seqs.set(roomId, seq);
    this.buffer.push({ roomId, seq, at, type, data });
    if (this.buffer.length > this.options.maxBuffered) {
      const dropped = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, dropped);
      this.stats.lost += dropped;
      this.log.error({ lost: dropped, totalLost: this.stats.lost }, "event log buffer full; oldest events dropped");
    }
    return seq;
  }

  /** The room is gone: its sequence counter is no longer needed. */
  forget(roomId: string): void {
    this.seqs.delete(roomId);
  }

  snapshot(): EventStats {
    return { ...this.stats, buffered: this.buffer.length };
  }

  get failing(): boolean {
    return this.stats.consecutiveFailures > 0;
  }

  /** The store takes writes again (or the server is stopping): end the backoff and write now. */
  retryNow(): Promise<void> {
    this.retryAt = 0;
    return this.flush();
  }

  /** Puts back events an earlier run could not write (replayed from the spill), ahead of new ones. */
  requeue(events: readonly GameEvent[]): void {
    this.buffer.unshift(...events);
  }

  /** Everything buffered and not yet written (for the shutdown spill). */
  unwritten(): GameEvent[] {
    return [...this.buffer];
  }

  /** Writes everything buffered so far (in batches); resolves when done or when a batch fails. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0 || Date.now() < this.retryAt) return;
    this.flushing = (async () => {
      const size = this.options.batchSize ?? 1000;
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, size);
        try {
          await this.store.appendEvents(batch);
        } catch (err) {
          this.stats.failures++;
          this.stats.consecutiveFailures++;
          const delay = backoffMs(this.stats.consecutiveFailures, { capMs: 30_000 });
          this.retryAt = Date.now() + delay;
          this.log.warn({ err, buffered: this.buffer.length, retryInMs: delay }, "event log write failed; will retry");
          return;
        }
        // Drop exactly what was written: events recorded meanwhile went behind it, and an
        // overflow meanwhile may have dropped some of it from the front already.
        this.buffer.splice(0, this.buffer.indexOf(batch[batch.length - 1]) + 1);
        this.stats.written += batch.length;
        this.stats.consecutiveFailures = 0;
        this.retryAt = 0;
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async prune(): Promise<void> {
    try {
      const removed = await this.store.pruneEvents(Date.now() - this.options.ttlMs);
      if (removed > 0) this.log.debug({ removed }, "expired events pruned");
    } catch (err) {
      this.log.warn({ err }, "pruning expired events failed");
    }
  }
}

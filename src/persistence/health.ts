/**
 * The store's health, probed: a real write (`Store.probe`) every `intervalMs` while the store is
 * up and every `downIntervalMs` while it is down, so `/health` says what is true within about a
 * second of a change, whatever the profiles are doing. One failed write elsewhere (a profile, an
 * account) asks for a probe at once (`suspect`), and the write-behind waits for `up` to retry.
 *
 * Emits `up` and `down` (reason) on changes.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Store } from "./store.js";

export interface StoreHealthOptions {
  intervalMs?: number;
  downIntervalMs?: number;
  /** A probe that has not answered after this long counts as failed. */
  timeoutMs?: number;
}

export interface StoreHealthState {
  up: boolean;
  /** Why the store is down, from the probe's error. */
  reason: string | null;
  /** Epoch ms of the last change (or of the start). */
  since: number;
  /** Epoch ms of the last probe's answer. */
  checkedAt: number;
}

export class StoreHealth extends EventEmitter {
  private state: StoreHealthState = { up: true, reason: null, since: Date.now(), checkedAt: 0 };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | null = null;
  private running = false;
  private readonly intervalMs: number;
  private readonly downIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    options: StoreHealthOptions = {},
  ) {
    super();
    this.intervalMs = options.intervalMs ?? 1000;
    this.downIntervalMs = options.downIntervalMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 1500;
  }

  get up(): boolean {
    return this.state.up;
  }

  snapshot(): StoreHealthState {
    return { ...this.state };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A write failed somewhere: probe now rather than at the next interval. */
  suspect(): void {
    void this.check();
  }

  /** Probes now (joining a probe already under way); resolves with whether the store is up. */
  check(): Promise<boolean> {
    this.inFlight ??= this.probeOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => void this.check().finally(() => this.schedule()),
      this.state.up ? this.intervalMs : this.downIntervalMs,
    );
    this.timer.unref();
  }

  private async probeOnce(): Promise<boolean> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.probe(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`the store did not answer a write within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      this.set(true, null);
    } catch (err) {
      this.set(false, String((err as Error)?.message ?? err));
    } finally {
      clearTimeout(timeout);
    }
    return this.state.up;
  }

  private set(up: boolean, reason: string | null): void {
    const now = Date.now();
    const changed = up !== this.state.up;
    const lastedMs = now - this.state.since;
    this.state = { up, reason, since: changed ? now : this.state.since, checkedAt: now };
    if (!changed) return;
    if (up) {
      this.log.info({ downMs: lastedMs }, "the store takes writes again");
      this.emit("up");
    } else {
      this.log.warn({ reason }, "the store refuses writes");
      this.emit("down", reason);
    }
    // A change of pace: probe sooner while down.
    if (this.running) this.schedule();
  }
}

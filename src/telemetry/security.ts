/**
 * Security signals: every suspicious event is counted (`realmgate_security_signals_total`, for
 * alert rules) and logged as a structured line, at most one line per signal and world every
 * `logEveryMs` (with how many were folded into it), so that a flood of cheats cannot flood logs.
 */
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

export type SecuritySignal =
  | "auth_failure"
  | "invalid_action"
  | "rate_limited"
  | "stale_seq"
  | "flood_disconnect"
  | "malformed_disconnect"
  | "fingerprint_mismatch"
  | "address_change";

/** A signal as kept for one user (src/auth/guard.ts). */
export interface UserSignalRecord {
  signal: string;
  at: number;
  room: string;
  world: string;
  reason?: string;
}

export interface SignalContext {
  room: string;
  world: string;
  [key: string]: unknown;
}

export class SecuritySignals {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  /** Called with each signal whose context names a `userId` (src/auth/guard.ts keeps the recent ones). */
  onUserSignal: ((userId: string, record: UserSignalRecord) => void) | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly logEveryMs = 10_000,
  ) {}

  signal(signal: SecuritySignal, ctx: SignalContext, now = Date.now()): void {
    this.metrics.security.inc({ signal, room: ctx.room, world: ctx.world });
    if (typeof ctx.userId === "string") {
      const reason = typeof ctx.reason === "string" ? { reason: ctx.reason } : {};
      this.onUserSignal?.(ctx.userId, { signal, at: now, room: ctx.room, world: ctx.world, ...reason });
    }
    const key = `${signal}|${ctx.world}`;
    const last = this.lastLogged.get(key);
    if (last && now - last.at < this.logEveryMs) {
      last.suppressed++;
      return;
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    this.log.warn(
      { security: signal, ...ctx, suppressedSinceLast: last?.suppressed ?? 0 },
      `security signal: ${signal}`,
    );
  }
}

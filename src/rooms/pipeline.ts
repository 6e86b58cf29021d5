/**
 * The message pipeline every room runs: rate limit → shape → seq → rule. Refusals go back as
 * `reject {seq, action, code, message}`; clients far past a limit, or sending malformed payloads
 * again and again, are disconnected. Nothing here throws on a client's input.
 */
import type { z } from "zod";
import { policy, type RateClass } from "../content/policy.js";
import type { Refusal, Verdict } from "../domain/result.js";
import { CloseCodes, CloseReason, RejectCode } from "../protocol/codes.js";
import type { SecuritySignal } from "../telemetry/security.js";
import { loopStall } from "../telemetry/loopLag.js";
import { describeIssue, seqOf } from "../validators/messages.js";
import { fullBucket, strike, take } from "../validators/rateLimit.js";
import { checkSeq } from "../validators/seq.js";
import type { Seat } from "./seats.js";

export interface PipelineHost {
  /** Tells the client, counts the refusal, raises the security signal. */
  refuse(seat: Seat, action: string, seq: number | null, refusal: Refusal): void;
  /** Ends the session on purpose (no reconnection window). */
  expel(seat: Seat, code: number, reason: string, signal: SecuritySignal): void;
}

export class Pipeline {
  constructor(private readonly host: PipelineHost) {}

  /**
   * Runs one message of a known type through the checks, then `rule` with the parsed payload.
   * `seq` is taken only when the rule accepts.
   */
  run<S extends z.ZodType>(
    seat: Seat,
    type: string,
    payload: unknown,
    spec: { schema: S; rate: RateClass },
    rule: (message: z.infer<S>) => Verdict | void,
  ): void {
    if (!this.withinRate(seat, spec.rate))
      return this.host.refuse(seat, type, seqOf(payload), {
        ok: false,
        code: RejectCode.RateLimited,
        message: `too many '${type}' messages; slow down`,
      });
    const parsed = spec.schema.safeParse(payload);
    if (!parsed.success) return this.malformed(seat, type, payload, describeIssue(parsed.error));
    const message = parsed.data as z.infer<S> & { seq?: number };
    if (message.seq !== undefined) {
      const fresh = checkSeq(seat.lastSeq, message.seq);
      if (!fresh.ok) return this.host.refuse(seat, type, message.seq, fresh);
    }
    const verdict = rule(message);
    if (verdict && !verdict.ok) return this.host.refuse(seat, type, message.seq ?? null, verdict);
    if (message.seq !== undefined) seat.lastSeq = message.seq;
  }

  /** A message type the room does not know: malformed input, limited as `other`. */
  unknown(seat: Seat, type: string, payload: unknown): void {
    const name = type.slice(0, 64);
    if (this.withinRate(seat, "other")) this.malformed(seat, name, payload, `unknown message type '${name}'`);
  }

  /**
   * Rates are measured on the monotonic clock, and a backlog delivered at once after an event-loop
   * stall (a stall is not the client's doing) may also spend what the stall's length earned.
   */
  private withinRate(seat: Seat, rate: RateClass): boolean {
    const spec = policy.rates[rate];
    const now = performance.now();
    const stall = loopStall(now);
    const result = take(seat.buckets.get(rate) ?? fullBucket(spec, stall?.start ?? now), spec, now, stall);
    seat.buckets.set(rate, result.bucket);
    if (result.allowed) return true;
    const flood = strike(seat.floodStrikes, policy.flood, now);
    seat.floodStrikes = flood.times;
    if (flood.out)
      this.host.expel(
        seat,
        CloseCodes.Flooding,
        `${CloseReason.Flooding}: far past the message rate limit`,
        "flood_disconnect",
      );
    return false;
  }

  private malformed(seat: Seat, type: string, payload: unknown, detail: string): void {
    this.host.refuse(seat, type, seqOf(payload), { ok: false, code: RejectCode.InputInvalid, message: detail });
    const strikes = strike(seat.malformedStrikes, policy.malformed, performance.now());
    seat.malformedStrikes = strikes.times;
    if (strikes.out)
      this.host.expel(
        seat,
        CloseCodes.MalformedInput,
        `${CloseReason.MalformedInput}: too many malformed messages`,
        "malformed_disconnect",
      );
  }
}

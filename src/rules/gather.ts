import { RejectCode } from "../protocol/codes.js";
import { within, type Point } from "../domain/geometry.js";
import { refuse, type Verdict } from "../domain/result.js";

export interface GatherPolicy {
  /** Most distance between a gatherer and the resource. */
  range: number;
  /** Least time between two gathers by the same player. */
  cooldownMs: number;
}

export interface GatherSource extends Point {
  amount: number;
  item: string;
  /** How much one gather yields (less if fewer remain). */
  yield: number;
}

/** Checks a gather by `actor` at room time `now`; on success says how much it takes. */
export function checkGather(
  actor: Point & { lastGatherAt: number },
  source: GatherSource,
  ctx: { now: number; policy: GatherPolicy },
): Verdict<{ item: string; qty: number }> {
  if (ctx.now - actor.lastGatherAt < ctx.policy.cooldownMs) {
    return refuse(
      RejectCode.GatherCooldown,
      `gathering again needs ${Math.ceil(ctx.policy.cooldownMs - (ctx.now - actor.lastGatherAt))} ms more`,
    );
  }
  if (!within(actor, source, ctx.policy.range)) {
    return refuse(RejectCode.GatherOutOfRange, `the resource is more than ${ctx.policy.range} away`);
  }
  if (source.amount <= 0) return refuse(RejectCode.GatherDepleted, "the resource is depleted");
  return { ok: true, item: source.item, qty: Math.min(source.yield, source.amount) };
}

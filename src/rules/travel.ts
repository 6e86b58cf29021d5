import type { WorldTemplate } from "../content/worlds.js";
import { RejectCode } from "../protocol/codes.js";
import { within, type Point } from "../domain/geometry.js";
import { refuse, type Verdict } from "../domain/result.js";

export interface TravelPolicy {
  range: number;
  capacity: number;
  cooldownMs: number;
  arrivalOffset: number;
}

type Portal = WorldTemplate["portals"][number];

/**
 * Checks a travel request: the portal exists here, the traveller stands near it, did not arrive
 * through a portal moments ago, and the portal has room for another transfer.
 */
export function checkTravel(
  traveller: Point & { arrivedAt: number },
  portal: Portal | undefined,
  ctx: { now: number; inFlight: number; policy: TravelPolicy },
): Verdict<{ portal: Portal }> {
  if (!portal) return refuse(RejectCode.TravelNoPortal, "there is no such portal in this world");
  if (!within(traveller, portal, ctx.policy.range))
    return refuse(RejectCode.TravelOutOfRange, `the portal is more than ${ctx.policy.range} away`);
  if (traveller.arrivedAt > 0 && ctx.now - traveller.arrivedAt < ctx.policy.cooldownMs) {
    return refuse(
      RejectCode.TravelCooldown,
      `portals need ${Math.ceil((ctx.policy.cooldownMs - (ctx.now - traveller.arrivedAt)) / 1000)} s more`,
    );
  }
  if (ctx.inFlight >= (portal.capacity ?? ctx.policy.capacity))
    return refuse(RejectCode.TravelTargetFull, "the portal is busy; try again in a moment");
  return { ok: true, portal };
}

/** Where a traveller appears: beside the exit portal, stepped toward the middle of the map. */
export function arrivalPoint(target: Pick<WorldTemplate, "width" | "height">, exit: Point, offset: number): Point {
  const dx = target.width / 2 - exit.x;
  const dy = target.height / 2 - exit.y;
  const d = Math.hypot(dx, dy) || 1;
  return { x: Math.round(exit.x + (dx / d) * offset), y: Math.round(exit.y + (dy / d) * offset) };
}

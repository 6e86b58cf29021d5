import { distance, type Point } from "../domain/geometry.js";
import { refuse, type Verdict } from "../domain/result.js";
import { RejectCode } from "../protocol/codes.js";
import { inBounds, segmentBlocked, type TileMap } from "../domain/tilemap.js";

/** What the movement check needs to know about a body. */
export interface Mover extends Point {
  /** Distance the body may still cover, earned by time since its last accepted move. */
  moveBudget: number;
  /** Room time (ms) of the last accepted move, or of the join. */
  lastMoveAt: number;
}

export interface MovePolicy {
  /** Most a body may move, in units per second. */
  speed: number;
  /**
   * Most time (ms) of standing still that counts toward the next step. Without a cap a client
   * could stand still for a minute and then teleport a minute's worth of distance.
   */
  maxBankMs: number;
  /** Fraction of slack for clock jitter between client and server (0.1 = 10 %). */
  tolerance: number;
}

/**
 * Checks a step from the body's position to `requested` (rounded to whole units) at room time `now`.
 *
 * The allowance is a budget: each accepted move spends its length, and time since the last
 * accepted move earns `speed × dt` back, capped at `speed × maxBankMs`. A budget (rather than
 * comparing each step with its own dt) absorbs network jitter: two moves that arrive close
 * together after a delay are fine, because the delay earned the distance they cover.
 */
export function checkMove(
  body: Mover,
  requested: Point,
  ctx: { now: number; map: TileMap; policy: MovePolicy },
): Verdict<{ x: number; y: number; moveBudget: number; lastMoveAt: number }> {
  const { now, map, policy } = ctx;
  // Positions are whole units (a twentieth of a tile): the target is rounded before any check.
  // On the wire that makes a coordinate a small integer (3 bytes) instead of a float (5 bytes).
  const target = { x: Math.round(requested.x), y: Math.round(requested.y) };
  if (!inBounds(map, target)) {
    return refuse(
      RejectCode.MoveOutOfBounds,
      `(${target.x}, ${target.y}) lies outside the ${map.width}×${map.height} map`,
    );
  }
  const elapsedMs = Math.max(0, now - body.lastMoveAt);
  const cap = (policy.speed * policy.maxBankMs) / 1000;
  const budget = Math.min(cap, body.moveBudget + (policy.speed * elapsedMs) / 1000);
  const step = distance(body, target);
  if (step > budget * (1 + policy.tolerance) + 1e-6) {
    return refuse(
      RejectCode.MoveTooFast,
      `a step of ${step.toFixed(1)} exceeds the ${budget.toFixed(1)} allowed by speed ${policy.speed}/s`,
    );
  }
  if (segmentBlocked(map, body, target)) {
    return refuse(RejectCode.MoveBlocked, "the step crosses a blocked tile");
  }
  return { ok: true, x: target.x, y: target.y, moveBudget: Math.max(0, budget - step), lastMoveAt: now };
}

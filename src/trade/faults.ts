/**
 * The test-only fault hook of the trade commit: with `TRADE_FAULT=<point>` (refused when
 * NODE_ENV=production, see src/config.ts) the process kills itself with SIGKILL when it reaches
 * that point, as a crash would, so the fault tests can check recovery at every step.
 *
 * - `offered`: the sender's process, once the offer is stored and sent;
 * - `prepared`: a process once it has written an escrow (the coordinator: once both sides have);
 * - `committed`: the coordinator right after the commit point; a side's process as a settle reaches it;
 * - `cleanup`: once a side is settled (the coordinator: both), before the record is closed.
 */
import type { Logger } from "../log.js";

export type FaultPoint = "offered" | "prepared" | "committed" | "cleanup";

export function tradeFault(point: FaultPoint, log: Logger): void {
  log.fatal({ point }, "TRADE_FAULT: killing this process");
  process.kill(process.pid, "SIGKILL");
}

/**
 * Exponential backoff, the one formula every store retry uses: `baseMs` doubled per consecutive
 * failure, capped at `capMs`.
 */
export function backoffMs(failures: number, { baseMs = 250, capMs }: { baseMs?: number; capMs: number }): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
}

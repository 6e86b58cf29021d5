/**
 * Detects stalls of the event loop (a long task, a GC pause, a stopped process) as they happen, so
 * that a backlog of client messages delivered all at once after one is not taken for a flood
 * (see `take` in validators/rateLimit.ts).
 *
 * A heartbeat timer notes when the loop last turned. Messages that are handled long after the last
 * beat were queued behind a long task: the loop is catching up right now, before the timer had a
 * chance to run (I/O is served before late timers when the loop wakes). Past stalls are kept until
 * their backlog has drained. Times are `performance.now()` ms, the clock rooms read.
 */
import { drainMs, type Stall } from "../validators/rateLimit.js";

/** How often the heartbeat runs. */
const BEAT_MS = 20;
/** A gap between beats longer than this is a stall. */
const STALL_MS = 150;

let lastBeat = 0;
let last: Stall | null = null;
let timer: NodeJS.Timeout | undefined;

function beat(): void {
  const now = performance.now();
  if (lastBeat > 0 && now - lastBeat > STALL_MS) last = { start: lastBeat, end: now };
  lastBeat = now;
}

/**
 * The stall whose backlog is being handled at `now`, if any: the one under way (the loop has not
 * beaten for a while) or the last one, while it drains. Starts the heartbeat on first use.
 */
export function loopStall(now = performance.now()): Stall | null {
  if (!timer) {
    timer = setInterval(beat, BEAT_MS);
    timer.unref();
    lastBeat = now;
  }
  if (now - lastBeat > STALL_MS) return { start: lastBeat, end: now };
  return last && now <= last.end + drainMs(last) ? last : null;
}

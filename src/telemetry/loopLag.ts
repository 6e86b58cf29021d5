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

let lastBeat = performance.now();
let last: Stall | null = null;

function beat(): void {
  const now = performance.now();
  if (now - lastBeat > STALL_MS) last = { start: lastBeat, end: now };
  lastBeat = now;
}

// Beats from the moment a room module loads (a stall before the first message counts too), and
// never keeps the process alive by itself.
setInterval(beat, BEAT_MS).unref();

/**
 * The stall whose backlog is being handled at `now`, if any: the one under way (the loop has not
 * beaten for a while) or the last one, while it drains.
 */
export function loopStall(now = performance.now()): Stall | null {
  if (now - lastBeat > STALL_MS) return { start: lastBeat, end: now };
  return last && now <= last.end + drainMs(last) ? last : null;
}

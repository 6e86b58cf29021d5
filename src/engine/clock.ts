/**
 * Fixed-step time for simulations: step `k` runs at the nominal time `base + k·dtMs`, whatever the
 * timer's jitter, so a replay knows every step's time from the base alone. The room's timer asks
 * `due(now)` how many steps are owed. After a stall of the event loop, at most `maxCatchUp` steps
 * run at once and the rest are forgiven by moving the base forward: a jump, which the room records
 * so that a replay can make the same one.
 */
export class FixedStep {
  /** Steps run so far. */
  tick = 0;

  constructor(
    public base: number,
    readonly dtMs: number,
    readonly maxCatchUp: number,
  ) {}

  /** Nominal time of step `tick`. */
  timeOf(tick: number): number {
    return this.base + tick * this.dtMs;
  }

  /** How many steps are owed at real time `now`, and by how many ms the base moved (0 without a stall). */
  due(now: number): { steps: number; jump: number } {
    const owed = Math.floor((now - this.base) / this.dtMs) - this.tick;
    if (owed <= this.maxCatchUp) return { steps: Math.max(0, owed), jump: 0 };
    const jump = (owed - this.maxCatchUp) * this.dtMs;
    this.base += jump;
    return { steps: this.maxCatchUp, jump };
  }
}

/**
 * A bounded, fair work queue for expensive password hashing (scrypt costs 128 MiB and about half a
 * second). At most `concurrency` tasks run at once; waiting tasks are kept per key (the client's
 * address) and served round-robin, one per key in turn, so a burst from one address waits behind
 * itself and never in front of another address's login. A key may hold at most `maxPerKey` tasks
 * (running or waiting) and the queue at most `maxQueued` waiting: past either, `run` refuses at
 * once with `QueueFullError`, which says when a retry is worth it.
 */

export interface QueueLimits {
  concurrency: number;
  maxQueued: number;
  maxPerKey: number;
}

export class QueueFullError extends Error {
  override name = "QueueFullError";
  constructor(
    /** `key`: this key holds too many tasks; `all`: the queue is full. */
    readonly scope: "key" | "all",
    readonly retryAfterMs: number,
  ) {
    super(scope === "key" ? "too many password checks from this address at once" : "password checks are saturated");
  }
}

interface Task {
  start(): void;
}

export class FairQueue {
  /** Waiting tasks by key; a key is present only while it has some, in the order keys are served. */
  private readonly waiting = new Map<string, Task[]>();
  /** Tasks of each key, running or waiting. */
  private readonly held = new Map<string, number>();
  private running = 0;
  private queued = 0;
  /** Moving average of a task's duration, for Retry-After. */
  private avgMs: number;

  constructor(
    private readonly limits: QueueLimits,
    expectedMs = 500,
  ) {
    this.avgMs = expectedMs;
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.queued };
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const held = this.held.get(key) ?? 0;
    if (held >= this.limits.maxPerKey) throw new QueueFullError("key", this.avgMs * (held / this.limits.concurrency));
    if (this.running >= this.limits.concurrency && this.queued >= this.limits.maxQueued)
      throw new QueueFullError("all", this.avgMs * (this.queued / this.limits.concurrency + 1));
    this.held.set(key, held + 1);
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        start: () => {
          const started = performance.now();
          this.running++;
          work()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.avgMs = this.avgMs * 0.8 + (performance.now() - started) * 0.2;
              const left = (this.held.get(key) ?? 1) - 1;
              if (left > 0) this.held.set(key, left);
              else this.held.delete(key);
              this.next();
            });
        },
      };
      const line = this.waiting.get(key);
      if (line) line.push(task);
      else this.waiting.set(key, [task]);
      this.queued++;
      this.next();
    });
  }

  /** Starts waiting tasks while slots are free: the first task of the key served longest ago. */
  private next(): void {
    while (this.running < this.limits.concurrency && this.queued > 0) {
      const [key, line] = this.waiting.entries().next().value as [string, Task[]];
      const task = line.shift()!;
      this.waiting.delete(key);
      if (line.length > 0) this.waiting.set(key, line); // to the back of the round
      this.queued--;
      task.start();
    }
  }
}

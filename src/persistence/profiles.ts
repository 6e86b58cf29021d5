/**
 * Write-behind for the profiles of players in play. A room checks a profile out when its owner
 * joins, changes it in memory and marks it dirty; dirty profiles are written in batches every
 * `intervalMs`, and at once when the owner leaves (`release`), travels, or the server stops
 * (`flushAll`). One process holds one copy of a profile, whoever checked it out: a player seated
 * in a world and a match here plays with the same object in both, and the copy is let go when
 * the last of them releases it.
 *
 * Two processes can each hold a copy (a world here, a match there). Saves are versioned, so the
 * copy written second is refused; it is then rebased (`rebaseProfile`): what it changed since it
 * was read is replayed onto the stored profile, group of fields by group, and written at once.
 * Only when both copies changed the same group is the refused one dropped, as it must not
 * overwrite the other's change; the rooms' later changes to it are then lost until the player
 * joins again (logged as an error).
 *
 * When the store fails, nothing is dropped: the profile stays dirty and in memory, and writes are
 * retried with exponential backoff. The backoff belongs to the store, not to each profile: a round
 * of writes that fails together counts as one failure, and the store's health probe (`StoreHealth`)
 * ends the backoff as soon as the store takes writes again. Each entry remembers the id of a write
 * that failed without an answer; the next attempt reuses it, so a write that did land is not
 * counted twice. Memory stays bounded because `saturated` turns new joins away once too many
 * profiles wait to be written. At shutdown, what cannot be written goes to the spill (spill.ts).
 */
import { backoffMs } from "./backoff.js";
import { policy } from "../content/policy.js";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { newProfile, rebaseProfile } from "../domain/profile.js";
import type { StoreHealth } from "./health.js";
import { StaleProfileError, type Profile, type Store } from "./store.js";

interface Entry {
  profile: Profile;
  /** The stored profile this copy was read from or last wrote: what `rebaseProfile` diffs against. */
  base: Profile | null;
  dirty: boolean;
  /** The write in progress, so that writes of one profile never overlap. */
  writing: Promise<void> | null;
  /** Id of a write that failed without a clear answer; reused until one succeeds. */
  opId: string | null;
  /**
   * How many hold it: seats on this process (a user may sit in a world and a match at once, and
   * both seats share this one copy) and steps that checked it out. At 0 it is forgotten once written.
   */
  holders: number;
}

export interface SaveStats {
  /** Profiles changed in memory and not yet written. */
  pending: number;
  /** Profiles held in memory. */
  held: number;
  saves: number;
  failures: number;
  /** Failures since the last successful write; > 0 means the store is failing now. */
  consecutiveFailures: number;
  lastLatencyMs: number;
  lastError: string | null;
}

export interface ProfileCacheOptions {
  intervalMs: number;
  /** Past this many pending profiles, `saturated` is true and joins are refused. */
  maxPending: number;
  /** First retry delay after a failure; doubles each time up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Emits `saved` (userId, latencyMs) and `failed` (userId, error) after each write attempt. */
export class ProfileCache extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private readonly stats = {
    saves: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastLatencyMs: 0,
    lastError: null as string | null,
  };

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly options: ProfileCacheOptions,
    private readonly health?: StoreHealth,
  ) {
    super();
    // The store is back: end the backoff and write what waits, now.
    health?.on("up", () => {
      this.retryAt = 0;
      void this.flushDirty();
    });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flushDirty(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = undefined;
  }

  /**
   * Loads (or creates) the profile of `account` and keeps it in memory until `release`. Every
   * checkout takes a hold that one `release` gives back; a profile already held here is shared.
   */
  async checkout(account: { userId: string; name: string }): Promise<Profile> {
    const held = this.entries.get(account.userId);
    if (held) {
      held.holders++;
      return held.profile;
    }
    let profile = await this.store.loadProfile(account.userId);
    if (!profile) {
      try {
        profile = await this.store.saveProfile(newProfile(account, policy.startingHp), randomUUID());
      } catch (err) {
        // Created concurrently by another process: read theirs.
        if (!(err instanceof StaleProfileError)) throw err;
        profile = (await this.store.loadProfile(account.userId))!;
      }
    }
    // A concurrent checkout may have won while this one awaited: keep the first.
    const raced = this.entries.get(account.userId);
    if (raced) {
      raced.holders++;
      return raced.profile;
    }
    this.entries.set(account.userId, {
      profile,
      base: structuredClone(profile),
      dirty: false,
      writing: null,
      opId: null,
      holders: 1,
    });
    return profile;
  }

  /** Marks a held profile as changed; the caller has already changed it in place. */
  touch(userId: string): void {
    const entry = this.entries.get(userId);
    if (entry) entry.dirty = true;
  }

  get(userId: string): Profile | undefined {
    return this.entries.get(userId)?.profile;
  }

  /** Whether new joins should be refused: too many profiles wait for a failing store. */
  get saturated(): boolean {
    return this.pending >= this.options.maxPending;
  }

  /** Whether the last write failed (the store is down or refusing writes). */
  get failing(): boolean {
    return this.stats.consecutiveFailures > 0;
  }

  get pending(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.dirty || e.opId) n++;
    return n;
  }

  snapshot(): SaveStats {
    return { ...this.stats, pending: this.pending, held: this.entries.size };
  }

  /**
   * Writes the profile if it changed and gives back one hold; the last one forgets it. If the
   * write fails the profile stays in memory and the background flush keeps retrying it.
   */
  async release(userId: string): Promise<void> {
    const held = this.entries.get(userId);
    if (held) held.holders = Math.max(0, held.holders - 1);
    await this.flush(userId);
    const entry = this.entries.get(userId);
    if (!entry || entry !== held || entry.holders > 0) return;
    if (!entry.dirty && !entry.opId && !entry.writing) this.entries.delete(userId);
  }

  /** Profiles not yet written, each with the id its write goes under (for the shutdown spill). */
  unwritten(): Array<{ profile: Profile; opId: string }> {
    const out: Array<{ profile: Profile; opId: string }> = [];
    for (const entry of this.entries.values()) {
      if (!entry.dirty && !entry.opId) continue;
      entry.opId ??= randomUUID();
      out.push({ profile: structuredClone(entry.profile), opId: entry.opId });
    }
    return out;
  }

  /**
   * Takes over a profile that an earlier run could not write (replayed from the spill while the
   * store is still down): held in memory by nobody and dirty, written under the same `opId` by
   * the write-behind, and handed to its owner by `checkout` if they join before it lands.
   */
  adopt(profile: Profile, opId: string): void {
    this.entries.set(profile.userId, { profile, base: null, dirty: true, writing: null, opId, holders: 0 });
  }

  /** Writes every pending profile once; resolves when all attempts are done. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.flush(id)));
  }

  private async flushDirty(): Promise<void> {
    if (Date.now() < this.retryAt) return;
    const due = [...this.entries].filter(([, e]) => (e.dirty || e.opId) && !e.writing).map(([id]) => id);
    await Promise.all(
      due.map(async (id) => {
        await this.flush(id);
        // Released while its write was failing: forget it once it is safely written.
        const entry = this.entries.get(id);
        if (entry?.holders === 0 && !entry.dirty && !entry.opId) this.entries.delete(id);
      }),
    );
  }

  /**
   * Writes one profile if dirty, after any write already in progress. Resolves true when what the
   * profile held at the call is in the store (written now, or already), false when the write
   * failed or the copy was outdated and dropped. A copy refused as outdated and rebased is written
   * again at once (`rebases` left).
   */
  async flush(userId: string, rebases = 3): Promise<boolean> {
    const entry = this.entries.get(userId);
    if (!entry) return false;
    while (entry.writing) await entry.writing;
    if (this.entries.get(userId) !== entry) return false;
    if (!entry.dirty && !entry.opId) return true;
    let written = false;
    let rebased = false;
    entry.dirty = false;
    entry.opId ??= randomUUID();
    const opId = entry.opId;
    const snapshot = structuredClone(entry.profile);
    const started = performance.now();
    entry.writing = this.store
      .saveProfile(snapshot, opId)
      .then((saved) => {
        written = true;
        entry.profile.version = saved.version;
        entry.base = { ...snapshot, version: saved.version };
        if (entry.opId === opId) entry.opId = null;
        this.stats.saves++;
        this.stats.consecutiveFailures = 0;
        this.stats.lastLatencyMs = performance.now() - started;
        this.retryAt = 0;
        this.emit("saved", userId, this.stats.lastLatencyMs);
      })
      .catch(async (err: unknown) => {
        // Someone else wrote a newer version: ours must not overwrite it, but what it changed may
        // go on top of it (then this is not a failure: the write is made again at once).
        rebased = err instanceof StaleProfileError && rebases > 0 && (await this.rebase(userId, entry));
        if (rebased) return;
        this.stats.failures++;
        this.stats.lastError = String((err as Error)?.message ?? err);
        if (err instanceof StaleProfileError) {
          this.log.error({ userId, err }, "profile changed elsewhere; dropping the outdated in-memory copy");
          this.entries.delete(userId);
        } else {
          entry.dirty = true;
          // One failure per round: writes that fail together (one batch, one outage) back off together.
          const first = Date.now() >= this.retryAt;
          if (first) {
            this.stats.consecutiveFailures++;
            const delay = backoffMs(this.stats.consecutiveFailures, {
              baseMs: this.options.backoffMs,
              capMs: this.options.maxBackoffMs ?? 30_000,
            });
            this.retryAt = Date.now() + delay;
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => void this.flushDirty(), delay);
            this.retryTimer.unref();
            this.health?.suspect();
          }
          const delay = Math.max(0, this.retryAt - Date.now());
          // One warning per round; the rest of the round at debug level.
          this.log[first ? "warn" : "debug"](
            { userId, err, retryInMs: delay, pending: this.pending },
            "profile save failed; will retry",
          );
        }
        this.emit("failed", userId, err);
      })
      .finally(() => {
        entry.writing = null;
      });
    await entry.writing;
    return rebased ? this.flush(userId, rebases - 1) : written;
  }

  /**
   * Replays this copy's changes onto the stored profile, in place (rooms hold the object), and
   * marks it for writing; false when it cannot (both changed one group, or the store did not answer).
   */
  private async rebase(userId: string, entry: Entry): Promise<boolean> {
    const theirs = await this.store.loadProfile(userId).catch(() => null);
    const rebased = entry.base && theirs && rebaseProfile(entry.base, entry.profile, theirs);
    if (!rebased || !theirs) return false;
    for (const key of Object.keys(entry.profile)) if (!(key in rebased)) delete entry.profile[key as keyof Profile];
    Object.assign(entry.profile, rebased);
    entry.base = theirs;
    entry.dirty = true;
    entry.opId = null;
    this.log.info(
      { userId, version: theirs.version },
      "profile changed elsewhere; this copy's changes rebased onto it",
    );
    return true;
  }
}

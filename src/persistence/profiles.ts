/**
 * Write-behind for the profiles of players in play. A room checks a profile out when its owner
 * joins, changes it in memory and marks it dirty; dirty profiles are written in batches every
 * `saveIntervalMs`, and once more when the owner leaves (`release`) or the server stops
 * (`flushAll`). A failed write leaves the profile dirty, so the next flush tries again.
 */
import type { Logger } from "pino";
import { newProfile } from "../rules/profile.js";
import { StaleProfileError, type Profile, type Store } from "./store.js";

interface Entry {
  profile: Profile;
  dirty: boolean;
  /** The write in progress, so that writes of one profile never overlap. */
  writing: Promise<void> | null;
}

export class ProfileCache {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flushDirty(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Loads (or creates) the profile of `account` and keeps it in memory until `release`. */
  async checkout(account: { userId: string; name: string }): Promise<Profile> {
    const held = this.entries.get(account.userId);
    if (held) return held.profile;
    let profile = await this.store.loadProfile(account.userId);
    if (!profile) {
      try {
        profile = await this.store.saveProfile(newProfile(account));
      } catch (err) {
        // Created concurrently by another process: read theirs.
        if (!(err instanceof StaleProfileError)) throw err;
        profile = (await this.store.loadProfile(account.userId))!;
      }
    }
    // A concurrent checkout may have won while this one awaited: keep the first.
    const raced = this.entries.get(account.userId);
    if (raced) return raced.profile;
    this.entries.set(account.userId, { profile, dirty: false, writing: null });
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

  get pending(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.dirty) n++;
    return n;
  }

  /** Writes the profile if it changed, then forgets it. */
  async release(userId: string): Promise<void> {
    await this.flush(userId);
    const entry = this.entries.get(userId);
    if (entry && !entry.dirty) this.entries.delete(userId);
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.flush(id)));
  }

  private async flushDirty(): Promise<void> {
    const dirty = [...this.entries].filter(([, e]) => e.dirty).map(([id]) => id);
    await Promise.all(dirty.map((id) => this.flush(id)));
  }

  /** Writes one profile if dirty, after any write already in progress. */
  async flush(userId: string): Promise<void> {
    const entry = this.entries.get(userId);
    if (!entry) return;
    while (entry.writing) await entry.writing;
    if (!entry.dirty) return;
    entry.dirty = false;
    const snapshot = structuredClone(entry.profile);
    entry.writing = this.store
      .saveProfile(snapshot)
      .then((saved) => {
        entry.profile.version = saved.version;
      })
      .catch((err: unknown) => {
        if (err instanceof StaleProfileError) {
          // Someone else wrote a newer version: ours is outdated and must not overwrite it.
          this.log.error({ userId, err }, "profile changed elsewhere; dropping the outdated in-memory copy");
          this.entries.delete(userId);
          return;
        }
        entry.dirty = true;
        this.log.warn({ userId, err }, "profile save failed; will retry");
      })
      .finally(() => {
        entry.writing = null;
      });
    await entry.writing;
  }
}

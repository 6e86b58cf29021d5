/**
 * Changes addressed to a player's profile rather than to a seat: they reach the profile wherever it
 * is held when they are delivered, as trade steps do (src/trade/trades.ts). A player who forfeited
 * a match by leaving still gets its rating: the change is made where the profile is held now (this
 * process, a room it moved to on any process, or the store when nobody holds it), and is done only
 * once a write holding it has landed.
 *
 * A change is data (it travels in a room call) applied by a pure rule keyed by an id, so delivering
 * it again, or to a second copy, changes the profile once. A copy that is outdated cannot overwrite
 * it: saves are versioned (src/persistence/store.ts). An outdated copy is rebased onto the newer
 * one where they changed different fields (src/persistence/profiles.ts), else dropped, and a change
 * that went into a dropped copy fails with it and is delivered again to the newer one.
 *
 * A change is also kept in the store from the moment it is sent until it is written
 * (`deliverKept`), so one whose process dies in between is delivered by a `sweep` on any process.
 */
import { matchMaker } from "@colyseus/core";
import { policy } from "../content/policy.js";
import type { Profile } from "../domain/profile.js";
import type { Logger } from "../log.js";
import type { ProfileCache } from "../persistence/profiles.js";
import type { Store } from "../persistence/store.js";
import { progressOf } from "../domain/social.js";
import type { Achievement } from "../content/achievements.js";
import { advance, type PlayEvent } from "../rules/achievements.js";
import { takeRating } from "../rules/match.js";
import type { Users } from "./users.js";

/**
 * A finished match's rating for one of its players (`after` of `finished`), keyed by the match.
 * `played` is the match's `finished` record for a player no longer seated there (one that forfeited
 * by leaving): its stats and achievements come with the rating, as a seated player's come from
 * the record itself (src/rooms/progress.ts).
 */
export type ProfileChange = { type: "rating"; matchId: string; rating: number; played?: PlayEvent };

/**
 * Applies a change to a profile in place: null when the profile has already taken it, else the
 * achievements it unlocked.
 */
export function applyChange(
  profile: Profile,
  change: ProfileChange,
  catalogue: Iterable<Achievement>,
  now: number,
): { unlocked: Achievement[] } | null {
  switch (change.type) {
    case "rating": {
      if (!takeRating(profile, change.matchId, change.rating)) return null;
      const played =
        change.played &&
        advance(progressOf(profile), change.played, { userId: profile.userId, sessionId: "" }, now, catalogue);
      if (!played) return { unlocked: [] };
      Object.assign(profile, played.progress);
      return { unlocked: played.unlocked };
    }
  }
}

/**
 * What a process answers for a change: written, not held here, or held here and not written
 * (the store failed): try again later.
 */
export type ChangeResult = "written" | "absent" | "failed";

/** The room method that runs a change on the process that holds the profile (KindRoom.changeProfile). */
export const PROFILE_CHANGE_CALL = "changeProfile";

export interface ProfileChangeDeps {
  profiles: ProfileCache;
  users: Users;
  log: Logger;
  achievements: Iterable<Achievement>;
  /** Where a change waits until it is written (`deliverKept`, `sweep`). */
  store: Pick<Store, "savePendingChange" | "pendingChanges" | "deletePendingChange">;
}

export class ProfileChanges {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ProfileChangeDeps) {}

  /** Sweeps every `policy.profileChanges.sweepEveryMs`, and once as soon as rooms can be reached. */
  start(): void {
    if (this.timer) return;
    const sweep = () =>
      void this.sweep().catch((err: unknown) =>
        this.deps.log.warn({ err }, "the sweep of pending profile changes failed"),
      );
    this.timer = setInterval(sweep, policy.profileChanges.sweepEveryMs);
    this.timer.unref();
    void Promise.resolve(matchMaker.onReady).then(() => this.timer && sweep());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * `deliver`, with the change kept in the store (under `id`) from now until it is written: if
   * this process dies meanwhile, a `sweep` on any process delivers it. The change applies once
   * however often it is delivered, so a sweep that meets a delivery still under way is harmless.
   */
  async deliverKept(account: { userId: string; name: string }, change: ProfileChange, id: string): Promise<boolean> {
    const { store, log } = this.deps;
    await store
      .savePendingChange({ id, userId: account.userId, name: account.name, change, at: Date.now() })
      .catch((err: unknown) =>
        log.warn({ err, id }, "a profile change could not be kept as pending; delivering it anyway"),
      );
    const written = await this.deliver(account, change);
    if (written)
      await store
        .deletePendingChange(id)
        .catch((err: unknown) => log.warn({ err, id }, "a delivered profile change is still pending; a sweep ends it"));
    return written;
  }

  /**
   * Delivers the changes kept longer than `policy.profileChanges.sweepAfterMs` (their process died,
   * or their delivery gave up) and forgets each once written; answers how many were.
   */
  async sweep(now = Date.now()): Promise<number> {
    const { store } = this.deps;
    const due = await store.pendingChanges(now - policy.profileChanges.sweepAfterMs, policy.profileChanges.sweepBatch);
    let written = 0;
    for (const { id, userId, name, change } of due) {
      if (!(await this.deliver({ userId, name }, change as ProfileChange))) continue;
      await store.deletePendingChange(id);
      written++;
    }
    return written;
  }

  /**
   * Makes the change now in this process's copy, if it holds one (every room here shares it), so
   * the next write of that copy carries it; false when this process holds no copy.
   */
  applyHeld(userId: string, change: ProfileChange): boolean {
    const profile = this.deps.profiles.get(userId);
    if (!profile) return false;
    const applied = applyChange(profile, change, this.deps.achievements, Date.now());
    if (!applied) return true;
    this.deps.profiles.touch(userId);
    if (applied.unlocked.length > 0) void this.announce(userId, applied.unlocked);
    return true;
  }

  /** Tells the player of its unlocks once they are written, wherever its session is. */
  private async announce(userId: string, unlocked: Achievement[]): Promise<void> {
    if (!(await this.deps.profiles.flush(userId))) return; // the next holder's write carries them
    for (const { id, name } of unlocked)
      await this.deps.users.deliver(userId, "achievement", { id, name }).catch((err: unknown) => {
        this.deps.log.warn({ err, userId, achievement: id }, "an unlock could not be announced");
      });
  }

  /** Makes the change in this process's copy and writes it; see `ChangeResult`. */
  async here(userId: string, change: ProfileChange): Promise<ChangeResult> {
    const { profiles } = this.deps;
    if (!this.applyHeld(userId, change)) return "absent";
    if (await profiles.flush(userId)) return "written";
    // Dropped as outdated (another copy was written first): the change goes to that one.
    return profiles.get(userId) ? "failed" : "absent";
  }

  /**
   * Delivers the change until a write holding it has landed, trying again after each pause of
   * `policy.profileChanges.retryMs`; false (logged) when it never did. `account` names the player
   * whose profile is loaded from the store if nobody holds it.
   */
  async deliver(account: { userId: string; name: string }, change: ProfileChange): Promise<boolean> {
    for (const pauseMs of [0, ...policy.profileChanges.retryMs]) {
      // A service's retry, not a room's timer: it outlives the room that asked for it.
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      try {
        if (await this.once(account, change)) return true;
      } catch (err) {
        this.deps.log.warn({ err, userId: account.userId, change }, "a profile change failed; trying again");
      }
    }
    // The copy that took it (if any) keeps it and the write-behind goes on trying; only a copy
    // dropped meanwhile would lose it.
    this.deps.log.error({ userId: account.userId, change }, "a profile change was not confirmed written; given up");
    return false;
  }

  /**
   * One attempt: this process's copy, else the copy of each room the player sits in (on any
   * process), else the store's, checked out here for the change. A room that does not answer is
   * only bypassed once its process is known dead, so a live copy is never written around.
   */
  private async once(account: { userId: string; name: string }, change: ProfileChange): Promise<boolean> {
    const { userId } = account;
    const local = await this.here(userId, change);
    if (local !== "absent") return local === "written";
    for (const seat of await this.deps.users.where(userId)) {
      let result: ChangeResult;
      try {
        result = (await matchMaker.remoteRoomCall(
          seat.roomId,
          PROFILE_CHANGE_CALL,
          [userId, change],
          policy.profileChanges.callTimeoutMs,
        )) as ChangeResult;
      } catch (err) {
        const [room] = (await matchMaker.query({ roomId: seat.roomId })) as { processId: string }[];
        const alive = room ? ((await matchMaker.healthCheckProcessId(room.processId)) as boolean) : false;
        if (alive) {
          this.deps.log.warn({ err, userId, roomId: seat.roomId }, "the room holding a profile did not answer");
          return false;
        }
        continue; // its process is gone, and its copy with it
      }
      if (result !== "absent") return result === "written";
    }
    // Nobody holds it: the stored profile is the one to change.
    await this.deps.profiles.checkout(account);
    try {
      return (await this.here(userId, change)) === "written";
    } finally {
      await this.deps.profiles.release(userId);
    }
  }
}

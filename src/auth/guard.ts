/**
 * Session security (PROTOCOL §8): token revocation, bans, device pinning, address changes, the
 * per-account failed-login limit, and each user's recent security signals. All of it lives in
 * `SharedState`: Redis with a TTL when REDIS_URL is set, so every process sees a logout or a ban at
 * once and nothing outlives its use; one process's memory otherwise (then that process is the whole
 * cluster, and a restart forgets bans and revocations: see README, "Security").
 *
 * Keys: `revoked:<jti>` until the token expires; `ban:<userId>` until the ban ends; `banned-device:<fp>`
 * (the fingerprint hash the user's tokens were pinned to, so a banned device gets no fresh guest);
 * `device:<userId>` (the last pinned fingerprint hash); `addr:<jti>` (the address of the last join
 * with that token); `login-failures:<username>`; `signals:<userId>` (the newest signals).
 */
import type { SharedState } from "../cluster/shared.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { SecuritySignals } from "../telemetry/security.js";
import { fingerprintHash, type VerifiedClaims } from "./tokens.js";

export interface Ban {
  /** Epoch ms the ban ends at. */
  until: number;
  reason: string;
  /** Epoch ms it was set. */
  at: number;
}

/** One security signal about a user, as `GET /api/admin/users/:userId` shows it. */
export interface UserSignal {
  signal: string;
  at: number;
  room: string;
  world: string;
  reason?: string;
}

export type Refusal =
  | { code: "revoked"; message: string }
  | { code: "banned"; message: string; ban: Ban }
  | { code: "fingerprint_mismatch"; message: string };

export interface GuardPolicy {
  /** Failed logins of one account within `windowMs` that lock it until the window ends. */
  loginFailures: number;
  loginWindowMs: number;
  /** How many recent signals are kept per user, and for how long after the last one. */
  signalsKept: number;
  signalsTtlMs: number;
}

const banMessage = (ban: Ban) => `banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`;

export class AccountGuard {
  constructor(
    private readonly shared: SharedState,
    private readonly security: SecuritySignals,
    private readonly metrics: Metrics,
    private readonly policy: GuardPolicy,
    /** The longest a token lives: how long a user's device is remembered for a ban. */
    private readonly tokenTtlMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    security.onUserSignal = (userId, signal) => void this.recordSignal(userId, signal).catch(() => undefined);
  }

  // --- tokens ---------------------------------------------------------------------------------

  /** Revokes one token on every process until it expires. */
  async revoke(claims: Pick<VerifiedClaims, "jti" | "exp">): Promise<void> {
    const ttl = claims.exp * 1000 - this.clock();
    if (ttl <= 0) return;
    await this.shared.set(`revoked:${claims.jti}`, "1", ttl);
    this.metrics.revocations.inc();
  }

  /** Remembers the device a token was just issued for, so that a ban can cover it too. */
  async issued(userId: string, fp: string | undefined): Promise<void> {
    if (fp) await this.shared.set(`device:${userId}`, fp, this.tokenTtlMs);
  }

  /**
   * Whether a verified token may be used now: not revoked, its user not banned, and sent from the
   * device it was pinned to. A join (`ip` given) also raises `address_change` when the address
   * differs from the last join with the same token. `where` labels the signals.
   */
  async admit(
    claims: VerifiedClaims,
    seen: { fingerprint?: string; ip?: string; room: string; world: string },
  ): Promise<Refusal | undefined> {
    const refusal = await this.stillAdmitted(claims.userId, claims.jti, seen.room);
    if (refusal) return refusal;
    const ctx = { room: seen.room, world: seen.world, userId: claims.userId };
    if (claims.fp && (seen.fingerprint === undefined || fingerprintHash(seen.fingerprint) !== claims.fp)) {
      this.security.signal("fingerprint_mismatch", ctx);
      return {
        code: "fingerprint_mismatch",
        message:
          seen.fingerprint === undefined
            ? "this token is pinned to a device: send its fingerprint (join option `fingerprint` or header X-Device-Fingerprint)"
            : "this token was issued to another device",
      };
    }
    if (seen.ip) {
      const key = `addr:${claims.jti}`;
      const last = await this.shared.get(key);
      if (last !== null && last !== seen.ip) this.security.signal("address_change", ctx);
      if (last !== seen.ip) await this.shared.set(key, seen.ip, Math.max(1, claims.exp * 1000 - this.clock()));
    }
    return undefined;
  }

  /**
   * The cheap part of `admit`, for a join that passed it earlier (one round trip): whether the
   * token (`jti`, when known) has been revoked or the user banned since. `where` labels the count.
   */
  async stillAdmitted(userId: string, jti: string | undefined, where: string): Promise<Refusal | undefined> {
    const [revoked, ban] = await Promise.all([
      jti === undefined ? null : this.shared.get(`revoked:${jti}`),
      this.banOf(userId),
    ]);
    if (revoked) return { code: "revoked", message: "the token was revoked (logged out); log in again" };
    if (ban) {
      this.metrics.bannedRefusals.inc({ where });
      return { code: "banned", message: banMessage(ban), ban };
    }
    return undefined;
  }

  // --- bans -----------------------------------------------------------------------------------

  async ban(userId: string, minutes: number, reason: string): Promise<Ban> {
    const at = this.clock();
    const ban: Ban = { until: at + minutes * 60_000, reason, at };
    const ttl = ban.until - at;
    await this.shared.set(`ban:${userId}`, JSON.stringify(ban), ttl);
    const device = await this.shared.get(`device:${userId}`);
    if (device) await this.shared.set(`banned-device:${device}`, JSON.stringify(ban), ttl);
    this.metrics.bans.inc({ action: "ban" });
    return ban;
  }

  /** Lifts the ban (and its device's); false when there was none. */
  async unban(userId: string): Promise<boolean> {
    const ban = await this.banOf(userId);
    if (!ban) return false;
    await this.shared.del(`ban:${userId}`);
    const device = await this.shared.get(`device:${userId}`);
    if (device) await this.shared.del(`banned-device:${device}`);
    this.metrics.bans.inc({ action: "lift" });
    return true;
  }

  async banOf(userId: string): Promise<Ban | null> {
    const raw = await this.shared.get(`ban:${userId}`);
    return raw ? (JSON.parse(raw) as Ban) : null;
  }

  /** The ban of the device with this fingerprint (a banned user coming back as a new guest). */
  async deviceBan(fingerprint: string | undefined): Promise<Refusal | undefined> {
    if (!fingerprint) return undefined;
    const raw = await this.shared.get(`banned-device:${fingerprintHash(fingerprint)}`);
    if (!raw) return undefined;
    const ban = JSON.parse(raw) as Ban;
    this.metrics.bannedRefusals.inc({ where: "guest" });
    return { code: "banned", message: `this device is ${banMessage(ban)}`, ban };
  }

  /** The refusal of a banned user's login, counted. */
  async loginBan(userId: string): Promise<Refusal | undefined> {
    const ban = await this.banOf(userId);
    if (!ban) return undefined;
    this.metrics.bannedRefusals.inc({ where: "login" });
    return { code: "banned", message: banMessage(ban), ban };
  }

  // --- failed logins --------------------------------------------------------------------------

  private failureKey = (username: string) => `login-failures:${username.toLowerCase()}`;

  /** Milliseconds until the account may try again; 0 when it may now. */
  async lockedFor(username: string): Promise<number> {
    const key = this.failureKey(username);
    const failures = Number((await this.shared.get(key)) ?? 0);
    return failures >= this.policy.loginFailures ? this.shared.ttl(key) : 0;
  }

  async loginFailed(username: string): Promise<void> {
    await this.shared.count(this.failureKey(username), this.policy.loginWindowMs);
  }

  async loginSucceeded(username: string): Promise<void> {
    await this.shared.del(this.failureKey(username));
  }

  // --- signals --------------------------------------------------------------------------------

  async recordSignal(userId: string, signal: UserSignal): Promise<void> {
    await this.shared.push(
      `signals:${userId}`,
      JSON.stringify(signal),
      this.policy.signalsKept,
      this.policy.signalsTtlMs,
    );
  }

  /** The user's recent security signals, newest first. */
  async recentSignals(userId: string): Promise<UserSignal[]> {
    return (await this.shared.list(`signals:${userId}`)).map((raw) => JSON.parse(raw) as UserSignal);
  }
}

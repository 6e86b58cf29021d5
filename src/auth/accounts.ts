/**
 * Account use cases behind POST /auth/*: guest, register, login. Framework-free: the HTTP layer
 * parses the body and maps the results to status codes.
 */
import { randomUUID, randomInt } from "node:crypto";
import { UsernameTakenError, type Store } from "../persistence/store.js";
import type { AccountGuard, Refusal } from "./guard.js";
import { skeleton } from "./names.js";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.js";
import type { FairQueue } from "./queue.js";
import { fingerprintHash, type Tokens, type VerifiedClaims } from "./tokens.js";

export interface Session {
  token: string;
  userId: string;
  name: string;
  /** Present, and true, on a guest's session (an extension of PROTOCOL §1). */
  guest?: true;
}

/** Registered usernames may not start like this: it is how guests without a name are called. */
const GUEST_PREFIX = skeleton("Guest");

export type LoginResult =
  | { ok: true; session: Session }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "locked"; retryAfterMs: number }
  | { ok: false; reason: "banned"; refusal: Refusal };
export type RegisterResult =
  { ok: true; session: Session } | { ok: false; reason: "username_taken" | "looks_taken" | "name_reserved" };
export type GuestResult =
  | { ok: true; session: Session }
  | { ok: false; reason: "banned"; refusal: Refusal }
  | { ok: false; reason: "name_reserved" };

/** Who asks: the client's address (the password queue's key) and its device fingerprint, if sent. */
export interface Caller {
  ip: string;
  fingerprint?: string;
}

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly tokens: Tokens,
    private readonly guard: AccountGuard,
    /** Every scrypt run goes through it (src/auth/queue.ts); it throws `QueueFullError` when full. */
    private readonly passwords: FairQueue,
  ) {}

  /** A token for the user, pinned to `fp` (a fingerprint hash) when given. */
  private async session(userId: string, name: string, fp?: string): Promise<Session> {
    await this.guard.issued(userId, fp);
    return { token: await this.tokens.sign({ userId, name, ...(fp ? { fp } : {}) }), userId, name };
  }

  private pin = (caller: Caller) => (caller.fingerprint ? fingerprintHash(caller.fingerprint) : undefined);

  /** A fresh token for the holder of a valid one: same user, name and device. */
  refresh(claims: VerifiedClaims): Promise<Session> {
    return this.session(claims.userId, claims.name, claims.fp);
  }

  async guest(name: string | undefined, caller: Caller): Promise<GuestResult> {
    // A banned user's device gets no fresh guest while the ban lasts.
    const refusal = await this.guard.deviceBan(caller.fingerprint);
    if (refusal) return { ok: false, reason: "banned", refusal };
    // A guest may not take, or look like, a registered username.
    if (name !== undefined && (await this.store.findAccountBySkeleton(skeleton(name))))
      return { ok: false, reason: "name_reserved" };
    const account = await this.store.createAccount({
      userId: randomUUID(),
      username: null,
      name: name ?? `Guest-${randomInt(1000, 10000)}`,
      passwordHash: null,
    });
    const session = await this.session(account.userId, account.name, this.pin(caller));
    return { ok: true, session: { ...session, guest: true } };
  }

  async register(username: string, password: string, caller: Caller): Promise<RegisterResult> {
    const folded = skeleton(username);
    if (folded.startsWith(GUEST_PREFIX)) return { ok: false, reason: "name_reserved" };
    if (await this.store.findAccountByUsername(username)) return { ok: false, reason: "username_taken" };
    if (await this.store.findAccountBySkeleton(folded)) return { ok: false, reason: "looks_taken" };
    try {
      const account = await this.store.createAccount({
        userId: randomUUID(),
        username,
        name: username,
        passwordHash: await this.passwords.run(caller.ip, () => hashPassword(password)),
        skeleton: folded,
      });
      return { ok: true, session: await this.session(account.userId, account.name, this.pin(caller)) };
    } catch (err) {
      // Two registrations of one name, or of two look-alikes, raced past the lookups: the store's
      // unique indexes decide, and the loser gets the refusal its lookup would have given.
      if (err instanceof UsernameTakenError)
        return { ok: false, reason: err.lookalike ? "looks_taken" : "username_taken" };
      throw err;
    }
  }

  async login(username: string, password: string, caller: Caller): Promise<LoginResult> {
    // An account past its failed-login limit costs no scrypt until its window ends.
    const lockedMs = await this.guard.lockedFor(username);
    if (lockedMs > 0) return { ok: false, reason: "locked", retryAfterMs: lockedMs };
    const account = await this.store.findAccountByUsername(username);
    // Verify against a decoy when the user is unknown, so both failures take the same time.
    const stored = account?.passwordHash ?? (await decoyHash());
    const valid = await this.passwords.run(caller.ip, () => verifyPassword(password, stored));
    if (!account?.passwordHash || !valid) {
      await this.guard.loginFailed(username);
      return { ok: false, reason: "invalid_credentials" };
    }
    await this.guard.loginSucceeded(username);
    const refusal = await this.guard.loginBan(account.userId);
    if (refusal) return { ok: false, reason: "banned", refusal };
    return { ok: true, session: await this.session(account.userId, account.name, this.pin(caller)) };
  }
}

/**
 * Account use cases behind POST /auth/*: guest, register, login. Framework-free: the HTTP layer
 * parses the body and maps the results to status codes.
 */
import { randomUUID, randomInt } from "node:crypto";
import { UsernameTakenError, type Store } from "../persistence/store.js";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.js";
import type { Tokens } from "./tokens.js";

export interface Session {
  token: string;
  userId: string;
  name: string;
}

export type LoginResult = { ok: true; session: Session } | { ok: false; reason: "invalid_credentials" };
export type RegisterResult = { ok: true; session: Session } | { ok: false; reason: "username_taken" };

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly tokens: Tokens,
  ) {}

  private async session(userId: string, name: string): Promise<Session> {
    return { token: await this.tokens.sign({ userId, name }), userId, name };
  }

  async guest(name?: string): Promise<Session> {
    const account = await this.store.createAccount({
      userId: randomUUID(),
      username: null,
      name: name ?? `Guest-${randomInt(1000, 10000)}`,
      passwordHash: null,
    });
    return this.session(account.userId, account.name);
  }

  async register(username: string, password: string): Promise<RegisterResult> {
    if (await this.store.findAccountByUsername(username)) return { ok: false, reason: "username_taken" };
    try {
      const account = await this.store.createAccount({
        userId: randomUUID(),
        username,
        name: username,
        passwordHash: await hashPassword(password),
      });
      return { ok: true, session: await this.session(account.userId, account.name) };
    } catch (err) {
      // Two registrations of one name raced past the lookup: the store's unique index decides.
      if (err instanceof UsernameTakenError) return { ok: false, reason: "username_taken" };
      throw err;
    }
  }

  async login(username: string, password: string): Promise<LoginResult> {
    const account = await this.store.findAccountByUsername(username);
    // Verify against a decoy when the user is unknown, so both failures take the same time.
    const valid = await verifyPassword(password, account?.passwordHash ?? (await decoyHash()));
    if (!account?.passwordHash || !valid) return { ok: false, reason: "invalid_credentials" };
    return { ok: true, session: await this.session(account.userId, account.name) };
  }
}

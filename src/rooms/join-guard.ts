/**
 * What a join brings for session security (PROTOCOL §8): the device fingerprint, from the join
 * option `fingerprint` or the header X-Device-Fingerprint, and the join error of a guard's refusal.
 */
import { ErrorCode, ServerError, type AuthContext } from "@colyseus/core";
import type { Refusal } from "../auth/guard.js";
import type { VerifiedClaims } from "../auth/tokens.js";
import type { Services } from "../services.js";
import { CloseCodes, CloseReason, JoinErrorCode } from "../protocol/codes.js";

/**
 * The fingerprint a join sent, taken out of the options so that it reaches no room, log or
 * listing. The option wins over the header; anything but a string counts as none.
 */
export function joinFingerprint(options: Record<string, unknown> | undefined, ctx?: AuthContext): string | undefined {
  const option = options?.fingerprint;
  if (options) delete options.fingerprint;
  if (typeof option === "string") return option;
  const header = ctx?.headers?.get?.("x-device-fingerprint");
  return typeof header === "string" ? header : undefined;
}

/** The guard's verdict on a join (`AccountGuard.admit`); a guard that cannot answer (Redis down) refuses. */
export async function admitted(
  services: Services,
  claims: VerifiedClaims,
  seen: Parameters<Services["guard"]["admit"]>[1],
): Promise<Refusal | undefined> {
  try {
    return await services.guard.admit(claims, seen);
  } catch (err) {
    services.log.warn({ err, userId: claims.userId }, "session checks unavailable; join refused");
    throw new ServerError(
      ErrorCode.APPLICATION_ERROR,
      `${JoinErrorCode.PresenceUnavailable}: session checks are unavailable; try again shortly`,
    );
  }
}

/** The join error of a refusal; a revoked token reads as an invalid one (`authFailure` raises the signal). */
export function joinRefusal(refusal: Refusal, authFailure: (code: string, why: string) => ServerError): ServerError {
  switch (refusal.code) {
    case "revoked":
      return authFailure(JoinErrorCode.AuthInvalid, refusal.message);
    case "banned":
      return new ServerError(ErrorCode.AUTH_FAILED, `${JoinErrorCode.AuthBanned}: ${refusal.message}`);
    case "fingerprint_mismatch":
      return new ServerError(ErrorCode.AUTH_FAILED, `${JoinErrorCode.AuthFingerprintMismatch}: ${refusal.message}`);
  }
}

/**
 * The join's second look, in `onJoin` once its seat is recorded: a ban or a logout that landed after
 * `onAuth` admitted the join (a seat reserved before the ban, connecting after it) refuses it. A ban
 * refuses with its close code and reason (4104, `auth/banned: <reason>`), as it closes seated users;
 * a revoked token as an invalid one. One round trip (`AccountGuard.stillAdmitted`).
 */
export async function recheckJoin(
  services: Services,
  auth: { userId: string; jti?: string },
  room: string,
): Promise<ServerError | undefined> {
  const refusal = await services.guard.stillAdmitted(auth.userId, auth.jti, room).catch((err: unknown) => {
    services.log.warn({ err, userId: auth.userId }, "session checks unavailable; join refused");
    return new ServerError(
      ErrorCode.APPLICATION_ERROR,
      `${JoinErrorCode.PresenceUnavailable}: session checks are unavailable; try again shortly`,
    );
  });
  if (refusal === undefined || refusal instanceof ServerError) return refusal;
  if (refusal.code === "banned")
    return new ServerError(CloseCodes.Banned, `${CloseReason.Banned}: ${refusal.ban.reason}`);
  return new ServerError(ErrorCode.AUTH_FAILED, `${JoinErrorCode.AuthInvalid}: ${refusal.message}`);
}

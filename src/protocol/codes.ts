/**
 * Every code a client can receive, in one place. `test/codes.test.ts` ties this list to
 * docs/PROTOCOL.md, so a code cannot be added here without being documented there.
 */

/** Reasons an in-room action is refused (`reject {seq, action, code, message}`). */
export const RejectCode = {
  InputInvalid: "input/invalid",
  SeqStale: "seq/stale",
  RateLimited: "rate/limited",
  MoveTooFast: "move/too_fast",
  MoveOutOfBounds: "move/out_of_bounds",
  MoveBlocked: "move/blocked",
  ActorDead: "actor/dead",
  AttackOutOfRange: "attack/out_of_range",
  AttackCooldown: "attack/cooldown",
  AttackNoMana: "attack/no_mana",
  AttackBadTarget: "attack/bad_target",
  LootGone: "loot/gone",
  LootOutOfRange: "loot/out_of_range",
  GatherOutOfRange: "gather/out_of_range",
  GatherDepleted: "gather/depleted",
  GatherCooldown: "gather/cooldown",
  TravelOutOfRange: "travel/out_of_range",
  TravelNoPortal: "travel/no_portal",
  TravelTargetFull: "travel/target_full",
  TravelCooldown: "travel/cooldown",
  TravelUnavailable: "travel/unavailable",
  ChatEmpty: "chat/empty",
  ChatTooLong: "chat/too_long",
  TurnNotYours: "turn/not_yours",
  TurnStale: "turn/stale",
  TurnInvalid: "turn/invalid",
  MatchNotPlaying: "match/not_playing",
  MatchSpectator: "match/spectator",
  TradeOffline: "trade/offline",
  TradeSelf: "trade/self",
  TradeNotFound: "trade/not_found",
  TradeInsufficient: "trade/insufficient",
  TradeTooMany: "trade/too_many",
  /** Extension: the store failed during the commit; nothing moved, or what moved is being undone. */
  TradeUnavailable: "trade/unavailable",
  WhisperOffline: "whisper/offline",
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

/** Codes of HTTP error bodies: `{error: {code, message}}`. */
export const HttpErrorCode = {
  InputInvalid: "input/invalid",
  RateLimited: "rate/limited",
  AuthUnauthorized: "auth/unauthorized",
  Forbidden: "auth/forbidden",
  AuthInvalidCredentials: "auth/invalid_credentials",
  AuthUsernameTaken: "auth/username_taken",
  AuthBanned: "auth/banned",
  AuthFingerprintMismatch: "auth/fingerprint_mismatch",
  AuthLocked: "auth/locked",
  AuthBusy: "auth/busy",
  AuthNameReserved: "auth/name_reserved",
  NotFound: "http/not_found",
  TooLarge: "http/too_large",
  /** 429 at the socket: the address holds `MAX_CONNECTIONS_PER_ADDRESS` connections already. */
  TooManyConnections: "http/too_many_connections",
  ContentNotFound: "content/not_found",
  MatchNotFound: "match/not_found",
  MatchNotPlaying: "match/not_playing",
  DependencyDown: "dependency/down",
  FriendsNotFound: "friends/not_found",
  FriendsSelf: "friends/self",
  FriendsAlready: "friends/already",
  FriendsLimit: "friends/limit",
  LeaderboardNotFound: "leaderboard/not_found",
  /** HTTP sessions (§6): no such session (never opened, or forgotten after it closed). */
  SessionNotFound: "session/not_found",
  /** HTTP sessions (§6): the seat has ended; the poll's `closed` says why. */
  SessionClosed: "session/closed",
  /** HTTP sessions (§6): no seat could be had (no room available, the room's process unreachable). */
  SessionUnavailable: "session/unavailable",
  Internal: "server/internal",
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** Messages of a refused room join (the SDK's join promise rejects with one of these). */
export const JoinErrorCode = {
  AuthMissing: "auth/missing_token",
  AuthInvalid: "auth/invalid_token",
  AuthExpired: "auth/expired_token",
  AuthBanned: "auth/banned",
  AuthFingerprintMismatch: "auth/fingerprint_mismatch",
  InputInvalid: "input/invalid",
  StoreUnavailable: "store/unavailable",
  PresenceUnavailable: "presence/unavailable",
  NotMember: "join/not_member",
  /** Too many joins, or rooms created, by one user within a minute; the HTTP answer is a 429 with Retry-After. */
  RateLimited: "join/rate_limited",
  MatchStarted: "match/started",
  MatchFull: "match/full",
} as const;
export type JoinErrorCode = (typeof JoinErrorCode)[keyof typeof JoinErrorCode];

/**
 * WebSocket close codes the server uses besides Colyseus's own (4000 consented, 4010 server
 * shutdown, ...). Application codes live in 4100-4199.
 */
export const CloseCodes = {
  /** The same user joined a room of this kind from another connection. */
  SessionReplaced: 4101,
  /** The client kept flooding far past a rate limit. */
  Flooding: 4102,
  /** The client kept sending malformed payloads. */
  MalformedInput: 4103,
  /** An admin banned the user (PROTOCOL §8). */
  Banned: 4104,
} as const;

/** The reason codes that open the close reason of those connections (and of a portal's old one, closed with 4000). */
export const CloseReason = {
  SessionReplaced: "session/replaced",
  Flooding: "rate/flooding",
  MalformedInput: "input/repeated",
  /** With 4103 too: a payload msgpack could not decode (Colyseus's own 4002, mapped). */
  Undecodable: "input/undecodable",
  TravelDeparted: "travel/departed",
  Banned: "auth/banned",
  /** An HTTP session that was not polled for RECONNECT_SECONDS: dropped, its seat waits for a resume. */
  SessionIdle: "session/idle",
  /** An HTTP session whose seat another connection took over (`client.reconnect` or a resume). */
  SessionSwitched: "session/switched",
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/**
 * The social part of the store port (PROTOCOL §7): friend links and leaderboard ranks. Each
 * adapter implements it beside its other tables (sqlite-social.ts, postgres-social.ts,
 * mongo-social.ts), and the contract suite (test/social.contract.ts) runs on every one.
 *
 * Leaderboards are read from the profiles themselves, through an index per board on the number
 * it ranks (xp, `bests.crypt`, rating): a page is an index range, a rank is a count of the
 * scores strictly better than the player's (an index range too), and nothing is sorted in memory.
 */
import type { BoardId, FriendLink, RankedEntry } from "../domain/social.js";

export type { BoardId, FriendLink, RankedEntry } from "../domain/social.js";

/** `requested`: a new request; `friends`: the other had asked already, so this accepts it. */
export type FriendRequestOutcome = "requested" | "friends" | "already" | "limit";
export type FriendAcceptOutcome = "friends" | "not_found" | "already" | "limit";

export interface SocialStore {
  /** `userId` asks `otherId`; at most `max` friends each. */
  requestFriend(userId: string, otherId: string, max: number): Promise<FriendRequestOutcome>;
  /** `userId` accepts the request `otherId` sent. */
  acceptFriend(userId: string, otherId: string, max: number): Promise<FriendAcceptOutcome>;
  /** Removes a friendship, declines or withdraws a request, both ways; false when there was none. */
  removeFriend(userId: string, otherId: string): Promise<boolean>;
  /** Everyone `userId` is linked to, with the other's display name. */
  friendsOf(userId: string): Promise<FriendLink[]>;
  /** A page of a board in its order (ties by userId), ranked. */
  leaderboard(board: BoardId, limit: number, offset: number): Promise<RankedEntry[]>;
  /** The user's rank and score on a board; null when the board holds no score of the user. */
  rankOf(board: BoardId, userId: string): Promise<{ rank: number; score: number } | null>;
}

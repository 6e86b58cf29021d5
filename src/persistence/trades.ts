/**
 * The trade port (PROTOCOL §5): durable trade records and the compare-and-set moves of their
 * two-phase commit. Every adapter implements it; the contract suite (test/trades.contract.ts)
 * holds each to the same behaviour.
 */
import type { TradeRecord, TradeState } from "../domain/trade.js";
export type { TradeRecord, TradeState } from "../domain/trade.js";

/**
 * The columns of a trade row, in the order both SQL adapters insert them: the fields they query
 * by, then the whole record as JSON.
 */
export const tradeRow = (r: TradeRecord) =>
  [r.tradeId, r.from, r.to, r.state, r.expiresAt, r.leaseUntil, r.coordinator, JSON.stringify(r)] as const;

/** A conditional move: it lands only while the trade is in one of `from` (and, with `leaseBefore`, its lease ended). */
export interface TradeMove {
  from: readonly TradeState[];
  /** Only if `leaseUntil < leaseBefore`: how recovery takes over a trade whose coordinator went quiet. */
  leaseBefore?: number;
  set: Partial<Omit<TradeRecord, "tradeId" | "from" | "to">> & { updatedAt: number };
}

export interface TradeStore {
  /**
   * Stores a new offer, unless its sender already holds `maxOpen` open offers (state `offered`,
   * not expired at `createdAt`): then nothing is stored and it answers false. One atomic step, so
   * concurrent offers cannot pass the cap together. A retry of an offer already stored answers true.
   */
  createOffer(record: TradeRecord, maxOpen: number): Promise<boolean>;
  loadTrade(tradeId: string): Promise<TradeRecord | null>;
  /** Applies `move` if its condition holds; answers the record after it, or null when it did not land. */
  moveTrade(tradeId: string, move: TradeMove): Promise<TradeRecord | null>;
  /** Offers from or to `userId` still open at `now`, oldest first. */
  openTrades(userId: string, now: number): Promise<TradeRecord[]>;
  /** Offers still in `offered` whose time ended at or before `now` (to be closed as expired). */
  expiredOffers(now: number): Promise<TradeRecord[]>;
  /** Trades in `preparing`, `committed` or `aborted` whose lease ended before `now`, or led by `coordinator`. */
  unfinishedTrades(now: number, coordinator: string): Promise<TradeRecord[]>;
}

/**
 * A trade between two players (PROTOCOL §5) as the store keeps it: the offer, and the state of its
 * two-phase commit. The README's "Trade" section explains the states and who moves them.
 */
import type { InventoryEntry } from "./profile.js";

/**
 * - `offered`: open, waiting for the target (until `expiresAt`).
 * - `preparing`: accepted; the coordinator is escrowing both sides (holds the lease).
 * - `committed`: both sides are escrowed; from here the trade only goes forward.
 * - `aborted`: it will not happen; escrows are being handed back.
 * - `done`, `failed`: finished (`failed` = aborted and every escrow handed back).
 * - `declined`, `cancelled`, `expired`: closed before an accept.
 */
export type TradeState =
  "offered" | "preparing" | "committed" | "aborted" | "done" | "failed" | "declined" | "cancelled" | "expired";

/** States that some process still has work to do in (recovery drives them once their lease lapsed). */
export const UNFINISHED: readonly TradeState[] = ["preparing", "committed", "aborted"];

export interface TradeRecord {
  tradeId: string;
  from: string;
  fromName: string;
  to: string;
  toName: string;
  /** What `from` gives, and what it asks of `to`. */
  give: InventoryEntry[];
  gold: number;
  want: InventoryEntry[];
  wantGold: number;
  state: TradeState;
  /** Epoch ms. */
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  /** The process that drives the commit (its public address or process id), and until when it does. */
  coordinator: string | null;
  leaseUntil: number;
  /** Why an accepted trade was aborted (a refusal code), when it was. */
  reason?: string;
}

/**
 * What one side of a trade has put aside, kept in its own profile: taken out of the inventory and
 * gold at prepare, and either handed to the other side (commit) or given back (abort). A profile
 * holding an escrow of a trade has prepared it and not yet settled it.
 */
export interface Escrow {
  tradeId: string;
  items: InventoryEntry[];
  gold: number;
}

/** One side's part: what it puts in, what it gets. */
export interface Side {
  userId: string;
  puts: { items: InventoryEntry[]; gold: number };
  gets: { items: InventoryEntry[]; gold: number };
}

/** The two sides of a trade: the sender first. */
export function sidesOf(t: TradeRecord): [Side, Side] {
  const a = { items: t.give, gold: t.gold };
  const b = { items: t.want, gold: t.wantGold };
  return [
    { userId: t.from, puts: a, gets: b },
    { userId: t.to, puts: b, gets: a },
  ];
}

/** A trade message from a seated player, after its shape check (PROTOCOL §5). */
export type TradeCommand =
  | {
      type: "trade";
      seq: number;
      to: string;
      give: InventoryEntry[];
      gold: number;
      want: InventoryEntry[];
      wantGold: number;
    }
  | { type: "trade_accept" | "trade_decline" | "trade_cancel"; seq: number; tradeId: string };

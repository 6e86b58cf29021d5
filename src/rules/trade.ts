/**
 * The pure part of trade (PROTOCOL §5): whether a profile holds what a side puts in, and the three
 * changes a trade makes to one profile: escrow (prepare), settle (commit) and refund (abort). Each
 * is idempotent, keyed by the trade id and the escrow it leaves in the profile, so a step retried
 * after a crash or a timeout changes the profile once.
 */
import { addItem, type InventoryEntry, type Profile } from "../domain/profile.js";
import { refuse, type Verdict } from "../domain/result.js";
import type { Escrow } from "../domain/trade.js";
import { RejectCode } from "../protocol/codes.js";

type Holdings = Pick<Profile, "inventory" | "gold" | "escrow">;
type Bundle = { items: readonly InventoryEntry[]; gold: number };

/** Sums the quantities of each item (a list may name an item twice). */
export function totals(items: readonly InventoryEntry[]): Map<string, number> {
  const sum = new Map<string, number>();
  for (const { item, qty } of items) sum.set(item, (sum.get(item) ?? 0) + qty);
  return sum;
}

/** Whether `profile` holds every item and the gold of `bundle` (escrowed items do not count). */
export function holds(profile: Holdings, bundle: Bundle): Verdict {
  if (profile.gold < bundle.gold)
    return refuse(RejectCode.TradeInsufficient, `${bundle.gold} gold needed, ${profile.gold} held`);
  const held = totals(profile.inventory);
  for (const [item, qty] of totals(bundle.items)) {
    if ((held.get(item) ?? 0) < qty)
      return refuse(RejectCode.TradeInsufficient, `${qty} ${item} needed, ${held.get(item) ?? 0} held`);
  }
  return { ok: true };
}

function withBundle(holdings: Holdings, bundle: Bundle): Pick<Profile, "inventory" | "gold"> {
  let inventory = holdings.inventory;
  for (const [item, qty] of totals(bundle.items)) inventory = addItem(inventory, item, qty);
  return { inventory, gold: holdings.gold + bundle.gold };
}

function withoutBundle(holdings: Holdings, bundle: Bundle): Pick<Profile, "inventory" | "gold"> {
  const take = totals(bundle.items);
  const inventory = holdings.inventory
    .map((e) => ({ ...e, qty: e.qty - (take.get(e.item) ?? 0) }))
    .filter((e) => e.qty > 0);
  return { inventory, gold: holdings.gold - bundle.gold };
}

const escrowOf = (holdings: Holdings, tradeId: string): Escrow | undefined =>
  holdings.escrow?.find((e) => e.tradeId === tradeId);

const otherEscrows = (holdings: Holdings, tradeId: string): Escrow[] =>
  (holdings.escrow ?? []).filter((e) => e.tradeId !== tradeId);

/**
 * Prepare: takes `puts` out of the inventory and gold into an escrow named `tradeId`. Already
 * escrowed: unchanged. Lacking something: `trade/insufficient`, unchanged.
 */
export function escrow(holdings: Holdings, tradeId: string, puts: Bundle): Verdict<{ next: Holdings }> {
  if (escrowOf(holdings, tradeId)) return { ok: true, next: holdings };
  const verdict = holds(holdings, puts);
  if (!verdict.ok) return verdict;
  const entry: Escrow = {
    tradeId,
    items: [...totals(puts.items)].map(([item, qty]) => ({ item, qty })),
    gold: puts.gold,
  };
  return { ok: true, next: { ...withoutBundle(holdings, puts), escrow: [...otherEscrows(holdings, tradeId), entry] } };
}

/**
 * Commit: drops the escrow named `tradeId` (its goods now belong to the other side) and adds
 * `gets`. Without that escrow: unchanged (already settled).
 */
export function settle(holdings: Holdings, tradeId: string, gets: Bundle): { next: Holdings; changed: boolean } {
  if (!escrowOf(holdings, tradeId)) return { next: holdings, changed: false };
  return { next: { ...withBundle(holdings, gets), escrow: otherEscrows(holdings, tradeId) }, changed: true };
}

/** Abort: gives the escrow named `tradeId` back. Without it: unchanged (never prepared, or already refunded). */
export function refund(holdings: Holdings, tradeId: string): { next: Holdings; changed: boolean } {
  const held = escrowOf(holdings, tradeId);
  if (!held) return { next: holdings, changed: false };
  return { next: { ...withBundle(holdings, held), escrow: otherEscrows(holdings, tradeId) }, changed: true };
}

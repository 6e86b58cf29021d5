import type { Account, InventoryEntry, Profile } from "../persistence/store.js";

export const STARTING_HP = 100;

/** The profile a new player starts with. */
export function newProfile(account: Pick<Account, "userId" | "name">): Profile {
  return {
    userId: account.userId,
    name: account.name,
    level: 1,
    xp: 0,
    gold: 0,
    hp: STARTING_HP,
    inventory: [],
    location: null,
    version: 0,
  };
}

/** Adds `qty` of `item` to an inventory, stacking with what is there. Returns a new array. */
export function addItem(inventory: readonly InventoryEntry[], item: string, qty: number): InventoryEntry[] {
  const next = inventory.map((e) => ({ ...e }));
  const slot = next.find((e) => e.item === item);
  if (slot) slot.qty += qty;
  else next.push({ item, qty });
  return next;
}

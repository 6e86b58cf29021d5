import type { LootTable } from "../content/combat.js";
import { randomInt, type Rng } from "../domain/rng.js";

/** What a kill drops, if anything: one weighted entry of the table, with its quantity rolled. */
export function rollLoot(table: LootTable, rng: Rng): { item: string; qty: number } | null {
  if (rng.next() >= table.dropChance) return null;
  const total = table.entries.reduce((sum, e) => sum + e.weight, 0);
  let pick = rng.next() * total;
  for (const entry of table.entries) {
    pick -= entry.weight;
    if (pick < 0) return { item: entry.item, qty: randomInt(rng, entry.minQty, entry.maxQty) };
  }
  const last = table.entries[table.entries.length - 1];
  return { item: last.item, qty: last.minQty };
}

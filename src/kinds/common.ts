/** What several room kinds' declarations share. */
import type { Policy } from "../content/policy.js";

/**
 * The `welcome` fields of a kind whose bodies walk: the speed and the map's size, and how `speed`
 * is enforced (see docs/PROTOCOL.md): standing still banks at most `moveBankMs` of movement, and a
 * step may exceed its allowance by the fraction `moveTolerance`.
 */
export const walkingWelcome = (map: { speed: number; width: number; height: number }, policy: Policy) => ({
  speed: map.speed,
  bounds: { width: map.width, height: map.height },
  moveBankMs: policy.move.maxBankMs,
  moveTolerance: policy.move.tolerance,
});

/** The part of a schema `MapSchema` that `mirror` needs. */
interface SyncedMap<V> {
  keys(): IterableIterator<string>;
  get(key: string): V | undefined;
  set(key: string, value: V): unknown;
  delete(key: string): unknown;
}

/**
 * Mirrors a simulation's map into a synchronized one: entries gone from `source` are deleted,
 * new ones created with `make`, the rest brought up to date with `update` (which should assign
 * only what changed: schema sends every assignment).
 */
export function mirror<S, V>(
  target: SyncedMap<V>,
  source: ReadonlyMap<string, S>,
  make: (item: S) => V,
  update: (entry: V, item: S) => void,
): void {
  for (const id of target.keys()) if (!source.has(id)) target.delete(id);
  for (const [id, item] of source) {
    const entry = target.get(id);
    if (entry) update(entry, item);
    else target.set(id, make(item));
  }
}

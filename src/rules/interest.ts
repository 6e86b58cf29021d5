import type { Point } from "../domain/geometry.js";

/** Where the grid holds one id. */
interface Placed<Id> {
  id: Id;
  x: number;
  y: number;
  cell: number;
  /** Scratch for one query: the distance it ranks by, and whether it is kept. */
  rank: number;
  kept: boolean;
}

/**
 * A uniform grid over the map that answers "who is near (x, y)" without looking at everyone.
 * Cells half the query radius wide make a query read at most 5×5 cells, about twice the circle's
 * area (3×3 cells as wide as the radius would read three times it).
 */
export class SpatialGrid<Id> {
  private readonly cells = new Map<number, Set<Placed<Id>>>();
  private readonly where = new Map<Id, Placed<Id>>();
  /** Reused by every query: the candidates within the radius. */
  private readonly found: Placed<Id>[] = [];

  constructor(private readonly cellSize: number) {}

  private key(cx: number, cy: number): number {
    // Cells fit in 16 bits each way for any map below 65536 cells a side.
    return (cy << 16) | cx;
  }

  private cellOf(x: number, y: number): number {
    return this.key(Math.max(0, Math.floor(x / this.cellSize)), Math.max(0, Math.floor(y / this.cellSize)));
  }

  get size(): number {
    return this.where.size;
  }

  /** Inserts or moves `id` to `(x, y)`. */
  set(id: Id, x: number, y: number): void {
    const cell = this.cellOf(x, y);
    let placed = this.where.get(id);
    if (placed) {
      placed.x = x;
      placed.y = y;
      if (placed.cell === cell) return;
      this.unbucket(placed);
      placed.cell = cell;
    } else {
      this.where.set(id, (placed = { id, x, y, cell, rank: 0, kept: false }));
    }
    let bucket = this.cells.get(cell);
    if (!bucket) this.cells.set(cell, (bucket = new Set()));
    bucket.add(placed);
  }

  delete(id: Id): void {
    const placed = this.where.get(id);
    if (!placed) return;
    this.unbucket(placed);
    this.where.delete(id);
  }

  private unbucket(placed: Placed<Id>): void {
    const bucket = this.cells.get(placed.cell)!;
    bucket.delete(placed);
    if (bucket.size === 0) this.cells.delete(placed.cell);
  }

  /**
   * The ids within `radius` of `center` (excluding `self`), nearest first, at most `limit`.
   * Ties in distance are broken by id so the answer is stable between ticks.
   *
   * Hysteresis against churn, all inside the radius: ids not in `keep` (the ids shown now) enter
   * only within `radius - hysteresis`, while kept ids stay up to `radius` and count as
   * `hysteresis` nearer when ranked. Without it, bodies milling about at the edge or at similar
   * distances would swap in and out on every refresh, and each swap costs a full entity on the wire.
   */
  nearest(
    center: Point,
    radius: number,
    limit: number,
    self?: Id,
    keep?: { keys(): Iterable<Id> },
    hysteresis = 0,
  ): Id[] {
    if (limit <= 0) return [];
    // Marked once here rather than looked up per candidate: a crowd has many times more candidates.
    this.mark(keep, true);
    const r2 = radius * radius;
    const enter2 = Math.max(0, radius - hysteresis) ** 2;
    const found = this.found;
    const minCx = Math.max(0, Math.floor((center.x - radius) / this.cellSize));
    const maxCx = Math.floor((center.x + radius) / this.cellSize);
    const minCy = Math.max(0, Math.floor((center.y - radius) / this.cellSize));
    const maxCy = Math.floor((center.y + radius) / this.cellSize);
    for (let cy = minCy; cy <= maxCy; cy++) {
      for (let cx = minCx; cx <= maxCx; cx++) {
        const bucket = this.cells.get(this.key(cx, cy));
        if (!bucket) continue;
        for (const p of bucket) {
          const d2 = (p.x - center.x) ** 2 + (p.y - center.y) ** 2;
          if (d2 > r2 || p.id === self) continue;
          // Whether it is kept matters at the edge, and for the ranking once there are too many.
          if (d2 > enter2 && !p.kept) continue;
          p.rank = d2;
          found.push(p);
        }
      }
    }
    if (found.length > limit) {
      // Squares and Math.sqrt: Math.hypot is several times slower, and this runs for every client.
      for (const p of found) p.rank = Math.sqrt(p.rank) - (p.kept ? hysteresis : 0);
      // In a crowd the candidates are many times the cap: only the nearest `limit` are ordered.
      selectFirst(found, limit, byRank);
      found.length = limit;
    }
    found.sort(byRank);
    const ids = new Array<Id>(found.length);
    for (let i = 0; i < found.length; i++) ids[i] = found[i].id;
    found.length = 0;
    this.mark(keep, false);
    return ids;
  }

  /** Sets the `kept` scratch of every id in `keep` that the grid holds. */
  private mark(keep: { keys(): Iterable<Id> } | undefined, kept: boolean): void {
    for (const id of keep?.keys() ?? []) {
      const placed = this.where.get(id);
      if (placed) placed.kept = kept;
    }
  }
}

/** Nearest first; ties in distance by id, so the order is total and stable between ticks. */
function byRank<Id>(a: Placed<Id>, b: Placed<Id>): number {
  return a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Moves the `k` first of `items` by `order` to the front, in no particular order (Wirth's
 * selection): linear on average, where sorting them all is not.
 */
export function selectFirst<T>(items: T[], k: number, order: (a: T, b: T) => number): void {
  const target = k - 1;
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const pivot = items[target];
    let i = lo;
    let j = hi;
    do {
      while (order(items[i], pivot) < 0) i++;
      while (order(pivot, items[j]) < 0) j--;
      if (i <= j) swap(items, i++, j--);
    } while (i <= j);
    if (j < target) lo = i;
    if (target < i) hi = j;
  }
}

function swap<T>(items: T[], i: number, j: number): void {
  const t = items[i];
  items[i] = items[j];
  items[j] = t;
}

/** What to add to and remove from a view to turn `current` (a set, or a map by id) into `next`. */
export function diffVisible<Id>(
  current: { has(id: Id): boolean; keys(): Iterable<Id> },
  next: readonly Id[],
): { add: Id[]; remove: Id[] } {
  const nextSet = new Set(next);
  const add = next.filter((id) => !current.has(id));
  const remove: Id[] = [];
  for (const id of current.keys()) if (!nextSet.has(id)) remove.push(id);
  return { add, remove };
}

/** How often positions go out, by distance (a fraction of the radius) and by rank among the nearest. */
export interface UpdateRates {
  byDistance: readonly { within: number; every: number }[];
  byRank: readonly { first: number; every: number }[];
}

/**
 * Patches between two sends of a neighbour's position: the larger of its distance band's (from its
 * distance squared as a fraction of the radius squared, `d2OverR2`) and its rank band's (`rank` 0
 * is the nearest), times the viewer's device factor. Past the last band the last one holds.
 */
export function updateEvery(d2OverR2: number, rank: number, rates: UpdateRates, slowdown = 1): number {
  const byDistance = rates.byDistance.find((band) => d2OverR2 <= band.within * band.within) ?? rates.byDistance.at(-1);
  const byRank = rates.byRank.find((band) => rank < band.first) ?? rates.byRank.at(-1);
  return Math.max(byDistance?.every ?? 1, byRank?.every ?? 1) * slowdown;
}

import type { Point } from "../domain/geometry.js";

/**
 * A uniform grid over the map that answers "who is near (x, y)" without looking at everyone.
 * With the cell as large as the query radius, a query reads at most 3×3 cells.
 */
export class SpatialGrid<Id> {
  private readonly cells = new Map<number, Set<Id>>();
  private readonly where = new Map<Id, { cell: number; x: number; y: number }>();

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

  /** Whether `a` and `b` are both placed and within `radius` of each other. */
  within(a: Id, b: Id, radius: number): boolean {
    const p = this.where.get(a);
    const q = this.where.get(b);
    return p !== undefined && q !== undefined && (p.x - q.x) ** 2 + (p.y - q.y) ** 2 <= radius * radius;
  }

  /** Inserts or moves `id` to `(x, y)`. */
  set(id: Id, x: number, y: number): void {
    const cell = this.cellOf(x, y);
    const prev = this.where.get(id);
    if (prev) {
      prev.x = x;
      prev.y = y;
      if (prev.cell === cell) return;
      this.cells.get(prev.cell)!.delete(id);
      if (this.cells.get(prev.cell)!.size === 0) this.cells.delete(prev.cell);
      prev.cell = cell;
    } else {
      this.where.set(id, { cell, x, y });
    }
    let bucket = this.cells.get(cell);
    if (!bucket) this.cells.set(cell, (bucket = new Set()));
    bucket.add(id);
  }

  delete(id: Id): void {
    const prev = this.where.get(id);
    if (!prev) return;
    const bucket = this.cells.get(prev.cell)!;
    bucket.delete(id);
    if (bucket.size === 0) this.cells.delete(prev.cell);
    this.where.delete(id);
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
    keep?: { has(id: Id): boolean },
    hysteresis = 0,
  ): Id[] {
    if (limit <= 0) return [];
    const r2 = radius * radius;
    const enter2 = Math.max(0, radius - hysteresis) ** 2;
    const found: Array<{ id: Id; d: number }> = [];
    const minCx = Math.max(0, Math.floor((center.x - radius) / this.cellSize));
    const maxCx = Math.floor((center.x + radius) / this.cellSize);
    const minCy = Math.max(0, Math.floor((center.y - radius) / this.cellSize));
    const maxCy = Math.floor((center.y + radius) / this.cellSize);
    for (let cy = minCy; cy <= maxCy; cy++) {
      for (let cx = minCx; cx <= maxCx; cx++) {
        const bucket = this.cells.get(this.key(cx, cy));
        if (!bucket) continue;
        for (const id of bucket) {
          if (id === self) continue;
          const p = this.where.get(id)!;
          // Squares and Math.sqrt: Math.hypot is several times slower, and this is the hot loop.
          const d2 = (p.x - center.x) ** 2 + (p.y - center.y) ** 2;
          const kept = keep?.has(id) ?? false;
          if (d2 <= (kept ? r2 : enter2)) found.push({ id, d: Math.sqrt(d2) - (kept ? hysteresis : 0) });
        }
      }
    }
    found.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (found.length > limit) found.length = limit;
    return found.map((f) => f.id);
  }
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

/** One distance band: neighbours up to `within` (a fraction of the radius) update every `every` patches. */
export interface RateBand {
  within: number;
  every: number;
}

/**
 * Patches between two sends of a neighbour's position, from its distance squared as a fraction
 * of the radius squared (`d2OverR2`), the bands (nearest first) and the viewer's device factor.
 * Beyond the last band (the hysteresis slack at the edge) the last band's rate holds.
 */
export function updateEvery(d2OverR2: number, bands: readonly RateBand[], slowdown = 1): number {
  for (const band of bands) if (d2OverR2 <= band.within * band.within) return band.every * slowdown;
  return (bands.at(-1)?.every ?? 1) * slowdown;
}

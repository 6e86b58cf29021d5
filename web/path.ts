/**
 * Paths across a tile map for click-to-move: A* over open tiles (8 neighbours, no cutting
 * corners), then shortened to the fewest straight legs the server's wall check lets through.
 * The map and the wall check are the server's own (src/domain/tilemap.ts), so a planned leg is
 * never refused with `move/blocked`.
 */
import { isBlockedAt, segmentBlocked, type TileMap } from "../src/domain/tilemap.js";
import type { Point } from "../src/domain/geometry.js";

export type { TileMap, Point };
export { isBlockedAt, segmentBlocked };

function tileOf(map: TileMap, p: Point): number {
  const tx = Math.min(map.cols - 1, Math.max(0, Math.floor(p.x / map.tileSize)));
  const ty = Math.min(map.rows - 1, Math.max(0, Math.floor(p.y / map.tileSize)));
  return ty * map.cols + tx;
}

const centre = (map: TileMap, i: number): Point => ({
  x: (i % map.cols) * map.tileSize + map.tileSize / 2,
  y: Math.floor(i / map.cols) * map.tileSize + map.tileSize / 2,
});

/** The nearest open tile to `p` (itself when open), searched outwards ring by ring. */
function nearestOpen(map: TileMap, p: Point): number | undefined {
  const start = tileOf(map, p);
  if (map.blocked[start] !== 1) return start;
  const sx = start % map.cols;
  const sy = Math.floor(start / map.cols);
  for (let r = 1; r < Math.max(map.cols, map.rows); r++) {
    for (let dy = -r; dy <= r; dy++)
      for (let dx = -r; dx <= r; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== r) continue;
        const x = sx + dx;
        const y = sy + dy;
        if (x < 0 || y < 0 || x >= map.cols || y >= map.rows) continue;
        if (map.blocked[y * map.cols + x] !== 1) return y * map.cols + x;
      }
  }
  return undefined;
}

/** A tiny binary heap of tile indices keyed by f-score. */
class Heap {
  private items: number[] = [];
  constructor(private readonly score: Float64Array) {}
  get size() {
    return this.items.length;
  }
  push(i: number): void {
    const a = this.items;
    a.push(i);
    let k = a.length - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (this.score[a[parent]] <= this.score[a[k]]) break;
      [a[parent], a[k]] = [a[k], a[parent]];
      k = parent;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < a.length && this.score[a[l]] < this.score[a[m]]) m = l;
        if (r < a.length && this.score[a[r]] < this.score[a[m]]) m = r;
        if (m === k) break;
        [a[m], a[k]] = [a[k], a[m]];
        k = m;
      }
    }
    return top;
  }
}

/**
 * Waypoints from `from` to `to` (the last one is `to`, or the centre of the nearest open tile when
 * `to` is blocked), without `from` itself. Empty when there is no way.
 */
export function findPath(map: TileMap, from: Point, to: Point): Point[] {
  const goalTile = nearestOpen(map, to);
  if (goalTile === undefined) return [];
  const goal = map.blocked[tileOf(map, to)] === 1 ? centre(map, goalTile) : to;
  if (!segmentBlocked(map, from, goal)) return [goal];

  const n = map.cols * map.rows;
  const g = new Float64Array(n).fill(Infinity);
  const f = new Float64Array(n).fill(Infinity);
  const came = new Int32Array(n).fill(-1);
  const closed = new Uint8Array(n);
  const start = tileOf(map, from);
  const h = (i: number) => {
    const dx = Math.abs((i % map.cols) - (goalTile % map.cols));
    const dy = Math.abs(Math.floor(i / map.cols) - Math.floor(goalTile / map.cols));
    return Math.max(dx, dy) + (Math.SQRT2 - 1) * Math.min(dx, dy);
  };
  g[start] = 0;
  f[start] = h(start);
  const open = new Heap(f);
  open.push(start);
  while (open.size > 0) {
    const cur = open.pop();
    if (closed[cur]) continue;
    if (cur === goalTile) break;
    closed[cur] = 1;
    const cx = cur % map.cols;
    const cy = Math.floor(cur / map.cols);
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        if (dx === 0 && dy === 0) continue;
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= map.cols || y >= map.rows) continue;
        const next = y * map.cols + x;
        if (map.blocked[next] === 1 || closed[next]) continue;
        // A diagonal step may not squeeze between two blocked tiles' corners.
        if (dx !== 0 && dy !== 0 && (map.blocked[cy * map.cols + x] === 1 || map.blocked[y * map.cols + cx] === 1))
          continue;
        const cost = g[cur] + (dx !== 0 && dy !== 0 ? Math.SQRT2 : 1);
        if (cost >= g[next]) continue;
        g[next] = cost;
        f[next] = cost + h(next);
        came[next] = cur;
        open.push(next);
      }
  }
  if (came[goalTile] === -1 && goalTile !== start) return [];

  const tiles: number[] = [];
  for (let i = goalTile; i !== start && i !== -1; i = came[i]) tiles.push(i);
  tiles.reverse();
  const raw = [...tiles.slice(0, -1).map((i) => centre(map, i)), goal];
  // String pulling: from each point, jump to the farthest later point in straight sight.
  const legs: Point[] = [];
  let at = from;
  let k = 0;
  while (k < raw.length) {
    let far = k;
    for (let j = raw.length - 1; j > k; j--)
      if (!segmentBlocked(map, at, raw[j])) {
        far = j;
        break;
      }
    legs.push(raw[far]);
    at = raw[far];
    k = far + 1;
  }
  return legs;
}

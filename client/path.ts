/**
 * Maps as `GET /api/worlds/:id` and `GET /api/dungeons/:id` serve them, and a way around their
 * blocked tiles. Units: `width`, `height`, `spawn` and every position are in units; `blocked`
 * and `doors` rectangles are in tiles of `tileSize` units (tile (tx, ty) covers
 * [tx·tileSize, (tx+1)·tileSize) × [ty·tileSize, (ty+1)·tileSize)).
 */

export interface TileRect {
  /** Tiles. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface MapInfo {
  id: string;
  /** Units. */
  width: number;
  height: number;
  /** Units per tile side. */
  tileSize: number;
  /** Units per second. */
  speed: number;
  /** Units: new bodies appear within `radius` of (x, y). */
  spawn: { x: number; y: number; radius: number };
  /** Tiles. */
  blocked: TileRect[];
  /** Dungeons only; tiles. Doors block until the dungeon is cleared. */
  doors?: Array<TileRect & { id: string }>;
}

export interface Point {
  x: number;
  y: number;
}

/** The map as a grid of open and blocked tiles. */
export class TileGrid {
  readonly cols: number;
  readonly rows: number;
  readonly tileSize: number;
  private readonly cells: Uint8Array;

  constructor(map: MapInfo, { doorsOpen = false } = {}) {
    this.tileSize = map.tileSize;
    this.cols = Math.ceil(map.width / map.tileSize);
    this.rows = Math.ceil(map.height / map.tileSize);
    this.cells = new Uint8Array(this.cols * this.rows);
    for (const r of [...map.blocked, ...(doorsOpen ? [] : (map.doors ?? []))])
      for (let ty = Math.max(0, r.y); ty < Math.min(this.rows, r.y + r.h); ty++)
        for (let tx = Math.max(0, r.x); tx < Math.min(this.cols, r.x + r.w); tx++) this.cells[ty * this.cols + tx] = 1;
  }

  blocked(tx: number, ty: number): boolean {
    return tx < 0 || ty < 0 || tx >= this.cols || ty >= this.rows || this.cells[ty * this.cols + tx] === 1;
  }

  tileOf(p: Point): [number, number] {
    return [Math.floor(p.x / this.tileSize), Math.floor(p.y / this.tileSize)];
  }

  centre(tx: number, ty: number): Point {
    return { x: Math.round((tx + 0.5) * this.tileSize), y: Math.round((ty + 0.5) * this.tileSize) };
  }
}

const STEPS: ReadonlyArray<[number, number]> = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [1, -1],
  [-1, 1],
  [-1, -1],
];

/**
 * A* over tiles, eight ways, never cutting a blocked corner. Returns the waypoints from `from`
 * (excluded) to `to` (included): tile centres where the route turns, then `to`; null when `to`
 * cannot be reached.
 */
export function findPath(grid: TileGrid, from: Point, to: Point): Point[] | null {
  const [sx, sy] = grid.tileOf(from);
  const [gx, gy] = grid.tileOf(to);
  if (grid.blocked(gx, gy)) return null;
  if (sx === gx && sy === gy) return [to];
  const key = (x: number, y: number) => y * grid.cols + x;
  const h = (x: number, y: number) => Math.hypot(gx - x, gy - y);
  const cost = new Map<number, number>([[key(sx, sy), 0]]);
  const came = new Map<number, number>();
  // A plain array as the open list: maps have a few thousand tiles, so this is quick enough.
  const open: Array<{ x: number; y: number; f: number }> = [{ x: sx, y: sy, f: h(sx, sy) }];
  while (open.length) {
    let best = 0;
    for (let i = 1; i < open.length; i++) if (open[i].f < open[best].f) best = i;
    const { x, y } = open.splice(best, 1)[0];
    if (x === gx && y === gy) break;
    for (const [dx, dy] of STEPS) {
      const nx = x + dx;
      const ny = y + dy;
      if (grid.blocked(nx, ny) || (dx && dy && (grid.blocked(x + dx, y) || grid.blocked(x, y + dy)))) continue;
      const g = cost.get(key(x, y))! + Math.hypot(dx, dy);
      if (g >= (cost.get(key(nx, ny)) ?? Infinity)) continue;
      cost.set(key(nx, ny), g);
      came.set(key(nx, ny), key(x, y));
      open.push({ x: nx, y: ny, f: g + h(nx, ny) });
    }
  }
  if (!came.has(key(gx, gy))) return null;
  const tiles: Array<[number, number]> = [];
  for (let k: number | undefined = key(gx, gy); k !== undefined && k !== key(sx, sy); k = came.get(k))
    tiles.unshift([k % grid.cols, Math.floor(k / grid.cols)]);
  // Waypoints: the first tile, every tile where the direction changes, and the tile before the
  // goal, at their centres. Legs between them run straight along a row, a column or a diagonal,
  // so each crosses only tiles the search checked; the first and last legs cross two (or four).
  const waypoints: Point[] = [];
  let prev: [number, number] = [sx, sy];
  for (let i = 0; i < tiles.length - 1; i++) {
    const [x, y] = tiles[i];
    const [nx, ny] = tiles[i + 1];
    const turns = nx - x !== x - prev[0] || ny - y !== y - prev[1];
    if (i === 0 || turns || i === tiles.length - 2) waypoints.push(grid.centre(x, y));
    prev = tiles[i];
  }
  waypoints.push(to);
  return waypoints;
}

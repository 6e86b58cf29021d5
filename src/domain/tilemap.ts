import type { Point } from "./geometry.js";
import { randomInt, type Rng } from "./rng.js";

/** A rectangle of tiles, in tile coordinates. */
export interface TileRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The walkable area of a map: a grid of square tiles, each open or blocked. */
export interface TileMap {
  readonly width: number;
  readonly height: number;
  readonly tileSize: number;
  readonly cols: number;
  readonly rows: number;
  /** One byte a tile, row-major; 1 = blocked. */
  readonly blocked: Uint8Array;
}

export function buildTileMap(
  width: number,
  height: number,
  tileSize: number,
  blockedRects: readonly TileRect[],
): TileMap {
  const cols = Math.ceil(width / tileSize);
  const rows = Math.ceil(height / tileSize);
  const blocked = new Uint8Array(cols * rows);
  for (const r of blockedRects) {
    for (let ty = Math.max(0, r.y); ty < Math.min(rows, r.y + r.h); ty++) {
      for (let tx = Math.max(0, r.x); tx < Math.min(cols, r.x + r.w); tx++) blocked[ty * cols + tx] = 1;
    }
  }
  return { width, height, tileSize, cols, rows, blocked };
}

export const inBounds = (map: TileMap, p: Point): boolean =>
  p.x >= 0 && p.y >= 0 && p.x <= map.width && p.y <= map.height;

function tileBlocked(map: TileMap, tx: number, ty: number): boolean {
  // A point on the far edge (x === width) belongs to the last tile.
  const cx = Math.min(tx, map.cols - 1);
  const cy = Math.min(ty, map.rows - 1);
  return map.blocked[cy * map.cols + cx] === 1;
}

export const isBlockedAt = (map: TileMap, p: Point): boolean =>
  tileBlocked(map, Math.floor(p.x / map.tileSize), Math.floor(p.y / map.tileSize));

/**
 * Whether the straight segment from `a` to `b` touches a blocked tile. Walks exactly the tiles the
 * segment crosses (Amanatides & Woo), so a fast step cannot hop over a one-tile wall.
 */
export function segmentBlocked(map: TileMap, a: Point, b: Point): boolean {
  const s = map.tileSize;
  let tx = Math.min(Math.floor(a.x / s), map.cols - 1);
  let ty = Math.min(Math.floor(a.y / s), map.rows - 1);
  const endX = Math.min(Math.floor(b.x / s), map.cols - 1);
  const endY = Math.min(Math.floor(b.y / s), map.rows - 1);
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const stepX = Math.sign(dx);
  const stepY = Math.sign(dy);
  // Distance along the segment (as a fraction of its length) to the next vertical / horizontal tile edge.
  const tDeltaX = stepX === 0 ? Infinity : s / Math.abs(dx);
  const tDeltaY = stepY === 0 ? Infinity : s / Math.abs(dy);
  let tMaxX = stepX === 0 ? Infinity : (stepX > 0 ? (tx + 1) * s - a.x : a.x - tx * s) / Math.abs(dx);
  let tMaxY = stepY === 0 ? Infinity : (stepY > 0 ? (ty + 1) * s - a.y : a.y - ty * s) / Math.abs(dy);

  // The walk visits at most |Δtx| + |Δty| + 1 tiles.
  for (let i = Math.abs(endX - tx) + Math.abs(endY - ty); i >= 0; i--) {
    if (tileBlocked(map, tx, ty)) return true;
    if (tx === endX && ty === endY) return false;
    if (tMaxX < tMaxY) {
      tMaxX += tDeltaX;
      tx += stepX;
    } else {
      tMaxY += tDeltaY;
      ty += stepY;
    }
  }
  return false;
}

/**
 * Where a new (or revived) body appears: a random open point within `spawn.radius` of the spawn,
 * or the spawn itself (content/index.ts checks that it is open) after a few unlucky draws.
 */
export function spawnPoint(map: TileMap, spawn: Point & { radius: number }, rng: Rng): Point {
  for (let i = 0; i < 8; i++) {
    const angle = rng.next() * 2 * Math.PI;
    const r = randomInt(rng, 0, spawn.radius);
    const p = { x: Math.round(spawn.x + r * Math.cos(angle)), y: Math.round(spawn.y + r * Math.sin(angle)) };
    if (inBounds(map, p) && !isBlockedAt(map, p)) return p;
  }
  return { x: spawn.x, y: spawn.y };
}

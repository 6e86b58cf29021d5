/**
 * Dungeon templates. Like worlds, distances are in units and walls in tiles of `tileSize`.
 * Served read-only at GET /api/dungeons.
 */
import type { MapTemplate } from "./worlds.js";

/** A dungeon; its `spawn` is where heroes appear and revive. */
export interface DungeonTemplate extends MapTemplate {
  maxHeroes: number;
  /** Doors block their tiles until the dungeon is cleared. */
  doors: Array<{ id: string; x: number; y: number; w: number; h: number }>;
  enemies: Array<{ id: string; type: string; x: number; y: number }>;
  /** Whether enemies chase and hit back. */
  enemiesAttack: boolean;
  /** Xp every hero gets on a clear, on top of the enemies' xp. */
  clearXp: number;
  /** A dead hero comes back at the spawn after this long, while another hero lives. */
  reviveMs: number;
}

export const dungeons: DungeonTemplate[] = [
  {
    id: "training",
    name: "Training Grounds",
    width: 600,
    height: 400,
    tileSize: 20,
    speed: 160,
    maxHeroes: 4,
    spawn: { x: 60, y: 200, radius: 20 },
    blocked: [
      { x: 0, y: 0, w: 30, h: 1 }, // north fence
      { x: 0, y: 19, w: 30, h: 1 }, // south fence
      { x: 27, y: 1, w: 1, h: 7 }, // the gate's walls
      { x: 27, y: 12, w: 1, h: 7 },
    ],
    doors: [{ id: "gate", x: 27, y: 8, w: 1, h: 4 }],
    enemies: [
      { id: "dummy-1", type: "training-dummy", x: 250, y: 150 },
      { id: "dummy-2", type: "training-dummy", x: 300, y: 250 },
      { id: "dummy-3", type: "training-dummy", x: 350, y: 200 },
    ],
    enemiesAttack: false,
    clearXp: 10,
    reviveMs: 5000,
  },
  {
    id: "crypt",
    name: "The Sunken Crypt",
    width: 1000,
    height: 700,
    tileSize: 20,
    speed: 160,
    maxHeroes: 4,
    spawn: { x: 80, y: 350, radius: 30 },
    blocked: [
      { x: 0, y: 0, w: 50, h: 1 },
      { x: 0, y: 34, w: 50, h: 1 },
      { x: 20, y: 1, w: 1, h: 11 }, // pillars between the halls
      { x: 20, y: 23, w: 1, h: 11 },
      { x: 35, y: 1, w: 1, h: 13 },
      { x: 35, y: 21, w: 1, h: 13 },
      { x: 47, y: 1, w: 1, h: 15 }, // the vault's wall
      { x: 47, y: 19, w: 1, h: 15 },
    ],
    doors: [{ id: "vault", x: 47, y: 16, w: 1, h: 3 }],
    enemies: [
      { id: "skeleton-1", type: "skeleton", x: 330, y: 280 },
      { id: "skeleton-2", type: "skeleton", x: 330, y: 420 },
      { id: "skeleton-3", type: "skeleton", x: 560, y: 300 },
      { id: "skeleton-4", type: "skeleton", x: 560, y: 400 },
      { id: "lich", type: "lich", x: 820, y: 350 },
    ],
    enemiesAttack: true,
    clearXp: 50,
    reviveMs: 8000,
  },
];

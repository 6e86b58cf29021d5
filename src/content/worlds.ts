/**
 * World templates. Distances are in world units, blocked areas in tiles of `tileSize` units.
 * Served read-only at GET /api/worlds; checked by `content/index.ts` at start-up.
 */

/** What every map has, world or dungeon. */
export interface MapTemplate {
  id: string;
  name: string;
  width: number;
  height: number;
  tileSize: number;
  /** Most a body may move, in units per second. */
  speed: number;
  /** New bodies appear within `radius` of this point. */
  spawn: { x: number; y: number; radius: number };
  /** Rectangles of blocked tiles (water, rock, walls). */
  blocked: Array<{ x: number; y: number; w: number; h: number }>;
}

export interface WorldTemplate extends MapTemplate {
  /** How far a client sees other players. */
  aoiRadius: number;
  /** Players per instance; past that a new instance of the world opens. */
  maxPlayers: number;
  resources: Array<{
    id: string;
    kind: string;
    x: number;
    y: number;
    /** Amount when full; it regrows by one every `regrowMs`. */
    amount: number;
    item: string;
    regrowMs: number;
  }>;
  portals: Array<{
    id: string;
    x: number;
    y: number;
    /** Target world. */
    to: string;
    /** The portal in the target world where travellers arrive. */
    exit: string;
    /** Transfers through this portal at once, per instance (default: policy.travel.capacity). */
    capacity?: number;
  }>;
}

export const worlds: WorldTemplate[] = [
  {
    id: "meadow",
    name: "Green Meadow",
    width: 2000,
    height: 2000,
    tileSize: 20,
    speed: 200,
    aoiRadius: 300,
    maxPlayers: 500,
    spawn: { x: 1000, y: 1000, radius: 60 },
    blocked: [
      { x: 20, y: 20, w: 12, h: 8 }, // the pond
      { x: 70, y: 30, w: 2, h: 30 }, // the old wall
      { x: 30, y: 70, w: 25, h: 3 }, // the river, west part
      { x: 58, y: 70, w: 20, h: 3 }, // the river, east part (a ford between them)
      { x: 42, y: 44, w: 1, h: 1 }, // a boulder near the spawn
    ],
    resources: [
      { id: "oak-1", kind: "tree", x: 1150, y: 950, amount: 5, item: "wood", regrowMs: 20000 },
      { id: "oak-2", kind: "tree", x: 700, y: 1200, amount: 5, item: "wood", regrowMs: 20000 },
      { id: "stone-1", kind: "rock", x: 1300, y: 1300, amount: 8, item: "stone", regrowMs: 30000 },
      { id: "herb-1", kind: "herb", x: 900, y: 800, amount: 3, item: "herb", regrowMs: 15000 },
    ],
    portals: [{ id: "meadow-east-gate", x: 1900, y: 1000, to: "dunes", exit: "dunes-west-gate" }],
  },
  {
    id: "dunes",
    name: "Singing Dunes",
    width: 1600,
    height: 1600,
    tileSize: 20,
    speed: 180,
    aoiRadius: 300,
    maxPlayers: 300,
    spawn: { x: 800, y: 800, radius: 50 },
    blocked: [
      { x: 10, y: 10, w: 6, h: 6 }, // a rock field
      { x: 50, y: 20, w: 3, h: 25 }, // a ridge
      { x: 20, y: 55, w: 30, h: 2 }, // the canyon edge
    ],
    resources: [
      { id: "cactus-1", kind: "cactus", x: 900, y: 700, amount: 4, item: "cactus-fruit", regrowMs: 25000 },
      { id: "ore-1", kind: "rock", x: 600, y: 950, amount: 6, item: "copper-ore", regrowMs: 40000 },
    ],
    portals: [{ id: "dunes-west-gate", x: 100, y: 800, to: "meadow", exit: "meadow-east-gate" }],
  },
];

import { schema, t, type Schema, type SchemaType } from "@colyseus/schema";

/** The fields every body has, in a world or a dungeon. */
export const bodyFields = () => ({
  sessionId: t.string(),
  userId: t.string(),
  name: t.string(),
  x: t.number(),
  y: t.number(),
  hp: t.number(),
  maxHp: t.number(),
});

/**
 * A world player's position is whole units within the world's bounds (moves and spawns are
 * rounded), so it goes out as a fixed two-byte uint16 instead of a variable number (three bytes
 * past 255): one byte less per coordinate that changes, the bulk of a world's patches.
 */
export const Player = schema({ ...bodyFields(), x: t.uint16(), y: t.uint16(), level: t.number() }, "Player");
export type Player = SchemaType<typeof Player>;

/**
 * Sets a body's position without the schema's change tracking: interest management sends
 * positions itself, at rates by distance (src/rooms/Interest.ts), and full states and arrivals
 * still read the current value.
 */
export function placeQuietly(entity: Schema & { x: number; y: number }, x: number, y: number): void {
  if (entity.x === x && entity.y === y) return;
  entity.pauseTracking();
  entity.x = x;
  entity.y = y;
  entity.resumeTracking();
}

export const Portal = schema({ id: t.string(), x: t.number(), y: t.number(), to: t.string() }, "Portal");
export type Portal = SchemaType<typeof Portal>;

export const Resource = schema(
  { id: t.string(), kind: t.string(), x: t.number(), y: t.number(), amount: t.number() },
  "Resource",
);
export type Resource = SchemaType<typeof Resource>;

export const WorldState = schema(
  {
    world: t.string(),
    tick: t.number(),
    /** Filtered per client by interest management: only entries added to a client's view reach it. */
    players: t.map(Player).view(),
    portals: t.map(Portal),
    resources: t.map(Resource),
  },
  "WorldState",
);
export type WorldState = SchemaType<typeof WorldState>;

import { schema, t, type SchemaType } from "@colyseus/schema";

export const MatchPlayer = schema(
  {
    sessionId: t.string(),
    userId: t.string(),
    name: t.string(),
    ready: t.boolean(),
    connected: t.boolean(),
    gold: t.number(),
    score: t.number(),
  },
  "MatchPlayer",
);
export type MatchPlayer = SchemaType<typeof MatchPlayer>;

export const Tile = schema({ x: t.number(), y: t.number(), building: t.string(), owner: t.string() }, "Tile");
export type Tile = SchemaType<typeof Tile>;

export const MatchState = schema(
  {
    mode: t.string(),
    status: t.string(),
    round: t.number(),
    turn: t.string(),
    turnEndsAt: t.number(),
    chainLength: t.number(),
    chainHead: t.string(),
    spectators: t.number(),
    players: t.map(MatchPlayer),
    tiles: t.map(Tile),
  },
  "MatchState",
);
export type MatchState = SchemaType<typeof MatchState>;

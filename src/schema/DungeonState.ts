import { schema, t, type SchemaType } from "@colyseus/schema";
import { bodyFields } from "./WorldState.js";

export const Hero = schema({ ...bodyFields(), mana: t.number(), maxMana: t.number(), alive: t.boolean() }, "Hero");
export type Hero = SchemaType<typeof Hero>;

export const Enemy = schema(
  {
    id: t.string(),
    kind: t.string(),
    x: t.number(),
    y: t.number(),
    hp: t.number(),
    maxHp: t.number(),
    alive: t.boolean(),
  },
  "Enemy",
);
export type Enemy = SchemaType<typeof Enemy>;

export const Loot = schema({ id: t.string(), item: t.string(), qty: t.number(), x: t.number(), y: t.number() }, "Loot");
export type Loot = SchemaType<typeof Loot>;

export const Door = schema({ id: t.string(), open: t.boolean() }, "Door");
export type Door = SchemaType<typeof Door>;

export const DungeonState = schema(
  {
    dungeon: t.string(),
    status: t.string(),
    tick: t.number(),
    bossPhase: t.number(),
    heroes: t.map(Hero),
    enemies: t.map(Enemy),
    loot: t.map(Loot),
    doors: t.map(Door),
  },
  "DungeonState",
);
export type DungeonState = SchemaType<typeof DungeonState>;

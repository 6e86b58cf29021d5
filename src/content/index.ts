/**
 * Loads the content data once, checks that it is consistent (spawns and portals on open tiles,
 * portals that lead somewhere, no dangling references), and builds the lookups the rules use.
 */
import { createHash } from "node:crypto";
import { buildTileMap, isBlockedAt, type TileMap } from "../domain/tilemap.js";
import * as combat from "./combat.js";
import type { Ability, CombatStats, EnemyType, LootTable } from "./combat.js";
import { dungeons as dungeonTemplates, type DungeonTemplate } from "./dungeons.js";
import { matchModes as matchModeList, type MatchMode } from "./matches.js";
import { achievements as achievementList, type Achievement } from "./achievements.js";
import { worlds as worldTemplates, type WorldTemplate } from "./worlds.js";
import { policy } from "./policy.js";

export type { Ability, CombatStats, EnemyType, LootTable, DungeonTemplate, WorldTemplate, MatchMode, Achievement };

export interface World {
  template: WorldTemplate;
  map: TileMap;
}

export interface Dungeon {
  template: DungeonTemplate;
  /** Walls and closed doors. */
  map: TileMap;
  /** Walls only: the map once every door is open. */
  openMap: TileMap;
}

export interface Content {
  worlds: ReadonlyMap<string, World>;
  dungeons: ReadonlyMap<string, Dungeon>;
  abilities: ReadonlyMap<string, Ability>;
  combatStats: ReadonlyMap<string, CombatStats>;
  enemyTypes: ReadonlyMap<string, EnemyType>;
  lootTables: ReadonlyMap<string, LootTable>;
  matchModes: ReadonlyMap<string, MatchMode>;
  achievements: ReadonlyMap<string, Achievement>;
  /** What GET /api/:kind and /api/:kind/:id serve, by kind. */
  catalog: Readonly<Record<string, ReadonlyArray<{ id: string }>>>;
  /** A hash of the catalogue and the policy: a replay log names the content it was recorded with. */
  version: string;
}

export interface ContentSources {
  worlds?: WorldTemplate[];
  dungeons?: DungeonTemplate[];
  matchModes?: MatchMode[];
}

function index<T extends { id: string }>(kind: string, items: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.id)) throw new Error(`content: ${kind} "${item.id}" is defined twice`);
    map.set(item.id, item);
  }
  return map;
}

function requireRef(map: ReadonlyMap<string, unknown>, id: string | null | undefined, what: string): void {
  if (id != null && !map.has(id)) throw new Error(`content: ${what} refers to unknown "${id}"`);
}

function requireOpen(map: TileMap, p: { x: number; y: number }, what: string): void {
  if (p.x < 0 || p.y < 0 || p.x > map.width || p.y > map.height || isBlockedAt(map, p)) {
    throw new Error(`content: ${what} is outside the map or on a blocked tile`);
  }
}

export function loadContent(sources: ContentSources | WorldTemplate[] = {}): Content {
  const src = Array.isArray(sources) ? { worlds: sources } : sources;
  const abilities = index("ability", combat.abilities);
  const combatStats = index("combat stats", combat.combatStats);
  const lootTables = index("loot table", combat.lootTables);
  const enemyTypes = index("enemy type", combat.enemyTypes);
  for (const e of enemyTypes.values()) {
    requireRef(combatStats, e.stats, `enemy type "${e.id}"`);
    requireRef(abilities, e.ability, `enemy type "${e.id}"`);
    requireRef(lootTables, e.lootTable, `enemy type "${e.id}"`);
  }

  const worlds = new Map<string, World>();
  for (const template of index("world", src.worlds ?? worldTemplates).values()) {
    const map = buildTileMap(template.width, template.height, template.tileSize, template.blocked);
    requireOpen(map, template.spawn, `the spawn of world "${template.id}"`);
    for (const r of template.resources) requireOpen(map, r, `resource "${r.id}" of world "${template.id}"`);
    for (const p of template.portals) requireOpen(map, p, `portal "${p.id}" of world "${template.id}"`);
    worlds.set(template.id, { template, map });
  }
  for (const { template } of worlds.values()) {
    for (const portal of template.portals) {
      if (!worlds.get(portal.to)?.template.portals.some((p) => p.id === portal.exit)) {
        throw new Error(`content: portal "${portal.id}" leads to unknown exit "${portal.to}/${portal.exit}"`);
      }
    }
  }

  const dungeons = new Map<string, Dungeon>();
  for (const template of index("dungeon", src.dungeons ?? dungeonTemplates).values()) {
    const openMap = buildTileMap(template.width, template.height, template.tileSize, template.blocked);
    const map = buildTileMap(template.width, template.height, template.tileSize, [
      ...template.blocked,
      ...template.doors,
    ]);
    requireOpen(map, template.spawn, `the spawn of dungeon "${template.id}"`);
    index(`enemy of dungeon "${template.id}"`, template.enemies);
    for (const e of template.enemies) {
      requireRef(enemyTypes, e.type, `enemy "${e.id}" of dungeon "${template.id}"`);
      requireOpen(map, e, `enemy "${e.id}" of dungeon "${template.id}"`);
    }
    dungeons.set(template.id, { template, map, openMap });
  }

  const matchModes = index("match mode", src.matchModes ?? matchModeList);
  for (const mode of matchModes.values()) {
    index(`building of match mode "${mode.id}"`, mode.buildings);
    if (mode.minPlayers < 2 || mode.maxPlayers < mode.minPlayers || mode.buildings.length === 0)
      throw new Error(`content: match mode "${mode.id}" needs 2 <= minPlayers <= maxPlayers and buildings`);
  }

  const achievements = index("achievement", achievementList);

  const catalog = {
    worlds: [...worlds.values()].map((w) => w.template),
    dungeons: [...dungeons.values()].map((d) => d.template),
    abilities: [...abilities.values()],
    "combat-stats": [...combatStats.values()],
    "enemy-types": [...enemyTypes.values()],
    "loot-tables": [...lootTables.values()],
    "match-modes": [...matchModes.values()],
    achievements: [...achievements.values()].map(({ id, name, description }) => ({ id, name, description })),
  };
  const version = createHash("sha256").update(JSON.stringify({ catalog, policy })).digest("hex").slice(0, 16);
  return {
    worlds,
    dungeons,
    abilities,
    combatStats,
    enemyTypes,
    lootTables,
    matchModes,
    achievements,
    catalog,
    version,
  };
}

/**
 * Loads the content data once, checks that it is consistent (spawns and portals on open tiles,
 * portals that lead somewhere), and builds the derived lookups the rules use.
 */
import { buildTileMap, isBlockedAt, type TileMap } from "../rules/tilemap.js";
import { worlds, type WorldTemplate } from "./worlds.js";

export interface World {
  template: WorldTemplate;
  map: TileMap;
}

export interface Content {
  worlds: ReadonlyMap<string, World>;
}

export function loadContent(templates: WorldTemplate[] = worlds): Content {
  const byId = new Map<string, World>();
  for (const template of templates) {
    if (byId.has(template.id)) throw new Error(`content: world "${template.id}" is defined twice`);
    const map = buildTileMap(template.width, template.height, template.tileSize, template.blocked);
    const open = (what: string, p: { x: number; y: number }) => {
      if (p.x < 0 || p.y < 0 || p.x > map.width || p.y > map.height || isBlockedAt(map, p)) {
        throw new Error(`content: ${what} of world "${template.id}" is outside the map or on a blocked tile`);
      }
    };
    open("the spawn", template.spawn);
    for (const r of template.resources) open(`resource "${r.id}"`, r);
    for (const p of template.portals) open(`portal "${p.id}"`, p);
    byId.set(template.id, { template, map });
  }
  for (const { template } of byId.values()) {
    for (const portal of template.portals) {
      const target = byId.get(portal.to);
      if (!target?.template.portals.some((p) => p.id === portal.exit)) {
        throw new Error(`content: portal "${portal.id}" leads to unknown exit "${portal.to}/${portal.exit}"`);
      }
    }
  }
  return { worlds: byId };
}

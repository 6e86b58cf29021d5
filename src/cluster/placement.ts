import { matchMaker } from "@colyseus/core";

/**
 * Where a new room goes: the process with the fewest players, then the fewest rooms. It reads the
 * driver's room listings, which change the moment a room opens or a player joins, rather than
 * Colyseus's default (room counts persisted at most once a second), so a burst of new instances
 * spreads across processes instead of piling onto one whose count is stale.
 */
export async function leastLoadedProcess(): Promise<string> {
  const load = new Map<string, { clients: number; rooms: number }>();
  for (const { processId } of await matchMaker.stats.fetchAll()) load.set(processId, { clients: 0, rooms: 0 });
  for (const room of await matchMaker.driver.query({})) {
    const l = load.get(room.processId);
    if (l) {
      l.clients += room.clients;
      l.rooms++;
    }
  }
  const [best] = [...load].sort(([, a], [, b]) => a.clients - b.clients || a.rooms - b.rooms);
  return best?.[0] ?? matchMaker.processId;
}

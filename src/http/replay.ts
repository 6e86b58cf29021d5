/**
 * `GET /api/rooms/:roomId/replay` (admin): a room's seed, content version, options and command
 * log, as `src/engine/replay.ts` takes them. A live room first marks its current tick, so the
 * export ends where the room is now.
 */
import { matchMaker } from "@colyseus/core";
import type { ReplayEntry, ReplayHeader, ReplayLog } from "../engine/replay.js";
import { replayStream } from "../rooms/KindRoom.js";
import type { Services } from "../services.js";

const PAGE = 5000;

export async function exportReplay(services: Services, roomId: string): Promise<ReplayLog | null> {
  if ((await matchMaker.query({ roomId })).length > 0)
    await matchMaker.remoteRoomCall(roomId, "markReplay", []).catch(() => undefined);
  await services.events.flush();
  let header: ReplayHeader | undefined;
  let tick = 0;
  const entries: ReplayEntry[] = [];
  for (let after = 0; ;) {
    const page = await services.store.eventsAfter(replayStream(roomId), after, PAGE);
    for (const event of page) {
      const data = event.data as Record<string, unknown> & { tick?: number };
      if (event.type === "room") header = data as unknown as ReplayHeader;
      else if (event.type === "tick" || event.type === "end") tick = Math.max(tick, data.tick ?? 0);
      else entries.push({ op: event.type, ...data } as ReplayEntry);
      if (typeof data.tick === "number") tick = Math.max(tick, data.tick);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1].seq;
  }
  return header ? { roomId, ...header, tick, entries } : null;
}

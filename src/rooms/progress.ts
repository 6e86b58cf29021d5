/**
 * Feeds a room's game events to the achievement rules (src/rules/achievements.ts) for every seat
 * they concern: the new stats and unlocks go into the seat's profile, and each unlock is written
 * to the store before the player hears of it (`achievement {id, name}`), so an unlock is announced
 * once: a reconnection or a restart finds it already on the profile.
 */
import { progressOf } from "../domain/social.js";
import { advance } from "../rules/achievements.js";
import type { Services } from "../services.js";
import type { Seat } from "./seats.js";

export interface ProgressRoom {
  kind: string;
  label: string;
  services: Services;
  seats: Iterable<Seat>;
}

export function feedProgress(room: ProgressRoom, type: string, data: Record<string, unknown>, now: number): void {
  const { services } = room;
  const event = { room: room.kind, label: room.label, type, data };
  for (const seat of room.seats) {
    const result = advance(progressOf(seat.profile), event, seat, now, services.content.achievements.values());
    if (!result) continue;
    Object.assign(seat.profile, result.progress);
    services.profiles.touch(seat.userId);
    if (result.unlocked.length === 0) continue;
    const { userId } = seat;
    void services.profiles.flush(userId).then(async () => {
      for (const { id, name } of result.unlocked) {
        // The player's session, wherever it is now (it may have travelled meanwhile).
        const here = seat.client && !seat.ended && !seat.departing && !seat.reconnection;
        if (here) seat.client.send("achievement", { id, name });
        else await services.users.deliver(userId, "achievement", { id, name });
      }
    });
  }
}

/**
 * Which of a room's logged events a player may read (`GET /api/events/:roomId`): those about what
 * it could see. An event is visible to a player when it is about the player itself (its user or
 * one of its sessions), about its party, or happened at a place within the player's view radius of
 * where the player stands now. In a room whose kind shares everything among its members (a
 * dungeon instance holds one party; a match is public to its players) every event is visible.
 * Events with neither an actor of the player's nor a place are hidden. The admin reads everything
 * and does not come through here.
 */
import { within, type Point } from "../domain/geometry.js";

/** The reader, as the room that holds its seat describes it. */
export interface EventViewer {
  userId: string;
  /** The reader's sessions in the room (events name a body by its session id). */
  sessionIds: readonly string[];
  /** Set in rooms whose events are shared by all members: then everything is visible. */
  shared: boolean;
  /** Where the reader's body stands now, and how far it sees (a world's `aoiRadius`). */
  at?: Point;
  radius?: number;
  party?: string;
}

/** The fields of an event's data that name a body: its user, or its session. */
const ACTOR_FIELDS = ["userId", "sessionId", "hero", "source", "target"] as const;

export function canSee(viewer: EventViewer, data: Readonly<Record<string, unknown>>): boolean {
  if (viewer.shared) return true;
  if (data.userId === viewer.userId) return true;
  for (const field of ACTOR_FIELDS) {
    const id = data[field];
    if (typeof id === "string" && viewer.sessionIds.includes(id)) return true;
  }
  if (viewer.party !== undefined && data.party === viewer.party) return true;
  const { x, y } = data;
  if (typeof x !== "number" || typeof y !== "number" || !viewer.at || viewer.radius === undefined) return false;
  return within({ x, y }, viewer.at, viewer.radius);
}

/** The events of `events` that `viewer` may read, in their order. */
export function visibleTo<E extends { data: Readonly<Record<string, unknown>> }>(
  events: readonly E[],
  viewer: EventViewer,
): E[] {
  return events.filter((event) => canSee(viewer, event.data));
}

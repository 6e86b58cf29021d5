/**
 * The one place where game events become stats and achievements (PROTOCOL §7). Rooms feed it the
 * events they already emit (what a kind records in its event log, plus the room's own `joined`);
 * it answers, for one player, the progress after the event and what it unlocked. Pure: time and
 * the catalogue are passed in, and nothing here knows about rooms or stores.
 */
import type { Achievement } from "../content/achievements.js";
import type { Stats, Unlocked } from "../domain/social.js";

/** A game event as a room emits it: the room kind and its world or dungeon id, the type and the logged data. */
export interface PlayEvent {
  room: string;
  label: string;
  type: string;
  data: Record<string, unknown>;
}

/** Who the progress belongs to: a seated session of a user. */
export interface Player {
  sessionId: string;
  userId: string;
}

export interface Progress {
  stats: Stats;
  achievements: Unlocked[];
  /** dungeon id → fastest clear in ms */
  bests: Record<string, number>;
}

export interface Advanced {
  progress: Progress;
  /** Unlocked by this event, in catalogue order; each was absent from the progress before. */
  unlocked: Achievement[];
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * What the event adds to the player's counters, and whether it concerns the player at all
 * (null: it does not, and nothing changes).
 */
function credit(event: PlayEvent, me: Player): { add: Partial<Stats>; best?: number } | null {
  const { room, type, data } = event;
  switch (`${room}/${type}`) {
    case "world/joined":
    case "dungeon/joined":
    case "match/joined":
      return str(data.sessionId) === me.sessionId ? { add: {} } : null;
    case "world/gathered":
      return str(data.sessionId) === me.sessionId ? { add: { gathered: num(data.qty) ?? 1 } } : null;
    case "dungeon/combat":
      return data.killed === true && str(data.source) === me.sessionId ? { add: { kills: 1 } } : null;
    case "dungeon/died":
      return str(data.hero) === me.sessionId ? { add: { deaths: 1 } } : null;
    case "dungeon/cleared": {
      // Every hero of the party at the clear gets it, the time included.
      const heroes = Array.isArray(data.heroes) ? data.heroes : [];
      return heroes.includes(me.sessionId) ? { add: { dungeonsCleared: 1 }, best: num(data.ms) } : null;
    }
    case "match/finished": {
      const scores = Array.isArray(data.scores) ? (data.scores as Array<{ userId?: unknown }>) : [];
      if (!scores.some((s) => s?.userId === me.userId)) return null;
      return { add: { matchesPlayed: 1, matchesWon: data.winner === me.userId ? 1 : 0 } };
    }
  }
  // A completed trade, from whichever room or route records it: both sides count it.
  if (type === "trade") return data.from === me.userId || data.to === me.userId ? { add: { trades: 1 } } : null;
  return null;
}

function met(a: Achievement, event: PlayEvent, stats: Stats): boolean {
  const when = a.when;
  if ("stat" in when) return stats[when.stat] >= when.atLeast;
  return (
    when.event === event.type &&
    (when.room === undefined || when.room === event.room) &&
    (when.label === undefined || when.label === event.label)
  );
}

/**
 * Applies one event to one player's progress. Answers null when the event does not concern the
 * player; otherwise the new progress (the old one is not changed) and what it unlocked now.
 */
export function advance(
  progress: Progress,
  event: PlayEvent,
  me: Player,
  now: number,
  catalogue: Iterable<Achievement>,
): Advanced | null {
  const credited = credit(event, me);
  if (!credited) return null;
  const stats = { ...progress.stats };
  for (const [key, value] of Object.entries(credited.add) as [keyof Stats, number][]) stats[key] += value;
  const bests = { ...progress.bests };
  if (credited.best !== undefined && event.room === "dungeon") {
    const before = bests[event.label];
    if (before === undefined || credited.best < before) bests[event.label] = credited.best;
  }
  const had = new Set(progress.achievements.map((a) => a.id));
  const unlocked = [...catalogue].filter((a) => !had.has(a.id) && met(a, event, stats));
  return {
    progress: {
      stats,
      bests,
      achievements: [...progress.achievements, ...unlocked.map((a) => ({ id: a.id, at: now }))],
    },
    unlocked,
  };
}

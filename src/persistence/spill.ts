/**
 * The shutdown spill: what the store would not take before the shutdown deadline (profiles and
 * game events) goes to `DATA_DIR/spill.jsonl`, one JSON record a line, and the next start writes it
 * to the store before it takes joins.
 *
 * The journal is written whole at shutdown, appended line by line to a fresh file that is fsynced
 * and then renamed over the old one (and the directory fsynced), so a crash in the middle leaves the
 * previous journal or the new one, never half of one. A torn last line (a disk that lied) is skipped.
 *
 * Replays are idempotent: a profile record carries the version its copy was read at and the id of
 * its write (`opId`), so a record written twice lands once, and a record older than what the store
 * holds (another process wrote newer progress since) is refused as stale and dropped, never
 * written over it. Events are unique per (roomId, seq).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { EventLog } from "./events.js";
import type { ProfileCache } from "./profiles.js";
import { StaleProfileError, StoreUnavailableError, type GameEvent, type Profile, type Store } from "./store.js";

export type SpillRecord =
  { type: "profile"; at: number; opId: string; profile: Profile } | { type: "events"; at: number; events: GameEvent[] };

export interface ReplayReport {
  profiles: number;
  written: number;
  /** Older than what the store holds: dropped. */
  stale: number;
  /** The store refused them for now: held in memory and written by the write-behind. */
  held: number;
  events: number;
}

export class Spill {
  readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    this.file = join(dir, "spill.jsonl");
  }

  get exists(): boolean {
    return existsSync(this.file);
  }

  /** Replaces the journal with `records`, durably. With no records, removes it. */
  write(records: readonly SpillRecord[]): void {
    if (records.length === 0) return this.clear();
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      for (const r of records) writeSync(fd, JSON.stringify(r) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.syncDir();
  }

  /** The journal's records, in order; a line that does not parse (a torn write) is skipped. */
  read(): SpillRecord[] {
    if (!this.exists) return [];
    const records: SpillRecord[] = [];
    for (const line of readFileSync(this.file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as SpillRecord);
      } catch {
        this.log.warn({ file: this.file }, "spill: skipping a line that does not parse");
      }
    }
    return records;
  }

  clear(): void {
    if (!this.exists) return;
    unlinkSync(this.file);
    this.syncDir();
  }

  private syncDir(): void {
    const fd = openSync(this.dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Writes the spill of an earlier run to the store. Run at start-up, before joins: a profile the
 * store will not take now is adopted by the write-behind (and served to its owner from memory),
 * events go back into the event log's buffer; the journal itself is rewritten at the next
 * shutdown, so nothing in it is lost if this run is killed before they land.
 */
export async function replaySpill(
  spill: Spill,
  store: Store,
  profiles: ProfileCache,
  events: EventLog,
  log: Logger,
): Promise<ReplayReport | null> {
  const records = spill.read();
  if (records.length === 0) return null;
  // The last record of a user is the newest copy (it reuses the opId of any earlier failed write).
  const latest = new Map<string, { profile: Profile; opId: string }>();
  const spilledEvents: GameEvent[] = [];
  for (const r of records) {
    if (r.type === "profile") latest.set(r.profile.userId, { profile: r.profile, opId: r.opId });
    else if (r.type === "events") spilledEvents.push(...r.events);
  }
  const report: ReplayReport = { profiles: latest.size, written: 0, stale: 0, held: 0, events: spilledEvents.length };
  await Promise.all(
    [...latest.values()].map(async ({ profile, opId }) => {
      try {
        await store.saveProfile(profile, opId);
        report.written++;
      } catch (err) {
        if (err instanceof StaleProfileError) {
          report.stale++;
          log.warn(
            { userId: profile.userId, spilledVersion: profile.version },
            "spill: the store already holds newer progress for this profile; the spilled copy is dropped",
          );
        } else {
          if (!(err instanceof StoreUnavailableError))
            log.error({ err, userId: profile.userId }, "spill: replay failed");
          report.held++;
          profiles.adopt(profile, opId);
        }
      }
    }),
  );
  let eventsHeld = false;
  if (spilledEvents.length > 0) {
    try {
      await store.appendEvents(spilledEvents);
    } catch {
      events.requeue(spilledEvents);
      eventsHeld = true;
    }
  }
  if (report.held === 0 && !eventsHeld) spill.clear();
  log[report.held || eventsHeld ? "warn" : "info"](
    { ...report, file: spill.file },
    report.held || eventsHeld
      ? "spill replayed in part: the store refuses writes; the rest is held in memory and retried"
      : "spill replayed: every record is in the store",
  );
  return report;
}

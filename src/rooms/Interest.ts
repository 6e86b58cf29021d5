/**
 * Interest management for a world: which players each client receives, and how often. The
 * geometry and the rates are in rules/interest.ts; this class applies their answers to each
 * client's StateView and writes the positions itself.
 *
 * Who is visible: a body that ends a move outside the radius of someone who sees it is hidden from
 * them at once, before any patch can carry its new position (nothing beyond `aoiRadius` ever
 * reaches a client); who *enters* a set, and which of the nearest fill a capped one, is refreshed
 * for each client five times a second, a slice of the clients every tick. StateView carries the
 * arrivals and departures (a whole entity, or its removal).
 *
 * Positions do not go through the schema's per-view encoding, which walks every changed entity
 * once per client. The kind writes them untracked (`placeQuietly` in schema/WorldState.ts); after
 * each patch, `positions` writes one frame per client holding the bodies it sees whose position
 * changed since it was last told, near ones every patch and far ones less often (`updateEvery`).
 * The frame is an ordinary state patch in the schema's own encoding, so an SDK client decodes it
 * like any other.
 */
import { $refId, encode, StateView, type Schema } from "@colyseus/schema";
import { ClientState, Protocol, type Client } from "@colyseus/core";
import { policy } from "../content/policy.js";
import { diffVisible, SpatialGrid, updateEvery } from "../rules/interest.js";

/** A body in the world, as interest management tracks it. */
interface Body<Entity> {
  id: string;
  entity: Entity;
  /** Spreads the sends of slower bands over the patches. */
  phase: number;
  /** The last place `moved` reported: what the visibility checks use. */
  x: number;
  y: number;
}

/** What a client has been told of one body it sees. */
interface Seen<Entity> {
  body: Body<Entity>;
  /** The position last sent, packed as `x * 65536 + y`; -1 until the first patch after it appeared. */
  sent: number;
  /** Patches between two sends of its position, set at each refresh from its distance and rank. */
  every: number;
}

interface Watcher<Entity> {
  client: Client;
  body: Body<Entity>;
  /** Most players this client receives, its own included. */
  cap: number;
  /** Its device's factor on every band's interval (1 at full rate). */
  slowdown: number;
  /** Its own position as last sent to it. */
  sentSelf: number;
  visible: Map<string, Seen<Entity>>;
}

/** Where a body's position lives in its schema class: the field indexes and their encoder. */
interface PositionFields {
  x: number;
  y: number;
  encode: (bytes: Uint8Array, value: number, it: { offset: number }) => void;
}

const { slices, hysteresis, rates } = policy.interest;
const UNSENT = -1;
/** A position update's most bytes: switch (1), refId (at most 5), two fields (1 + 2 each). */
const MAX_UPDATE_BYTES = 12;

export class Interest<Entity extends Schema & { x: number; y: number }> {
  private readonly grid: SpatialGrid<string>;
  private readonly bodies = new Map<string, Body<Entity>>();
  private readonly watchers = new Map<string, Watcher<Entity>>();
  /** Reverse index: who currently sees each session. */
  private readonly seenBy = new Map<string, Set<Watcher<Entity>>>();
  private fields: PositionFields | undefined;
  private scratch = new Uint8Array(1024);
  private phases = 0;

  /**
   * @param entityOf the state entity of a session (what goes into views)
   * @param enabled false sends every player to every client at full rate (the benchmark's baseline)
   */
  constructor(
    private readonly radius: number,
    private readonly entityOf: (sessionId: string) => Entity | undefined,
    private readonly enabled = true,
  ) {
    this.grid = new SpatialGrid(radius / 2);
  }

  /** A new session: give its client a view holding its own body (and, without AOI, everyone). */
  join(sessionId: string, client: Client, cap: number, slowdown: number): void {
    const entity = this.entityOf(sessionId)!;
    this.fields ??= positionFieldsOf(entity);
    const body: Body<Entity> = { id: sessionId, entity, phase: this.phases++, x: entity.x, y: entity.y };
    client.view = new StateView();
    client.view.add(entity);
    this.bodies.set(sessionId, body);
    this.watchers.set(sessionId, { client, body, cap, slowdown, sentSelf: UNSENT, visible: new Map() });
    this.seenBy.set(sessionId, new Set());
    this.grid.set(sessionId, body.x, body.y);
    if (!this.enabled) {
      for (const otherId of this.watchers.keys()) {
        if (otherId === sessionId) continue;
        this.show(sessionId, otherId);
        this.show(otherId, sessionId);
      }
    }
  }

  /** The session's client object changed (a reconnection); its view carries over. */
  rebind(sessionId: string, client: Client): void {
    const watcher = this.watchers.get(sessionId);
    if (watcher) watcher.client = client;
  }

  /** A body moved: hide it from, and hide from it, whoever is now out of range. */
  moved(sessionId: string, x: number, y: number): void {
    this.grid.set(sessionId, x, y);
    const body = this.bodies.get(sessionId);
    if (!body) return;
    body.x = x;
    body.y = y;
    if (!this.enabled) return;
    // Out-of-range pairs are collected first, since hiding edits the sets walked here.
    const r2 = this.radius * this.radius;
    let gone: Watcher<Entity>[] | undefined;
    for (const viewer of this.seenBy.get(sessionId)!) if (distance2(body, viewer.body) > r2) (gone ??= []).push(viewer);
    for (const viewer of gone ?? []) this.hide(viewer.body.id, sessionId);
    let away: string[] | undefined;
    for (const [otherId, seen] of this.watchers.get(sessionId)!.visible)
      if (distance2(body, seen.body) > r2) (away ??= []).push(otherId);
    for (const otherId of away ?? []) this.hide(sessionId, otherId);
  }

  /** Call before the entity leaves the state. */
  leave(sessionId: string): void {
    this.grid.delete(sessionId);
    const watcher = this.watchers.get(sessionId);
    for (const otherId of watcher?.visible.keys() ?? []) this.seenBy.get(otherId)?.delete(watcher!);
    for (const viewer of this.seenBy.get(sessionId) ?? []) viewer.visible.delete(sessionId);
    this.watchers.delete(sessionId);
    this.seenBy.delete(sessionId);
    this.bodies.delete(sessionId);
  }

  /**
   * Recomputes the visible sets of one slice of the clients (every `policy.interest.slices`-th, by the tick
   * number) and applies the differences, so each client is refreshed five times a second at 20 Hz
   * and the cost is spread evenly over the ticks.
   */
  update(tick: number): void {
    if (!this.enabled) return;
    let i = 0;
    for (const [sessionId, watcher] of this.watchers) {
      if (i++ % slices !== tick % slices) continue;
      const next: string[] = this.grid.nearest(
        watcher.body,
        this.radius,
        watcher.cap - 1,
        sessionId,
        watcher.visible,
        this.radius * hysteresis,
      );
      const { add, remove } = diffVisible(watcher.visible, next);
      for (const id of remove) this.hide(sessionId, id);
      for (const id of add) this.show(sessionId, id);
      next.forEach((id, rank) => {
        const seen = watcher.visible.get(id);
        if (seen) this.rate(watcher, seen, rank);
      });
    }
  }

  /**
   * The positions frame for one client after patch number `patch`: its own body when it moved,
   * and each body it sees that moved since it was last told and whose band is due. Undefined when
   * there is nothing to send or the client is not joined yet (its full state covers it).
   */
  positions(sessionId: string, patch: number): Uint8Array | undefined {
    const watcher = this.watchers.get(sessionId);
    if (!watcher || watcher.client.state !== ClientState.JOINED) return undefined;
    const need = 1 + (watcher.visible.size + 1) * MAX_UPDATE_BYTES;
    if (this.scratch.length < need) this.scratch = new Uint8Array(need * 2);
    const bytes = this.scratch;
    const it = { offset: 0 };
    bytes[it.offset++] = Protocol.ROOM_STATE_PATCH;
    const self = watcher.body;
    const own = pack(self);
    if (own !== watcher.sentSelf) {
      this.write(bytes, it, self);
      watcher.sentSelf = own;
    }
    const r2 = this.radius * this.radius;
    for (const seen of watcher.visible.values()) {
      const body = seen.body;
      const now = pack(body);
      if (now === seen.sent) continue;
      // Due by its band, or the position the client holds lies beyond the radius of its own.
      if (seen.sent !== UNSENT && (patch + body.phase) % seen.every !== 0) {
        const heldX = Math.floor(seen.sent / 65536);
        if ((self.x - heldX) ** 2 + (self.y - (seen.sent - heldX * 65536)) ** 2 <= r2) continue;
      }
      this.write(bytes, it, body);
      seen.sent = now;
    }
    return it.offset > 1 ? bytes.slice(0, it.offset) : undefined;
  }

  /** Sets how often a visible body's position goes out to a client, from its distance and rank. */
  private rate(watcher: Watcher<Entity>, seen: Seen<Entity>, rank: number): void {
    seen.every = this.enabled
      ? updateEvery(distance2(watcher.body, seen.body) / this.radius ** 2, rank, rates, watcher.slowdown)
      : 1;
  }

  /**
   * One body's position in the schema's patch encoding: switch to its entity's refId, then both
   * fields. The position is the one `moved` reported, which the entity holds by the patch.
   */
  private write(bytes: Uint8Array, it: { offset: number }, body: Body<Entity>): void {
    const fields = this.fields!;
    bytes[it.offset++] = SWITCH_TO_STRUCTURE;
    encode.number(bytes, body.entity[$refId]!, it);
    bytes[it.offset++] = fields.x; // the field index with operation REPLACE (0)
    fields.encode(bytes, body.x, it);
    bytes[it.offset++] = fields.y;
    fields.encode(bytes, body.y, it);
  }

  private show(viewerId: string, id: string): void {
    const body = this.bodies.get(id);
    const watcher = this.watchers.get(viewerId);
    if (!body || !watcher) return;
    watcher.client.view!.add(body.entity);
    const seen: Seen<Entity> = { body, sent: UNSENT, every: 1 };
    this.rate(watcher, seen, watcher.visible.size);
    watcher.visible.set(id, seen);
    this.seenBy.get(id)!.add(watcher);
  }

  private hide(viewerId: string, id: string): void {
    const body = this.bodies.get(id);
    const watcher = this.watchers.get(viewerId);
    if (!watcher) return;
    if (body) watcher.client.view!.remove(body.entity);
    watcher.visible.delete(id);
    this.seenBy.get(id)?.delete(watcher);
  }
}

/** The schema's "switch to structure" marker that starts a patch's changes of one instance. */
const SWITCH_TO_STRUCTURE = 255;

const distance2 = (a: { x: number; y: number }, b: { x: number; y: number }) => (a.x - b.x) ** 2 + (a.y - b.y) ** 2;

/** A whole-unit position in one number (each coordinate fits 16 bits). */
const pack = (p: { x: number; y: number }) => p.x * 65536 + p.y;

/**
 * The field indexes of `x` and `y` in the entity's schema class, and their encoder. Both must be
 * declared `uint16` (whole units within the map), which is what fixes an update's size.
 */
function positionFieldsOf(entity: Schema): PositionFields {
  const metadata = (entity.constructor as { [Symbol.metadata]?: Record<string, unknown> })[Symbol.metadata];
  const x = metadata?.["x"];
  const y = metadata?.["y"];
  const typeOf = (index: unknown) => (metadata?.[index as number] as { type?: unknown } | undefined)?.type;
  if (typeof x !== "number" || typeof y !== "number" || typeOf(x) !== "uint16" || typeOf(y) !== "uint16")
    throw new Error("interest management needs bodies with uint16 fields x and y");
  return { x, y, encode: encode.uint16 };
}

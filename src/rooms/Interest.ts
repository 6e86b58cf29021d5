/**
 * Interest management for a world: which players each client receives. The geometry is in
 * rules/interest.ts; this class applies its answers to each client's StateView, and only when a
 * client's visible set changes, because StateView's cost grows with views × changed entities.
 *
 * Two paces: a body that ends a move outside the radius of someone who sees it is hidden from
 * them at once, before any patch can carry its new position (nothing beyond `aoiRadius` ever
 * reaches a client); who *enters* a set, and which of the nearest fill a capped one, is refreshed
 * for each client five times a second, a slice of the clients every tick.
 */
import { StateView, type Schema } from "@colyseus/schema";
import { policy } from "../content/policy.js";
import type { Client } from "@colyseus/core";
import { diffVisible, SpatialGrid } from "../rules/interest.js";
import type { Point } from "../domain/geometry.js";

interface Watcher {
  client: Client;
  /** Most players this client receives, its own included. */
  cap: number;
  visible: Set<string>;
}

const { slices, hysteresis } = policy.interest;

export class Interest<Entity extends Schema & Point> {
  private readonly grid: SpatialGrid<string>;
  private readonly watchers = new Map<string, Watcher>();
  /** Reverse index: who currently sees each session. */
  private readonly seenBy = new Map<string, Set<string>>();

  /**
   * @param entityOf the state entity of a session (what goes into views)
   * @param enabled false sends every player to every client (the benchmark's baseline)
   */
  constructor(
    private readonly radius: number,
    private readonly entityOf: (sessionId: string) => Entity | undefined,
    private readonly enabled = true,
  ) {
    this.grid = new SpatialGrid(radius);
  }

  /** A new session: give its client a view holding its own body (and, without AOI, everyone). */
  join(sessionId: string, client: Client, cap: number): void {
    const self = this.entityOf(sessionId)!;
    client.view = new StateView();
    client.view.add(self);
    this.watchers.set(sessionId, { client, cap, visible: new Set() });
    this.seenBy.set(sessionId, new Set());
    this.grid.set(sessionId, self.x, self.y);
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
    if (!this.enabled) return;
    // Positions come from the grid (plain numbers), not the synchronized entities: this runs on
    // every move. Out-of-range pairs are collected first, since hiding edits the sets walked here.
    let gone: string[] | undefined;
    for (const viewerId of this.seenBy.get(sessionId)!)
      if (!this.grid.within(sessionId, viewerId, this.radius)) (gone ??= []).push(viewerId);
    for (const viewerId of gone ?? []) this.hide(viewerId, sessionId);
    gone = undefined;
    for (const otherId of this.watchers.get(sessionId)!.visible)
      if (!this.grid.within(sessionId, otherId, this.radius)) (gone ??= []).push(otherId);
    for (const otherId of gone ?? []) this.hide(sessionId, otherId);
  }

  /** Call before the entity leaves the state. */
  leave(sessionId: string): void {
    this.grid.delete(sessionId);
    for (const otherId of this.watchers.get(sessionId)?.visible ?? []) this.seenBy.get(otherId)?.delete(sessionId);
    for (const viewerId of this.seenBy.get(sessionId) ?? []) this.watchers.get(viewerId)?.visible.delete(sessionId);
    this.watchers.delete(sessionId);
    this.seenBy.delete(sessionId);
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
      const self = this.entityOf(sessionId);
      if (!self) continue;
      const next = this.grid.nearest(
        self,
        this.radius,
        watcher.cap - 1,
        sessionId,
        watcher.visible,
        this.radius * hysteresis,
      );
      const { add, remove } = diffVisible(watcher.visible, next);
      for (const id of remove) this.hide(sessionId, id);
      for (const id of add) this.show(sessionId, id);
    }
  }

  private show(viewerId: string, id: string): void {
    const entity = this.entityOf(id);
    const watcher = this.watchers.get(viewerId);
    if (!entity || !watcher) return;
    watcher.client.view!.add(entity);
    watcher.visible.add(id);
    this.seenBy.get(id)!.add(viewerId);
  }

  private hide(viewerId: string, id: string): void {
    const entity = this.entityOf(id);
    const watcher = this.watchers.get(viewerId);
    if (entity && watcher) watcher.client.view!.remove(entity);
    watcher?.visible.delete(id);
    this.seenBy.get(id)?.delete(viewerId);
  }
}

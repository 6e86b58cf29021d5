/**
 * Interest management for a world: which players each client receives. The geometry is in
 * rules/interest.ts; this class applies its answers to each client's StateView, and only when a
 * client's visible set changes, because StateView's cost grows with views × changed entities.
 */
import { StateView, type Schema } from "@colyseus/schema";
import type { Client } from "@colyseus/core";
import { diffVisible, SpatialGrid } from "../rules/interest.js";
import type { Point } from "../rules/geometry.js";

interface Watcher {
  client: Client;
  /** Most players this client receives, its own included. */
  cap: number;
  visible: Set<string>;
}

/** Slack, as a fraction of the radius, that keeps a shown body shown (see SpatialGrid.nearest). */
const HYSTERESIS = 0.1;

export class Interest<Entity extends Schema & Point> {
  private readonly grid: SpatialGrid<string>;
  private readonly watchers = new Map<string, Watcher>();

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
    const watcher: Watcher = { client, cap, visible: new Set() };
    this.watchers.set(sessionId, watcher);
    this.grid.set(sessionId, self.x, self.y);
    if (!this.enabled) {
      for (const [otherId, other] of this.watchers) {
        if (otherId === sessionId) continue;
        this.show(watcher, otherId);
        this.show(other, sessionId);
      }
    }
  }

  /** The session's client object changed (a reconnection); its view carries over. */
  rebind(sessionId: string, client: Client): void {
    const watcher = this.watchers.get(sessionId);
    if (watcher) watcher.client = client;
  }

  moved(sessionId: string, x: number, y: number): void {
    this.grid.set(sessionId, x, y);
  }

  /** Call before the entity leaves the state. */
  leave(sessionId: string): void {
    this.grid.delete(sessionId);
    this.watchers.delete(sessionId);
    for (const watcher of this.watchers.values()) watcher.visible.delete(sessionId);
  }

  /**
   * Recomputes the visible sets of one slice of the clients and applies the differences. Called
   * every tick with the tick number, each client is refreshed every `slices` ticks (at 20 Hz and
   * 4 slices, five times a second: a body at full speed moves 40 units between two refreshes
   * against a view radius of 300), and the cost is spread evenly over the ticks.
   */
  update(tick: number, slices = 4): void {
    if (!this.enabled) return;
    let i = 0;
    for (const [sessionId, watcher] of this.watchers) {
      if (i++ % slices !== tick % slices) continue;
      const self = this.entityOf(sessionId);
      if (!self) continue;
      const next = this.grid.nearest(self, this.radius, watcher.cap - 1, sessionId, watcher.visible, this.radius * HYSTERESIS);
      const { add, remove } = diffVisible(watcher.visible, next);
      for (const id of remove) this.hide(watcher, id);
      for (const id of add) this.show(watcher, id);
    }
  }

  private show(watcher: Watcher, id: string): void {
    const entity = this.entityOf(id);
    if (!entity) return;
    watcher.client.view!.add(entity);
    watcher.visible.add(id);
  }

  private hide(watcher: Watcher, id: string): void {
    const entity = this.entityOf(id);
    if (entity) watcher.client.view!.remove(entity);
    watcher.visible.delete(id);
  }
}

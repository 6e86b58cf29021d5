/**
 * An open world (PROTOCOL §2.1). Thin: it decodes, asks the rules, applies, and lets the Interest
 * manager decide who sees whom.
 */
import { policy } from "../content/policy.js";
import type { WorldTemplate } from "../content/index.js";
import { checkChat } from "../rules/chat.js";
import { checkGather } from "../rules/gather.js";
import { checkMove } from "../rules/movement.js";
import { addItem, STARTING_HP } from "../domain/profile.js";
import { spawnPoint, type TileMap } from "../domain/tilemap.js";
import { refuse } from "../domain/result.js";
import { createRng, type Rng } from "../domain/rng.js";
import { RejectCode } from "../protocol/codes.js";
import { Player, Portal, Resource, WorldState } from "../schema/WorldState.js";
import { Chat, Gather, Move, Travel, WorldJoinOptions, type Device } from "../validators/messages.js";
import { arrivalPoint, checkTravel } from "../rules/travel.js";
import { CloseCode, matchMaker } from "@colyseus/core";
import { GameRoom, type Seat } from "./GameRoom.js";
import { Interest } from "./Interest.js";
import type { Services } from "../services.js";

/** Per-session data the world keeps beside the synchronized Player. */
interface Walker {
  moveBudget: number;
  lastMoveAt: number;
  lastGatherAt: number;
  /** The device tier it joined with, kept for a hand-over to another world. */
  device: Device;
}

export class WorldRoom extends GameRoom<WorldState> {
  static override joinOptions(services: Services) {
    return WorldJoinOptions.refine((o) => services.content.worlds.has(o.world), {
      message: "is not a known world",
      path: ["world"],
    });
  }
  readonly kind = "world";

  override state = new WorldState();
  private map!: TileMap;
  private template!: WorldTemplate;
  private interest!: Interest<Player>;
  private readonly walkers = new Map<string, Walker>();
  private readonly regrowAt = new Map<string, number>();
  /** Transfers under way through each portal of this instance. */
  private readonly inFlight = new Map<string, number>();
  private rng!: Rng;

  get world() {
    return this.template.id;
  }
  protected get speed() {
    return this.template.speed;
  }
  protected get bounds() {
    return { width: this.template.width, height: this.template.height };
  }
  protected get tickRate() {
    return policy.worldTickRate;
  }

  protected create(options: { world?: string }): void {
    const world = this.services.content.worlds.get(options.world ?? "meadow");
    if (!world) throw new Error(`unknown world "${options.world}"`);
    this.template = world.template;
    this.map = world.map;
    this.rng = createRng(Number.parseInt(this.roomId.replace(/[^0-9a-f]/gi, "").slice(0, 8) || "1", 16));
    this.maxClients = this.template.maxPlayers;

    const t = this.template;
    this.state.world = t.id;
    for (const p of t.portals) this.state.portals.set(p.id, new Portal({ id: p.id, x: p.x, y: p.y, to: p.to }));
    for (const r of t.resources)
      this.state.resources.set(r.id, new Resource({ id: r.id, kind: r.kind, x: r.x, y: r.y, amount: r.amount }));

    this.interest = new Interest(t.aoiRadius, (id) => this.state.players.get(id), this.services.config.aoiEnabled);

    this.action("move", Move, (seat, { x, y }) => this.move(seat, x, y));
    this.action("chat", Chat, (seat, { text }) => this.chat(seat, text));
    this.action("gather", Gather, (seat, { resource }) => this.gather(seat, resource));
    this.action("travel", Travel, (seat, { seq, portal }) => this.travel(seat, portal, seq));
    this.simulate(() => this.step(), policy.worldTickRate);
  }

  private step(): void {
    this.state.tick = this.tick;
    this.regrowResources();
    this.interest.update(this.tick);
  }

  // --- bodies --------------------------------------------------------------------------------

  protected placeBody(seat: Seat, options: unknown): void {
    const { device } = WorldJoinOptions.parse(options);
    const t = this.template;
    const saved = seat.profile.location;
    const at = saved?.world === t.id ? saved : spawnPoint(this.map, t.spawn, this.rng);
    const player = new Player({
      sessionId: seat.sessionId,
      userId: seat.userId,
      name: seat.name,
      x: at.x,
      y: at.y,
      hp: seat.profile.hp,
      maxHp: STARTING_HP,
      level: seat.profile.level,
    });
    this.state.players.set(seat.sessionId, player);
    this.walkers.set(seat.sessionId, { moveBudget: 0, lastMoveAt: this.now, lastGatherAt: -Infinity, device });
    this.interest.join(seat.sessionId, seat.client, policy.deviceCaps[device]);
    this.keepLocation(seat, player);
  }

  protected removeBody(seat: Seat): void {
    const player = this.state.players.get(seat.sessionId);
    // A traveller's profile already holds its arrival in the other world.
    if (player && !seat.travelling) this.keepLocation(seat, player);
    this.interest.leave(seat.sessionId);
    this.walkers.delete(seat.sessionId);
    this.state.players.delete(seat.sessionId);
  }

  override onReconnect(client: Parameters<GameRoom<WorldState>["onReconnect"]>[0]): void {
    super.onReconnect(client);
    this.interest.rebind(client.sessionId, client);
  }

  protected welcomeExtras() {
    return {
      world: this.template.id,
      aoiRadius: this.template.aoiRadius,
      gatherRange: policy.gather.range,
      gatherCooldownMs: policy.gather.cooldownMs,
      travelRange: policy.travel.range,
      travelCooldownMs: policy.travel.cooldownMs,
    };
  }

  /** Writes the body's position into the profile, which the write-behind will save. */
  private keepLocation(seat: Seat, player: Player): void {
    seat.profile.location = { world: this.template.id, x: player.x, y: player.y };
    seat.profile.hp = player.hp;
    this.services.profiles.touch(seat.userId);
  }

  // --- actions -------------------------------------------------------------------------------

  private move(seat: Seat, x: number, y: number) {
    const player = this.state.players.get(seat.sessionId)!;
    const walker = this.walkers.get(seat.sessionId)!;
    const verdict = checkMove(
      { x: player.x, y: player.y, moveBudget: walker.moveBudget, lastMoveAt: walker.lastMoveAt },
      { x, y },
      { now: this.now, map: this.map, policy: { speed: this.speed, ...policy.move } },
    );
    if (!verdict.ok) return verdict;
    player.x = verdict.x;
    player.y = verdict.y;
    walker.moveBudget = verdict.moveBudget;
    walker.lastMoveAt = verdict.lastMoveAt;
    this.interest.moved(seat.sessionId, player.x, player.y);
    this.keepLocation(seat, player);
    return verdict;
  }

  private chat(seat: Seat, text: string) {
    const verdict = checkChat(text);
    if (!verdict.ok) return verdict;
    this.broadcast("chat", { from: seat.sessionId, name: seat.name, text: verdict.text, at: Date.now() });
    return verdict;
  }

  private gather(seat: Seat, resourceId: string) {
    const resource = this.state.resources.get(resourceId);
    const template = this.template.resources.find((r) => r.id === resourceId);
    if (!resource || !template) return refuse(RejectCode.GatherOutOfRange, `there is no resource "${resourceId}" here`);
    const player = this.state.players.get(seat.sessionId)!;
    const walker = this.walkers.get(seat.sessionId)!;
    const verdict = checkGather(
      { x: player.x, y: player.y, lastGatherAt: walker.lastGatherAt },
      { x: resource.x, y: resource.y, amount: resource.amount, item: template.item, yield: policy.gather.yield },
      { now: this.now, policy: policy.gather },
    );
    if (!verdict.ok) return verdict;
    walker.lastGatherAt = this.now;
    if (resource.amount === template.amount) this.regrowAt.set(resourceId, this.now + template.regrowMs);
    resource.amount -= verdict.qty;
    seat.profile.inventory = addItem(seat.profile.inventory, verdict.item, verdict.qty);
    this.services.profiles.touch(seat.userId);
    seat.client.send("gathered", { resource: resourceId, item: verdict.item, qty: verdict.qty });
    this.record("gathered", {
      sessionId: seat.sessionId,
      userId: seat.userId,
      resource: resourceId,
      item: verdict.item,
      qty: verdict.qty,
    });
    return verdict;
  }

  /**
   * The portal hand-over. The checks run now; then, asynchronously: a seat is reserved in an
   * instance of the target world (on whichever process holds or creates it), the profile is
   * written with the arrival point, and only then does the body leave this world and the client
   * get its reservation. A failure at any step leaves the player where it was. If the client never
   * uses the reservation, its profile already places it at the arrival point: nothing is lost.
   */
  private travel(seat: Seat, portalId: string, seq: number) {
    const player = this.state.players.get(seat.sessionId)!;
    const portal = this.template.portals.find((p) => p.id === portalId);
    const verdict = checkTravel({ x: player.x, y: player.y, arrivedAt: seat.arrivedAt }, portal, {
      now: this.now,
      inFlight: this.inFlight.get(portalId) ?? 0,
      policy: policy.travel,
    });
    if (!verdict.ok) return verdict;
    seat.travelling = true;
    this.inFlight.set(portalId, (this.inFlight.get(portalId) ?? 0) + 1);
    void this.handOver(seat, player, verdict.portal, seq);
    return verdict;
  }

  private async handOver(
    seat: Seat,
    player: Player,
    portal: WorldTemplate["portals"][number],
    seq: number,
  ): Promise<void> {
    const release = () => {
      this.inFlight.set(portal.id, (this.inFlight.get(portal.id) ?? 1) - 1);
    };
    const fail = (message: string, err?: unknown) => {
      this.log.warn({ sessionId: seat.sessionId, portal: portal.id, err }, `travel failed: ${message}`);
      seat.travelling = false;
      release();
      this.refuse(seat, "travel", seq, { ok: false, code: RejectCode.TravelUnavailable, message });
    };
    const target = this.services.content.worlds.get(portal.to)!.template;
    const exit = target.portals.find((p) => p.id === portal.exit)!;
    const arrival = arrivalPoint(target, exit, policy.travel.arrivalOffset);
    const device = this.walkers.get(seat.sessionId)?.device ?? "desktop";

    let reservation: Awaited<ReturnType<typeof matchMaker.joinOrCreate>>;
    try {
      reservation = await matchMaker.joinOrCreate("world", {
        world: target.id,
        device,
        traveller: { userId: seat.userId, name: seat.name },
      });
    } catch (err) {
      return fail(`no seat could be reserved in ${target.id}`, err);
    }
    if (!this.seats.has(seat.sessionId)) return release(); // left meanwhile: the reservation lapses

    const before = seat.profile.location;
    seat.profile.location = { world: target.id, ...arrival };
    seat.profile.hp = player.hp;
    this.services.profiles.touch(seat.userId);
    await this.services.profiles.flush(seat.userId);
    if (this.services.profiles.failing) {
      seat.profile.location = before;
      return fail("saves are failing; the portal waits until they work again");
    }

    const globalSeq = await this.services.sequences.next("travel").catch(() => null);
    this.record("travel", {
      sessionId: seat.sessionId,
      userId: seat.userId,
      portal: portal.id,
      to: target.id,
      globalSeq,
    });
    seat.ended = true;
    await this.releaseSeat(seat);
    seat.client.send("travel", { world: target.id, reservation });
    // The body is gone from here: close the old connection (after the travel message, which the
    // socket delivers first) unless the client has left by itself within a second.
    this.clock.setTimeout(() => seat.client.leave(CloseCode.CONSENTED, "travel/departed"), 1000);
    this.clock.setTimeout(release, this.seatReservationTimeout * 1000);
  }

  private regrowResources(): void {
    for (const [id, at] of this.regrowAt) {
      if (this.now < at) continue;
      const resource = this.state.resources.get(id)!;
      const template = this.template.resources.find((r) => r.id === id)!;
      resource.amount = Math.min(template.amount, resource.amount + 1);
      if (resource.amount < template.amount) this.regrowAt.set(id, this.now + template.regrowMs);
      else this.regrowAt.delete(id);
    }
  }
}

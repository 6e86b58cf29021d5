/**
 * The shape of every room kind. A kind is data: a pure simulation (`create`, `join`, `leave`,
 * `apply`, `step`), a message table, and how the simulation shows in the synchronized state. One
 * generic room (src/rooms/KindRoom.ts) runs any kind: it decodes, runs the pipeline, applies,
 * broadcasts and saves.
 *
 * Nothing here, and nothing a simulation imports, may touch Colyseus, express or a store: time,
 * randomness, content and policy arrive as plain values in `Ctx`, so a test or a replay can fix
 * them (see src/engine/replay.ts).
 */
import type { z } from "zod";
import type { Content } from "../content/index.js";
import type { Policy, RateClass } from "../content/policy.js";
import type { Profile } from "../domain/profile.js";
import type { Verdict } from "../domain/result.js";
import type { Store } from "../persistence/store.js";
import type { JoinErrorCode } from "../protocol/codes.js";
import type { Rng } from "../domain/rng.js";
import type { TradeCommand } from "../domain/trade.js";

/** What a simulation sees of the world outside it. */
export interface Ctx {
  /** Epoch ms: the arrival of the command being applied, or the nominal time of the step. */
  now: number;
  /** Simulation steps run so far. */
  tick: number;
  rng: Rng;
  content: Content;
  policy: Policy;
}

/** Who acts: a seated session. */
export interface Actor {
  sessionId: string;
  userId: string;
  name: string;
}

export interface Applied<Event> {
  verdict: Verdict;
  events: Event[];
}

/** One row of a message table: the shape at the edge, the rate class, and the command it becomes. */
export interface MessageSpec<Command> {
  schema: z.ZodType;
  rate: RateClass;
  command: (payload: never) => Command;
}

/** Declares a message: keeps the payload type of `schema` flowing into `command`. */
export function message<S extends z.ZodType, Command>(
  schema: S,
  rate: RateClass,
  command: (payload: z.infer<S>) => Command,
): MessageSpec<Command> {
  return { schema, rate, command };
}

/**
 * What the room does with a simulation's events: the only way a kind reaches the outside. The room
 * implements it; a replay ignores it.
 */
export interface Outbox {
  broadcast(type: string, message: object): void;
  send(sessionId: string, type: string, message: object): void;
  /** Appends to the room's event log. */
  record(type: string, data: Record<string, unknown>): void;
  /** Changes a seated player's profile; `urgent` writes it now instead of at the next flush. */
  profile(sessionId: string, change: (profile: Profile) => void, options?: { urgent?: boolean }): void;
  /** Every seated player's profile. */
  everyProfile(change: (profile: Profile) => void): void;
  /**
   * Gives a player of this room's match its rating from `matchId`, seated here or not: it reaches
   * the profile wherever that is held (a room it left for, on any process, or the store), once.
   * `finished` is the data of the `finished` record: a player no longer seated here is credited
   * with it (stats, achievements) along with the rating, as seated ones are by the record.
   */
  rate(
    player: { userId: string; name: string },
    matchId: string,
    rating: number,
    finished: Record<string, unknown>,
  ): void;
  /** The body moved: interest management re-checks who sees it. */
  moved(sessionId: string, x: number, y: number): void;
  /** Sends the player to another instance of this kind (portals); see `Departure`. */
  depart(sessionId: string, departure: Departure): void;
  /** No one may join any more (a finished run). */
  lock(): void;
  /** Matchmaking stops offering the room; it can still be joined by id (a match under way). */
  unlist(): void;
  /**
   * A write to the store, queued behind this room's earlier writes so they land in order; a
   * failure is logged and the queue goes on. `roomId` is the room's own id.
   */
  save(write: (store: Store, roomId: string) => Promise<unknown>): void;
  /** Signs `data` (UTF-8) with the server's key: Ed25519, base64url; the same in every process. */
  sign(data: string): string;
  /** Hands a player's trade message to the trade service (src/trade/); its answer or refusal goes to the player. */
  trade(sessionId: string, command: TradeCommand): void;
}

/** A hand-over to another room of the same kind, started by an accepted command. */
export interface Departure {
  /** Join options of the target room (e.g. `{world: "dunes"}`). */
  options: Record<string, unknown>;
  /** What the profile holds once the body has left (the arrival point). */
  profile: Partial<Profile>;
  /** The command the room applies if the hand-over fails, so the simulation can undo its bookkeeping. */
  failed: unknown;
  /** The `travel` message to the client, beside its `reservation`. */
  message: Record<string, unknown>;
  /** Fields of the `travel` event log entry. */
  log: Record<string, unknown>;
}

/** How a kind shows in the synchronized (Colyseus schema) state. */
export interface StateMapping<Sim, State> {
  create(sim: Sim): State;
  /** Mirrors the simulation into the state after every command and step; schema sends only what changed. */
  sync(sim: Sim, state: State, tick: number): void;
  /** The state entity of a seated body, for interest management; kinds without AOI leave it out. */
  bodyOf?(state: State, sessionId: string): (object & { x: number; y: number }) | undefined;
}

export interface RoomKind<Sim, Command, Event, State, Join, Options extends Record<string, unknown>> {
  /** The Colyseus room name: also the "one seat per user" scope and the metrics label. */
  readonly name: string;
  /** Join options, defaults applied before matchmaking (so `filterBy` sees them). */
  joinOptions(content: Content): z.ZodType<Options>;
  readonly filterBy: readonly (keyof Options & string)[];
  /**
   * The join option that says who belongs in an instance (a dungeon's `party`): a join by any path
   * (by id, a reserved seat, create) is refused unless its value equals the instance's.
   */
  readonly membership?: keyof Options & string;
  /** The world or dungeon id: logs and metrics. */
  label(options: Options): string;
  tickRate(policy: Policy): number;
  maxClients(options: Options, content: Content): number;
  /**
   * Seconds an empty room waits for players before it closes (config-driven); 0 closes at once.
   * Rooms that wait also exist before anyone joins.
   */
  lingerSec?(settings: { dungeonGraceSec: number }): number;

  /**
   * The simulation of a new instance. `instanceId` is unique to it and recorded in its replay log:
   * the id of anything that outlives the room (a match's `matchId`).
   */
  create(options: Options, ctx: Ctx, instanceId: string): Sim;
  /**
   * Whether a join may take place now, before it takes a seat (e.g. a match under way takes
   * spectators only). A refusal fails the join with its code. Without it every join is let in.
   */
  admit?(sim: Sim, options: Options): { ok: true } | { ok: false; code: JoinErrorCode; message: string };
  /** What of a joining player's profile and options the simulation needs; recorded in the replay log. */
  joinData(profile: Profile, options: Options, arrived: boolean): Join;
  join(sim: Sim, actor: Actor, join: Join, ctx: Ctx): Event[];
  leave(sim: Sim, actor: Actor, ctx: Ctx): Event[];
  /** The player's connection dropped; its seat is held for the reconnection window. */
  drop?(sim: Sim, actor: Actor, ctx: Ctx): Event[];
  /** The player came back within the reconnection window. */
  reconnect?(sim: Sim, actor: Actor, ctx: Ctx): Event[];
  apply(sim: Sim, actor: Actor, command: Command, ctx: Ctx): Applied<Event>;
  /**
   * An operator's command from an admin route (e.g. a match rollback), reaching the room through
   * `KindRoom.operate` on whichever process holds it. Its payload is checked by the kind.
   */
  operate?(sim: Sim, op: string, payload: unknown, ctx: Ctx): Applied<Event>;
  step?(sim: Sim, ctx: Ctx): Event[];
  /** Profile fields the simulation owns for a seated body (position, hp), saved as play goes. */
  persist?(sim: Sim, sessionId: string): Partial<Profile>;

  /** message type → shape → rate class → command. `ping` is common to every kind. */
  readonly messages: Readonly<Record<string, MessageSpec<Command>>>;
  readonly state: StateMapping<Sim, State>;
  /** Fields of `welcome` beyond `sessionId`, `serverTime` and `tickRate`. */
  welcome(sim: Sim, actor: Actor, ctx: Ctx): Record<string, unknown>;
  /**
   * Interest management: the radius, the cap of visible bodies for a join, and the factor on its
   * neighbours' update intervals. Bodies' `x` and `y` are then `uint16` fields written with
   * `placeQuietly`: interest management sends positions itself (src/rooms/Interest.ts).
   */
  interest?: {
    radius(sim: Sim): number;
    cap(join: Join, policy: Policy): number;
    slowdown(join: Join, policy: Policy): number;
  };
  /** Turns one event into messages, saves and log entries. */
  react(event: Event, out: Outbox, sim: Sim, ctx: Ctx): void;
}

/** A kind with its type parameters erased, as the room and the registry hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKind = RoomKind<any, any, any, any, any, any>;

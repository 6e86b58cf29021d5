/**
 * What a Realmgate room shows and says, as plain TypeScript types: the synchronized state of
 * each room kind, the welcome, and every client and server message. Hand-written so that a game
 * or a browser bundle pulls in no server code; `test/client.test.ts` fails when they drift from
 * the server's schema, message tables and welcome.
 */

/** A synchronized map as the SDK exposes it (a `MapSchema`), reduced to what a client reads. */
export interface SyncMap<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<V>;
  entries(): IterableIterator<[string, V]>;
  forEach(callback: (value: V, key: string) => void): void;
  readonly size: number;
}

/** Positions are in units (a tile is `tileSize` units); a body's position is always whole units. */
export interface Body {
  sessionId: string;
  userId: string;
  name: string;
  x: number;
  y: number;
  hp: number;
  maxHp: number;
}

// ---- world (PROTOCOL §2.1) ----

export interface Player extends Body {
  level: number;
}
export interface Portal {
  id: string;
  x: number;
  y: number;
  /** The world this portal leads to. */
  to: string;
}
export interface Resource {
  id: string;
  kind: string;
  x: number;
  y: number;
  amount: number;
}
export interface WorldState {
  world: string;
  tick: number;
  /** The own player and the others within `aoiRadius`, nearest first, capped by device. */
  players: SyncMap<Player>;
  portals: SyncMap<Portal>;
  resources: SyncMap<Resource>;
}

// ---- dungeon (PROTOCOL §2.2) ----

export interface Hero extends Body {
  mana: number;
  maxMana: number;
  alive: boolean;
}
export interface Enemy {
  id: string;
  kind: string;
  x: number;
  y: number;
  hp: number;
  maxHp: number;
  alive: boolean;
}
export interface Loot {
  id: string;
  item: string;
  qty: number;
  x: number;
  y: number;
}
export interface Door {
  id: string;
  open: boolean;
}
export type DungeonStatus = "waiting" | "active" | "cleared" | "failed";
export interface DungeonState {
  dungeon: string;
  /** One of {@link DungeonStatus}. */
  status: string;
  tick: number;
  /** Starts at 1 in a dungeon with a boss and grows at its hp thresholds; 0 where there is no boss. */
  bossPhase: number;
  heroes: SyncMap<Hero>;
  enemies: SyncMap<Enemy>;
  loot: SyncMap<Loot>;
  doors: SyncMap<Door>;
}

// ---- welcome: sent once, right after the join ----

/** What every welcome carries, and how movement is paced (see docs/CLIENT.md, "Movement"). */
export interface MoveRules {
  sessionId: string;
  /** The room's clock (ms) when the welcome was sent. */
  serverTime: number;
  /** Room steps (and patches) per second. */
  tickRate: number;
  /** Units per second. */
  speed: number;
  /** Units. */
  bounds: { width: number; height: number };
  /** Most standing-still time (ms) that counts toward the next step. */
  moveBankMs: number;
  /** Fraction a step may exceed its allowance by (0.1 = 10 %). */
  moveTolerance: number;
}
export interface WorldWelcome extends MoveRules {
  world: string;
  aoiRadius: number;
  gatherRange: number;
  gatherCooldownMs: number;
  travelRange: number;
  travelCooldownMs: number;
}
export interface DungeonWelcome extends MoveRules {
  dungeon: string;
  party: string;
  pickupRange: number;
}

// ---- messages ----

/**
 * `fingerprint` (PROTOCOL §8): the device fingerprint a pinned token needs at every join; the
 * server takes it out of the options before anything else sees them.
 */
export interface JoinOptions {
  world: { world?: string; device?: "mobile" | "tablet" | "desktop" | "high_end"; fingerprint?: string };
  dungeon: { dungeon?: string; party?: string; fingerprint?: string };
}

/** Client → server, by room kind. Every action carries `seq` (see `Actions` in `./index.ts`). */
export interface ClientMessages {
  world: {
    move: { seq: number; x: number; y: number };
    chat: { seq: number; text: string };
    gather: { seq: number; resource: string };
    travel: { seq: number; portal: string };
    /** PROTOCOL §5: `to` is a userId or a username; at most 8 entries each way. */
    trade: { seq: number; to: string; give?: Goods; gold?: number; want?: Goods; wantGold?: number };
    trade_accept: { seq: number; tradeId: string };
    trade_decline: { seq: number; tradeId: string };
    trade_cancel: { seq: number; tradeId: string };
    ping: { t: number };
    whisper: { seq: number; to: string; text: string };
  };
  dungeon: {
    move: { seq: number; x: number; y: number };
    attack: { seq: number; target: string; ability?: string };
    pickup: { seq: number; loot: string };
    ping: { t: number };
    whisper: { seq: number; to: string; text: string };
  };
}

/** Items of a trade: `[{item, qty}]`. */
export type Goods = Array<{ item: string; qty: number }>;

/** `trade_offer`: an offer addressed to this player (PROTOCOL §5). */
export interface TradeOffer {
  tradeId: string;
  from: string;
  fromName: string;
  give: Goods;
  gold: number;
  want: Goods;
  wantGold: number;
  expiresAt: number;
}

/** `reject {seq, action, code, message}`: a refused action, to its sender only; nothing changed. */
export interface Reject {
  /** The refused action's `seq`, or null when the payload had none. */
  seq: number | null;
  action: string;
  /** A namespaced code from docs/PROTOCOL.md (`move/too_fast`, `seq/stale`, ...): branch on this. */
  code: string;
  /** For people: numbers in it are rounded; its wording may change. */
  message: string;
}

interface CommonServerMessages {
  reject: Reject;
  pong: { t: number; serverTime: number };
  /** A whisper to this player from anywhere in the cluster (PROTOCOL §7). */
  whisper: { from: string; name: string; text: string; at: number };
  /** An achievement unlocked now; sent once (PROTOCOL §7). */
  achievement: { id: string; name: string };
}

/** Server → client, by room kind. */
export interface ServerMessages {
  world: CommonServerMessages & {
    welcome: WorldWelcome;
    chat: { from: string; name: string; text: string; at: number };
    gathered: { resource: string; item: string; qty: number };
    travel: { world: string; reservation: unknown };
    trade_sent: { tradeId: string; expiresAt: number };
    trade_offer: TradeOffer;
    /** Both profiles are saved before it is sent. */
    traded: { tradeId: string; gave: { items: Goods; gold: number }; got: { items: Goods; gold: number } };
    /** `failed` is an extension: an accepted trade that could not be completed and was undone. */
    trade_closed: { tradeId: string; reason: "declined" | "cancelled" | "expired" | "failed" };
  };
  dungeon: CommonServerMessages & {
    welcome: DungeonWelcome;
    combat: { source: string; target: string; ability: string; damage: number; crit: boolean; killed: boolean };
    phase: { bossPhase: number };
    picked: { loot: string; item: string; qty: number };
    cleared: { at: number; xp: number };
    failed: { at: number };
  };
}

export interface States {
  world: WorldState;
  dungeon: DungeonState;
}

export type Kind = keyof States;

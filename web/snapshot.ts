/**
 * The shape of `window.realmgate.state()`: what the page knows, as plain JSON. Tests read it to
 * wait on the game; it imports nothing, so a Node program (the Playwright test) can use it too.
 */
export interface SnapPoint {
  x: number;
  y: number;
}
export interface SnapRefusal {
  seq: number | null;
  action: string;
  code: string;
  message: string;
  at: number;
}
export interface Snapshot {
  screen: "login" | "connecting" | "world" | "dungeon";
  user: { userId: string; name: string } | null;
  kind: "world" | "dungeon" | null;
  sessionId: string | null;
  /** The world id, or the dungeon id. */
  world: string | null;
  me: {
    name: string;
    x: number;
    y: number;
    hp: number;
    maxHp: number;
    level?: number;
    mana?: number;
    maxMana?: number;
    alive?: boolean;
  } | null;
  predicted: SnapPoint | null;
  intent: { kind: string } | null;
  pathLength: number;
  others: Array<{ sessionId: string; name: string; x: number; y: number; hp: number; alive?: boolean }>;
  portals: Array<{ id: string; x: number; y: number; to: string }>;
  resources: Array<{ id: string; kind: string; x: number; y: number; amount: number }>;
  dungeon: {
    status?: string;
    bossPhase?: number;
    enemies: Array<{ id: string; kind: string; x: number; y: number; hp: number; maxHp: number; alive: boolean }>;
    loot: Array<{ id: string; item: string; qty: number; x: number; y: number }>;
    doors: Array<{ id: string; open: boolean }>;
  } | null;
  welcome: {
    sessionId: string;
    speed: number;
    moveBankMs: number;
    moveTolerance: number;
    aoiRadius?: number;
    world?: string;
    dungeon?: string;
  } | null;
  chat: Array<{ from: string; name: string; text: string; at: number }>;
  feed: string[];
  refusals: SnapRefusal[];
  gathered: Array<{ resource: string; item: string; qty: number }>;
  picked: Array<{ loot: string; item: string; qty: number }>;
  cleared: { at: number; xp: number } | null;
  failed: boolean;
  connection: {
    state: string;
    rtt: number | null;
    retries: number;
    closed?: string;
    since?: number;
    /** The SDK would reconnect by itself after a drop now. */
    reconnectable: boolean;
  };
  debug: { tick: number; bytesPerSec: number; patchesPerSec: number; movesSent: number; entitiesInView: number };
  /** Ms left on each hero ability's cooldown, as the client counts it. */
  cooldowns: Record<string, number>;
  error: string;
  /** The tab shown: the world (or dungeon) canvas, or the matches. */
  view: "world" | "matches";
  match: MatchSnapshot | null;
}

/** The action of a turn (PROTOCOL §4). */
export type SnapAction =
  { type: "build"; building: string; x: number; y: number } | { type: "demolish"; x: number; y: number };

/** The match the page is in (or was last in), as plain JSON. */
export interface MatchSnapshot {
  roomId: string | null;
  matchId: string | null;
  mode: string | null;
  spectator: boolean;
  status: string | null;
  round: number;
  /** The sessionId of the player to act. */
  turn: string;
  myTurn: boolean;
  /** Ms left on the turn timer, by the page's estimate of the server's clock. */
  msLeft: number;
  chainLength: number;
  chainHead: string;
  spectators: number;
  players: Array<{
    sessionId: string;
    userId: string;
    name: string;
    ready: boolean;
    connected: boolean;
    gold: number;
    score: number;
  }>;
  tiles: Array<{ x: number; y: number; building: string; owner: string }>;
  queued: SnapAction[];
  hint: string;
  /** The transactions received, as sent. */
  txs: Array<{
    index: number;
    matchId: string;
    player: string;
    actions: SnapAction[];
    timeout: boolean;
    prev: string;
    stateHash: string;
    at: number;
    hash: string;
    sig: string;
  }>;
  finished: {
    winner: string | null;
    scores: Array<{ userId: string; name: string; score: number }>;
    ratings: Array<{ userId: string; before: number; after: number }>;
  } | null;
  aborted: boolean;
  /** The last check of the chain done in the page: live (the `tx` messages) or from history. */
  chain: {
    source: "live" | "history";
    result: { ok: true; stateHash: string } | { ok: false; index: number; reason: string };
    txs: Array<{
      index: number;
      player: string;
      actions: number;
      timeout: boolean;
      hash: string;
      mark: "✓" | "✗" | "·";
      reason?: string;
    }>;
  } | null;
  verifying: boolean;
  refusals: SnapRefusal[];
  feed: string[];
  error: string;
}

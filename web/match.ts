/**
 * The client's model of a match (PROTOCOL §4): the modes, the lobby (public, private by code, or a
 * room by id), ready, the turn being put together and sent as one transaction, the timer, the end,
 * spectating, and the chain checked in the browser as it grows and, at the end, from history.
 * The types are the server's own (type-only imports); the board rules are bundled from
 * src/rules/match-board.ts, so a turn is checked here by the very rules the server applies.
 * No drawing here (web/match-view.ts draws).
 */
import type { Room } from "@colyseus/sdk";
import type { Action, MatchRecord, StoredMatch, Tx } from "../src/domain/match.js";
import type { RatingChange, Standing } from "../src/rules/match.js";
import type { MatchState } from "../src/schema/MatchState.js";
import { playTurn, type Board, type MatchMode } from "../src/rules/match-board.js";
import { importMatchKey, verifyInBrowser, type ChainReport } from "./chain.js";
import type { Game, Refusal } from "./game.js";

export type { Action, MatchMode, Tx, ChainReport };

/** `welcome` in a match room (docs/PROTOCOL.md, extensions §2.4): the base fields and the kind's own. */
export interface MatchWelcome {
  sessionId: string;
  serverTime: number;
  tickRate: number;
  matchId: string;
  mode: string;
  spectator: boolean;
  maxActions: number;
  maxSpectators: number;
}
/** `finished {winner, scores, ratings}`. */
export interface Finished {
  winner: string | null;
  scores: Standing[];
  ratings: RatingChange[];
}
/** `GET /api/matches/:matchId`. */
export type History = Omit<MatchRecord, "roomId"> & Pick<StoredMatch, "chain" | "rolledBack">;
/** A line of `GET /api/instances?room=match`. */
export interface Listing {
  roomId: string;
  players: number;
  maxPlayers: number;
  locked: boolean;
}

export class MatchClient {
  modes: MatchMode[] = [];
  room: Room<unknown, MatchState> | null = null;
  welcome: MatchWelcome | null = null;
  /** Transactions received (`tx`, and `chain` answers), by index. */
  txs: Tx[] = [];
  finished: Finished | null = null;
  aborted = false;
  /** The turn being put together (sent with `turn` as one transaction). */
  queued: Action[] = [];
  /** Why the last action could not be queued, by the rules run here (nothing was sent). */
  hint = "";
  refusals: Refusal[] = [];
  feed: string[] = [];
  chain: ChainReport | null = null;
  /** The live chain's report while the history one is shown. */
  liveChain: ChainReport | null = null;
  verifying = false;
  listings: Listing[] = [];
  error = "";
  closed = "";
  seq = 0;
  /** Server time minus local time, from `welcome.serverTime` and each `tx.at` (latency ignored). */
  private offset = 0;
  private key: CryptoKey | null = null;
  /** Checks run one at a time, in the order asked. */
  private checks: Promise<unknown> = Promise.resolve();
  private epoch = 0;

  constructor(private readonly game: Game) {}

  /** The decoded room state, once the first patch has filled it in. */
  get state(): MatchState | undefined {
    const s = this.room?.state;
    return s?.players && s.tiles ? s : undefined;
  }
  get mode(): MatchMode | undefined {
    return this.modes.find((m) => m.id === (this.state?.mode || this.welcome?.mode));
  }
  get spectator(): boolean {
    return this.welcome?.spectator ?? false;
  }
  get sessionId(): string | undefined {
    return this.room?.sessionId;
  }
  /** Seated players in turn order (the join order). */
  get players() {
    return [...(this.state?.players.values() ?? [])];
  }
  get myTurn(): boolean {
    return !!this.state && this.state.status === "playing" && this.state.turn === this.sessionId;
  }
  /** Ms left on the turn timer, by the server's clock as this page estimates it. */
  get msLeft(): number {
    const s = this.state;
    if (!s || s.status !== "playing" || !s.turnEndsAt) return 0;
    return Math.max(0, s.turnEndsAt - (Date.now() + this.offset));
  }
  nameOf(userId: string): string {
    return this.players.find((p) => p.userId === userId)?.name ?? userId.slice(0, 8);
  }

  async loadModes(): Promise<MatchMode[]> {
    if (this.modes.length === 0) this.modes = await this.game.http<MatchMode[]>("GET", "/api/match-modes");
    return this.modes;
  }

  /** Live match rooms, to spectate (public matches leave matchmaking once they play, but stay listed). */
  async list(): Promise<Listing[]> {
    this.listings = await this.game.http<Listing[]>("GET", "/api/instances?room=match");
    return this.listings;
  }

  // --- joining ---------------------------------------------------------------------------------

  /** A public lobby of `mode` (or a private one with `code`): the first with a free seat, or a new one. */
  play(mode: string, code?: string): Promise<void> {
    return this.enter(() =>
      this.game.client.joinOrCreate<MatchState>("match", this.game.joinOptions(code ? { mode, code } : { mode })),
    );
  }
  /** A match by its roomId, as a player (lobby only) or a spectator. */
  joinById(roomId: string, spectate = false): Promise<void> {
    return this.enter(() => this.game.client.joinById<MatchState>(roomId, this.game.joinOptions({ spectate })));
  }
  /** A private match by its code, as a spectator. */
  spectateCode(mode: string, code: string): Promise<void> {
    return this.enter(() =>
      this.game.client.join<MatchState>("match", this.game.joinOptions({ mode, code, spectate: true })),
    );
  }

  private async enter(join: () => Promise<Room<unknown, MatchState>>): Promise<void> {
    await this.loadModes();
    await this.leave();
    this.error = "";
    try {
      this.attach(await join());
    } catch (err) {
      this.error = String((err as Error)?.message ?? err);
      throw err;
    }
  }

  async leave(): Promise<void> {
    const room = this.room;
    this.epoch++;
    this.room = null;
    this.welcome = null;
    if (room) await Promise.race([room.leave(true).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }

  private attach(room: Room<unknown, MatchState>): void {
    const epoch = ++this.epoch;
    const live = () => epoch === this.epoch;
    this.room = room;
    this.txs = [];
    this.finished = null;
    this.aborted = false;
    this.queued = [];
    this.hint = "";
    this.refusals = [];
    this.feed = [];
    this.chain = null;
    this.liveChain = null;
    this.closed = "";
    this.seq = 0;
    room.onMessage("welcome", (w: MatchWelcome) => {
      if (!live()) return;
      this.welcome = w;
      this.offset = w.serverTime - Date.now();
      this.note(w.spectator ? "watching as a spectator" : `seated in match ${w.matchId.slice(0, 8)}`);
      // A late arrival (a spectator of a match in play) asks for the transactions it missed.
      room.send("chain", { after: 0 });
    });
    room.onMessage("tx", (tx: Tx) => {
      if (!live()) return;
      this.offset = tx.at - Date.now();
      this.add([tx]);
      this.note(`#${tx.index} ${this.nameOf(tx.player)}: ${tx.timeout ? "passed (timeout)" : describe(tx.actions)}`);
    });
    room.onMessage("chain", (c: { txs: Tx[] }) => live() && this.add(c.txs));
    room.onMessage("finished", (f: Finished) => {
      if (!live()) return;
      this.finished = f;
      this.queued = [];
      this.note(`finished: ${f.winner ? `${this.nameOf(f.winner)} wins` : "a tie at the top"}`);
      void this.verifyHistory();
    });
    room.onMessage("aborted", () => {
      if (!live()) return;
      this.aborted = true;
      this.note("aborted: too few players left before the first turn");
    });
    room.onMessage("rollback", (r: { to: number; chainHead: string }) => {
      if (!live()) return;
      this.txs = this.txs.filter((tx) => tx.index <= r.to);
      this.queued = [];
      this.note(`rolled back to transaction ${r.to}`);
      void this.verifyLive();
    });
    room.onMessage("reject", (r: Omit<Refusal, "at">) => {
      if (!live()) return;
      this.refusals.push({ ...r, at: Date.now() });
      if (this.refusals.length > 30) this.refusals.shift();
    });
    room.onMessage("pong", () => undefined);
    room.onLeave((code: number, reason?: string) => {
      if (live()) this.closed = `${code}${reason ? ` ${reason}` : ""}`;
    });
    room.onError((code: number, message?: string) => {
      if (live()) this.error = `room error ${code}: ${message ?? ""}`;
    });
  }

  /** Adds transactions (deduplicated by index, in order) and checks the chain again. */
  private add(txs: Tx[]): void {
    const byIndex = new Map(this.txs.map((tx) => [tx.index, tx]));
    for (const tx of txs) byIndex.set(tx.index, tx);
    this.txs = [...byIndex.values()].sort((a, b) => a.index - b.index);
    void this.verifyLive();
  }

  private note(line: string): void {
    this.feed.push(line);
    if (this.feed.length > 50) this.feed.shift();
  }

  // --- actions ---------------------------------------------------------------------------------

  send(type: string, payload: Record<string, unknown> = {}): number {
    const seq = ++this.seq;
    this.room?.send(type, { seq, ...payload });
    return seq;
  }

  ready(ready = true): number {
    return this.send("ready", { ready });
  }

  forfeit(): number {
    return this.send("forfeit");
  }

  /** Sends the queued actions as the whole turn, built on the chain head this page has. */
  endTurn(): number {
    const actions = this.queued;
    this.queued = [];
    this.hint = "";
    return this.send("turn", { prev: this.state?.chainHead ?? "", actions });
  }

  /** The board as the rules see it, from the room state (userIds, turn order, the player due). */
  board(): Board | null {
    const s = this.state;
    if (!s || s.status !== "playing") return null;
    const players = this.players;
    const tiles: Board["tiles"] = {};
    for (const [key, t] of s.tiles.entries()) tiles[key] = { x: t.x, y: t.y, building: t.building, owner: t.owner };
    return {
      round: s.round,
      order: players.map((p) => p.userId),
      next: players.findIndex((p) => p.sessionId === s.turn),
      gold: Object.fromEntries(players.map((p) => [p.userId, p.gold])),
      tiles,
    };
  }

  /**
   * Adds an action to the turn if the rules (run here, as the server runs them) take the turn with
   * it; otherwise leaves the turn as it was and says why in `hint`. Returns whether it was queued.
   */
  queue(action: Action): boolean {
    const board = this.board();
    const mode = this.mode;
    if (!board || !mode || !this.myTurn) {
      this.hint = "not your turn";
      return false;
    }
    const max = this.welcome?.maxActions ?? 5;
    if (this.queued.length >= max) {
      this.hint = `a turn holds at most ${max} actions`;
      return false;
    }
    const played = playTurn(board, mode, [...this.queued, action]);
    if (!played.ok) {
      this.hint = played.message;
      return false;
    }
    this.queued.push(action);
    this.hint = "";
    return true;
  }

  /** The board after the queued actions (what the turn would give), or null outside one's turn. */
  preview(): Board | null {
    const board = this.board();
    const mode = this.mode;
    if (!board || !mode || !this.myTurn || this.queued.length === 0) return board;
    // playTurn also pays income after the round's last turn; the preview shows the tiles and gold before it.
    const built = { ...board, gold: { ...board.gold }, tiles: { ...board.tiles } };
    for (const a of this.queued) {
      const key = `${a.x},${a.y}`;
      if (a.type === "demolish") delete built.tiles[key];
      else {
        built.tiles[key] = { x: a.x, y: a.y, building: a.building, owner: board.order[board.next] };
        built.gold[board.order[board.next]] -= mode.buildings.find((b) => b.id === a.building)?.cost ?? 0;
      }
    }
    return built;
  }

  // --- the chain -------------------------------------------------------------------------------

  private async publicKey(): Promise<CryptoKey> {
    this.key ??= await importMatchKey(
      (await this.game.http<{ kid: string; jwk: JsonWebKey }>("GET", "/api/matches/key")).jwk,
    );
    return this.key;
  }

  /** Checks the transactions received so far (players in the room's turn order). */
  verifyLive(): Promise<ChainReport | null> {
    const mode = this.mode;
    const txs = [...this.txs];
    const players = this.players.map((p) => p.userId);
    const matchId = this.welcome?.matchId;
    if (!mode || txs.length === 0) return Promise.resolve(null);
    return this.check(async () => {
      const report = await verifyInBrowser(txs, { mode, players, matchId, key: await this.publicKey() }, "live");
      this.liveChain = report;
      if (this.chain?.source !== "history") this.chain = report;
      return report;
    });
  }

  /** Fetches the match's history (`GET /api/matches/:matchId`) and checks its chain. */
  verifyHistory(matchId = this.welcome?.matchId): Promise<ChainReport | null> {
    if (!matchId) return Promise.resolve(null);
    return this.check(async () => {
      const history = await this.game.http<History>("GET", `/api/matches/${encodeURIComponent(matchId)}`);
      const mode = (await this.loadModes()).find((m) => m.id === history.mode);
      if (!mode) throw new Error(`unknown mode ${history.mode}`);
      const players = history.players.map((p) => p.userId);
      const report = await verifyInBrowser(
        history.chain,
        { mode, players, matchId, key: await this.publicKey() },
        "history",
      );
      this.chain = report;
      return report;
    });
  }

  private check(run: () => Promise<ChainReport>): Promise<ChainReport | null> {
    const next = this.checks.then(async () => {
      this.verifying = true;
      try {
        return await run();
      } catch (err) {
        this.error = `chain check: ${String((err as Error)?.message ?? err)}`;
        return null;
      } finally {
        this.verifying = false;
      }
    });
    this.checks = next;
    return next;
  }
}

export function describe(actions: readonly Action[]): string {
  if (actions.length === 0) return "passed";
  return actions
    .map((a) => (a.type === "build" ? `${a.building} at ${a.x},${a.y}` : `demolish ${a.x},${a.y}`))
    .join(", ");
}

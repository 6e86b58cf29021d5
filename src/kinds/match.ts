/**
 * The `match` room kind (PROTOCOL §4): the turn-based match simulation, its message table, and how
 * it shows in `MatchState`. Transactions are hashed by the simulation and signed here, on the way
 * out; Ed25519 signatures are deterministic, so a transaction re-sent later carries the same `sig`.
 */
import type { Content } from "../content/index.js";
import { policy } from "../content/policy.js";
import { START_RATING } from "../domain/profile.js";
import { message, type Outbox, type RoomKind } from "../engine/kind.js";
import { z } from "zod";
import type { MatchRecord } from "../domain/match.js";
import { refuse } from "../domain/result.js";
import { JoinErrorCode, RejectCode } from "../protocol/codes.js";
import {
  addPlayer,
  applyMatch,
  canSeat,
  chainHead,
  createMatch,
  removePlayer,
  score,
  setConnected,
  stepMatch,
  turnSession,
  rollback,
  standings,
  winnerOf,
  type MatchCommand,
  type MatchEvent,
  type MatchSim,
  type Tx,
  type UnsignedTx,
} from "../rules/match.js";
import { MatchPlayer, MatchState, Tile } from "../schema/MatchState.js";
import { ChainRequest, Forfeit, MatchJoinOptions, Ready, Turn } from "../validators/messages.js";

type Join = { spectate: boolean; rating: number };

const joinOptions = (content: Content) =>
  MatchJoinOptions.refine((o) => content.matchModes.has(o.mode), { message: "is not a known mode", path: ["mode"] });

const signed = (tx: UnsignedTx, out: Outbox): Tx => ({ ...tx, sig: out.sign(tx.hash) });

/** The rollback route's payload. */
const Rollback = z.object({ to: z.number().int().min(0) });

/** The match as history shows it; players in turn order. */
function record(sim: MatchSim): Omit<MatchRecord, "roomId"> {
  const top = sim.status === "finished" ? winnerOf(sim) : null;
  return {
    matchId: sim.matchId,
    mode: sim.mode.id,
    status: sim.status,
    players: standings(sim),
    winner: top,
    startedAt: sim.startedAt,
    endedAt: sim.endedAt,
  };
}

/** Writes the record as it is now; the queue keeps it behind the writes before it. */
const saveRecord = (sim: MatchSim, out: Outbox) => {
  const now = record(sim);
  out.save((store, roomId) => store.saveMatch({ ...now, roomId }));
};

export const matchKind: RoomKind<MatchSim, MatchCommand, MatchEvent, MatchState, Join, MatchJoinOptions> = {
  name: "match",
  joinOptions,
  filterBy: ["mode", "code"],
  label: (options) => options.mode,
  tickRate: (p) => p.matchTickRate,
  maxClients: (options, content) => content.matchModes.get(options.mode)!.maxPlayers + policy.matchMaxSpectators,

  create: (options, ctx, instanceId) =>
    createMatch(ctx.content.matchModes.get(options.mode)!, instanceId, options.code),
  admit(sim, options) {
    if (options.spectate) {
      return sim.spectators.size < policy.matchMaxSpectators
        ? { ok: true }
        : { ok: false, code: JoinErrorCode.MatchFull, message: "the match has as many spectators as it takes" };
    }
    const seat = canSeat(sim);
    if (seat.ok) return seat;
    return sim.status === "lobby"
      ? { ok: false, code: JoinErrorCode.MatchFull, message: "every seat is taken" }
      : { ok: false, code: JoinErrorCode.MatchStarted, message: "the match is under way; join with spectate: true" };
  },
  joinData: (profile, options) => ({ spectate: options.spectate, rating: profile.rating ?? START_RATING }),
  join: (sim, actor, join) => {
    // Two joins admitted at once may race for the last seat: the later one watches.
    if (join.spectate || !canSeat(sim).ok) sim.spectators.add(actor.sessionId);
    else addPlayer(sim, { ...actor, rating: join.rating });
    return [];
  },
  leave: (sim, actor, ctx) => removePlayer(sim, actor.sessionId, ctx.now),
  drop: (sim, actor) => {
    setConnected(sim, actor.sessionId, false);
    return [];
  },
  reconnect: (sim, actor) => {
    setConnected(sim, actor.sessionId, true);
    return [];
  },
  apply: (sim, actor, command, ctx) => applyMatch(sim, actor.sessionId, command, ctx.now),
  operate(sim, op, payload, ctx) {
    const parsed = Rollback.safeParse(payload);
    if (op !== "rollback" || !parsed.success)
      return { verdict: refuse(RejectCode.InputInvalid, "the only operator command is rollback {to}"), events: [] };
    const result = rollback(sim, parsed.data.to, ctx.now);
    return result.ok ? { verdict: { ok: true }, events: result.events } : { verdict: result, events: [] };
  },
  step: (sim, ctx) => stepMatch(sim, ctx.now),

  messages: {
    ready: message(Ready, "match", ({ ready }) => ({ type: "ready", ready })),
    turn: message(Turn, "match", ({ prev, actions }) => ({ type: "turn", prev, actions })),
    forfeit: message(Forfeit, "match", () => ({ type: "forfeit" })),
    chain: message(ChainRequest, "match", ({ after }) => ({ type: "chain", after })),
  },

  state: {
    create(sim) {
      const state = new MatchState();
      state.mode = sim.mode.id;
      return state;
    },
    sync(sim, s) {
      s.status = sim.status;
      s.round = sim.board.round;
      s.turn = turnSession(sim);
      s.turnEndsAt = sim.status === "playing" ? sim.turnEndsAt : 0;
      s.chainLength = sim.chain.length;
      s.chainHead = chainHead(sim);
      s.spectators = sim.spectators.size;
      for (const id of s.players.keys()) if (!sim.players.has(id)) s.players.delete(id);
      for (const p of sim.players.values()) {
        let player = s.players.get(p.sessionId);
        if (!player) {
          const { sessionId, userId, name } = p;
          player = new MatchPlayer({ sessionId, userId, name, ready: false, connected: true, gold: 0, score: 0 });
          s.players.set(sessionId, player);
        }
        player.ready = p.ready;
        player.connected = p.connected;
        player.gold = sim.board.gold[p.userId] ?? 0;
        player.score = score(sim, p.userId);
      }
      for (const key of s.tiles.keys()) if (!sim.board.tiles[key]) s.tiles.delete(key);
      for (const [key, t] of Object.entries(sim.board.tiles)) {
        const tile = s.tiles.get(key);
        if (!tile || tile.building !== t.building || tile.owner !== t.owner) s.tiles.set(key, new Tile({ ...t }));
      }
    },
  },

  welcome: (sim, actor, ctx) => ({
    matchId: sim.matchId,
    mode: sim.mode.id,
    spectator: sim.spectators.has(actor.sessionId),
    maxActions: 5,
    maxSpectators: ctx.policy.matchMaxSpectators,
  }),

  react(event, out, sim) {
    switch (event.type) {
      case "tx": {
        const tx = signed(event.tx, out);
        out.broadcast("tx", tx);
        out.record("tx", { index: tx.index, hash: tx.hash });
        saveRecord(sim, out);
        out.save((store) => store.appendMatchTx(tx));
        break;
      }
      case "chain":
        out.send(event.sessionId, "chain", { txs: event.txs.map((tx) => signed(tx, out)) });
        break;
      case "started":
        out.record("started", { at: event.at, players: event.players });
        saveRecord(sim, out);
        // A public match leaves matchmaking once it plays (spectators still join it by id); a
        // private one stays findable by its code, for spectators and for `match/started`.
        if (!sim.code) out.unlist();
        break;
      case "finished": {
        const { winner, scores, ratings } = event;
        // Every rated player, also one that forfeited by leaving and is seated here no more.
        for (const { userId, after } of ratings) {
          const name = scores.find((s) => s.userId === userId)?.name ?? userId;
          out.rate({ userId, name }, sim.matchId, after, { winner, scores });
        }
        out.broadcast("finished", { winner, scores, ratings });
        out.record("finished", { winner, scores, ratings });
        saveRecord(sim, out);
        break;
      }
      case "aborted":
        out.broadcast("aborted", { at: event.at });
        out.record("aborted", { at: event.at });
        saveRecord(sim, out);
        break;
      case "rollback":
        out.broadcast("rollback", { to: event.to, chainHead: event.chainHead });
        out.record("rollback", { to: event.to, chainHead: event.chainHead, cut: event.cut });
        out.save((store) => store.rollbackMatchTxs(sim.matchId, event.to, event.at));
        saveRecord(sim, out);
        break;
    }
  },
};

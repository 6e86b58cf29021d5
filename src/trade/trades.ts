/**
 * Trade between players (PROTOCOL §5): offers, and a two-phase commit over two profiles that may be
 * held by rooms on two processes, each with its own write-behind copy (src/persistence/profiles.ts).
 *
 * The durable trade record (src/persistence/trades.ts) decides; the profiles follow it:
 * - prepare: each side's goods go into an escrow kept *in its own profile*, written by the one
 *   process that holds that profile (the room it sits in, reached with a room call), so the room's
 *   copy and the stored copy never disagree and a versioned save never overwrites a trade;
 * - commit: one conditional move of the record, `preparing → committed`, is the point of no return;
 * - settle: each side's escrow is dropped and the other side's goods added, again by its holder;
 * - abort: escrows are handed back.
 * Every profile step is idempotent (keyed by the trade id and the escrow it leaves or removes), so
 * retries, duplicated accepts and recovery after a crash change each profile once. The README's
 * "Trade" section is the operator's view of the same.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { matchMaker } from "@colyseus/core";
import { policy } from "../content/policy.js";
import type { Profile } from "../domain/profile.js";
import { refuse, type Refusal } from "../domain/result.js";
import { sidesOf, UNFINISHED, type Side, type TradeCommand, type TradeRecord } from "../domain/trade.js";
export type { TradeCommand } from "../domain/trade.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { ProfileCache } from "../persistence/profiles.js";
import type { Store } from "../persistence/store.js";
import type { TradeMove, TradeStore } from "../persistence/trades.js";
import { RejectCode } from "../protocol/codes.js";
import { escrow, holds, refund, settle } from "../rules/trade.js";
import { advance } from "../rules/achievements.js";
import { progressOf } from "../domain/social.js";
import type { Achievement } from "../content/achievements.js";
import type { Users } from "../cluster/users.js";
import type { EventLog } from "../persistence/events.js";
import type { Metrics } from "../telemetry/metrics.js";
import { tradeFault, type FaultPoint } from "./faults.js";

/** What the room sends back to the player who sent a trade message: an answer, a refusal, or nothing. */
export type TradeAnswer = { ok: true; reply?: { type: string; message: object } } | Refusal;

/** One profile step, run by the process that holds the profile. */
export type Step = "escrow" | "settle" | "refund";
export type StepResult = { ok: true } | { ok: false; code: RejectCode };

/** The room method that runs a step where the profile is held (KindRoom.tradeStep). */
export const TRADE_STEP_CALL = "tradeStep";

/** The event log stream of trades (the `trade` events, with both user ids). */
export const TRADE_STREAM = "trades";

export interface TradeDeps {
  store: Store;
  profiles: ProfileCache;
  users: Users;
  events: EventLog;
  metrics: Metrics;
  log: Logger;
  /** This process, as trade records name their coordinator: stable across a restart. */
  self: string;
  /** The achievement catalogue: a completed trade counts in both players' stats (`trader`). */
  achievements: Iterable<Achievement>;
  fault?: FaultPoint;
  /** The commit's lease, recovery sweep and step timeout (`Config.trade`). */
  timing: Config["trade"];
}

const unavailable = (what: string) =>
  refuse(RejectCode.TradeUnavailable, `${what}; nothing was traded, try again shortly`);
const AFTER_OUTAGE =
  "the store failed during the trade; it completes (traded) or is undone (trade_closed) once the store is back";
const notFound = () =>
  refuse(RejectCode.TradeNotFound, "no such open offer to you (unknown, expired, closed, or addressed to another)");

export class Trades {
  /** Trades this process is driving right now: recovery leaves them alone. */
  private readonly driving = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: TradeDeps) {
    this.log = deps.log;
  }

  /** This process's name in trade records: its public address, or host and port. */
  static identity(publicAddress: string | undefined, port: number): string {
    return publicAddress ?? `${hostname()}:${port}`;
  }

  private get store(): TradeStore | null {
    return this.deps.store.trades;
  }

  // --- what players send ---------------------------------------------------------------------

  /** Handles a trade message of the seated player `actor`, whose profile this room holds. */
  async handle(actor: { userId: string; name: string }, profile: Profile, cmd: TradeCommand): Promise<TradeAnswer> {
    if (!this.store) return unavailable("trade is not available on this server's store");
    try {
      switch (cmd.type) {
        case "trade":
          return await this.offer(actor, profile, cmd);
        case "trade_accept":
          return await this.accept(actor.userId, cmd.tradeId);
        case "trade_decline":
          return await this.close(actor.userId, cmd.tradeId, "to", "declined");
        case "trade_cancel":
          return await this.close(actor.userId, cmd.tradeId, "from", "cancelled");
      }
    } catch (err) {
      this.log.warn({ err, userId: actor.userId, type: cmd.type }, "trade request failed on the store");
      return unavailable("the store is not answering");
    }
  }

  private async offer(
    actor: { userId: string; name: string },
    profile: Profile,
    cmd: Extract<TradeCommand, { type: "trade" }>,
  ): Promise<TradeAnswer> {
    const target = (await this.deps.store.getAccount(cmd.to)) ?? (await this.deps.store.findAccountByUsername(cmd.to));
    if (target?.userId === actor.userId) return refuse(RejectCode.TradeSelf, "a trade with yourself");
    const seated = target ? (await this.deps.users.where(target.userId)).some((s) => s.kind === "world") : false;
    if (!target || !seated) return refuse(RejectCode.TradeOffline, `${cmd.to} is not in any world`);
    const verdict = holds(profile, { items: cmd.give, gold: cmd.gold });
    if (!verdict.ok) return verdict;
    const now = Date.now();
    const record: TradeRecord = {
      tradeId: randomUUID(),
      from: actor.userId,
      fromName: actor.name,
      to: target.userId,
      toName: target.name,
      give: cmd.give,
      gold: cmd.gold,
      want: cmd.want,
      wantGold: cmd.wantGold,
      state: "offered",
      createdAt: now,
      expiresAt: now + policy.trade.offerMs,
      updatedAt: now,
      coordinator: null,
      leaseUntil: 0,
    };
    if (!(await this.store!.createOffer(record, policy.trade.maxOpen)))
      return refuse(RejectCode.TradeTooMany, `you already hold ${policy.trade.maxOpen} open offers`);
    const { tradeId, expiresAt, fromName, give, gold, want, wantGold } = record;
    await this.deps.users.deliver(
      target.userId,
      "trade_offer",
      { tradeId, from: actor.userId, fromName, give, gold, want, wantGold, expiresAt },
      ["world"],
    );
    this.record(record, "offered");
    this.fault("offered");
    return { ok: true, reply: { type: "trade_sent", message: { tradeId, expiresAt } } };
  }

  /** Declines (the target) or cancels (the sender) an open offer; the other side gets `trade_closed`. */
  private async close(
    userId: string,
    tradeId: string,
    role: "from" | "to",
    reason: "declined" | "cancelled",
  ): Promise<TradeAnswer> {
    const now = Date.now();
    const trade = await this.store!.loadTrade(tradeId);
    if (!trade || trade[role] !== userId || trade.state !== "offered" || trade.expiresAt <= now) return notFound();
    const closed = await this.store!.moveTrade(tradeId, { from: ["offered"], set: { state: reason, updatedAt: now } });
    if (!closed) return notFound();
    await this.closed(closed, reason, role === "from" ? "to" : "from");
    return { ok: true };
  }

  private async closed(trade: TradeRecord, reason: string, notify: "from" | "to" | "both"): Promise<void> {
    const message = { tradeId: trade.tradeId, reason };
    const who = notify === "both" ? [trade.from, trade.to] : [trade[notify]];
    await Promise.all(who.map((userId) => this.deps.users.deliver(userId, "trade_closed", message)));
    this.deps.metrics.trades.inc({ outcome: reason });
    this.record(trade, reason);
  }

  /** Offers past their time: closed as `expired`, both sides told. Called by the recovery sweep. */
  private async expire(now: number): Promise<void> {
    for (const trade of await this.store!.expiredOffers(now)) {
      const moved = await this.store!.moveTrade(trade.tradeId, {
        from: ["offered"],
        set: { state: "expired", updatedAt: now },
      });
      if (moved) await this.closed(moved, "expired", "both");
    }
  }

  /** The target's accept: the commit, driven by this process. Answers nothing on success (`traded` goes to both). */
  private async accept(userId: string, tradeId: string): Promise<TradeAnswer> {
    const now = Date.now();
    const trade = await this.store!.loadTrade(tradeId);
    if (!trade || trade.to !== userId || trade.state !== "offered" || trade.expiresAt <= now) return notFound();
    // The one accept that moves the record on wins; a duplicate or a retry finds it gone.
    const claimed = await this.store!.moveTrade(tradeId, {
      from: ["offered"],
      set: {
        state: "preparing",
        coordinator: this.deps.self,
        leaseUntil: now + this.deps.timing.leaseMs,
        updatedAt: now,
      },
    });
    if (!claimed) return notFound();
    this.driving.add(tradeId);
    try {
      return await this.prepare(claimed);
    } finally {
      this.driving.delete(tradeId);
    }
  }

  // --- the commit ----------------------------------------------------------------------------

  /** Phase one: escrow both sides; then the commit point; then settle. */
  private async prepare(trade: TradeRecord): Promise<TradeAnswer> {
    for (const side of sidesOf(trade)) {
      const done = await this.step(side, "escrow", trade);
      if (!done.ok) {
        await this.abort(trade, done.code);
        return done.code === RejectCode.TradeInsufficient
          ? refuse(RejectCode.TradeInsufficient, "one side no longer holds what the trade needs; nothing moved")
          : unavailable("a profile could not be written");
      }
    }
    this.fault("prepared");
    let committed: TradeRecord | null;
    try {
      committed = await this.move(trade, ["preparing"], { state: "committed" });
    } catch (err) {
      // No answer: the move may have landed. Read what the store decided.
      this.log.warn({ err, tradeId: trade.tradeId }, "the commit of a trade got no answer");
      committed = await this.store!.loadTrade(trade.tradeId).catch(() => null);
      if (!committed) return refuse(RejectCode.TradeUnavailable, AFTER_OUTAGE);
      if (committed.state !== "committed") committed = null;
    }
    if (!committed) {
      // Recovery took it over (this process was too slow) and aborted it: undo with it.
      await this.abort(trade, RejectCode.TradeUnavailable).catch(() => undefined);
      return unavailable("the commit took too long");
    }
    this.fault("committed");
    // Committed: from here the trade goes forward, now or through recovery, and `traded` follows.
    await this.finish(committed).catch((err: unknown) =>
      this.log.warn({ err, tradeId: trade.tradeId }, "trade committed; settling continues in recovery"),
    );
    return { ok: true };
  }

  /**
   * Phase two, from `committed`: settle both sides, close the record, tell both players. A side
   * that cannot be written now stays for recovery, which repeats this until it succeeds.
   */
  private async finish(trade: TradeRecord): Promise<boolean> {
    for (const side of sidesOf(trade)) {
      const done = await this.step(side, "settle", trade);
      if (!done.ok) {
        this.log.warn({ tradeId: trade.tradeId, userId: side.userId }, "trade committed; a side waits to be settled");
        return false;
      }
    }
    this.fault("cleanup");
    const closed = await this.move(trade, ["committed"], { state: "done" });
    if (!closed) return false;
    for (const side of sidesOf(trade)) {
      await this.deps.users.deliver(side.userId, "traded", {
        tradeId: trade.tradeId,
        gave: { items: side.puts.items, gold: side.puts.gold },
        got: { items: side.gets.items, gold: side.gets.gold },
      });
    }
    this.deps.metrics.trades.inc({ outcome: "traded" });
    this.record(trade, "traded");
    return true;
  }

  /** Decides against the trade (unless it is already committed) and hands back every escrow. */
  private async abort(trade: TradeRecord, reason: RejectCode): Promise<void> {
    const aborted =
      (await this.move(trade, ["preparing"], { state: "aborted", reason }).catch(() => null)) ??
      (await this.store!.loadTrade(trade.tradeId).catch(() => null));
    if (aborted?.state === "committed") {
      await this.finish(aborted);
      return;
    }
    if (aborted?.state !== "aborted" && aborted?.state !== "failed") return; // still preparing: recovery aborts it
    await this.undo(aborted);
  }

  private async undo(trade: TradeRecord): Promise<boolean> {
    for (const side of sidesOf(trade)) if (!(await this.step(side, "refund", trade)).ok) return false;
    const failed = await this.move(trade, ["aborted"], { state: "failed" });
    if (failed) {
      this.deps.metrics.trades.inc({
        outcome: trade.reason === RejectCode.TradeInsufficient ? "insufficient" : "unavailable",
      });
      this.record(trade, "failed");
      await this.deps.users.deliver(trade.from, "trade_closed", { tradeId: trade.tradeId, reason: "failed" });
    }
    return true;
  }

  /** A conditional move by this process as coordinator; renews the lease. */
  private move(trade: TradeRecord, from: TradeMove["from"], set: Partial<TradeRecord>): Promise<TradeRecord | null> {
    const now = Date.now();
    return this.store!.moveTrade(trade.tradeId, {
      from,
      set: { ...set, coordinator: this.deps.self, leaseUntil: now + this.deps.timing.leaseMs, updatedAt: now },
    });
  }

  // --- profile steps -------------------------------------------------------------------------

  /**
   * Runs `step` on the profile of `side` where it is held: in the room the player sits in (on
   * whichever process), else here, checked out for the step. A room that does not answer is only
   * bypassed once its process is known dead (Colyseus's health check), so a profile never gets
   * two writers at once; the versioned save and the step's idempotency cover the rest.
   */
  private async step(side: Side, step: Step, trade: TradeRecord): Promise<StepResult> {
    // A save refused for a moment (a lock held by another process's write) is tried again shortly;
    // every step is idempotent, so a retry of one that did land changes nothing.
    let result = await this.stepOnce(side, step, trade);
    for (const delayMs of policy.trade.stepRetryMs) {
      if (result.ok || result.code !== RejectCode.TradeUnavailable) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      result = await this.stepOnce(side, step, trade);
    }
    return result;
  }

  private async stepOnce(side: Side, step: Step, trade: TradeRecord): Promise<StepResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const seats = await this.deps.users.where(side.userId);
      if (seats.length === 0) return this.stepHere(side.userId, step, trade);
      const seat = seats[0];
      // A room no longer listed died with its process (Colyseus cleared it): the store holds the truth.
      if (!(await matchMaker.findRoomsByIds([seat.roomId])).has(seat.roomId))
        return this.stepHere(side.userId, step, trade);
      try {
        const result = (await matchMaker.remoteRoomCall(
          seat.roomId,
          TRADE_STEP_CALL,
          [side.userId, step, trade],
          this.deps.timing.stepTimeoutMs,
        )) as StepResult | "absent";
        if (result !== "absent") return result;
        // Left that room meanwhile (travel, leave): look again.
      } catch (err) {
        const [room] = (await matchMaker.query({ roomId: seat.roomId })) as { processId: string }[];
        const alive = room ? ((await matchMaker.healthCheckProcessId(room.processId)) as boolean) : false;
        if (alive) {
          this.log.warn({ err, tradeId: trade.tradeId, step, roomId: seat.roomId }, "a trade step got no answer");
          return { ok: false, code: RejectCode.TradeUnavailable };
        }
        // Its process is gone, and with it the only other copy: the stored profile is the truth.
        return this.stepHere(side.userId, step, trade);
      }
    }
    return { ok: false, code: RejectCode.TradeUnavailable };
  }

  /** A step on a profile nobody holds: checked out here for it, written, and let go. */
  private async stepHere(userId: string, step: Step, trade: TradeRecord): Promise<StepResult> {
    const name = userId === trade.from ? trade.fromName : trade.toName;
    try {
      await this.deps.profiles.checkout({ userId, name });
    } catch {
      return { ok: false, code: RejectCode.TradeUnavailable };
    }
    try {
      return await this.applyStep(userId, step, trade);
    } finally {
      await this.deps.profiles.release(userId);
    }
  }

  /**
   * Runs one step on a profile this process holds (a room here asked, or `stepHere`) and writes
   * it at once. Ok only once a write holding the change has landed.
   */
  async applyStep(userId: string, step: Step, trade: TradeRecord): Promise<StepResult> {
    const profile = this.deps.profiles.get(userId);
    let unlocked: Achievement[] = [];
    if (!profile) return { ok: false, code: RejectCode.TradeUnavailable };
    const side = sidesOf(trade).find((s) => s.userId === userId)!;
    if (step === "escrow") {
      // A trade already decided against (recovery aborted it) takes no new escrow.
      const current = await this.store!.loadTrade(trade.tradeId).catch(() => null);
      if (current?.state !== "preparing") return { ok: false, code: RejectCode.TradeUnavailable };
      const verdict = escrow(profile, trade.tradeId, side.puts);
      if (!verdict.ok) return { ok: false, code: RejectCode.TradeInsufficient };
      Object.assign(profile, verdict.next);
    } else {
      if (step === "settle") this.fault("committed");
      const { next, changed } =
        step === "settle" ? settle(profile, trade.tradeId, side.gets) : refund(profile, trade.tradeId);
      if (changed) Object.assign(profile, next);
      // Settling changes a profile once, so the trade counts once in its stats.
      if (step === "settle" && changed) unlocked = this.credit(profile, userId, trade);
    }
    this.deps.profiles.touch(userId);
    const written = await this.deps.profiles.flush(userId);
    if (!written) return { ok: false, code: RejectCode.TradeUnavailable };
    // Written first, announced after: a restart finds the unlock on the profile, never announces it twice.
    for (const { id, name } of unlocked) await this.deps.users.deliver(userId, "achievement", { id, name });
    if (step === "escrow") this.fault("prepared");
    if (step === "settle") this.fault("cleanup");
    return { ok: true };
  }

  /** A settled trade in `userId`'s stats and achievements (src/rules/achievements.ts); answers what it unlocked. */
  private credit(profile: Profile, userId: string, trade: TradeRecord): Achievement[] {
    const event = { room: "world", label: "", type: "trade", data: { from: trade.from, to: trade.to } };
    const result = advance(progressOf(profile), event, { userId, sessionId: "" }, Date.now(), this.deps.achievements);
    if (!result) return [];
    Object.assign(profile, result.progress);
    return result.unlocked;
  }

  // --- recovery ------------------------------------------------------------------------------

  /** Recovers now (at start-up), then every `timing.recoverEveryMs`. */
  start(): void {
    if (!this.store || this.timer) return;
    const sweep = () => void this.recover().catch((err: unknown) => this.log.warn({ err }, "trade recovery failed"));
    this.timer = setInterval(sweep, this.deps.timing.recoverEveryMs);
    this.timer.unref();
    // At start-up, as soon as rooms can be reached: trades this process left unfinished when it stopped.
    void Promise.resolve(matchMaker.onReady).then(() => this.timer && sweep());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Drives every unfinished trade whose coordinator went quiet (its lease ended), or that names
   * this process as coordinator but is not being driven here (this process restarted): a
   * `preparing` trade is aborted, a `committed` one settled, an `aborted` one undone. Answers how
   * many it finished.
   */
  async recover(): Promise<number> {
    if (!this.store) return 0;
    const now = Date.now();
    await this.expire(now);
    let finished = 0;
    for (const trade of await this.store.unfinishedTrades(now, this.deps.self)) {
      if (this.driving.has(trade.tradeId) || !UNFINISHED.includes(trade.state)) continue;
      this.driving.add(trade.tradeId);
      try {
        const mine = trade.coordinator === this.deps.self;
        const claimed = await this.store.moveTrade(trade.tradeId, {
          from: [trade.state],
          ...(mine ? {} : { leaseBefore: now }),
          set: {
            ...(trade.state === "preparing" ? { state: "aborted", reason: RejectCode.TradeUnavailable } : {}),
            coordinator: this.deps.self,
            leaseUntil: now + this.deps.timing.leaseMs,
            updatedAt: now,
          },
        });
        if (!claimed) continue;
        this.log.info({ tradeId: trade.tradeId, state: trade.state }, "recovering a trade");
        const done = claimed.state === "committed" ? await this.finish(claimed) : await this.undo(claimed);
        if (done) finished++;
      } finally {
        this.driving.delete(trade.tradeId);
      }
    }
    return finished;
  }

  // --- reading -------------------------------------------------------------------------------

  /** The open offers of `userId`: `GET /api/trades`. */
  async openOf(userId: string): Promise<{ incoming: object[]; outgoing: object[] }> {
    const open = this.store ? await this.store.openTrades(userId, Date.now()) : [];
    const view = (t: TradeRecord) => ({
      tradeId: t.tradeId,
      from: t.from,
      fromName: t.fromName,
      to: t.to,
      toName: t.toName,
      give: t.give,
      gold: t.gold,
      want: t.want,
      wantGold: t.wantGold,
      expiresAt: t.expiresAt,
    });
    return {
      incoming: open.filter((t) => t.to === userId).map(view),
      outgoing: open.filter((t) => t.from === userId).map(view),
    };
  }

  private record(trade: TradeRecord, outcome: string): void {
    this.deps.events.record(TRADE_STREAM, "trade", {
      tradeId: trade.tradeId,
      outcome,
      from: trade.from,
      to: trade.to,
      give: trade.give,
      gold: trade.gold,
      want: trade.want,
      wantGold: trade.wantGold,
    });
  }

  private fault(point: FaultPoint): void {
    if (this.deps.fault === point) tradeFault(point, this.log);
  }
}

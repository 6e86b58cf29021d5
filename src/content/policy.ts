/**
 * Server-side tunables that are game data rather than deployment settings: tick rates, message
 * rate limits, tolerances. Clients learn the numbers they need from the `welcome` message.
 */
import type { RateSpec, StrikePolicy } from "../validators/rateLimit.js";

export const policy = {
  /** Simulation steps per second in a world. */
  worldTickRate: 20,
  /** Simulation steps per second in a dungeon (enemy AI, mana, revivals). */
  dungeonTickRate: 60,
  /** Simulation steps per second in a match: only the turn timer runs, so a few suffice. */
  matchTickRate: 10,
  /** Spectators a match takes beside its players. */
  matchMaxSpectators: 16,
  /** State patches per second sent to clients. */
  patchRate: 20,

  move: {
    /** Standing still banks at most this much time of movement. */
    maxBankMs: 500,
    /** Slack for clock jitter. */
    tolerance: 0.1,
  },

  gather: { range: 48, cooldownMs: 1000, yield: 1 },

  chat: { maxChars: 200 },

  /** PROTOCOL §7: friends each player may have; leaderboard page sizes (`limit`, default and most). */
  social: { maxFriends: 200, boardPage: 50, boardPageMax: 100 },

  /** A new profile's hit points, and the most a body has in a world. */
  startingHp: 100,

  dungeon: {
    /** How close a hero must stand to pick loot up. */
    pickupRange: 60,
    /** Fraction of max hp and mana a revived hero comes back with. */
    reviveFraction: 0.5,
    /** An engaged enemy gives up the chase past this multiple of its aggro radius. */
    leash: 1.5,
  },

  interest: {
    /** Each client's visible set is refreshed every this many ticks (a slice of the clients per tick). */
    slices: 4,
    /** Slack, as a fraction of the radius, that keeps a shown body ranked among the nearest. */
    hysteresis: 0.1,
    /**
     * How often a neighbour's position is sent, in patches between two sends: the larger of what
     * its distance (a fraction of `aoiRadius`) and its rank among the client's nearest allow. The
     * nearest and closest go every patch (20 a second), the rest every 6th or 12th: a client's
     * budget stays bounded in a crowd as well. A player's own position goes out every patch.
     * Multiplied by the device's `deviceSlowdown`.
     */
    rates: {
      byDistance: [
        { within: 0.35, every: 1 },
        { within: 0.7, every: 6 },
        { within: 1, every: 12 },
      ],
      byRank: [
        { first: 8, every: 1 },
        { first: 20, every: 6 },
        { first: Infinity, every: 12 },
      ],
    },
  },

  /** Simulation steps run at once after a stall; the rest are forgiven (src/engine/clock.ts). */
  maxCatchUpSteps: 4,
  /** How often the server pings each client to measure its round trip. */
  rttSampleMs: 5000,

  /** The event log's write-behind: how often it flushes, and how many events it buffers at most. */
  events: { flushMs: 250, maxBuffered: 200_000 },
  /**
   * A room's own store writes (match records and transactions): retried with backoff while the
   * store is unavailable, in order, for at most `retryForMs`.
   */
  roomWrites: { retryForMs: 60_000, maxBackoffMs: 5_000 },

  /**
   * Changes addressed to a player's profile wherever it is held (src/cluster/profile-changes.ts):
   * a finished match's rating. A change not yet written is tried again after each pause; one that
   * still is not stays in the copy that took it, which the write-behind goes on retrying.
   */
  profileChanges: {
    /** How long a delivery waits for the room that holds the profile. */
    callTimeoutMs: 5_000,
    retryMs: [250, 500, 1_000, 2_000, 4_000],
    /**
     * A change is kept in the store until written; one kept longer than this (its process died,
     * or its delivery gave up) is delivered again by a sweep on any process, every `sweepEveryMs`,
     * at most `sweepBatch` at a time. Longer than a delivery's own retries with their call timeouts.
     */
    sweepAfterMs: 60_000,
    sweepEveryMs: 30_000,
    sweepBatch: 100,
  },

  travel: {
    /** Most distance between a traveller and the portal. */
    range: 60,
    /** Transfers through one portal of one instance at once (a portal's own `capacity` wins). */
    capacity: 8,
    /** Least time between arriving through a portal and leaving through one. */
    cooldownMs: 10_000,
    /** How far from the exit portal a traveller arrives, toward the map's centre. */
    arrivalOffset: 40,
    /** How long a departure holds its place in a portal's capacity: the seat reservation's lifetime. */
    reservationMs: 15_000,
  },

  /** Trade between players (PROTOCOL §5, src/trade/). */
  trade: {
    /** How long an offer stays open. */
    offerMs: 60_000,
    /** Open offers one sender may hold at once. */
    maxOpen: 3,
    /** Entries of `give` and of `want`. */
    maxEntries: 8,
    // The commit's lease, recovery sweep and step timeout are deployment settings: src/config.ts.
    /** Pauses before a step whose save failed is tried again (then recovery takes over). */
    stepRetryMs: [250, 500, 1000],
  },

  /** Per-session limits by rate class (a message table names the class of each message). */
  rates: {
    move: { perSecond: 20, burst: 30 },
    chat: { perSecond: 10 / 60, burst: 10 },
    gather: { perSecond: 4, burst: 4 },
    travel: { perSecond: 1, burst: 3 },
    attack: { perSecond: 10, burst: 15 },
    pickup: { perSecond: 10, burst: 15 },
    /** trade, trade_accept, trade_decline, trade_cancel. */
    trade: { perSecond: 2, burst: 20 },
    ping: { perSecond: 5, burst: 10 },
    /** Match messages: ready, turn, forfeit, chain. */
    match: { perSecond: 5, burst: 10 },
    /** Anything else, including unknown message types. */
    other: { perSecond: 5, burst: 10 },
  } satisfies Record<string, RateSpec>,

  /** A session whose messages are rate-limited this often is flooding and gets disconnected. */
  flood: { limit: 50, windowMs: 10_000 } satisfies StrikePolicy,
  /** A session that sends this many malformed payloads is disconnected. */
  malformed: { limit: 20, windowMs: 10_000 } satisfies StrikePolicy,

  /** HTTP requests: the largest body any route takes (matchmaking included), refused with 413 before it is read. */
  http: {
    maxBodyBytes: 16 * 1024,
    // How long a connection may take to send its request head is a setting: HTTP_HANDSHAKE_MS, src/config.ts.
    /** A connection must send its whole request, body included, within this; else 408. */
    requestMs: 10_000,
  },
  /**
   * Room joins one user may make per window (every SDK join or create), and rooms it may make
   * (`create`, or a `joinOrCreate` that finds no room to join); cluster-wide with Redis. Travel,
   * reconnection and reserved seats cost nothing.
   */
  userLimits: {
    join: { limit: 30, windowMs: 60_000 },
    create: { limit: 10, windowMs: 60_000 },
  },
  /** Failed admin logins one address may make per window before it is locked out for the rest of it. */
  adminAuth: { failures: 10, windowMs: 60_000 },

  /** Accounts and session security (PROTOCOL §8, src/auth/guard.ts, src/auth/queue.ts). */
  accounts: {
    /**
     * scrypt runs (128 MiB, ~0.5 s each): at most `concurrency` at once, `maxQueued` waiting, and
     * `maxPerKey` running or waiting for one address; waiting ones are served round-robin by address.
     */
    passwordQueue: { concurrency: 2, maxQueued: 32, maxPerKey: 3 },
    /** Failed logins of one account within the window lock it for the rest of the window. */
    loginFailures: 5,
    loginWindowMs: 15 * 60_000,
    /** Security signals kept per user for GET /api/admin/users/:userId. */
    signalsKept: 20,
    signalsTtlMs: 24 * 3600_000,
    /** The longest ban: a year. */
    banMaxMinutes: 525_600,
  },

  /** HTTP sessions (PROTOCOL §6, src/sessions): the fallback for clients whose WebSocket keeps dropping. */
  sessions: {
    /** The longest `wait` of a poll. */
    maxWaitMs: 25_000,
    /** Messages one POST may carry. */
    maxMessagesPerPost: 20,
    /** Room messages held for a session between polls; past either bound the oldest are dropped. */
    bufferMessages: 256,
    bufferBytes: 256 * 1024,
    /** A session not polled for RECONNECT_SECONDS (but never less than this) counts as dropped. */
    minIdleSec: 5,
    /** How long a closed session still answers its polls (with `closed`) before it is forgotten. */
    keepClosedMs: 60_000,
    /** Sessions (created or resumed) one user may open, per process. */
    create: { perSecond: 6 / 60, burst: 6 } satisfies RateSpec,
  },

  /** Cap of visible players (own included) by device tier. */
  deviceCaps: { mobile: 10, tablet: 25, desktop: 50, high_end: 100 },
  /** Factor on every band's interval by device: a mobile client's neighbours update at half the rate. */
  deviceSlowdown: { mobile: 2, tablet: 1, desktop: 1, high_end: 1 },
} as const;

export type Policy = typeof policy;
export type RateClass = keyof Policy["rates"];

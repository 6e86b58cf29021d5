/**
 * The shape of every client message (the first tier of checks). A payload that does not parse
 * is refused with `input/invalid` before any rule sees it. Unknown keys are dropped, so a client
 * can never smuggle in a field the server computes.
 */
import { z } from "zod";

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const coord = z.number().finite().min(-1e6).max(1e6);
const id = z.string().min(1).max(64);

export const Ping = z.object({ t: z.number().finite() });
export const Move = z.object({ seq, x: coord, y: coord });
/** Longer than the chat rule's 200 characters so that an over-long line gets `chat/too_long`. */
export const Chat = z.object({ seq, text: z.string().max(2000) });
export const Gather = z.object({ seq, resource: id });
export const Travel = z.object({ seq, portal: id });

/** PROTOCOL §5: `to` is a userId or a username; at most 8 entries each way; whole, non-negative gold. */
const goods = z.array(z.object({ item: id, qty: z.number().int().min(1).max(1_000_000) })).max(8);
const gold = z.number().int().min(0).max(1_000_000_000);
export const TradeOffer = z.object({
  seq,
  to: id,
  give: goods.default([]),
  gold: gold.default(0),
  want: goods.default([]),
  wantGold: gold.default(0),
});
export const TradeAnswer = z.object({ seq, tradeId: id });

export const Attack = z.object({ seq, target: id, ability: id.default("strike") });
export const Pickup = z.object({ seq, loot: id });

export const WorldJoinOptions = z.object({
  world: id.default("meadow"),
  device: z.enum(["mobile", "tablet", "desktop", "high_end"]).default("desktop"),
});
export type WorldJoinOptions = z.infer<typeof WorldJoinOptions>;
export type Device = WorldJoinOptions["device"];

export const DungeonJoinOptions = z.object({
  dungeon: id.default("crypt"),
  /** Heroes with the same party share an instance; without one, a hero gets an instance of its own. */
  party: id.optional(),
});
export type DungeonJoinOptions = z.infer<typeof DungeonJoinOptions>;

const cell = z.number().int().min(0).max(1000);
export const MatchAction = z.discriminatedUnion("type", [
  z.object({ type: z.literal("build"), building: id, x: cell, y: cell }),
  z.object({ type: z.literal("demolish"), x: cell, y: cell }),
]);
export const Ready = z.object({ seq, ready: z.boolean() });
/** `prev` is a hex SHA-256, or "" before the first transaction. */
export const Turn = z.object({ seq, prev: z.string().max(64), actions: z.array(MatchAction).max(5) });
export const Forfeit = z.object({ seq });
/** A request rather than an action: the contract writes it without `seq`, which it may still carry. */
export const ChainRequest = z.object({
  seq: seq.optional(),
  after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

export const MatchJoinOptions = z.object({
  mode: id.default("hamlet"),
  /**
   * Clients with the same code share an instance (a private match); none, or "", is the public
   * lobbies. "" is accepted because the room parses the options again once matchmaking has filled
   * in the defaults (`code: ""` for a public lobby).
   */
  code: z
    .union([id, z.literal("")])
    .optional()
    .transform((c) => c ?? ""),
  spectate: z.boolean().default(false),
});
export type MatchJoinOptions = z.infer<typeof MatchJoinOptions>;

/** Reads `seq` from a payload that failed its shape check, so the `reject` can still name it. */
export function seqOf(payload: unknown): number | null {
  const value = (payload as { seq?: unknown } | null)?.seq;
  return typeof value === "number" && Number.isSafeInteger(value) ? value : null;
}

/** One line describing the first problem zod found. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.length ? issue.path.join(".") : "payload";
  return `${path}: ${issue.message}`;
}

/** Shapes of the social messages and routes (PROTOCOL §7); see messages.ts for the rules they follow. */
import { z } from "zod";

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `to` is a username or a userId. The text is checked by chat's rule (`chat/empty`, `chat/too_long`). */
export const Whisper = z.object({ seq, to: z.string().min(1).max(64), text: z.string().max(2000) });

/** `POST /api/friends`: `{username}`, or (an extension, for guests) `{userId}`. */
export const FriendRequest = z.union([
  z.object({ username: z.string().min(1).max(64) }),
  z.object({ userId: z.string().min(1).max(64) }),
]);

export const BoardQuery = (page: number, max: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(max).default(page),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  });

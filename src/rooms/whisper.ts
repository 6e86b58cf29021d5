/**
 * `whisper {seq, to, text}` in any room (PROTOCOL §7): chat's text rule, then delivery through
 * `Users.deliver` to the target's connected session wherever it sits in the cluster, once. A
 * target seated nowhere (or unknown: the answer does not tell them apart) is refused with
 * `whisper/offline`, after the fact, since delivery crosses processes.
 */
import type { z } from "zod";
import { policy } from "../content/policy.js";
import type { Refusal, Verdict } from "../domain/result.js";
import { RejectCode } from "../protocol/codes.js";
import { checkChat } from "../rules/chat.js";
import type { Services } from "../services.js";
import type { Whisper } from "../validators/social.js";
import type { Seat } from "./seats.js";

export function whisper(
  services: Services,
  seat: Seat,
  message: z.infer<typeof Whisper>,
  now: number,
  refuse: (refusal: Refusal) => void,
): Verdict {
  const checked = checkChat(message.text, policy.chat.maxChars);
  if (!checked.ok) return checked;
  const offline = () => refuse({ ok: false, code: RejectCode.WhisperOffline, message: `${message.to} is not online` });
  void (async () => {
    const target =
      (await services.store.findAccountByUsername(message.to)) ?? (await services.store.getAccount(message.to));
    if (!target) return offline();
    const sent = await services.users.deliver(target.userId, "whisper", {
      from: seat.userId,
      name: seat.name,
      text: checked.text,
      at: now,
    });
    if (!sent) offline();
  })().catch((err: unknown) => {
    services.log.warn({ err, userId: seat.userId }, "a whisper could not be delivered");
    offline();
  });
  return { ok: true };
}

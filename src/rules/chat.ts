import { RejectCode } from "../protocol/codes.js";
import { refuse, type Verdict } from "../domain/result.js";

/** Trims a chat line and checks its length (1 to `maxChars` characters, counted as code points). */
export function checkChat(text: string, maxChars: number): Verdict<{ text: string }> {
  // Control characters have no business in a chat line: they become spaces.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const trimmed = text.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  const length = [...trimmed].length;
  if (length === 0) return refuse(RejectCode.ChatEmpty, "the message is empty");
  if (length > maxChars)
    return refuse(RejectCode.ChatTooLong, `the message is ${length} characters; at most ${maxChars}`);
  return { ok: true, text: trimmed };
}

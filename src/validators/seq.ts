import { RejectCode } from "../protocol/codes.js";
import { refuse, type Verdict } from "../domain/result.js";

/**
 * `seq` must grow with every action of a session. A replayed or reordered message carries a
 * `seq` at or below the last accepted one and is refused.
 */
export function checkSeq(lastAccepted: number, seq: number): Verdict {
  if (seq <= lastAccepted)
    return refuse(RejectCode.SeqStale, `seq ${seq} is not above the last accepted ${lastAccepted}`);
  return { ok: true };
}

import type { RejectCode } from "../protocol/codes.js";

/** A rule's verdict. Rules return one of these and never throw for a refused action. */
export type Verdict<T = object> = ({ ok: true } & T) | Refusal;
export type Refusal = { ok: false; code: RejectCode; message: string };

export const refuse = (code: RejectCode, message: string): Refusal => ({ ok: false, code, message });

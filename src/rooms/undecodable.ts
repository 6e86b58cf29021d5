/**
 * Colyseus closes a connection whose payload msgpack cannot decode with its generic 4002
 * (`CloseCode.WITH_ERROR`), before any handler of ours sees the message; the room then takes it for
 * a dropped connection and would hold the body for reconnection. This maps that close, for a seat
 * in play, to the documented 4103 `input/undecodable`, and lets the room end the seat first, so no
 * reconnection window opens.
 */
import { CloseCode, type Client } from "@colyseus/core";
import { CloseCodes, CloseReason } from "../protocol/codes.js";

/**
 * Wraps `client.leave`: a 4002 close is reported to `onUndecodable`, which ends the seat and answers
 * true, or answers false (the seat is already gone or reconnecting) to leave the close as it is.
 */
export function mapDecodeFailures(client: Client, onUndecodable: () => boolean): void {
  const leave = client.leave.bind(client);
  client.leave = (code?: number, data?: string) => {
    if (code === CloseCode.WITH_ERROR && onUndecodable())
      return leave(CloseCodes.MalformedInput, `${CloseReason.Undecodable}: a payload could not be decoded as msgpack`);
    return leave(code, data);
  };
}

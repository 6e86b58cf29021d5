/**
 * The seat of an HTTP session: a Colyseus `Client` of its own, so that the room, its pipeline and
 * its StateView cannot tell it from a WebSocket. What the room sends it (`raw`) is the exact byte
 * stream a WebSocket would carry; it is decoded here by the SDK's own `Room` (its schema decoder
 * and its msgpack message decoding), which also answers the protocol's handshake as the SDK does.
 * What the player sends is encoded by the same SDK room and handed to the room as a frame.
 */
import { EventEmitter } from "node:events";
import {
  ClientState,
  CloseCode,
  enqueueClientRaw,
  getMessageBytes,
  Protocol,
  type Client,
  type ClientPrivate,
  type ISendOptions,
} from "@colyseus/core";
import { Room as SdkRoom } from "@colyseus/sdk";
import type { StateView } from "@colyseus/schema";

/** `WebSocket.OPEN`: the room checks `readyState` against it on a reconnection. */
const OPEN = 1;
const CLOSED = 3;

/** What a mirror reports to its session. */
export interface MirrorEvents {
  /** A room message, decoded (msgpack) as the SDK decodes it. */
  message(type: string, payload: unknown): void;
  /** A state frame (full or patch) was applied to the decoded state. */
  state(): void;
  /** The connection ended: `code` and `reason` as a WebSocket close would carry them. */
  closed(code: number, reason: string): void;
}

/**
 * The server-side end of the seat. `ref` stands in for the socket: the room listens on it for
 * `message` (frames from the player) and `close` (the connection is gone).
 */
export class HttpClient implements Client, ClientPrivate {
  "~messages": Record<string | number, unknown>;
  /** Stands in for the socket; a reconnection elsewhere points it at the new connection. */
  ref = new EventEmitter();
  state: ClientState = ClientState.JOINING;
  reconnectionToken = "";
  view?: StateView;
  userData?: unknown;
  auth?: unknown;

  // Private fields the room reads and writes (ClientPrivate).
  _enqueuedMessages: unknown[] = [];
  _joinedAt = 0;
  _numMessagesLastSecond = 0;
  _messageCountResetsAt = 0;
  _lastMessageTime = 0;

  /** The socket's own emitter: a reconnection points `ref` at the new connection, never this one. */
  private readonly socket = this.ref;
  private open = true;
  private readonly sdk: SdkRoom;

  constructor(
    readonly sessionId: string,
    roomId: string,
    private readonly events: MirrorEvents,
  ) {
    this.sdk = new SdkRoom("http");
    this.sdk.roomId = roomId;
    this.sdk.sessionId = sessionId;
    // The SDK room's connection: what it sends (the JOIN_ROOM acknowledgement, the player's
    // messages, LEAVE_ROOM) reaches the room at once, in order, as frames from this client.
    (this.sdk as unknown as { connection: unknown }).connection = {
      isOpen: true,
      send: (data: Uint8Array) => {
        if (this.open) this.socket.emit("message", Buffer.from(data));
      },
      close: () => undefined,
    };
    this.sdk.onMessage("*", (type: string | number, payload: unknown) =>
      events.message(String(type), payload instanceof Uint8Array ? Buffer.from(payload).toString("base64") : payload),
    );
    this.sdk.onStateChange(() => events.state());
  }

  /** The decoded state, as the SDK holds it (undefined before the first full state). */
  get decoded(): { toJSON(): unknown } | undefined {
    return this.sdk.state as { toJSON(): unknown } | undefined;
  }

  /** `roomId:token`, the form `client.reconnect()` takes; set once the room's JOIN_ROOM arrived. */
  get fullReconnectionToken(): string | undefined {
    return this.sdk.reconnectionToken;
  }

  get readyState(): number {
    return this.open ? OPEN : CLOSED;
  }

  /** Sends a room message from the player, encoded exactly as `room.send` of the SDK encodes it. */
  sendFromPlayer(type: string, payload: unknown): void {
    this.sdk.send(type, payload);
  }

  /** The player leaves on purpose, as the SDK's `room.leave()` does (LEAVE_ROOM). */
  leaveFromPlayer(): void {
    this.socket.emit("message", Buffer.from([Protocol.LEAVE_ROOM]));
  }

  /** The connection is gone without a word (an idle session): the room sees an abnormal close. */
  drop(reason: string): void {
    this.end(CloseCode.ABNORMAL_CLOSURE, reason);
  }

  // --- Client ---------------------------------------------------------------------------------

  raw(data: Uint8Array | Buffer, _options?: ISendOptions, cb?: (err?: Error) => void): void {
    if (this.open)
      (this.sdk as unknown as { onMessageCallback(e: { data: Uint8Array }): void }).onMessageCallback({ data });
    cb?.();
  }

  enqueueRaw(data: Uint8Array | Buffer, options?: ISendOptions): void {
    enqueueClientRaw(this, data, options);
  }

  // `PropertyKey` because Client types `type` by a message table; rooms send strings and numbers.
  send(type: PropertyKey, message?: unknown, options?: ISendOptions): void {
    this.enqueueRaw(getMessageBytes.raw(Protocol.ROOM_DATA, type as string | number, message), options);
  }

  sendBytes(type: string | number, bytes: Buffer | Uint8Array, options?: ISendOptions): void {
    this.enqueueRaw(getMessageBytes.raw(Protocol.ROOM_DATA_BYTES, type, undefined, bytes), options);
  }

  error(code: number, message = ""): void {
    this.raw(getMessageBytes[Protocol.ERROR](code, message));
  }

  leave(code: number = CloseCode.NORMAL_CLOSURE, reason?: string): void {
    this.end(code, reason ?? "");
  }

  close(code?: number, reason?: string): void {
    this.leave(code, reason);
  }

  toJSON() {
    return { sessionId: this.sessionId, readyState: this.readyState, transport: "http" };
  }

  /** Closes the seat's end once: the room hears `close` on the next turn, as from a socket. */
  private end(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.events.closed(code, reason);
    setImmediate(() => this.socket.emit("close", code, reason));
  }
}

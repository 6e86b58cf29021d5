/**
 * Counts the bytes every WebSocket of the page receives, for the debug overlay's bytes per
 * second. Must be imported before @colyseus/sdk, which picks up `globalThis.WebSocket` when it loads.
 */
export const traffic = { bytesReceived: 0, messagesReceived: 0 };

const Native = globalThis.WebSocket;

class CountingWebSocket extends Native {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.addEventListener("message", (event: MessageEvent<unknown>) => {
      const data = event.data;
      traffic.messagesReceived++;
      traffic.bytesReceived +=
        data instanceof ArrayBuffer ? data.byteLength : data instanceof Blob ? data.size : String(data).length;
    });
  }
}

globalThis.WebSocket = CountingWebSocket;

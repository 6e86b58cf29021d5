// Stands in for the `ws` package in the browser bundle: browsers have WebSocket built in.
export default globalThis.WebSocket;

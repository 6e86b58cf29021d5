import { Client } from "@colyseus/sdk";
import { fetchMap, joinWorld, Walker } from "../client/index.js";

const server = process.env.REALMGATE_URL ?? "http://localhost:2567";

// A guest account: the token lasts 12 hours (TOKEN_TTL).
const res = await fetch(`${server}/auth/guest`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: "Ann" }),
});
const { token } = (await res.json()) as { token: string };

const client = new Client(server.replace(/^http/, "ws"));
client.auth.token = token;

// joinWorld registers for `welcome` before anything can miss it, and waits for the own body.
const world = await joinWorld(client, { world: "meadow", device: "desktop" });
console.log("speed", world.welcome.speed, "aoi", world.welcome.aoiRadius);
world.on("reject", (r) => console.warn(r.code, r.message));

// The walker paces steps by speed, finds a way around blocked tiles and predicts the own body.
const walker = new Walker(world, await fetchMap(server, "world", "meadow"));
await walker.walkTo(walker.position.x + 100, walker.position.y + 40);
const me = world.room.state.players.get(world.room.sessionId)!;
console.log("arrived at", me.x, me.y);

await world.room.leave();

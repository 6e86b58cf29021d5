/**
 * @colyseus/loadtest bots for a world: each joins as a guest and walks between random waypoints
 * at legal speed, chatting now and then. With its interactive screen:
 *
 *   npm run loadtest:world -- --numClients 200 [--endpoint ws://localhost:2567] [--world meadow]
 */
import { cli, type Options } from "@colyseus/loadtest";
import { Client } from "@colyseus/sdk";
import { parseArgs } from "node:util";
import { fetchMap, joinAsGuest, newStats, WorldWalker } from "./bots.js";

const { values: argv } = parseArgs({ strict: false });
const world = String(argv.world ?? "meadow");

cli(async (options: Options) => {
  const httpUrl = options.endpoint.replace(/^ws/, "http");
  const client = new Client(options.endpoint);
  const { room, welcome } = await joinAsGuest(
    client,
    httpUrl,
    options.roomName,
    { world, device: "desktop" },
    `bot-${options.clientId}`,
  );
  const stats = newStats();
  new WorldWalker(room, welcome, await fetchMap(httpUrl, "worlds", world), stats).start();
  room.onLeave((code) => console.log(`${room.sessionId} left (${code}); refusals: ${JSON.stringify(stats.rejects)}`));
});

/**
 * @colyseus/loadtest bots for dungeons: parties of four fight through the crypt, then start
 * again in a new instance. With its interactive screen:
 *
 *   npm run loadtest:dungeon -- --numClients 40 [--endpoint ws://localhost:2567] [--dungeon crypt]
 */
import { cli, type Options } from "@colyseus/loadtest";
import { Client } from "@colyseus/sdk";
import { parseArgs } from "node:util";
import { DungeonFighter, fetchMap, joinAsGuest, newStats } from "./bots.js";

const { values: argv } = parseArgs({ strict: false });
const dungeon = String(argv.dungeon ?? "crypt");
const PARTY = 4;

cli(async (options: Options) => {
  const httpUrl = options.endpoint.replace(/^ws/, "http");
  const strike = (await (await fetch(`${httpUrl}/api/abilities/strike`)).json()) as {
    range: number;
    cooldownMs: number;
  };
  const map = await fetchMap(httpUrl, "dungeons", dungeon);
  const client = new Client(options.endpoint);
  const stats = newStats();
  const party = Math.floor(options.clientId / PARTY);
  let run = 0;
  const play = async () => {
    const { room, welcome } = await joinAsGuest(
      client,
      httpUrl,
      options.roomName,
      { dungeon, party: `lt-${party}-${run}` },
      `hero-${options.clientId}`,
    );
    const fighter = new DungeonFighter(room, welcome, map, stats, strike, options.clientId % PARTY);
    fighter.onOver = () =>
      void (async () => {
        fighter.stop();
        await room.leave();
        run++;
        await play();
      })();
    fighter.start();
  };
  await play();
});

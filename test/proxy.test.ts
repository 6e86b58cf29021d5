/**
 * The README's reverse-proxy set-up, run for real: deploy/nginx.conf in front of two server
 * processes sharing a private Redis. Skipped, and said so, where nginx is not installed.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import type { WorldState } from "../client/index.js";
import { eventually, freePort, RedisServer, ServerProcess, until } from "./helpers.js";

const nginxAvailable = spawnSync("nginx", ["-v"]).status === 0;

if (!nginxAvailable || !RedisServer.available()) {
  const why = !nginxAvailable
    ? "no nginx on this machine (apt-get install nginx-light)"
    : "no redis-server on this machine";
  console.log(`Reverse-proxy suite SKIPPED: ${why}`);
  describe("reverse proxy (deploy/nginx.conf)", () => it(`SKIPPED: ${why}`));
} else {
  describe("reverse proxy (deploy/nginx.conf)", function () {
    this.timeout(60_000);
    let redis: RedisServer;
    let servers: ServerProcess[];
    let nginx: ChildProcess;
    let dir: string;
    let proxyPort: number;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "realmgate-proxy-"));
      redis = new RedisServer(await freePort());
      await redis.start();
      proxyPort = await freePort();
      const ports = [await freePort(), await freePort()];
      servers = ports.map(
        (port) =>
          new ServerProcess(port, join(dir, "data"), {
            REDIS_URL: redis.url,
            PUBLIC_ADDRESS: `127.0.0.1:${proxyPort}/${port}`,
            TRUST_PROXY: "loopback", // as the README says for a proxy on the same machine
          }),
      );
      for (const s of servers) await s.start();

      const prefix = join(dir, "nginx");
      mkdirSync(prefix);
      const conf = readFileSync(join(import.meta.dirname, "../deploy/nginx.conf"), "utf8")
        .replaceAll("@LISTEN@", `127.0.0.1:${proxyPort}`)
        .replaceAll("@PROCESS_PORTS@", ports.join("|"))
        .replaceAll("@UPSTREAMS@", ports.map((p) => `server 127.0.0.1:${p};`).join(" "))
        .replaceAll("@PREFIX@", prefix)
        .replace("worker_processes auto;", "worker_processes 1;");
      writeFileSync(join(prefix, "nginx.conf"), conf);
      nginx = spawn("nginx", ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      await eventually(async () => (await fetch(`http://127.0.0.1:${proxyPort}/health`)).ok, 10_000, "nginx serving");
    });

    after(async () => {
      nginx?.kill("SIGQUIT");
      await Promise.all(servers.map((s) => s.stop("SIGTERM")));
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    it("lets clients that only know the proxy's address play in one room, whichever process holds it", async () => {
      const rooms: Room<unknown, WorldState>[] = [];
      for (let i = 0; i < 4; i++) {
        const auth = await fetch(`http://127.0.0.1:${proxyPort}/auth/guest`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        const client = new Client(`ws://127.0.0.1:${proxyPort}`);
        client.auth.token = ((await auth.json()) as { token: string }).token;
        const room = await client.joinOrCreate<WorldState>("world", { world: "meadow" });
        for (const type of ["welcome", "reject", "chat"]) room.onMessage(type, () => undefined);
        rooms.push(room);
      }
      assert.equal(new Set(rooms.map((r) => r.roomId)).size, 1, "one room for all");
      await until(rooms[0], () => rooms[0].state.players?.size === 4, 5000, "everyone visible through the proxy");
      // Matchmaking went to both processes (round robin), yet every WebSocket reached the room's.
      await Promise.all(rooms.map((r) => r.leave()));
    });

    it("does not proxy to ports that are not Realmgate processes", async () => {
      const res = await fetch(`http://127.0.0.1:${proxyPort}/${redis.port}/`);
      assert.equal(res.status, 404, "answered by a Realmgate process, not passed on to Redis");
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        "http/not_found",
        "a Realmgate process answered",
      );
    });
  });
}

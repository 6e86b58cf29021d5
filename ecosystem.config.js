/**
 * PM2: several Realmgate processes on one machine, behaving as one server through Redis.
 *
 *   npm install && npm run build
 *   REDIS_URL=redis://127.0.0.1:6379 JWT_SECRET=... ADMIN_USER=... ADMIN_PASSWORD=... pm2 start ecosystem.config.js
 *
 * Each process gets its own port (PORT, PORT+1, ...) and its own public address, because the
 * SDK opens its WebSocket straight to the process that holds the room. Everything else (REDIS_URL,
 * MONGO_URL or DATA_DIR, secrets) comes from the environment pm2 is started in.
 *
 * Settings of this file (environment variables):
 *   REALMGATE_INSTANCES  processes to run (default: one per CPU core)
 *   PORT                 port of the first process (default 2567)
 *   PUBLIC_HOST          host clients reach the processes at (default localhost); each process's
 *                        PUBLIC_ADDRESS is PUBLIC_HOST:its port ...
 *   PUBLIC_ADDRESS_TEMPLATE  ... or this, with {port} replaced, for a reverse proxy that routes by
 *                        path, e.g. "game.example.com/{port}" (see the README's scaling guide)
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

const instances = Number(process.env.REALMGATE_INSTANCES ?? availableParallelism());
const basePort = Number(process.env.PORT ?? 2567);
const publicAddress = (port) =>
  process.env.PUBLIC_ADDRESS_TEMPLATE?.replace("{port}", String(port)) ??
  `${process.env.PUBLIC_HOST ?? "localhost"}:${port}`;

// The Node pinned by the project (24) when installed, so that pm2's own Node does not matter.
const pinnedNode = new URL("./node_modules/node/bin/node", import.meta.url).pathname;

// A named export as well as the default: pm2 loads this ES module with require(), which hands it
// the module namespace, and reads `apps` from there.
export const apps = Array.from({ length: instances }, (_, i) => ({
  name: `realmgate-${i}`,
  script: "dist/src/index.js",
  interpreter: existsSync(pinnedNode) ? pinnedNode : "node",
  exec_mode: "fork",
  instances: 1,
  // The process tells pm2 it is ready once it listens (process.send("ready")).
  wait_ready: true,
  listen_timeout: 20_000,
  // Room for the graceful shutdown: every profile and event is written before exit.
  kill_timeout: 30_000,
  max_memory_restart: process.env.REALMGATE_MAX_MEMORY ?? "2G",
  env: {
    NODE_ENV: process.env.NODE_ENV ?? "production",
    PORT: String(basePort + i),
    PUBLIC_ADDRESS: publicAddress(basePort + i),
  },
}));

export default { apps };

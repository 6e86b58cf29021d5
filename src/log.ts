/**
 * Structured logging with pino: JSON in production, readable lines in development. Child loggers
 * carry `roomId`, `sessionId` and `tick`. Secrets are redacted by key wherever they appear.
 */
import { pino, type Logger } from "pino";
import type { Config } from "./config.js";

export type { Logger };

const REDACT = [
  "token",
  "password",
  "passwordHash",
  "authorization",
  "jwtSecret",
  "*.token",
  "*.password",
  "*.passwordHash",
  "*.authorization",
  "req.headers.authorization",
];

export function createLogger(config: Pick<Config, "logLevel" | "production">): Logger {
  return pino({
    level: config.logLevel,
    base: { service: "realmgate", pid: process.pid },
    redact: { paths: REDACT, censor: "[redacted]" },
    ...(config.production
      ? {}
      : {
          transport: {
            target: "pino-pretty",
            options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,service" },
          },
        }),
  });
}

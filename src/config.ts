/**
 * The one configuration module: environment variables are parsed once, validated with zod,
 * and frozen. Every other module receives a `Config` and never reads `process.env` itself.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** `"3600"`, `"90s"`, `"15m"`, `"12h"`, `"7d"` → seconds. */
function parseDurationSec(value: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  );

/** A duration variable: seconds, or a number with s, m, h or d. */
const duration = (fallback: string, minSec: number, maxSec: number) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const sec = parseDurationSec(v);
      if (sec === undefined || sec < minSec || sec > maxSec) {
        ctx.addIssue({
          code: "custom",
          message: `must be a duration from ${minSec}s to ${maxSec / 86400}d, like 3600, 90m, 12h or 7d`,
        });
        return z.NEVER;
      }
      return sec;
    });

/** Names TRUST_PROXY accepts for address ranges. */
export const PROXY_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/**
 * Who may tell the server a client's address with X-Forwarded-For: nobody (the direct peer is the
 * client), the nearest `hops` proxies whatever their address, or the peers in `ranges` (addresses
 * and CIDR ranges). See src/http/client-address.ts.
 */
export type ProxyTrust =
  | Readonly<{ kind: "none" }>
  | Readonly<{ kind: "hops"; hops: number }>
  | Readonly<{ kind: "ranges"; ranges: readonly string[] }>;

/** `""` → none; `2` → two hops; `loopback,10.0.0.0/8,2001:db8::1` → those ranges. */
function parseProxyTrust(value: string): ProxyTrust | string {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops > 16 ? "must be a hop count up to 16" : hops === 0 ? { kind: "none" } : { kind: "hops", hops };
  }
  const ranges: string[] = [];
  for (const entry of v.split(",").map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    if (PROXY_RANGES[entry]) {
      ranges.push(...PROXY_RANGES[entry]);
      continue;
    }
    const [ip, prefix, extra] = entry.split("/");
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= max))
    )
      return `must be a hop count, or a comma-separated list of addresses, CIDR ranges, "loopback" and "private" (bad entry "${entry}")`;
    ranges.push(prefix === undefined ? `${ip}/${max}` : entry);
  }
  return ranges.length === 0 ? { kind: "none" } : { kind: "ranges", ranges: Object.freeze(ranges) };
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(0, 65535).default(2567),
  PUBLIC_ADDRESS: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  TOKEN_TTL: duration("12h", 60, 30 * 86400),
  REDIS_URL: url(["redis:", "rediss:"]).optional(),
  REDIS_RECONNECT_MAX_MS: int(100, 60_000).default(5000),
  MONGO_URL: url(["mongodb:", "mongodb+srv:"]).optional(),
  DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
  STORE_STARTUP_SECONDS: int(0, 600).default(30),
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  RECONNECT_SECONDS: int(0, 600).default(20),
  SAVE_INTERVAL_MS: int(250, 600_000).default(5000),
  AOI_ENABLED: flag.default(true),
  AUTH_RATE_PER_MIN: int(0, 100_000).default(30),
  DUNGEON_GRACE_SECONDS: int(0, 3600).default(30),
  EVENT_TTL: duration("24h", 60, 90 * 86400),
  MAX_PENDING_SAVES: int(1, 10_000_000).default(10_000),
  MAX_CONNECTIONS_PER_ADDRESS: int(0, 1_000_000).default(64),
  CONNECTION_CAP_LOOPBACK: flag.default(false),
  TRUST_PROXY: z
    .string()
    .default("")
    .transform((v, ctx) => {
      const trust = parseProxyTrust(v);
      if (typeof trust !== "string") return trust;
      ctx.addIssue({ code: "custom", message: trust });
      return z.NEVER;
    }),
  HTTP_HANDSHAKE_MS: int(250, 10_000).default(5000),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        url(["http:", "https:"]).refine(
          (o) => new URL(o).origin === o,
          "must list bare origins like https://play.example.com",
        ),
      ),
    ),
  TRADE_LEASE_MS: int(1000, 600_000).default(15_000),
  TRADE_RECOVERY_MS: int(100, 600_000).default(3000),
  TRADE_STEP_TIMEOUT_MS: int(100, 600_000).default(5000),
  /** Test-only: kill this process with SIGKILL at a step of the trade commit (src/trade/faults.ts). */
  TRADE_FAULT: z.enum(["offered", "prepared", "committed", "cleanup"]).optional(),
  // One-line values with "\n" escapes (as in a .env file) read as the PEM they spell.
  MATCH_SIGNING_KEY: z
    .string()
    .transform((pem) => pem.replace(/\\n/g, "\n"))
    .refine(isEd25519Pem, "must be an Ed25519 private key in PKCS#8 PEM (openssl genpkey -algorithm ed25519)")
    .optional(),
});

export type Config = Readonly<{
  env: "development" | "production" | "test";
  production: boolean;
  port: number;
  /** Host (and port) clients reach this process at; required per process under Redis. */
  publicAddress: string | undefined;
  dataDir: string;
  jwtSecret: string;
  tokenTtlSec: number;
  redisUrl: string | undefined;
  /** The longest pause between attempts to reach a lost Redis (the backoff doubles from 100 ms up to it). */
  redisReconnectMaxMs: number;
  mongoUrl: string | undefined;
  /** PostgreSQL; at most one of `databaseUrl` and `mongoUrl` is set, and neither means SQLite. */
  databaseUrl: string | undefined;
  /** How long start-up waits for an unreachable PostgreSQL or MongoDB before it gives up. */
  storeStartupSec: number;
  /** Absent in development means the monitor stays off. */
  admin: Readonly<{ user: string; password: string }> | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  reconnectSec: number;
  saveIntervalMs: number;
  /** Interest management in worlds. Off only for the benchmark's baseline. */
  aoiEnabled: boolean;
  /** Requests to /auth/* per client address and minute (a burst of that many, refilled evenly); 0 = no limit. */
  authRatePerMin: number;
  /** How long an empty dungeon instance waits for its heroes before it closes. */
  dungeonGraceSec: number;
  /** How long game events are kept. */
  eventTtlSec: number;
  /** Past this many profiles waiting to be written (the store is failing), new joins are refused. */
  maxPendingSaves: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /**
   * Open connections one address may hold (0 = no cap); loopback only with `capLoopback`. A
   * connection must send its request head (a WebSocket upgrade included) within `handshakeMs`.
   */
  connections: Readonly<{ maxPerAddress: number; capLoopback: boolean; handshakeMs: number }>;
  /** Whose X-Forwarded-For names the client's address (src/http/client-address.ts); nobody's by default. */
  trustProxy: ProxyTrust;
  /** Origins a browser may call the API from, with credentials; no other origin gets CORS headers. */
  corsOrigins: readonly string[];
  /** Signs every match transaction (Ed25519, PKCS#8 PEM); the same in every process of a cluster. */
  matchSigningKey: string;
  /** Trade commit timing (src/trade/trades.ts); the tests shorten it to run their crash cases quickly. */
  trade: Readonly<{
    /** How long the process that accepted a trade owns its commit before recovery elsewhere may take it over. */
    leaseMs: number;
    /** How often every process looks for trades whose coordinator went quiet. */
    recoverEveryMs: number;
    /** How long a step waits for the room that holds a player's profile. */
    stepTimeoutMs: number;
  }>;
  /** Test-only fault hook: the trade step at which this process kills itself. Refused in production. */
  tradeFault: "offered" | "prepared" | "committed" | "cleanup" | undefined;
}>;

/** A configuration problem that names the variable; start-up prints its message and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment. Throws a `ConfigError` whose message is one line naming the variable.
 * In development a missing `JWT_SECRET` is generated once and kept in `DATA_DIR`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? "environment");
    const got =
      present[name] !== undefined && !/SECRET|PASSWORD|TOKEN$|KEY$|_URL$/.test(name) ? ` (got "${present[name]}")` : "";
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${got}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";

  if ((e.ADMIN_USER === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError("Invalid configuration: ADMIN_USER and ADMIN_PASSWORD must be set together");
  }
  if (e.DATABASE_URL && e.MONGO_URL) {
    throw new ConfigError("Invalid configuration: set DATABASE_URL (PostgreSQL) or MONGO_URL (MongoDB), not both");
  }
  // A live coordinator renews its lease at every move of the record: a lease shorter than two step
  // timeouts would hand a trade to recovery while its coordinator still waits on a slow room.
  if (e.TRADE_LEASE_MS < 2 * e.TRADE_STEP_TIMEOUT_MS)
    throw new ConfigError(
      `Invalid configuration: TRADE_LEASE_MS must be at least twice TRADE_STEP_TIMEOUT_MS (got ${e.TRADE_LEASE_MS} and ${e.TRADE_STEP_TIMEOUT_MS})`,
    );
  if (production && e.TRADE_FAULT)
    throw new ConfigError(
      "Invalid configuration: TRADE_FAULT is a test-only fault hook and is refused when NODE_ENV=production",
    );
  if (production) {
    if (!e.JWT_SECRET) throw new ConfigError("Invalid configuration: JWT_SECRET is required when NODE_ENV=production");
    if (!e.ADMIN_USER) {
      throw new ConfigError(
        "Invalid configuration: ADMIN_USER and ADMIN_PASSWORD are required when NODE_ENV=production",
      );
    }
    if (!e.MATCH_SIGNING_KEY)
      throw new ConfigError("Invalid configuration: MATCH_SIGNING_KEY is required when NODE_ENV=production");
  }

  if (production) {
    refuseWeak("JWT_SECRET", e.JWT_SECRET!, MIN_ENTROPY_BITS.jwtSecret);
    refuseWeak("ADMIN_PASSWORD", e.ADMIN_PASSWORD!, MIN_ENTROPY_BITS.adminPassword);
    if (e.METRICS_TOKEN) refuseWeak("METRICS_TOKEN", e.METRICS_TOKEN, MIN_ENTROPY_BITS.metricsToken);
  }

  const dataDir = resolve(e.DATA_DIR);
  return Object.freeze({
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    publicAddress: e.PUBLIC_ADDRESS,
    dataDir,
    jwtSecret: e.JWT_SECRET ?? localSecret(dataDir, "jwt-secret", () => randomBytes(48).toString("base64url")),
    tokenTtlSec: e.TOKEN_TTL,
    redisUrl: e.REDIS_URL,
    redisReconnectMaxMs: e.REDIS_RECONNECT_MAX_MS,
    mongoUrl: e.MONGO_URL,
    databaseUrl: e.DATABASE_URL,
    storeStartupSec: e.STORE_STARTUP_SECONDS,
    admin: e.ADMIN_USER ? Object.freeze({ user: e.ADMIN_USER, password: e.ADMIN_PASSWORD! }) : undefined,
    logLevel: e.LOG_LEVEL,
    reconnectSec: e.RECONNECT_SECONDS,
    saveIntervalMs: e.SAVE_INTERVAL_MS,
    aoiEnabled: e.AOI_ENABLED,
    authRatePerMin: e.AUTH_RATE_PER_MIN,
    dungeonGraceSec: e.DUNGEON_GRACE_SECONDS,
    eventTtlSec: e.EVENT_TTL,
    maxPendingSaves: e.MAX_PENDING_SAVES,
    metricsToken: e.METRICS_TOKEN,
    connections: Object.freeze({
      maxPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
      capLoopback: e.CONNECTION_CAP_LOOPBACK,
      handshakeMs: e.HTTP_HANDSHAKE_MS,
    }),
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    trustProxy: Object.freeze(e.TRUST_PROXY),
    trade: Object.freeze({
      leaseMs: e.TRADE_LEASE_MS,
      recoverEveryMs: e.TRADE_RECOVERY_MS,
      stepTimeoutMs: e.TRADE_STEP_TIMEOUT_MS,
    }),
    tradeFault: e.TRADE_FAULT,
    matchSigningKey:
      e.MATCH_SIGNING_KEY ??
      localSecret(dataDir, "match-signing-key.pem", () =>
        generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      ),
  });
}

/** The least estimated entropy production accepts for each secret. */
export const MIN_ENTROPY_BITS = { jwtSecret: 100, adminPassword: 48, metricsToken: 64 } as const;

/**
 * An estimate of a secret's entropy in bits: the Shannon entropy of its characters times its
 * length. Repeated or few distinct characters score low (`a`×32 scores 0); 48 random base64url
 * characters score about 250.
 */
export function entropyBits(secret: string): number {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length);
  return perChar * chars.length;
}

function refuseWeak(name: string, secret: string, minBits: number): void {
  const bits = Math.floor(entropyBits(secret));
  if (bits < minBits)
    throw new ConfigError(
      `Invalid configuration: ${name} is too weak for production (about ${bits} bits of entropy; at least ${minBits} needed)`,
    );
}

function isEd25519Pem(pem: string): boolean {
  try {
    return createPrivateKey(pem).asymmetricKeyType === "ed25519";
  } catch {
    return false;
  }
}

/**
 * A development secret, generated on first start and kept so tokens (and match signatures)
 * survive restarts.
 */
function localSecret(dataDir: string, name: string, generate: () => string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // private to the server (a new DATA_DIR only)
  const secret = generate().trim();
  try {
    writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
    return secret;
  } catch (err) {
    // Another process started at the same moment and wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw err;
  }
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

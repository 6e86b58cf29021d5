import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { testSigningKey } from "../bench/server-process.js";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../src/config.js";

const tmp = () => mkdtempSync(join(tmpdir(), "realmgate-config-"));
const SECRET = "q7Vd0-kE3xZp_9LmT2wRbN8yHc4uJfA6";

describe("config", () => {
  it("has working defaults and is frozen", () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    assert.equal(c.port, 2567);
    assert.equal(c.env, "development");
    assert.equal(c.reconnectSec, 20);
    assert.equal(c.saveIntervalMs, 5000);
    assert.equal(c.tokenTtlSec, 12 * 3600);
    assert.equal(c.admin, undefined);
    assert.deepEqual(c.trade, { leaseMs: 15_000, recoverEveryMs: 3000, stepTimeoutMs: 5000 });
    assert.equal(c.redisReconnectMaxMs, 5000);
    assert.equal(c.connections.handshakeMs, 5000);
    assert.ok(Object.isFrozen(c));
  });

  it("takes shorter trade and Redis timings (as the cluster tests set them), and keeps a step within the lease", () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      TRADE_LEASE_MS: "4000",
      TRADE_RECOVERY_MS: "500",
      TRADE_STEP_TIMEOUT_MS: "2000",
      REDIS_RECONNECT_MAX_MS: "500",
    });
    assert.deepEqual(c.trade, { leaseMs: 4000, recoverEveryMs: 500, stepTimeoutMs: 2000 });
    assert.equal(c.redisReconnectMaxMs, 500);
    assert.ok(Object.isFrozen(c.trade));
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), TRADE_LEASE_MS: "4000", TRADE_STEP_TIMEOUT_MS: "2500" }),
      /Invalid configuration: TRADE_LEASE_MS must be at least twice TRADE_STEP_TIMEOUT_MS \(got 4000 and 2500\)$/,
    );
    assert.throws(() => loadConfig({ DATA_DIR: tmp(), TRADE_RECOVERY_MS: "0" }), /TRADE_RECOVERY_MS/);
  });

  it("names the variable of a bad value in one line", () => {
    for (const [env, pattern] of [
      [{ PORT: "http" }, /^Invalid configuration: PORT .*\(got "http"\)$/],
      [{ RECONNECT_SECONDS: "-1" }, /^Invalid configuration: RECONNECT_SECONDS /],
      [{ REDIS_URL: "localhost:6379" }, /^Invalid configuration: REDIS_URL must be a URL starting with redis:\/\//],
      [{ LOG_LEVEL: "loud" }, /^Invalid configuration: LOG_LEVEL /],
      [{ TOKEN_TTL: "forever" }, /^Invalid configuration: TOKEN_TTL must be a duration/],
      [{ JWT_SECRET: "short" }, /^Invalid configuration: JWT_SECRET must be at least 32 characters$/],
    ] as const) {
      assert.throws(
        () => loadConfig({ DATA_DIR: tmp(), ...env }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, pattern);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    }
  });

  it("never echoes a secret in an error", () => {
    assert.throws(
      () => loadConfig({ JWT_SECRET: "hunter2" }),
      (err: Error) => !err.message.includes("hunter2"),
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: "mysql://u:hunter2@db/x" }),
      (err: Error) => !err.message.includes("hunter2"),
    );
  });

  it("selects PostgreSQL with DATABASE_URL, and refuses it together with MONGO_URL", () => {
    const url = "postgres://127.0.0.1/test";
    assert.equal(loadConfig({ DATA_DIR: tmp(), DATABASE_URL: url }).databaseUrl, url);
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), DATABASE_URL: "mysql://x/y" }),
      /Invalid configuration: DATABASE_URL must be a URL starting with postgres:\/\//,
    );
    assert.throws(
      () => loadConfig({ DATA_DIR: tmp(), DATABASE_URL: url, MONGO_URL: "mongodb://127.0.0.1/x" }),
      (err: Error) =>
        err instanceof ConfigError && /DATABASE_URL .* MONGO_URL/.test(err.message) && !err.message.includes("\n"),
    );
  });

  it("parses durations", () => {
    assert.equal(loadConfig({ DATA_DIR: tmp(), TOKEN_TTL: "90m" }).tokenTtlSec, 5400);
    assert.equal(loadConfig({ DATA_DIR: tmp(), TOKEN_TTL: "3600" }).tokenTtlSec, 3600);
  });

  it("refuses to start in production without a JWT secret or admin credentials", () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", ADMIN_USER: "admin", ADMIN_PASSWORD: "a-long-password" }),
      /JWT_SECRET is required/,
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", JWT_SECRET: SECRET }),
      /ADMIN_USER and ADMIN_PASSWORD are required/,
    );
    const production = {
      NODE_ENV: "production",
      JWT_SECRET: SECRET,
      ADMIN_USER: "admin",
      ADMIN_PASSWORD: "a-long-password",
    };
    assert.throws(() => loadConfig(production), /Invalid configuration: MATCH_SIGNING_KEY is required/);
    const key = testSigningKey();
    const c = loadConfig({ ...production, MATCH_SIGNING_KEY: key });
    assert.equal(c.matchSigningKey, key);
    assert.equal(c.production, true);
    assert.deepEqual(c.admin, { user: "admin", password: "a-long-password" });
  });

  it("refuses weak production secrets, in one line", () => {
    const prod = { NODE_ENV: "production", ADMIN_USER: "admin", MATCH_SIGNING_KEY: testSigningKey() };
    assert.throws(
      () => loadConfig({ ...prod, JWT_SECRET: "a".repeat(32), ADMIN_PASSWORD: "a-long-password" }),
      new RegExp(
        "^ConfigError: Invalid configuration: JWT_SECRET is too weak for production " +
          "\\(about 0 bits of entropy; at least 100 needed\\)$",
      ),
    );
    assert.throws(
      () => loadConfig({ ...prod, JWT_SECRET: SECRET, ADMIN_PASSWORD: "aaaaaaaaaaaa" }),
      /ADMIN_PASSWORD is too weak/,
    );
    assert.throws(
      () =>
        loadConfig({ ...prod, JWT_SECRET: SECRET, ADMIN_PASSWORD: "a-long-password", METRICS_TOKEN: "m".repeat(20) }),
      /METRICS_TOKEN is too weak/,
    );
    // Development and tests take what they are given.
    assert.equal(loadConfig({ DATA_DIR: tmp(), JWT_SECRET: "a".repeat(32) }).jwtSecret, "a".repeat(32));
  });

  it("takes an Ed25519 MATCH_SIGNING_KEY, also with \\n escapes, and names it (never its value) when it is not one", () => {
    const key = testSigningKey();
    assert.equal(loadConfig({ DATA_DIR: tmp(), MATCH_SIGNING_KEY: key.replace(/\n/g, "\\n") }).matchSigningKey, key);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" });
    for (const bad of ["not a key", rsa.toString()])
      assert.throws(
        () => loadConfig({ DATA_DIR: tmp(), MATCH_SIGNING_KEY: bad }),
        /Invalid configuration: MATCH_SIGNING_KEY must be an Ed25519 private key in PKCS#8 PEM [^"]*$/,
      );
  });

  it("in development, generates a match signing key once and keeps it in DATA_DIR", () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir }).matchSigningKey;
    assert.equal(createPrivateKey(first).asymmetricKeyType, "ed25519");
    assert.equal(loadConfig({ DATA_DIR: dir }).matchSigningKey, first);
    assert.equal(statSync(join(dir, "match-signing-key.pem")).mode & 0o777, 0o600);
    assert.notEqual(loadConfig({ DATA_DIR: tmp() }).matchSigningKey, first);
  });

  it("in development, generates a JWT secret once and keeps it in DATA_DIR", () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir }).jwtSecret;
    assert.ok(first.length >= 32);
    assert.equal(loadConfig({ DATA_DIR: dir }).jwtSecret, first);
    assert.equal(readFileSync(join(dir, "jwt-secret"), "utf8").trim(), first);
    assert.equal(statSync(join(dir, "jwt-secret")).mode & 0o777, 0o600);
    assert.notEqual(loadConfig({ DATA_DIR: tmp() }).jwtSecret, first);
  });
});

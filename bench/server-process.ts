import { createHash, createPrivateKey, randomBytes } from "node:crypto";
import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The real server (`src/index.ts`) in a child process, in production mode with throwaway secrets,
 * on a given data directory. Used by the tests (faults, cluster, logs) and the benchmark.
 */
export class ServerProcess {
  private child!: ChildProcess;
  output = "";
  readonly url: string;
  /** Production closes /metrics without a token: each process gets one of its own. */
  private readonly metricsToken = randomBytes(24).toString("hex");

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly env: Record<string, string> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** The process's Prometheus metrics, as text. */
  async metricsText(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`, { headers: { authorization: `Bearer ${this.metricsToken}` } });
    return res.text();
  }

  /** Starts it and resolves once it is listening (it tells its parent, as under PM2). */
  async start(): Promise<void> {
    this.child = fork(join(import.meta.dirname, "../src/index.ts"), [], {
      execArgv: ["--import", "tsx"],
      env: {
        ...process.env,
        NODE_ENV: "production",
        PORT: String(this.port),
        DATA_DIR: this.dataDir,
        JWT_SECRET: "local-process-secret-".padEnd(48, "x"),
        ADMIN_USER: "admin",
        ADMIN_PASSWORD: "local-process-password",
        MATCH_SIGNING_KEY: testSigningKey(),
        METRICS_TOKEN: this.metricsToken,
        AUTH_RATE_PER_MIN: "0",
        LOG_LEVEL: "info",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    // Keep the last megabyte of what it printed, for assertions and for diagnosing a failed start.
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-1_000_000));
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    await new Promise<void>((resolve, reject) => {
      this.child.on("message", (m) => m === "ready" && resolve());
      this.child.once("exit", (code) =>
        reject(new Error(`server exited with ${code} before it was ready:\n${this.output}`)),
      );
    });
  }

  /** The process id, for signals that do not end it (SIGSTOP/SIGCONT: a frozen event loop). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `signal` and resolves with the exit code (or signal) once the process is gone. */
  stop(signal: NodeJS.Signals): Promise<number | string> {
    return new Promise((resolve) => {
      this.child.once("exit", (code, sig) => resolve(code ?? sig ?? -1));
      this.child.kill(signal);
    });
  }
}

/**
 * A fixed Ed25519 key (PKCS#8 PEM) for local processes and tests: every process started here signs
 * match transactions with it, as every process of a cluster must. Never use it in production.
 */
export function testSigningKey(seed = "realmgate-local-match-signing-key"): string {
  const der = Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"), // PKCS#8 header of a 32-byte Ed25519 seed
    createHash("sha256").update(seed).digest(),
  ]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

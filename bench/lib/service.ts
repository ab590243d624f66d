// The measured service as a child process (`node --import tsx src/main.ts`, NODE_ENV=production,
// LEDGER_WORKERS processes): started, watched until ready, stopped gracefully; tenants and API
// keys made straight in its database; and which commit of its sources is measured.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/db/embedded.js";
import { log, sleep, track, withTimeout } from "./lifecycle.js";

export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

const serviceStartTimeoutMs = 120_000;

export interface RunningService {
  child: ChildProcess;
  port: number;
  demoKey: string | null;
  stdoutLines: string[];
  stderrLines: string[];
  exited: () => string | null;
  stop: () => Promise<void>;
}

/**
 * Starts the service on database `url` (three attempts, each on a free port); `cpuProfDir`: run it
 * with --cpu-prof; `env`: settings of its own (LEDGER_WEBHOOKS=false for an instance without the webhook worker).
 */
export async function startService(
  url: string,
  cpuProfDir: string | null,
  workers = process.env.LEDGER_WORKERS || "1",
  env: Record<string, string> = {},
): Promise<RunningService> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startServiceOnce(url, await freePort(), workers, cpuProfDir, env);
    } catch (error) {
      lastError = error;
      log(`service start failed (attempt ${attempt + 1}): ${error instanceof Error ? error.message : error}`);
    }
  }
  throw lastError;
}

async function startServiceOnce(
  url: string,
  port: number,
  workers: string,
  cpuProfDir: string | null,
  env: Record<string, string>,
): Promise<RunningService> {
  const nodeArgs = [...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : []), "--import", "tsx", "src/main.ts"];
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const child = spawn(process.execPath, nodeArgs, {
    cwd: projectRoot,
    // Production makes no demo tenant unless asked.
    env: {
      ...process.env,
      LEDGER_WORKERS: workers,
      NODE_ENV: "production",
      LEDGER_DEMO_TENANT: "true",
      // The webhooks group's receiver listens on 127.0.0.1 (this only allows such endpoint URLs).
      LEDGER_WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      DATABASE_URL: url,
      PORT: String(port),
      HOST: "127.0.0.1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exitInfo: string | null = null;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exitInfo = `service exited (code ${code}, signal ${signal})`;
      resolve();
    }),
  );
  const stop = async () => {
    if (exitInfo !== null) return;
    child.kill("SIGTERM"); // graceful: drains, closes the pool, writes the CPU profile if asked
    const exited = await Promise.race([exitedPromise.then(() => true), sleep(15_000).then(() => false)]);
    if (!exited) {
      child.kill("SIGKILL");
      await Promise.race([exitedPromise, sleep(5_000)]);
    }
  };
  const untrack = track(`service child (pid ${child.pid})`, stop);

  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  let demoKey: string | null = null;
  let expectKey = false;
  let ready = false;
  let onReady: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdoutLines.push(line);
    if (stdoutLines.length > 200) stdoutLines.shift();
    if (line.includes("Created a demo tenant")) expectKey = true;
    else if (expectKey && /^\s*lk_\S+\s*$/.test(line)) {
      demoKey = line.trim();
      expectKey = false;
    }
    if (line.includes("GraphQL ledger ready")) {
      ready = true;
      onReady?.();
    }
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    if (stderrLines.length < 500) stderrLines.push(line);
  });

  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        if (ready) return resolve();
        onReady = resolve;
        void exitedPromise.then(() => reject(new Error(exitInfo ?? "service exited")));
      }),
      serviceStartTimeoutMs,
      "service start",
    );
  } catch (error) {
    await stop();
    untrack();
    const output = [...stdoutLines.slice(-20), ...stderrLines.slice(-20)].join("\n");
    throw new Error(`${error instanceof Error ? error.message : error}\n--- service output ---\n${output}`);
  }
  return { child, port, demoKey, stdoutLines, stderrLines, exited: () => exitInfo, stop };
}

/** A new tenant and an API key of it, made in the service's database `url`. */
export async function createTenantWithKey(url: string, name: string): Promise<{ tenantId: string; key: string }> {
  const { connectDatabase } = await import("../../src/db/client.js");
  const { createTenant, createApiKey } = await import("../../src/ledger/tenants.js");
  const db = connectDatabase(url, 2);
  try {
    const tenant = await createTenant(db, name);
    return { tenantId: tenant.id, key: (await createApiKey(db, tenant.id, name)).key };
  } finally {
    await db.close();
  }
}

/** The demo tenant's key the service printed, or (the database already had a tenant: it should not, it was just created) one of a new tenant. */
export async function apiKeyFor(url: string, service: RunningService): Promise<string> {
  return service.demoKey ?? (await createTenantWithKey(url, "bench")).key;
}

/** The commit measured, and whether the service's sources differed from it (others edit them concurrently). */
export function sourceRevision(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "prisma", "schema.graphql", "package.json"], {
      cwd: projectRoot,
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean)
      .map((line) => line.slice(3));
    return dirty.length ? `commit ${head} with uncommitted changes to ${dirty.join(", ")}` : `commit ${head}, service sources unchanged`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

// The service as a real child process (`node --import tsx src/main.ts`), for what only a process
// can show: signals, exit codes, its own embedded PostgreSQL, cluster workers, its log output.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { afterAll } from "vitest";
import { tenantClient, type GraphQLResponse, type TestTenant } from "./service.js";

export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Children still running when a test file ends (a failed test skips its own stop) are killed. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every line it printed (stdout and stderr), in order. */
  lines: string[];
  /** The JSON log lines (LOG_FORMAT=json), parsed. */
  logs(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to the process, or (group) to its whole process group, as a terminal's Ctrl-C does. */
  signal(signal: NodeJS.Signals, group?: boolean): void;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * Starts the service on `port` with `env` over quiet defaults (one process, JSON logs at info,
 * no demo tenant, no web apps); resolves once it is ready (rejects if it exits first) unless
 * `ready: false`.
 */
export async function startServiceProcess(
  port: number,
  env: Record<string, string | undefined>,
  options: { ready?: boolean } = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: projectRoot,
    // Its own process group, so a test can signal the group as a terminal does.
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: "development",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      LEDGER_WORKERS: "1",
      LEDGER_DEMO_TENANT: "false",
      LEDGER_GRAPHIQL: "false",
      LEDGER_DASHBOARD: "false",
      HOST: "127.0.0.1",
      PORT: String(port),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  const waitForLine = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => done(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.join("\n")}`))),
        timeoutMs,
      );
      const done = (finish: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        finish();
      };
      const check = () => {
        const found = lines.find((line) => pattern.test(line));
        if (found !== undefined) return done(() => resolve(found));
        if (exitedYet) done(() => reject(new Error(`exited before printing ${pattern}:\n${lines.join("\n")}`)));
      };
      waiters.add(check);
      check();
    });
  const service: ServiceProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    lines,
    logs: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    exited,
    signal(signal, group = false) {
      process.kill(group ? -child.pid! : child.pid!, signal);
    },
    waitForLine,
  };
  if (options.ready !== false) await waitForLine(/GraphQL ledger ready/);
  return service;
}

/** A tenant's client for a service reached by URL (the shape the ledger-client helpers take). */
export function tenantAt(url: string, id: string, key: string): TestTenant {
  return tenantClient(id, key, async (query, variables) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...(await response.json()) } as GraphQLResponse;
  });
}

/** Log lines at error level or above (pino: 50 error, 60 fatal). */
export const errorLogs = (service: ServiceProcess) => service.logs().filter((l) => Number(l.level) >= 50);

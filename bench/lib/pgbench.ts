// pgbench (Debian's postgresql-client package): finding it, and one run of TPC-B or of a custom
// script with the CPU, the database sessions' waits and the WAL of its window.
import { spawn } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { track } from "./lifecycle.js";
import type { Classify, CpuUsage } from "./proc.js";
import { walBytesSince, walPosition, windowSampler } from "./sampling.js";

export function findPgbench(): string | null {
  const isExecutable = (file: string) => {
    try {
      accessSync(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, "pgbench"))) return path.join(dir, "pgbench");
  }
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a) || b.localeCompare(a));
    for (const version of versions) {
      const candidate = path.join(base, version, "bin", "pgbench");
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/** Runs a program, collecting its output; kills it if it outlives `timeoutMs`. */
export function runProgram(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    const untrack = track(`${path.basename(file)} (pid ${child.pid})`, async () => void child.kill("SIGKILL"));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${Math.round(timeoutMs / 1000)} s)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      untrack();
      resolve({ code, stdout, stderr });
    });
  });
}

export interface PgbenchRun {
  clients: number;
  threads: number;
  tps: number;
  latencyAvgMs: number | null;
  failed: number | null;
  cpu: CpuUsage | null;
  waits: Record<string, number> | null;
  /** Before or after the service's runs. */
  when?: "before" | "after";
  /** WAL written per transaction (whole server, whole run). */
  walBytesPerUnit: number | null;
}

/** pgbench for `seconds`: TPC-B, or (`script`) a custom script with `-D` variables, run without vacuuming first. */
export async function pgbenchRun(
  pgbench: string,
  url: string,
  clients: number,
  threads: number,
  seconds: number,
  classify: Classify,
  script?: { file: string; variables: Record<string, string> },
): Promise<PgbenchRun> {
  // pgbench's backends exit with it, so the CPU window closes just before pgbench ends.
  const statsClient = new pg.Client({ connectionString: url });
  await statsClient.connect();
  const window = windowSampler(classify, statsClient, new URL(url).pathname.slice(1));
  const openTimer = setTimeout(window.start, Math.min(1000, seconds * 100));
  const closeTimer = setTimeout(window.end, seconds * 1000 - 300);
  let out: Awaited<ReturnType<typeof runProgram>>;
  let sample: Awaited<ReturnType<typeof window.result>>;
  const walStart = await walPosition(statsClient);
  let walBytes = 0;
  try {
    const custom = script
      ? ["-n", "-f", script.file, ...Object.entries(script.variables).flatMap(([name, value]) => ["-D", `${name}=${value}`])]
      : [];
    out = await runProgram(
      pgbench,
      [...custom, "-c", String(clients), "-j", String(threads), "-T", String(seconds), url],
      (seconds + 120) * 1000,
    );
  } finally {
    clearTimeout(openTimer);
    clearTimeout(closeTimer);
    sample = await window.result();
    walBytes = await walBytesSince(statsClient, walStart).catch(() => 0);
    await statsClient.end();
  }
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out.stdout);
  if (out.code !== 0 || !tps) throw new Error(`pgbench -c ${clients} failed (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  const latency = /latency average = ([\d.]+) ms/.exec(out.stdout);
  const failed = /number of failed transactions: (\d+)/.exec(out.stdout);
  const processed = /number of transactions actually processed: (\d+)/.exec(out.stdout);
  return {
    walBytesPerUnit: processed && Number(processed[1]) > 0 ? walBytes / Number(processed[1]) : null,
    clients,
    threads,
    tps: Number(tps[1]),
    latencyAvgMs: latency ? Number(latency[1]) : null,
    failed: failed ? Number(failed[1]) : null,
    cpu: sample.cpu,
    waits: sample.waits,
  };
}

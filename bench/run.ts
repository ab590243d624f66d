// `npm run bench`: pgbench TPC-B and the ledger's GraphQL write path, measured one after the
// other against ONE PostgreSQL server, then docs/benchmarks.md is rewritten with the figures.
// This file only orchestrates: it reads the settings, starts the server and the service, runs
// the selected scenario groups (bench/scenarios/) in order over the shared library (bench/lib/),
// prints their summaries and splices their sections into docs/benchmarks.md.
//
// Environment:
//   BENCH_SECONDS          measurement window per run (default 10)
//   BENCH_WARMUP_SECONDS   warm-up before each window, not counted (default 2)
//   BENCH_DATABASE_URL     an existing server (a postgresql:// URL of any database on it, as a
//                          user that may create databases); default: a throwaway embedded server
//   BENCH_CPU_PROF         a directory: the service child runs with --cpu-prof writing there
//   BENCH_STATS            "analyze" (default): after creating the accounts and pre-loading
//                          transfers, run ANALYZE on the ledger database, as `pgbench -i` does on its
//                          tables; "cold": leave statistics to autovacuum (plans made on tables that
//                          were never analysed; see docs/benchmarks.md)
//   BENCH_DOCS             where to write the report (default docs/benchmarks.md; "-" = nowhere)
//   BENCH_ONLY             comma-separated scenario groups to run (default all), each in
//                          bench/scenarios/<group>.ts: "transfers" (pgbench TPC-B and the
//                          postTransfer/postTransfers runs), "mixed" (holds, captures, voids,
//                          reversals), "asof" (as-of balance lookups on long histories), "live"
//                          (postTransfer load with 0 and thousands of balanceChanged subscribers),
//                          "costs" (what each structure of the hot tables costs per row), "webhooks"
//                          (postTransfer load with no webhook endpoint, one subscribed to every
//                          event type, and an outbox row written per transfer instead),
//                          "reconciliation" (a statement of BENCH_RECON_LINES lines reconciled). Without
//                          "transfers", docs/benchmarks.md keeps its other figures and only the
//                          sections of the groups run are replaced.
//   BENCH_ASOF_ENTRIES     history sizes of the as-of accounts (default "10000,1000000")
//   BENCH_ASOF_LOOKUPS     timed lookups per account (default 2000, after 200 warm-up lookups)
//   BENCH_MIXED_CLIENTS    clients of the mixed workload (default 16)
//   BENCH_LIVE_SUBSCRIBERS subscriber counts of the live group (default "1000,5000,10000"; a count the
//                          file-descriptor limit or the ephemeral ports cannot hold is skipped, noted)
//   BENCH_LIVE_WRITERS     postTransfer clients of the live group (default 16), and of the webhooks group
//   BENCH_WEBHOOK_ROUNDS   rounds of the webhooks group, each a window with the endpoint and one with the
//                          outbox, every one between two windows without either (default 3)
//   BENCH_WEBHOOK_KINDS    which windows of a webhooks round run besides "none", comma-separated
//                          (endpoint,apart,held,posts,outbox: all by default; for exploring a change)
//   BENCH_RECON_LINES      transfers and statement lines of the reconciliation group (default 100000)
//   BENCH_COMPARE_WORKERS  service processes of a second pass over the transfer scenarios with
//                          more than one client (default 2; 1 = no second pass); the first pass
//                          runs LEDGER_WORKERS processes (default 1)
//   BENCH_INVARIANTS       "1" (default): check every ledger invariant (test/support/invariants.ts)
//                          of ledger_bench at the end, an error if one fails; "0": skip
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { checkInvariants } from "../test/support/invariants.js";
import type { Bench, Settings } from "./lib/context.js";
import { sectionOf, spliceSection, type RunStamp } from "./lib/docs.js";
import { fmt } from "./lib/format.js";
import { cleanup, log, track, withTimeout } from "./lib/lifecycle.js";
import type { Endpoint } from "./lib/load.js";
import { recreateDatabase, redact, serverInfo, startServer } from "./lib/postgres.js";
import { processClassifier } from "./lib/proc.js";
import { autovacuumNote } from "./lib/sampling.js";
import { apiKeyFor, projectRoot, sourceRevision, startService } from "./lib/service.js";
import { createAccounts, workload } from "./lib/workload.js";
import * as asofGroup from "./scenarios/asof.js";
import * as costsGroup from "./scenarios/costs.js";
import * as liveGroup from "./scenarios/live.js";
import * as mixedGroup from "./scenarios/mixed.js";
import * as transfersGroup from "./scenarios/transfers.js";
import * as reconciliationGroup from "./scenarios/reconciliation.js";
import * as webhooksGroup from "./scenarios/webhooks.js";

// ------------------------------------------------------------------ settings

function numberFromEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got "${text}"`);
  return value;
}

/** A comma-separated list of integers >= `min`. */
function integersFromEnv(name: string, fallback: string, min: number): number[] {
  return (process.env[name] || fallback).split(",").map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: "${text}" is not an integer >= ${min}`);
    return n;
  });
}

const statsMode = process.env.BENCH_STATS || "analyze";
if (statsMode !== "analyze" && statsMode !== "cold") throw new Error(`BENCH_STATS must be "analyze" or "cold", got "${statsMode}"`);
const asofLookups = numberFromEnv("BENCH_ASOF_LOOKUPS", 2000, 10);
const settings: Settings = {
  seconds: numberFromEnv("BENCH_SECONDS", 10, 1),
  warmupSeconds: numberFromEnv("BENCH_WARMUP_SECONDS", 2, 0),
  externalUrl: process.env.BENCH_DATABASE_URL || null,
  statsMode,
  cpuProfDir: process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null,
  docsPath: process.env.BENCH_DOCS === "-" ? null : path.resolve(projectRoot, process.env.BENCH_DOCS || "docs/benchmarks.md"),
  asofEntries: integersFromEnv("BENCH_ASOF_ENTRIES", "10000,1000000", 10),
  asofLookups,
  asofWarmupLookups: Math.min(200, asofLookups),
  mixedClients: numberFromEnv("BENCH_MIXED_CLIENTS", 16, 1),
  liveSubscribers: integersFromEnv("BENCH_LIVE_SUBSCRIBERS", "1000,5000,10000", 1),
  liveWriters: numberFromEnv("BENCH_LIVE_WRITERS", 16, 1),
  webhookRounds: numberFromEnv("BENCH_WEBHOOK_ROUNDS", 3, 1),
  webhookKinds: (process.env.BENCH_WEBHOOK_KINDS || "endpoint,apart,held,posts,outbox").split(",").map((kind) => kind.trim()),
  comparedWorkers: numberFromEnv("BENCH_COMPARE_WORKERS", 2, 1),
  checkAllInvariants: (process.env.BENCH_INVARIANTS ?? "1") !== "0",
};
const { seconds, warmupSeconds, docsPath } = settings;

const scenarioGroups = ["transfers", "mixed", "asof", "live", "costs", "webhooks", "reconciliation"] as const;
const reconciliationLines = numberFromEnv("BENCH_RECON_LINES", 100_000, 100);
const only = (process.env.BENCH_ONLY || scenarioGroups.join(","))
  .split(",")
  .map((g) => g.trim())
  .filter(Boolean);
for (const g of only)
  if (!(scenarioGroups as readonly string[]).includes(g))
    throw new Error(`BENCH_ONLY: unknown group "${g}" (known: ${scenarioGroups.join(", ")})`);
const runs = (group: (typeof scenarioGroups)[number]) => only.includes(group);

// Every run is bounded; this bounds the whole, in case something below hangs regardless.
const asofTotalEntries = settings.asofEntries.reduce((a, b) => a + b, 0);
const expectedSeconds =
  60 +
  (runs("transfers") ? transfersGroup.expectedSeconds(settings) : 0) +
  (runs("mixed") ? mixedGroup.expectedSeconds(settings) : 0) +
  (runs("asof") ? asofGroup.expectedSeconds(settings) : 0) +
  (runs("live") ? liveGroup.expectedSeconds(settings) : 0) +
  (runs("webhooks") ? webhooksGroup.expectedSeconds(settings) : 0) +
  (runs("reconciliation") ? reconciliationGroup.expectedSeconds(reconciliationLines) : 0) +
  (settings.checkAllInvariants ? 30 + (2 * asofTotalEntries) / 50_000 : 0) +
  30;
const watchdogSeconds = Math.ceil(2 * expectedSeconds + 120);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** The command that reproduces this run: the settings it was given, then `npm run bench`. */
function commandLine(): string {
  const envParts = [
    process.env.BENCH_SECONDS ? `BENCH_SECONDS=${process.env.BENCH_SECONDS}` : "",
    process.env.BENCH_WARMUP_SECONDS ? `BENCH_WARMUP_SECONDS=${process.env.BENCH_WARMUP_SECONDS}` : "",
    settings.externalUrl ? "BENCH_DATABASE_URL=<url>" : "",
    settings.cpuProfDir ? `BENCH_CPU_PROF=${process.env.BENCH_CPU_PROF}` : "",
    process.env.BENCH_STATS ? `BENCH_STATS=${process.env.BENCH_STATS}` : "",
    process.env.DATABASE_POOL_SIZE ? `DATABASE_POOL_SIZE=${process.env.DATABASE_POOL_SIZE}` : "",
    ...[
      "BENCH_ONLY",
      "BENCH_COMPARE_WORKERS",
      "BENCH_ASOF_ENTRIES",
      "BENCH_ASOF_LOOKUPS",
      "BENCH_MIXED_CLIENTS",
      "BENCH_LIVE_SUBSCRIBERS",
      "BENCH_LIVE_WRITERS",
      "BENCH_WEBHOOK_ROUNDS",
      "BENCH_WEBHOOK_KINDS",
      "BENCH_INVARIANTS",
    ].map((name) => (process.env[name] ? `${name}=${process.env[name]}` : "")),
  ].filter(Boolean);
  return `${envParts.length ? `${envParts.join(" ")} ` : ""}npm run bench`;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const startedAt = new Date();
  const runTag = `bench-${randomBytes(4).toString("hex")}`;
  log(`BENCH_SECONDS=${seconds}, warm-up ${warmupSeconds} s per run; watchdog ${watchdogSeconds} s`);

  const revision = sourceRevision();
  log(`source: ${revision}`);

  const { adminUrl, embedded } = await startServer(settings.externalUrl);
  log(embedded ? `throwaway embedded PostgreSQL at ${redact(adminUrl)}` : `PostgreSQL from BENCH_DATABASE_URL: ${redact(adminUrl)}`);
  const info = await serverInfo(adminUrl);
  log(`PostgreSQL ${info.version}; ${info.settings.map((s) => `${s.name}=${s.setting}${s.unit ?? ""}`).join(", ")}`);
  log("server settings changed by this benchmark: none");

  /** The measured service's processes (its primary and workers with several) count as "service". */
  const processes = processClassifier();
  const transfers = runs("transfers") ? await transfersGroup.before(adminUrl, settings, processes.classify) : null;

  // ---- the service
  const ledgerUrl = await recreateDatabase(adminUrl, "ledger_bench");
  log(`starting the service (node --import tsx src/main.ts, NODE_ENV=production) on database "ledger_bench"`);
  const service = await startService(ledgerUrl, settings.cpuProfDir);
  const servicePid = service.child.pid ?? -1;
  processes.watchService(servicePid);
  const poolSize = process.env.DATABASE_POOL_SIZE || "20 (default)";
  log(`service pid ${servicePid} on port ${service.port}, pg pool ${poolSize}`);
  const endpoint: Endpoint = { port: service.port, authorization: `Bearer ${await apiKeyFor(ledgerUrl, service)}` };

  const created = performance.now();
  const accounts =
    runs("transfers") || runs("mixed") || runs("live") || runs("webhooks")
      ? await withTimeout(createAccounts(endpoint, runTag), 300_000, "creating accounts")
      : [];
  log(`created ${accounts.length} USD accounts through createAccount in ${fmt((performance.now() - created) / 1000, 1)} s`);

  const statsClient = new pg.Client({ connectionString: ledgerUrl });
  await statsClient.connect();
  track("statistics connection", () => statsClient.end());
  const bench: Bench = {
    settings,
    adminUrl,
    ledgerUrl,
    service,
    endpoint,
    statsClient,
    workload: workload(accounts, runTag),
    processes,
    runTag,
  };
  if (transfers) await transfersGroup.preload(bench);
  if (settings.statsMode === "analyze") {
    await statsClient.query("ANALYZE");
    log("ran ANALYZE on ledger_bench (BENCH_STATS=analyze, the default; pgbench -i does the same on its tables)");
  } else {
    log("BENCH_STATS=cold: no ANALYZE; statistics left to autovacuum");
  }

  // ---- the groups, in this order: the as-of seeding writes millions of rows, so it comes after
  // the write-path groups
  if (transfers) await transfersGroup.run(bench, transfers);
  const mixed = runs("mixed") ? await mixedGroup.run(bench) : null;
  const asof = runs("asof") ? await asofGroup.run(bench) : null;
  const writeCosts = runs("costs") ? await costsGroup.run(bench) : null;
  // Before live: its change feed would weigh on the windows with and without an endpoint alike.
  const webhooks = runs("webhooks") ? await webhooksGroup.run(bench) : null;
  const reconciliation = runs("reconciliation") ? await reconciliationGroup.run(bench, reconciliationLines) : null;
  // Last: the change feed the first subscriber starts keeps reading every committed entry, which
  // would weigh on the runs above (the as-of seeding above all).
  const live = runs("live") ? await liveGroup.run(bench) : null;

  const tablesNote = await autovacuumNote(statsClient);
  log(`autovacuum: ${tablesNote}`);

  await service.stop();
  const serviceStderr = service.stderrLines;

  if (transfers) await transfersGroup.after(transfers, settings, processes.classify);
  // Every ledger invariant over everything the runs wrote (seeded histories included).
  let invariantViolations: string[] | null = null;
  if (settings.checkAllInvariants) {
    const checkStart = performance.now();
    const pool = new pg.Pool({ connectionString: ledgerUrl, max: 1 });
    try {
      invariantViolations = await withTimeout(checkInvariants(pool), 1_800_000, "checking invariants");
    } finally {
      await pool.end();
    }
    log(
      `ledger invariants (test/support/invariants.ts) over ledger_bench: ${invariantViolations.length === 0 ? "all hold" : invariantViolations.join("; ")} (${fmt((performance.now() - checkStart) / 1000, 1)} s)`,
    );
  }

  // ---- print
  if (transfers) transfersGroup.print(transfers, settings);
  if (mixed) mixedGroup.print(mixed);
  if (asof) asofGroup.print(asof);
  if (live) liveGroup.print(live, settings);
  if (webhooks) webhooksGroup.print(webhooks, settings);
  if (reconciliation) reconciliationGroup.print(reconciliation);

  const totalErrors =
    (live ? liveGroup.errors(live) : 0) +
    (transfers ? transfersGroup.errors(transfers) : 0) +
    (mixed ? mixedGroup.errors(mixed) : 0) +
    (asof ? asofGroup.errors(asof) : 0) +
    (webhooks ? webhooksGroup.errors(webhooks) : 0) +
    (reconciliation ? reconciliationGroup.errors(reconciliation) : 0) +
    (invariantViolations?.length ?? 0);
  if (totalErrors > 0) console.log(`\n${totalErrors} errors in total; see the "error x" lines above.`);
  const internalErrors = serviceStderr.filter((l) => l.includes("internal error") || l.includes("http:"));
  if (serviceStderr.length > 0) {
    console.log(`\nThe service wrote ${serviceStderr.length}${serviceStderr.length >= 500 ? "+" : ""} lines to stderr; first lines:`);
    for (const line of serviceStderr.slice(0, 20)) console.log(`  ${line}`);
  }

  // ---- docs/benchmarks.md
  if (docsPath) {
    const elapsedSeconds = (Date.now() - startedAt.getTime()) / 1000;
    const command = commandLine();
    const loadAvg = os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(", ");
    const stamp: RunStamp = {
      command,
      date: `${startedAt.toISOString()} (whole run took ${fmt(elapsedSeconds)} s)`,
      revision,
      machine: `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), load average at the end ${loadAvg}; PostgreSQL ${info.version} (${embedded ? "throwaway embedded server" : "from BENCH_DATABASE_URL"}); service: pg pool ${poolSize}${invariantViolations ? `; ledger invariants over all of ledger_bench at the end: ${invariantViolations.length === 0 ? "all hold" : `**violated**: ${invariantViolations.join("; ")}`}` : ""}`,
    };
    const previous = await readFile(docsPath, "utf8").catch(() => null);
    // A section this run did not measure keeps the figures the file had.
    const newSections: [string, string | null][] = [
      ["mixed", mixed ? mixedGroup.section(mixed, stamp, settings) : previous && sectionOf(previous, "mixed")],
      ["asof", asof ? asofGroup.section(asof, stamp) : previous && sectionOf(previous, "asof")],
      ["live", live ? liveGroup.section(live, stamp, settings) : previous && sectionOf(previous, "live")],
      ["costs", writeCosts ? costsGroup.section(writeCosts, stamp) : previous && sectionOf(previous, "costs")],
      ["webhooks", webhooks ? webhooksGroup.section(webhooks, stamp, settings) : previous && sectionOf(previous, "webhooks")],
      [
        "reconciliation",
        reconciliation ? reconciliationGroup.section(reconciliation, stamp) : previous && sectionOf(previous, "reconciliation"),
      ],
    ];
    let doc = transfers
      ? transfersGroup.report(transfers, settings, {
          startedAt,
          elapsedSeconds,
          command,
          revision,
          loadAvg,
          server: info,
          embedded,
          poolSize,
          tablesNote,
        })
      : (previous ?? "# Benchmarks\n");
    for (const [name, section] of newSections) if (section) doc = spliceSection(doc, name, section);
    await mkdir(path.dirname(docsPath), { recursive: true });
    await writeFile(docsPath, doc);
    log(`wrote ${path.relative(projectRoot, docsPath)}`);
  }
  return totalErrors > 0 || internalErrors.length > 0 ? 2 : 0;
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${watchdogSeconds} s; giving up`);
  void cleanup().finally(() => process.exit(1));
}, watchdogSeconds * 1000);

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error("bench failed:", error instanceof Error ? (error.stack ?? error.message) : error);
  exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(exitCode);

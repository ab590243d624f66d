// What bench/run.ts hands every scenario group: the settings it read from the environment, and
// the set-up the groups share (the server, the running service, its accounts and a statistics
// connection to its database).
import type pg from "pg";
import type { Endpoint } from "./load.js";
import type { ServerInfo } from "./postgres.js";
import type { processClassifier } from "./proc.js";
import type { RunningService } from "./service.js";
import type { Workload } from "./workload.js";

/** The environment's settings (the list is in bench/run.ts's opening comment). */
export interface Settings {
  /** BENCH_SECONDS and BENCH_WARMUP_SECONDS: each run's window and the warm-up before it. */
  seconds: number;
  warmupSeconds: number;
  externalUrl: string | null;
  statsMode: "analyze" | "cold";
  cpuProfDir: string | null;
  docsPath: string | null;
  asofEntries: number[];
  asofLookups: number;
  asofWarmupLookups: number;
  mixedClients: number;
  liveSubscribers: number[];
  liveWriters: number;
  /** BENCH_WEBHOOK_ROUNDS: rounds of the webhooks group (each a window with the endpoint and one with the outbox). */
  webhookRounds: number;
  /** BENCH_WEBHOOK_KINDS: the windows of a round besides "none" (all by default). */
  webhookKinds: string[];
  /** LEDGER_WORKERS of the second pass over the transfer scenarios (1: no second pass). */
  comparedWorkers: number;
  checkAllInvariants: boolean;
}

export interface Bench {
  settings: Settings;
  /** The server, as a user that may create databases. */
  adminUrl: string;
  /** The service's database, ledger_bench. */
  ledgerUrl: string;
  service: RunningService;
  endpoint: Endpoint;
  /** This script's own connection to ledger_bench, for statistics and maintenance. */
  statsClient: pg.Client;
  workload: Workload;
  processes: ReturnType<typeof processClassifier>;
  /** Unique to this run: idempotency keys and scratch names start with it. */
  runTag: string;
}

/** The run as a whole, for the opening lines of docs/benchmarks.md. */
export interface RunInfo {
  startedAt: Date;
  elapsedSeconds: number;
  /** The command with the environment settings it was given. */
  command: string;
  /** The commit measured (lib/service.ts sourceRevision). */
  revision: string;
  loadAvg: string;
  server: ServerInfo;
  embedded: boolean;
  /** The service's pg pool size (DATABASE_POOL_SIZE). */
  poolSize: string;
  /** The ledger's tables at the end: rows, last autoanalyze, autovacuum workers. */
  tablesNote: string;
}

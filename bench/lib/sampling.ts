// What PostgreSQL was doing while a scenario ran: its sessions' waits sampled from
// pg_stat_activity, table access counters (pg_stat_user_tables) and the rows read per request,
// WAL written (pg_current_wal_lsn), and a window sampler that takes the CPU by process group and
// the waits over one measurement window.
import type pg from "pg";
import { fmt } from "./format.js";
import { log, sleep } from "./lifecycle.js";
import { cpuSnapshot, cpuUsage, type Classify, type CpuSnapshot, type CpuUsage } from "./proc.js";

/** Per-table access counters of one database (pg_stat_user_tables; flushed by backends about once a second). */
export type TableCounters = Map<
  string,
  { seqScan: number; seqRows: number; idxFetch: number; analyses: number; pages: number; deadRows: number }
>;

export async function tableCounters(client: pg.Client): Promise<TableCounters> {
  const { rows } = await client.query<{
    relname: string;
    seq_scan: string;
    seq_tup_read: string;
    idx_tup_fetch: string | null;
    analyses: string;
    pages: string;
    n_dead_tup: string;
  }>(
    `SELECT relname, seq_scan, seq_tup_read, idx_tup_fetch, analyze_count + autoanalyze_count AS analyses,
            pg_relation_size(relid) / current_setting('block_size')::int AS pages, n_dead_tup
     FROM pg_stat_user_tables`,
  );
  return new Map(
    rows.map((r) => [
      r.relname,
      {
        seqScan: Number(r.seq_scan),
        seqRows: Number(r.seq_tup_read),
        idxFetch: Number(r.idx_tup_fetch ?? 0),
        analyses: Number(r.analyses),
        pages: Number(r.pages),
        deadRows: Number(r.n_dead_tup),
      },
    ]),
  );
}

export interface ScanDiagnosis {
  seqScansPerRequest: number;
  /** Rows read by sequential scans plus rows fetched through indexes, per request. */
  rowsPerRequest: number;
  /** Tables by rows read, most first: [table, rows per request]. */
  byTable: [string, number][];
  /** Times `accounts` had been analysed (auto or manual) when the run ended. */
  accountsAnalyses: number;
  /** Size of `accounts` (its 1,000 rows fit in about 20 pages) and its dead row versions, at the end. */
  accountsPages: number;
  accountsDeadRows: number;
}

export function diagnoseScans(before: TableCounters, after: TableCounters, requests: number): ScanDiagnosis {
  const per = (n: number) => n / Math.max(1, requests);
  let scans = 0;
  let rowsRead = 0;
  const byTable: [string, number][] = [];
  for (const [table, now] of after) {
    const then = before.get(table) ?? { seqScan: 0, seqRows: 0, idxFetch: 0, analyses: 0, pages: 0, deadRows: 0 };
    const read = now.seqRows - then.seqRows + now.idxFetch - then.idxFetch;
    scans += now.seqScan - then.seqScan;
    rowsRead += read;
    if (read > 0) byTable.push([table, per(read)]);
  }
  byTable.sort((a, b) => b[1] - a[1]);
  const accounts = after.get("accounts");
  return {
    seqScansPerRequest: per(scans),
    rowsPerRequest: per(rowsRead),
    byTable,
    accountsAnalyses: accounts?.analyses ?? 0,
    accountsPages: accounts?.pages ?? 0,
    accountsDeadRows: accounts?.deadRows ?? 0,
  };
}

/** Rows read per request since `before`, after a pause that lets the server's backends flush their table statistics. */
export async function scansSince(client: pg.Client, before: TableCounters, requests: number): Promise<ScanDiagnosis> {
  await sleep(1100);
  return diagnoseScans(before, await tableCounters(client), requests);
}

/** The server's current WAL position, to measure WAL written per unit of work. */
export async function walPosition(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
}

export async function walBytesSince(client: pg.Client, since: string): Promise<number> {
  return Number((await client.query<{ d: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS d", [since])).rows[0]!.d);
}

/**
 * WAL written between two positions, by relation (pg_walinspect, made on first use): the bytes of
 * the records whose first block is one of its pages (whole records, full-page images included),
 * and the full-page images of its pages alone. Records that touch no page (commits) are left out.
 */
export async function walByRelation(
  client: pg.Client,
  from: string,
  to: string,
  top: number,
): Promise<{ relation: string; bytes: number; fpiBytes: number }[]> {
  await client.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  const { rows } = await client.query<{ relation: string; bytes: string; fpi: string }>(
    `WITH b AS (
       SELECT coalesce(pg_filenode_relation(CASE WHEN t.spcname = 'pg_default' THEN 0 ELSE reltablespace END, relfilenode)::regclass::text, 'filenode ' || relfilenode) AS relation,
              sum(CASE WHEN block_id = 0 THEN record_length ELSE 0 END) AS bytes,
              sum(coalesce(block_fpi_length, 0)) AS fpi
         FROM pg_get_wal_block_info($1::pg_lsn, $2::pg_lsn) LEFT JOIN pg_tablespace t ON t.oid = reltablespace
        WHERE reldatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
        GROUP BY 1
     )
     SELECT b.relation, b.bytes::text AS bytes, b.fpi::text AS fpi FROM b ORDER BY b.bytes DESC LIMIT $3`,
    [from, to, top],
  );
  return rows.map((r) => ({ relation: r.relation, bytes: Number(r.bytes), fpiBytes: Number(r.fpi) }));
}

/** Transactions committed or rolled back in `database` so far (pg_stat_database; each backend flushes it about once a second). */
export async function databaseTransactions(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>("SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1", [
    database,
  ]);
  return Number(rows[0]!.n);
}

/**
 * Before a measured window: VACUUM ANALYZE of `tables` and a CHECKPOINT, so each window starts
 * from the same table state and WAL position in the checkpoint cycle and the order of windows
 * does not bias them.
 */
export async function settleTables(client: pg.Client, tables: readonly string[]): Promise<void> {
  await client.query(`VACUUM (ANALYZE) ${tables.join(", ")}`);
  // CHECKPOINT needs superuser or pg_checkpoint (the embedded server's user has it).
  await client.query("CHECKPOINT").catch((error: Error) => log(`  CHECKPOINT between windows refused: ${error.message}`));
}

/**
 * Samples what the ledger database's active sessions are doing (pg_stat_activity) every 200 ms:
 * on CPU (no wait event) or waiting, by wait event type (Lock = row/transaction locks, LWLock,
 * IO = e.g. WAL flush). Returns the mean number of sessions in each state.
 */
export function sampleWaits(client: pg.Client, database: string): { stop: () => Promise<Record<string, number>> } {
  const totals: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const { rows } = await client.query<{ w: string; n: string }>(
          `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*) AS n FROM pg_stat_activity
           WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY 1`,
          [database],
        );
        for (const r of rows) totals[r.w] = (totals[r.w] ?? 0) + Number(r.n);
        samples += 1;
      } catch {
        return;
      }
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      const means: Record<string, number> = {};
      for (const [w, n] of Object.entries(totals)) means[w] = n / Math.max(1, samples);
      return means;
    },
  };
}

export const describeWaits = (waits: Record<string, number> | null) =>
  waits
    ? Object.entries(waits)
        .sort((a, b) => b[1] - a[1])
        .filter(([, n]) => n >= 0.05)
        .map(([w, n]) => `${w} ${fmt(n, 1)}`)
        .join(", ") || "-"
    : "n/a";

export interface WindowSample {
  /** CPU by process group over the window; null if it never closed. */
  cpu: CpuUsage | null;
  /** Mean active sessions by what they were doing; null if the window never opened. */
  waits: Record<string, number> | null;
}

/** CPU by process group and the database sessions' waits over one window: start(), end(), then result(). */
export function windowSampler(classify: Classify, client: pg.Client, database: string) {
  let before: CpuSnapshot | null = null;
  let cpu: CpuUsage | null = null;
  let sampler: ReturnType<typeof sampleWaits> | null = null;
  let waits: Promise<Record<string, number>> | null = null;
  return {
    start: () => {
      before = cpuSnapshot(classify);
      sampler = sampleWaits(client, database);
    },
    end: () => {
      waits = sampler?.stop() ?? null;
      if (before) cpu = cpuUsage(before, cpuSnapshot(classify));
    },
    /** The window's figures (a window opened and never closed stops its wait sampling here). */
    result: async (): Promise<WindowSample> => ({ waits: await (waits ?? sampler?.stop() ?? null), cpu }),
  };
}

/**
 * Whether autovacuum got to the ledger's tables during the run (plans made on never-analysed
 * tables assume they are nearly empty), and what its workers were doing at the end.
 */
export async function autovacuumNote(client: pg.Client): Promise<string> {
  const autovacuum = await client.query<{
    relname: string;
    n_live_tup: string;
    n_mod_since_analyze: string;
    last_autoanalyze: Date | null;
  }>(
    "SELECT relname, n_live_tup, n_mod_since_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname IN ('accounts', 'transfers', 'entries', 'idempotency_keys') ORDER BY relname",
  );
  const workers = await client.query<{ datname: string | null; query: string | null }>(
    "SELECT datname, query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
  );
  return (
    autovacuum.rows
      .map(
        (r) =>
          `${r.relname}: ${fmt(Number(r.n_live_tup))} rows, last autoanalyze ${r.last_autoanalyze ? r.last_autoanalyze.toISOString() : "never"}`,
      )
      .join("; ") +
    `. Autovacuum workers at the end: ${workers.rows.map((w) => `${w.datname}: ${(w.query ?? "").slice(0, 80)}`).join("; ") || "none"}.`
  );
}

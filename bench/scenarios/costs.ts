// The "costs" scenario group and its section of docs/benchmarks.md: what each index, foreign
// key and trigger on the hot tables costs per written row. Copies of
// `entries` and `transfers` (columns only) in a scratch database, filled with the same rows while
// structures are added one at a time. Time and WAL are measured per row inserted (batches of 100,
// as the engine writes them), so the figures say what the write engine's data model saved by what
// it dropped (the foreign keys, the btree on tx_id, the full GIN index on metadata, the unique
// index on transfers' keys) and what the structures it keeps cost.
import pg from "pg";
import type { Bench } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fmt, markdownTable } from "../lib/format.js";
import { log } from "../lib/lifecycle.js";
import { recreateDatabase } from "../lib/postgres.js";

interface WriteCost {
  table: "entries" | "transfers";
  structure: string;
  /** Kept by the write engine's schema, or dropped by it. */
  kept: boolean;
  microsPerRow: number;
  walBytesPerRow: number;
}

const rows = 20_000;
/** Each figure is the best of this many fillings (the machine is shared; WAL does not vary). */
const repeats = 3;

async function measure(client: pg.Client, table: string, insert: string): Promise<{ micros: number; wal: number }> {
  let best = { micros: Infinity, wal: 0 };
  for (let attempt = 0; attempt < repeats; attempt++) {
    await client.query(`TRUNCATE cost_${table}`);
    const measured = await fill(client, insert);
    if (measured.micros < best.micros) best = measured;
  }
  return best;
}

async function fill(client: pg.Client, insert: string): Promise<{ micros: number; wal: number }> {
  await client.query("CHECKPOINT"); // every filling starts after a checkpoint: full-page images alike
  const lsn = (await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn;
  const start = process.hrtime.bigint();
  for (let batch = 0; batch < rows / 100; batch++) await client.query(insert);
  const micros = Number(process.hrtime.bigint() - start) / 1000;
  const bytes = (await client.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes", [lsn]))
    .rows[0]!.bytes;
  return { micros: micros / rows, wal: Number(bytes) / rows };
}

/** Each step adds one structure to a fresh copy and measures the same inserts again. */
async function costsOf(
  client: pg.Client,
  table: "entries" | "transfers",
  insert: string,
  steps: { structure: string; kept: boolean; sql: string }[],
): Promise<WriteCost[]> {
  const results: WriteCost[] = [];
  let previous: { micros: number; wal: number } | null = null;
  for (let upTo = 0; upTo <= steps.length; upTo++) {
    await client.query(`DROP TABLE IF EXISTS cost_${table} CASCADE; CREATE TABLE cost_${table} (LIKE ${table} INCLUDING DEFAULTS)`);
    for (const step of steps.slice(0, upTo)) await client.query(step.sql);
    const measured = await measure(client, table, insert);
    if (previous && upTo > 0) {
      const step = steps[upTo - 1]!;
      results.push({
        table,
        structure: step.structure,
        kept: step.kept,
        microsPerRow: measured.micros - previous.micros,
        walBytesPerRow: measured.wal - previous.wal,
      });
    } else {
      results.push({ table, structure: "the heap alone", kept: true, microsPerRow: measured.micros, walBytesPerRow: measured.wal });
    }
    previous = measured;
  }
  await client.query(`DROP TABLE IF EXISTS cost_${table} CASCADE`);
  return results;
}

async function measureWriteCosts(url: string): Promise<WriteCost[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Rows shaped as the engine writes them: 1,000 accounts, versions growing, one transfer per two entries.
    await client.query(`CREATE TEMP SEQUENCE cost_seq; CREATE TEMP TABLE cost_accounts AS
      SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, 1000)`);
    await client.query(`CREATE TABLE IF NOT EXISTS cost_parents (id uuid PRIMARY KEY); TRUNCATE cost_parents;
      INSERT INTO cost_parents SELECT unnest(ids) FROM cost_accounts`);
    const entryInsert = `INSERT INTO cost_entries (id, tenant_id, kind, transfer_id, account_id, leg_index, direction, amount, account_version,
        debits_posted_after, credits_posted_after, created_at)
      SELECT n, '00000000-0000-4000-8000-000000000001', 'POSTED', gen_random_uuid(), a.ids[1 + n % 1000], n % 2, 'DEBIT', 1, n, n, 0, clock_timestamp()
      FROM (SELECT nextval('cost_seq') AS n FROM generate_series(1, 100)) s, cost_accounts a`;
    const entries = await costsOf(client, "entries", entryInsert, [
      { structure: "primary key (id)", kept: true, sql: "ALTER TABLE cost_entries ADD PRIMARY KEY (id)" },
      {
        structure: "unique (account_id, account_version)",
        kept: true,
        sql: "CREATE UNIQUE INDEX ON cost_entries (account_id, account_version)",
      },
      { structure: "unique (transfer_id, leg_index)", kept: true, sql: "CREATE UNIQUE INDEX ON cost_entries (transfer_id, leg_index)" },
      {
        structure: "as-of index (account_id, created_at, account_version)",
        kept: true,
        sql: "CREATE INDEX ON cost_entries (account_id, created_at, account_version)",
      },
      { structure: "BRIN (tx_id), the change feed's", kept: true, sql: "CREATE INDEX ON cost_entries USING brin (tx_id)" },
      { structure: "btree (tx_id), dropped for the BRIN", kept: false, sql: "CREATE INDEX ON cost_entries (tx_id)" },
      {
        structure: "foreign key to accounts, dropped",
        kept: false,
        sql: "ALTER TABLE cost_entries ADD FOREIGN KEY (account_id) REFERENCES cost_parents (id)",
      },
      {
        structure: "foreign keys to transfers and holds (null), dropped",
        kept: false,
        sql: "ALTER TABLE cost_entries ADD FOREIGN KEY (hold_id) REFERENCES cost_parents (id)",
      },
    ]);
    const transferInsert = `INSERT INTO cost_transfers (id, seq, tenant_id, idempotency_key, description, metadata, created_at)
      SELECT gen_random_uuid(), nextval('cost_seq'), '00000000-0000-4000-8000-000000000001', gen_random_uuid()::text, '', '{}', clock_timestamp()
      FROM generate_series(1, 100)`;
    const transfers = await costsOf(client, "transfers", transferInsert, [
      { structure: "primary key (id)", kept: true, sql: "ALTER TABLE cost_transfers ADD PRIMARY KEY (id)" },
      { structure: "(tenant_id, seq desc), newest-first paging", kept: true, sql: "CREATE INDEX ON cost_transfers (tenant_id, seq DESC)" },
      {
        structure: "GIN on metadata of rows that have any (partial)",
        kept: true,
        sql: "CREATE INDEX ON cost_transfers USING gin (metadata jsonb_path_ops) WHERE metadata <> '{}'::jsonb",
      },
      {
        structure: "GIN on every row's metadata, dropped",
        kept: false,
        sql: "CREATE INDEX ON cost_transfers USING gin (metadata jsonb_path_ops)",
      },
      {
        structure: "unique (tenant_id, idempotency_key), dropped",
        kept: false,
        sql: "CREATE UNIQUE INDEX ON cost_transfers (tenant_id, idempotency_key)",
      },
      {
        structure: "foreign keys reverses_id, hold_id (null), dropped",
        kept: false,
        sql: "ALTER TABLE cost_transfers ADD FOREIGN KEY (reverses_id) REFERENCES cost_parents (id), ADD FOREIGN KEY (hold_id) REFERENCES cost_parents (id)",
      },
    ]);
    await client.query("DROP TABLE IF EXISTS cost_parents");
    return [...entries, ...transfers];
  } finally {
    await client.end();
  }
}

/** The tables of a freshly migrated scratch database (ledger_costs), copied and filled structure by structure. */
export async function run(bench: Bench): Promise<WriteCost[]> {
  log("write costs of the hot tables' structures (copies of entries and transfers in a scratch database)");
  const scratchUrl = await recreateDatabase(bench.adminUrl, "ledger_costs");
  const { applyMigrations } = await import("../../src/db/migrate.js");
  await applyMigrations(scratchUrl); // the tables to copy
  const costs = await measureWriteCosts(scratchUrl);
  for (const c of costs) log(`  ${c.table} ${c.structure}: ${fmt(c.microsPerRow, 1)} µs, ${fmt(c.walBytesPerRow)} B WAL per row`);
  return costs;
}

export function section(costs: WriteCost[], stamp: RunStamp): string {
  const rows = costs.map((c) => [c.table, c.structure, c.kept ? "kept" : "**dropped**", fmt(c.microsPerRow, 1), fmt(c.walBytesPerRow)]);
  const saved = (table: string) => costs.filter((c) => c.table === table && !c.kept).reduce((sum, c) => sum + c.walBytesPerRow, 0);
  return marked(
    "costs",
    `## What each structure of the hot tables costs per row

${stampLines(stamp)}

Copies of \`entries\` and \`transfers\` (their columns only) in a scratch database, each filled with
20,000 rows in batches of 100 (as the write engine writes them) after a checkpoint, once per added
structure, each structure on top of those above it: the figures are what that structure adds per
row. Time is the best of three fillings and still moves by a few µs on this shared machine; WAL
bytes do not move. The rows marked dropped are what the write engine's data model removed
(\`prisma/migrations/*_write_engine*\`): per posted two-leg transfer they saved about
${fmt(2 * saved("entries") + saved("transfers"))} bytes of WAL (2 entries and 1 transfer), before
full-page images, which random keys multiplied after each checkpoint.

${markdownTable({ headers: ["table", "structure", "write engine", "µs per row", "WAL bytes per row"], rows, align: [false, false, false, true, true] })}`,
  );
}

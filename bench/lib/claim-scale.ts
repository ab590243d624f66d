// What idle endpoints cost a webhook claim (ledger_webhook_claim): two scratch databases on the
// bench's server, one endpoint with deliveries to claim in both, and `idleEndpoints` enabled
// endpoints without work in the second. Claims alternate between the two (each in a transaction
// rolled back, so every claim leases the same 16 deliveries), and the median times compare in
// one run. Before the work list a claim read every enabled endpoint: measured by hand at 4b3a392,
// a claim with nothing to do took 0.5 ms with one endpoint and 9.6 ms with 3,000.
import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { ledgerTypes } from "../../src/db/pg-types.js";
import { recreateDatabase, withClient } from "./postgres.js";
import { ascending, percentile } from "./stats.js";

export const idleEndpoints = 3_000;
const claimsEach = 300;
const deliveries = 64;
const claim = "SELECT count(*)::int AS n FROM ledger_webhook_claim(60000, 5, 16, 64)";

export interface ClaimScale {
  idleEndpoints: number;
  claims: number;
  /** Median ms per claim of 16 deliveries, with the one busy endpoint alone and among the idle ones. */
  aloneMs: number;
  amongIdleMs: number;
}

async function scratch(adminUrl: string, name: string, idle: number): Promise<pg.Client> {
  const url = await recreateDatabase(adminUrl, name);
  await applyMigrations(url);
  const client = new pg.Client({ connectionString: url, types: ledgerTypes });
  await client.connect();
  await client.query(
    `WITH ep AS (
       INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed') RETURNING id, tenant_id
     ), ev AS (
       INSERT INTO webhook_events (id, tenant_id, type, occurred_at, account_ids, payload)
       SELECT gen_random_uuid(), ep.tenant_id, 'transfer.posted', now(), '{}', '{}' FROM ep, generate_series(1, $1)
       RETURNING id, tenant_id
     ), made AS (
       INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id)
       SELECT ledger_uuidv7(), ev.tenant_id, ep.id, ev.id FROM ev, ep RETURNING endpoint_id
     )
     SELECT ledger_webhook_work_from(array_agg(DISTINCT endpoint_id), ARRAY[now()]) FROM made`,
    [deliveries],
  );
  await client.query(
    `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed)
     SELECT gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed' FROM generate_series(1, $1)`,
    [idle],
  );
  await client.query("VACUUM ANALYZE");
  return client;
}

async function timedClaim(client: pg.Client): Promise<number> {
  await client.query("BEGIN");
  try {
    const started = performance.now();
    const { rows } = await client.query<{ n: number }>(claim);
    const ms = performance.now() - started;
    if (rows[0]!.n !== 16) throw new Error(`a claim leased ${rows[0]!.n} deliveries, not 16`);
    return ms;
  } finally {
    await client.query("ROLLBACK");
  }
}

export async function measureClaimScale(adminUrl: string, runTag: string): Promise<ClaimScale> {
  const names = [`${runTag}_claims_alone`, `${runTag}_claims_idle`].map((n) => n.replaceAll("-", "_"));
  const alone = await scratch(adminUrl, names[0]!, 0);
  const amongIdle = await scratch(adminUrl, names[1]!, idleEndpoints);
  try {
    // Warm: past the plan cache's first calls in each session.
    for (let i = 0; i < 10; i++) await Promise.all([timedClaim(alone), timedClaim(amongIdle)]);
    const times = { alone: [] as number[], amongIdle: [] as number[] };
    for (let i = 0; i < claimsEach; i++) {
      times.alone.push(await timedClaim(alone));
      times.amongIdle.push(await timedClaim(amongIdle));
    }
    return { idleEndpoints, claims: claimsEach, aloneMs: median(times.alone), amongIdleMs: median(times.amongIdle) };
  } finally {
    await Promise.all([alone.end(), amongIdle.end()]);
    for (const name of names) await dropScratch(adminUrl, name);
  }
}

const median = (values: number[]) => percentile(ascending(values), 50);

const dropScratch = (adminUrl: string, name: string) =>
  withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));

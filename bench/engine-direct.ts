// pgbench driving the write engine directly (SELECT ledger_execute(...)), without the service:
// what the SQL can do on its own, next to TPC-B on the same server in the same run. Each script
// posts transfers of 1 minor unit between the accounts the benchmark created, found by number
// in a scratch table (bench_accounts, two primary-key lookups per transfer).
import type pg from "pg";

export interface EngineScenario {
  label: string;
  clients: number;
  /** Transfers per call (per pgbench transaction). */
  perCall: number;
  script: string;
}

/** Numbers the accounts 1..n in a scratch table the scripts read. */
export async function numberAccounts(client: pg.Client, accountIds: string[]): Promise<void> {
  await client.query("DROP TABLE IF EXISTS bench_accounts; CREATE TABLE bench_accounts (n int PRIMARY KEY, id uuid NOT NULL)");
  await client.query("INSERT INTO bench_accounts SELECT ord, id FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, ord)", [accountIds]);
  await client.query("ANALYZE bench_accounts");
}

const command = (tenantId: string, from: string, to: string) =>
  `jsonb_build_object('op', 'postTransfer', 'tenant', '${tenantId}', 'key', gen_random_uuid()::text, 'hash', '00',
     'legs', jsonb_build_array(
       jsonb_build_object('accountId', (SELECT id FROM bench_accounts WHERE n = ${from}), 'direction', 'DEBIT', 'amount', '1', 'currency', 'USD'),
       jsonb_build_object('accountId', (SELECT id FROM bench_accounts WHERE n = ${to}), 'direction', 'CREDIT', 'amount', '1', 'currency', 'USD')))`;

const single = (tenantId: string, hot: boolean) => `\\set a random(1, :accounts)
\\set b (:a + random(0, :accounts - 2)) % :accounts + 1
SELECT ledger_execute(jsonb_build_array(${command(tenantId, hot ? "1" : ":a", hot ? "(:a % (:accounts - 1)) + 2" : ":b")}));
`;

const batch = (tenantId: string, size: number) => `SELECT ledger_execute((SELECT jsonb_agg(${command(tenantId, "p.a", "p.b")})
  FROM (SELECT a, (a + (random() * (:accounts - 2))::int) % :accounts + 1 AS b
        FROM (SELECT 1 + (random() * (:accounts - 1))::int AS a FROM generate_series(1, ${size})) AS r) AS p));
`;

export function engineScenarios(tenantId: string): EngineScenario[] {
  return [
    { label: "ledger_execute, one transfer per call, uniform", clients: 16, perCall: 1, script: single(tenantId, false) },
    { label: "ledger_execute, one transfer per call, one hot account", clients: 16, perCall: 1, script: single(tenantId, true) },
    { label: "ledger_execute, batches of 16, uniform", clients: 16, perCall: 16, script: batch(tenantId, 16) },
    { label: "ledger_execute, batches of 100, uniform", clients: 4, perCall: 100, script: batch(tenantId, 100) },
  ];
}

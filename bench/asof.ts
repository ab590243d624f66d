// As-of balance lookups on long histories: seeds accounts with many entries straight in SQL
// (the API would take hours for a million), then times `balance(asOf:)` over GraphQL and
// ledger_balances_at over SQL for random instants inside each account's history.
//
// The seed obeys every rule the write path does, with the ledger's constraints and triggers on:
// it only INSERTs transfers and entries (two legs per transfer, versions 1..n without gaps on
// both accounts, running totals in every entry, timestamps increasing and in the past), then
// sets the accounts' totals, version and last_entry_at in one UPDATE, all in one transaction.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type pg from "pg";
import { leanDocuments } from "../test/support/ledger-client.js";
import { fixed, fmt } from "./lib/format.js";
import { postGraphql, type Endpoint } from "./lib/load.js";
import { ascending, percentile } from "./lib/stats.js";

/** Milliseconds between consecutive transfers of a seeded pair; instants fall between entries too. */
export const entrySpacingMs = 2;
const batchTransfers = 50_000;

/** Transfer i (1-based) of a seeded pair: every 5th moves a little back from the target. */
const forward = (i: number) => i % 5 !== 0;
const amountOf = (i: number) => (forward(i) ? 1000 + ((i * 7919) % 9000) : 1 + ((i * 7919) % 100));
const amountSql = `CASE WHEN i % 5 <> 0 THEN 1000 + (i * 7919) % 9000 ELSE 1 + (i * 7919) % 100 END`;

export interface SeededPair {
  label: string;
  fundingId: string;
  targetId: string;
  entries: number;
  /** created_at of transfer i is firstMs + (i - 1) * entrySpacingMs (epoch ms). */
  firstMs: number;
  /** Running totals of the target (CREDIT-normal) after transfer i: credits[i], debits[i]; index 0 = before any. */
  credits: Float64Array;
  debits: Float64Array;
  seedSeconds: number;
}

/** The target's expected version and posted balance at `atMs` (entries at or before it count). */
export function expectedAt(pair: SeededPair, atMs: number): { version: number; posted: number } {
  const k = Math.max(0, Math.min(pair.entries, Math.floor((atMs - pair.firstMs) / entrySpacingMs) + 1));
  return { version: k, posted: pair.credits[k]! - pair.debits[k]! };
}

/**
 * Seeds `entries` transfers funding -> target (every 5th target -> funding, small, so the
 * target never dips below 0) ending `endBeforeMs` before now. Both accounts must be new
 * (version 0), CREDIT-normal, same currency and tenant; the funding one unbounded.
 */
export async function seedPair(
  client: pg.Client,
  tenantId: string,
  pair: { label: string; fundingId: string; targetId: string; entries: number },
  endBeforeMs: number,
  log: (message: string) => void,
): Promise<SeededPair> {
  const n = pair.entries;
  const started = performance.now();
  const credits = new Float64Array(n + 1);
  const debits = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) {
    credits[i] = credits[i - 1]! + (forward(i) ? amountOf(i) : 0);
    debits[i] = debits[i - 1]! + (forward(i) ? 0 : amountOf(i));
  }
  // Sums stay far below 2^53, so doubles hold them exactly.
  const lastMs = Math.floor(Date.now()) - endBeforeMs;
  const firstMs = lastMs - (n - 1) * entrySpacingMs;
  // Transfer ids: a random prefix per pair and i in the last group, so inserts go in index order.
  const h = randomBytes(8).toString("hex");
  const idPrefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8000-`;
  const keyPrefix = `bench-asof-${h}-`;
  const at = `timestamptz 'epoch' + ($4::bigint + (i - 1) * ${entrySpacingMs}) * interval '1 millisecond'`;

  await client.query("BEGIN");
  try {
    const { rows } = await client.query<{ id: string; version: string }>(
      "SELECT id, version FROM accounts WHERE id = ANY($1::uuid[]) AND tenant_id = $2 FOR UPDATE",
      [[pair.fundingId, pair.targetId], tenantId],
    );
    if (rows.length !== 2 || rows.some((r) => r.version !== "0")) throw new Error(`seed ${pair.label}: accounts must exist and be new`);
    let transfersMs = 0;
    let entriesMs = 0;
    for (let from = 1; from <= n; from += batchTransfers) {
      const t0 = performance.now();
      const to = Math.min(n, from + batchTransfers - 1);
      const params = [from, to, tenantId, firstMs, idPrefix];
      await client.query(
        `INSERT INTO transfers (id, tenant_id, idempotency_key, created_at)
         SELECT ($5 || lpad(to_hex(i), 12, '0'))::uuid, $3, '${keyPrefix}' || i, ${at}
         FROM generate_series($1::bigint, $2::bigint) AS i ORDER BY i`,
        params,
      );
      const t1 = performance.now();
      transfersMs += t1 - t0;
      // Running totals of the target: this batch's window sums on top of the totals before it.
      await client.query(
        `WITH g AS (SELECT i, i % 5 <> 0 AS fwd, (${amountSql})::bigint AS amount FROM generate_series($1::bigint, $2::bigint) AS i),
              r AS (SELECT i, fwd, amount,
                           ($7::bigint + sum(CASE WHEN fwd THEN amount ELSE 0 END) OVER (ORDER BY i))::bigint AS tc,
                           ($8::bigint + sum(CASE WHEN fwd THEN 0 ELSE amount END) OVER (ORDER BY i))::bigint AS td
                    FROM g)
         INSERT INTO entries (tenant_id, transfer_id, account_id, leg_index, direction, amount, account_version,
                              debits_posted_after, credits_posted_after, created_at, kind)
         SELECT $3, ($5 || lpad(to_hex(i), 12, '0'))::uuid, x.account, l.leg, x.direction::"Side", amount, i,
                CASE WHEN x.account = $6::uuid THEN td ELSE tc END,
                CASE WHEN x.account = $6::uuid THEN tc ELSE td END,
                ${at}, 'POSTED'
         FROM r CROSS JOIN (VALUES (0), (1)) AS l(leg)
         CROSS JOIN LATERAL (SELECT CASE WHEN (l.leg = 0) = fwd THEN $9::uuid ELSE $6::uuid END AS account,
                                    CASE l.leg WHEN 0 THEN 'DEBIT' ELSE 'CREDIT' END AS direction) AS x
         ORDER BY i, l.leg`,
        [...params, pair.targetId, credits[from - 1], debits[from - 1], pair.fundingId],
      );
      entriesMs += performance.now() - t1;
      if (to === n || (to / batchTransfers) % 4 === 0) {
        log(`  ${pair.label}: ${fmt(to)} of ${fmt(n)} transfers (so far ${fixed(transfersMs / 1000, 1)} s inserting transfers, ${fixed(entriesMs / 1000, 1)} s entries)`);
      }
    }
    await client.query(
      `UPDATE accounts SET version = $2,
              credits_posted = CASE WHEN id = $3::uuid THEN $4::bigint ELSE $5::bigint END,
              debits_posted = CASE WHEN id = $3::uuid THEN $5::bigint ELSE $4::bigint END,
              last_entry_at = timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
       WHERE id = ANY($1::uuid[])`,
      [[pair.fundingId, pair.targetId], n, pair.targetId, credits[n], debits[n], lastMs],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  return { ...pair, firstMs, credits, debits, seedSeconds: (performance.now() - started) / 1000 };
}

/**
 * The ledger invariants of test/support/invariants.ts, restricted to the seeded accounts (the
 * whole-ledger check is run separately): returns violations, [] when all hold.
 */
export async function checkSeeded(client: pg.Client, tenantId: string, accountIds: string[]): Promise<string[]> {
  const checks: [string, string][] = [
    ["totals and version equal the sums and count of the entries",
     `SELECT a.id FROM accounts a LEFT JOIN (
        SELECT account_id, sum(amount) FILTER (WHERE direction = 'DEBIT') AS d, sum(amount) FILTER (WHERE direction = 'CREDIT') AS c, count(*) AS n
        FROM entries WHERE account_id = ANY($1::uuid[]) GROUP BY account_id) e ON e.account_id = a.id
      WHERE a.id = ANY($1::uuid[]) AND (a.debits_posted <> coalesce(e.d, 0) OR a.credits_posted <> coalesce(e.c, 0)
        OR a.version <> coalesce(e.n, 0) OR a.debits_pending <> 0 OR a.credits_pending <> 0)`],
    ["entries form an unbroken chain of versions, running totals and timestamps",
     `SELECT e.id FROM (
        SELECT e.*, lag(e.account_version) OVER w AS pv, lag(e.debits_posted_after) OVER w AS pd,
               lag(e.credits_posted_after) OVER w AS pc, lag(e.created_at) OVER w AS pa
        FROM entries e WHERE e.account_id = ANY($1::uuid[]) WINDOW w AS (PARTITION BY e.account_id ORDER BY e.account_version)) e
      WHERE e.account_version <> coalesce(e.pv, 0) + 1
         OR e.debits_posted_after <> coalesce(e.pd, 0) + CASE e.direction WHEN 'DEBIT' THEN e.amount ELSE 0 END
         OR e.credits_posted_after <> coalesce(e.pc, 0) + CASE e.direction WHEN 'CREDIT' THEN e.amount ELSE 0 END
         OR e.created_at <= e.pa OR e.debits_pending_after <> 0 OR e.credits_pending_after <> 0`],
    ["the newest entry carries the account's totals and last_entry_at",
     `SELECT a.id FROM accounts a JOIN LATERAL (
        SELECT * FROM entries e WHERE e.account_id = a.id ORDER BY e.account_version DESC LIMIT 1) last ON true
      WHERE a.id = ANY($1::uuid[]) AND (last.debits_posted_after <> a.debits_posted OR last.credits_posted_after <> a.credits_posted
        OR last.account_version <> a.version OR last.created_at <> a.last_entry_at)`],
    ["each transfer has two entries that balance",
     `SELECT e.transfer_id FROM entries e WHERE e.account_id = ANY($1::uuid[]) GROUP BY e.transfer_id
      HAVING count(*) <> 2 OR sum(CASE e.direction WHEN 'DEBIT' THEN e.amount ELSE -e.amount END) <> 0`],
    ["the tenant's posted balances sum to zero per currency",
     `SELECT currency_id FROM accounts WHERE tenant_id = $2 GROUP BY currency_id
      HAVING sum(debits_posted::numeric - credits_posted) <> 0`],
    ["no bound is broken",
     `SELECT id FROM accounts WHERE id = ANY($1::uuid[]) AND NOT ledger_within_bounds(normal_side, min_balance, max_balance,
        debits_posted, credits_posted, debits_pending, credits_pending)`],
  ];
  const violations: string[] = [];
  for (const [name, sql] of checks) {
    // Each check names the parameters it uses: $1 the accounts, $2 the tenant.
    const params = sql.includes("$1") ? (sql.includes("$2") ? [accountIds, tenantId] : [accountIds]) : [];
    const { rows } = await client.query(sql.includes("$1") ? sql : sql.replaceAll("$2", "$1"), sql.includes("$1") ? params : [tenantId]);
    if (rows.length > 0) violations.push(`${name}: ${rows.length} violation(s), e.g. ${JSON.stringify(rows[0])}`);
  }
  return violations;
}

export interface LookupStats {
  label: string;
  entries: number;
  samples: number;
  graphqlP50Ms: number;
  graphqlP99Ms: number;
  sqlP50Ms: number;
  sqlP99Ms: number;
  /** Answers whose version or posted balance differed from the seed's running totals, or failed. */
  wrong: number;
  firstWrong: string | null;
  /** EXPLAIN (ANALYZE, BUFFERS) of the lookup ledger_balances_at runs, for one instant. */
  plan: string;
}

/**
 * One client, one lookup at a time (latency, not throughput), alternating randomly between the
 * pairs so the machine's noise falls on all of them alike. Each lookup is checked against the
 * seed's running totals. Warm-up lookups are not counted.
 */
export async function measureLookups(
  client: pg.Client,
  endpoint: Endpoint,
  tenantId: string,
  pairs: SeededPair[],
  samples: number,
  warmup: number,
): Promise<LookupStats[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times = pairs.map(() => ({ graphql: [] as number[], sql: [] as number[], wrong: 0, firstWrong: null as string | null }));
  const randomInstant = (pair: SeededPair) => pair.firstMs + Math.floor(Math.random() * pair.entries * entrySpacingMs);
  try {
    const order = Array.from({ length: (samples + warmup) * pairs.length }, (_, i) => i % pairs.length);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const seen = pairs.map(() => 0);
    for (const index of order) {
      const pair = pairs[index]!;
      const record = (seen[index] = seen[index]! + 1) > warmup;
      const t = times[index]!;
      const atMs = randomInstant(pair);
      const asOf = new Date(atMs).toISOString();
      const expected = expectedAt(pair, atMs);
      const wrong = (what: string) => {
        t.wrong += 1;
        t.firstWrong ??= `${pair.label} at ${asOf}: ${what} (expected version ${expected.version}, posted ${expected.posted})`;
      };
      const body = JSON.stringify({ query: leanDocuments.balanceAsOf, variables: { id: `acct_${pair.targetId}`, asOf } });
      let sent = performance.now();
      try {
        const answer = await postGraphql(agent, endpoint, body, 30_000);
        const took = performance.now() - sent;
        const json = JSON.parse(answer.text) as { data?: { account?: { balance?: { posted: string; version: string } } }; errors?: unknown[] };
        const balance = json.data?.account?.balance;
        if (!balance || json.errors) wrong(`GraphQL answered ${answer.text.slice(0, 200)}`);
        else if (Number(balance.version) !== expected.version || Number(balance.posted) !== expected.posted) wrong(`GraphQL said ${JSON.stringify(balance)}`);
        if (record) t.graphql.push(took);
      } catch (error) {
        wrong(`GraphQL request failed: ${error instanceof Error ? error.message : error}`);
      }
      sent = performance.now();
      const { rows } = await client.query<{ account_version: string; credits_posted: string; debits_posted: string }>(
        "SELECT * FROM ledger_balances_at($1::uuid, $2::uuid, ARRAY[$3]::timestamptz[], false)",
        [tenantId, pair.targetId, asOf],
      );
      const took = performance.now() - sent;
      const row = rows[0];
      if (!row || Number(row.account_version) !== expected.version || Number(row.credits_posted) - Number(row.debits_posted) !== expected.posted) {
        wrong(`SQL said ${JSON.stringify(row)}`);
      }
      if (record) t.sql.push(took);
    }
  } finally {
    agent.destroy();
  }

  const stats: LookupStats[] = [];
  for (const [index, pair] of pairs.entries()) {
    const t = times[index]!;
    const [graphql, sql] = [ascending(t.graphql), ascending(t.sql)];
    // The lookup ledger_balances_at makes (its `<=` spelling), at an instant mid-history.
    const mid = new Date(pair.firstMs + Math.floor(pair.entries / 2) * entrySpacingMs + 1).toISOString();
    const explain = await client.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)
       SELECT x.account_version, x.debits_posted_after, x.credits_posted_after, x.debits_pending_after, x.credits_pending_after
       FROM entries x WHERE x.account_id = $1 AND x.created_at <= $2::timestamptz
       ORDER BY x.created_at DESC, x.account_version DESC LIMIT 1`,
      [pair.targetId, mid],
    );
    stats.push({
      label: pair.label,
      entries: pair.entries,
      samples: t.graphql.length,
      graphqlP50Ms: percentile(graphql, 50),
      graphqlP99Ms: percentile(graphql, 99),
      sqlP50Ms: percentile(sql, 50),
      sqlP99Ms: percentile(sql, 99),
      wrong: t.wrong,
      firstWrong: t.firstWrong,
      // The plan's nodes and buffer counts; the literal condition and planning lines add nothing.
      plan: explain.rows
        .map((r) => r["QUERY PLAN"].trim())
        .filter((line) => !line.startsWith("Index Cond") && !line.startsWith("Planning"))
        .join("; ")
        .replace(/; Buffers: shared hit=\d+$/, ""),
    });
  }
  return stats;
}

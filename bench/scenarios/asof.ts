// The "asof" scenario group and its section of docs/benchmarks.md. As-of balance lookups on long
// histories: seeds accounts with many entries straight in SQL (the API would take hours for a
// million), then times `balance(asOf:)` over GraphQL and ledger_balances_at over SQL for random
// instants inside each account's history.
//
// The seed obeys every rule the write path does, with the ledger's constraints and triggers on:
// it only INSERTs transfers and entries (two legs per transfer, versions 1..n without gaps on
// both accounts, running totals in every entry, timestamps increasing and in the past), then
// sets the accounts' totals, version and last_entry_at in one UPDATE, all in one transaction.
import { randomBytes } from "node:crypto";
import http from "node:http";
import pg from "pg";
import { leanDocuments } from "../../test/support/ledger-client.js";
import type { Bench, Settings } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fixed, fmt, markdownTable, metText, plain, textTable, type Table } from "../lib/format.js";
import { log, track, withTimeout } from "../lib/lifecycle.js";
import { postGraphql, type Endpoint } from "../lib/load.js";
import { createTenantWithKey } from "../lib/service.js";
import { ascending, percentile } from "../lib/stats.js";
import { createAccount } from "../lib/workload.js";

/** Milliseconds between consecutive transfers of a seeded pair; instants fall between entries too. */
const entrySpacingMs = 2;
const batchTransfers = 50_000;

/** Transfer i (1-based) of a seeded pair: every 5th moves a little back from the target. */
const forward = (i: number) => i % 5 !== 0;
const amountOf = (i: number) => (forward(i) ? 1000 + ((i * 7919) % 9000) : 1 + ((i * 7919) % 100));
const amountSql = `CASE WHEN i % 5 <> 0 THEN 1000 + (i * 7919) % 9000 ELSE 1 + (i * 7919) % 100 END`;

interface SeededPair {
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
function expectedAt(pair: SeededPair, atMs: number): { version: number; posted: number } {
  const k = Math.max(0, Math.min(pair.entries, Math.floor((atMs - pair.firstMs) / entrySpacingMs) + 1));
  return { version: k, posted: pair.credits[k]! - pair.debits[k]! };
}

/**
 * Seeds `entries` transfers funding -> target (every 5th target -> funding, small, so the
 * target never dips below 0) ending `endBeforeMs` before now. Both accounts must be new
 * (version 0), CREDIT-normal, same currency and tenant; the funding one unbounded.
 */
async function seedPair(
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
        log(
          `  ${pair.label}: ${fmt(to)} of ${fmt(n)} transfers (so far ${fixed(transfersMs / 1000, 1)} s inserting transfers, ${fixed(entriesMs / 1000, 1)} s entries)`,
        );
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
async function checkSeeded(client: pg.Client, tenantId: string, accountIds: string[]): Promise<string[]> {
  const checks: [string, string][] = [
    [
      "totals and version equal the sums and count of the entries",
      `SELECT a.id FROM accounts a LEFT JOIN (
        SELECT account_id, sum(amount) FILTER (WHERE direction = 'DEBIT') AS d, sum(amount) FILTER (WHERE direction = 'CREDIT') AS c, count(*) AS n
        FROM entries WHERE account_id = ANY($1::uuid[]) GROUP BY account_id) e ON e.account_id = a.id
      WHERE a.id = ANY($1::uuid[]) AND (a.debits_posted <> coalesce(e.d, 0) OR a.credits_posted <> coalesce(e.c, 0)
        OR a.version <> coalesce(e.n, 0) OR a.debits_pending <> 0 OR a.credits_pending <> 0)`,
    ],
    [
      "entries form an unbroken chain of versions, running totals and timestamps",
      `SELECT e.id FROM (
        SELECT e.*, lag(e.account_version) OVER w AS pv, lag(e.debits_posted_after) OVER w AS pd,
               lag(e.credits_posted_after) OVER w AS pc, lag(e.created_at) OVER w AS pa
        FROM entries e WHERE e.account_id = ANY($1::uuid[]) WINDOW w AS (PARTITION BY e.account_id ORDER BY e.account_version)) e
      WHERE e.account_version <> coalesce(e.pv, 0) + 1
         OR e.debits_posted_after <> coalesce(e.pd, 0) + CASE e.direction WHEN 'DEBIT' THEN e.amount ELSE 0 END
         OR e.credits_posted_after <> coalesce(e.pc, 0) + CASE e.direction WHEN 'CREDIT' THEN e.amount ELSE 0 END
         OR e.created_at <= e.pa OR e.debits_pending_after <> 0 OR e.credits_pending_after <> 0`,
    ],
    [
      "the newest entry carries the account's totals and last_entry_at",
      `SELECT a.id FROM accounts a JOIN LATERAL (
        SELECT * FROM entries e WHERE e.account_id = a.id ORDER BY e.account_version DESC LIMIT 1) last ON true
      WHERE a.id = ANY($1::uuid[]) AND (last.debits_posted_after <> a.debits_posted OR last.credits_posted_after <> a.credits_posted
        OR last.account_version <> a.version OR last.created_at <> a.last_entry_at)`,
    ],
    [
      "each transfer has two entries that balance",
      `SELECT e.transfer_id FROM entries e WHERE e.account_id = ANY($1::uuid[]) GROUP BY e.transfer_id
      HAVING count(*) <> 2 OR sum(CASE e.direction WHEN 'DEBIT' THEN e.amount ELSE -e.amount END) <> 0`,
    ],
    [
      "the tenant's posted balances sum to zero per currency",
      `SELECT currency_id FROM accounts WHERE tenant_id = $2 GROUP BY currency_id
      HAVING sum(debits_posted::numeric - credits_posted) <> 0`,
    ],
    [
      "no bound is broken",
      `SELECT id FROM accounts WHERE id = ANY($1::uuid[]) AND NOT ledger_within_bounds(normal_side, min_balance, max_balance,
        debits_posted, credits_posted, debits_pending, credits_pending)`,
    ],
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

interface LookupStats {
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
async function measureLookups(
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
      seen[index] = seen[index]! + 1;
      const record = seen[index]! > warmup;
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
        const json = JSON.parse(answer.text) as {
          data?: { account?: { balance?: { posted: string; version: string } } };
          errors?: unknown[];
        };
        const balance = json.data?.account?.balance;
        if (!balance || json.errors) wrong(`GraphQL answered ${answer.text.slice(0, 200)}`);
        else if (Number(balance.version) !== expected.version || Number(balance.posted) !== expected.posted)
          wrong(`GraphQL said ${JSON.stringify(balance)}`);
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
      if (
        !row ||
        Number(row.account_version) !== expected.version ||
        Number(row.credits_posted) - Number(row.debits_posted) !== expected.posted
      ) {
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

/** Bound on the group's run, for the watchdog: seeding about 10,000 transfers/s, vacuum and checks about as long again, lookups ~5 ms each. */
export const expectedSeconds = (s: Settings) =>
  30 + (2 * s.asofEntries.reduce((a, b) => a + b, 0)) / 10_000 + (s.asofEntries.length * (s.asofLookups + s.asofWarmupLookups) * 5) / 1000;

/**
 * Seeds one funding + target pair per size in a tenant of its own (accounts through
 * createAccount, histories in SQL: seedPair above), checks the seeded accounts' invariants,
 * then times as-of lookups on the targets.
 */
export async function run(bench: Bench): Promise<AsofFigures> {
  const { ledgerUrl: url, service, statsClient } = bench;
  const { asofEntries, asofLookups, asofWarmupLookups } = bench.settings;
  const { tenantId, key } = await createTenantWithKey(url, "bench as-of");
  const endpoint: Endpoint = { port: service.port, authorization: `Bearer ${key}` };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const account = async (code: string, minBalance: string | null): Promise<string> =>
    (
      await createAccount(agent, endpoint, code, {
        idempotencyKey: `asof-${code}`,
        code,
        name: code,
        currency: "USD",
        normalSide: "CREDIT",
        minBalance,
      })
    ).replace(/^acct_/, "");
  const seedClient = new pg.Client({ connectionString: url });
  await seedClient.connect();
  track("as-of seeding connection", () => seedClient.end());
  try {
    const pairs: SeededPair[] = [];
    for (const entries of asofEntries) {
      const label = `${fmt(entries)} entries`;
      const pair = {
        label,
        fundingId: await account(`funding-${entries}`, null),
        targetId: await account(`target-${entries}`, "0"),
        entries,
      };
      log(`as-of: seeding ${label} (funding ${pair.fundingId} -> target ${pair.targetId}) in SQL`);
      const seeded = await withTimeout(seedPair(seedClient, tenantId, pair, 60_000, log), 3_600_000, `seeding ${label}`);
      log(`  seeded in ${fmt(seeded.seedSeconds, 1)} s (${fmt(entries / seeded.seedSeconds)} transfers/s)`);
      pairs.push(seeded);
    }
    const vacuumStart = performance.now();
    await statsClient.query("VACUUM (ANALYZE) entries, transfers, accounts");
    await statsClient.query("CHECKPOINT").catch((error: Error) => log(`  CHECKPOINT refused (${error.message}); continuing`));
    const vacuumSeconds = (performance.now() - vacuumStart) / 1000;
    log(`  VACUUM (ANALYZE) and CHECKPOINT in ${fmt(vacuumSeconds, 1)} s`);
    const checkStart = performance.now();
    const violations = await checkSeeded(
      seedClient,
      tenantId,
      pairs.flatMap((p) => [p.fundingId, p.targetId]),
    );
    const checkSeconds = (performance.now() - checkStart) / 1000;
    log(`  seeded accounts' invariants: ${violations.length === 0 ? "all hold" : violations.join("; ")} (${fmt(checkSeconds, 1)} s)`);
    log(`as-of lookups: ${asofLookups} per account after ${asofWarmupLookups} warm-up, one at a time, accounts interleaved`);
    const stats = await measureLookups(seedClient, endpoint, tenantId, pairs, asofLookups, asofWarmupLookups);
    for (const s of stats) {
      log(
        `  ${s.label}: GraphQL p50 ${fmt(s.graphqlP50Ms, 2)} ms, p99 ${fmt(s.graphqlP99Ms, 2)} ms; SQL p50 ${fmt(s.sqlP50Ms, 2)} ms, p99 ${fmt(s.sqlP99Ms, 2)} ms; wrong ${s.wrong}`,
      );
    }
    return { pairs, stats, violations, checkSeconds, vacuumSeconds };
  } finally {
    agent.destroy();
  }
}

export function print(f: AsofFigures): void {
  console.log(`\nAs-of balance lookups (one at a time; GraphQL and SQL round trips)\n`);
  console.log(textTable(table(f)));
  for (const s of f.stats) console.log(`  plan, ${s.label}: ${s.plan}${s.firstWrong ? `\n  first wrong answer: ${s.firstWrong}` : ""}`);
  console.log(`Goal: ${plain(goal(f.stats)?.text ?? "not measured (needs two account sizes)")}`);
  console.log(`Seeded accounts' invariants: ${f.violations.length === 0 ? "all hold" : f.violations.join("; ")}`);
}

/** Wrong answers and broken invariants of the seeded accounts (there should be none). */
export const errors = (f: AsofFigures) => f.stats.reduce((sum, s) => sum + s.wrong, 0) + f.violations.length;

export interface AsofFigures {
  pairs: SeededPair[];
  stats: LookupStats[];
  /** Violations of the seeded accounts' invariants (scoped check), [] = all hold. */
  violations: string[];
  checkSeconds: number;
  vacuumSeconds: number;
}

/** The goal: the largest account's p50 and p99 within 2x of the smallest's (GraphQL). */
function goal(stats: LookupStats[]): { met: boolean; text: string } | null {
  const small = stats[0];
  const large = stats.at(-1);
  if (!small || !large || small === large) return null;
  const p50 = large.graphqlP50Ms / small.graphqlP50Ms;
  const p99 = large.graphqlP99Ms / small.graphqlP99Ms;
  const met = p50 <= 2 && p99 <= 2;
  return {
    met,
    text:
      `As-of lookup on ${fmt(large.entries)} entries within 2x of ${fmt(small.entries)} entries (GraphQL p50 and p99): ${metText(met)} — ` +
      `p50 ${fmt(large.graphqlP50Ms, 2)} vs ${fmt(small.graphqlP50Ms, 2)} ms = ${fmt(p50, 2)}x, p99 ${fmt(large.graphqlP99Ms, 2)} vs ${fmt(small.graphqlP99Ms, 2)} ms = ${fmt(p99, 2)}x ` +
      `(SQL alone: p50 ${fmt(large.sqlP50Ms / small.sqlP50Ms, 2)}x, p99 ${fmt(large.sqlP99Ms / small.sqlP99Ms, 2)}x).`,
  };
}

function table(f: AsofFigures): Table {
  return {
    headers: ["account", "entries", "lookups", "GraphQL p50 ms", "GraphQL p99 ms", "SQL p50 ms", "SQL p99 ms", "wrong answers"],
    align: [false, true, true, true, true, true, true, true],
    rows: f.stats.map((s) => [
      s.label,
      fmt(s.entries),
      fmt(s.samples),
      fmt(s.graphqlP50Ms, 2),
      fmt(s.graphqlP99Ms, 2),
      fmt(s.sqlP50Ms, 2),
      fmt(s.sqlP99Ms, 2),
      fmt(s.wrong),
    ]),
  };
}

export function section(f: AsofFigures, stamp: RunStamp): string {
  const t = table(f);
  const verdict = goal(f.stats);
  const seeded = f.pairs
    .map(
      (p) => `${p.label}: ${fmt(p.entries)} transfers in ${fmt(p.seedSeconds, 1)} s (${fmt(p.entries / Math.max(0.001, p.seedSeconds))}/s)`,
    )
    .join("; ");
  return marked(
    "asof",
    `## As-of balance lookups

${stampLines(stamp)}

${markdownTable(t)}

${verdict ? `Goal: ${verdict.text}` : "Goal: not measured (needs two account sizes)."}

- GraphQL: \`account(id) { balance(asOf: T) { posted pending available version } }\`, one request at a time
  from one keep-alive connection, T a random millisecond inside the account's history; p50 / p99 of the
  HTTP round trip. SQL: \`SELECT * FROM ledger_balances_at(tenant, account, ARRAY[T]::timestamptz[], false)\`
  from this script's own connection, round trip included. Lookups of the accounts are interleaved at random,
  so the machine's noise falls on both alike; warm-up lookups are not counted. "wrong answers": answers whose
  version or posted balance differ from the seeded running totals (there should be none).
- Plan of the lookup inside \`ledger_balances_at\`, mid-history (\`EXPLAIN (ANALYZE, BUFFERS)\`):
${f.stats.map((s) => `  - ${s.label}: \`${s.plan}\``).join("\n")}
- Seeding (not timed as part of the lookups): each account is the target of a funding account
  (\`minBalance: null\`) created through \`createAccount\` in a tenant of its own; the history is INSERTed
  in SQL (transfers, then both entries of each with running totals and versions 1..n, ${entrySpacingMs} ms apart,
  ending a minute ago; every 5th transfer moves a little back), then one UPDATE sets both accounts' totals,
  version and last entry; one transaction per pair, with every constraint and trigger on. ${seeded}.
  Then \`VACUUM (ANALYZE)\` of the ledger tables and a \`CHECKPOINT\` (${fmt(f.vacuumSeconds, 1)} s), as \`pgbench -i\` does.
- Invariants of the seeded accounts (totals = sums of entries, unbroken version/total/time chains, newest
  entry = account, two balancing entries per transfer, zero sum per currency, bounds): ${f.violations.length === 0 ? "all hold" : `**violated**: ${f.violations.join("; ")}`} (checked in ${fmt(f.checkSeconds, 1)} s).`,
  );
}

// The "reconciliation" scenario group and its section of docs/benchmarks.md: a statement of
// BENCH_RECON_LINES lines (default 100,000) reconciled against as many transfers on one
// account. The transfers are posted through the API (postTransfers, 500 at a time), the
// statement imported through the API (importStatement, then appendStatementLines), with a few
// differences of each kind; then reconcileStatement is timed, twice (a re-run), over GraphQL.
// Reference, measured in the same run: one SQL pass that reads the same entries and lines
// (what any matching must at least read), so the figure is a ratio as well as seconds.
import http from "node:http";
import pg from "pg";
import type { Bench } from "../lib/context.js";
import { marked, stampLines, type RunStamp } from "../lib/docs.js";
import { fmt, markdownTable } from "../lib/format.js";
import { log } from "../lib/lifecycle.js";
import { postGraphql, type Endpoint } from "../lib/load.js";
import { createTenantWithKey } from "../lib/service.js";
import { createAccount } from "../lib/workload.js";

export interface ReconciliationFigures {
  lines: number;
  postSeconds: number;
  importSeconds: number;
  runSeconds: number[];
  referenceSeconds: number;
  summary: Record<string, number>;
  expected: Record<string, number>;
}

const transfersPerCall = 500;
/** Lines per appendStatementLines call: under the 1 MiB request limit. */
const linesPerCall = 2500;

/** The seconds the group takes at `lines` lines, for the run's estimate. */
export const expectedSeconds = (lines: number) => 20 + lines / 2000;

async function gql(agent: http.Agent, endpoint: Endpoint, query: string, variables: unknown): Promise<any> {
  const answer = await postGraphql(agent, endpoint, JSON.stringify({ query, variables }), 600_000);
  const body = JSON.parse(answer.text);
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

export async function run(bench: Bench, lineCount: number): Promise<ReconciliationFigures> {
  const { ledgerUrl: url, service } = bench;
  const { key } = await createTenantWithKey(url, "bench reconciliation");
  const endpoint: Endpoint = { port: service.port, authorization: `Bearer ${key}` };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const account = (code: string, normalSide: "DEBIT" | "CREDIT") =>
      createAccount(agent, endpoint, code, {
        idempotencyKey: `${bench.runTag}-${code}`,
        code,
        name: code,
        currency: "USD",
        normalSide,
        minBalance: null,
      });
    const clearing = await account(`${bench.runTag}-psp-clearing`, "DEBIT");
    const revenue = await account(`${bench.runTag}-revenue`, "CREDIT");
    const periodStart = new Date(Date.now() - 1000);

    log(`reconciliation: posting ${fmt(lineCount)} transfers through postTransfers (${transfersPerCall} each)`);
    const postStart = performance.now();
    const amountOf = (i: number) => 100 + ((i * 7919) % 90_000);
    const refOf = (i: number) => `ch_${bench.runTag}_${i}`;
    const posted: { amount: number; createdAt: string }[] = [];
    for (let at = 0; at < lineCount; at += transfersPerCall) {
      const transfers = Array.from({ length: Math.min(transfersPerCall, lineCount - at) }, (_, k) => ({
        idempotencyKey: `${bench.runTag}-recon-${at + k}`,
        from: { id: clearing },
        to: { id: revenue },
        amount: String(amountOf(at + k)),
        currency: "USD",
        externalRef: refOf(at + k),
      }));
      const data = await gql(
        agent,
        endpoint,
        `mutation($input: PostTransfersInput!) { postTransfers(input: $input) { __typename
          ... on TransfersPosted { allSucceeded results { ... on TransferPosted { transfer { createdAt } } } } } }`,
        { input: { atomic: true, transfers } },
      );
      if (!data.postTransfers.allSucceeded) throw new Error("reconciliation: a batch of transfers failed");
      for (const [k, result] of data.postTransfers.results.entries())
        posted.push({ amount: amountOf(at + k), createdAt: result.transfer.createdAt });
    }
    const postSeconds = seconds(postStart);
    const periodEnd = new Date(Date.now() + 1000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the period has ended

    // The statement: every transfer, except one missing, one a unit larger, one unknown, one twice.
    const lines = posted.map((p, i) => ({
      externalId: `txn_${i}`,
      externalRef: refOf(i),
      amount: String(p.amount),
      direction: "DEBIT",
      currency: "USD",
      occurredAt: p.createdAt,
    }));
    lines.splice(7, 1);
    lines[11] = { ...lines[11]!, amount: String(Number(lines[11]!.amount) + 1) };
    lines.push({
      externalId: "txn_unknown",
      externalRef: "ch_unknown",
      amount: "777",
      direction: "DEBIT",
      currency: "USD",
      occurredAt: posted[0]!.createdAt,
    });
    lines.push({ ...lines[13]! });
    const closing = lines.reduce((sum, line) => sum + BigInt(line.amount), 0n);

    log(`reconciliation: importing a statement of ${fmt(lines.length)} lines (${linesPerCall} per call)`);
    const importStart = performance.now();
    const imported = await gql(
      agent,
      endpoint,
      `mutation($input: ImportStatementInput!) { importStatement(input: $input) { __typename ... on StatementImported { statement { id } } ... on Problem { code message } } }`,
      {
        input: {
          idempotencyKey: `${bench.runTag}-statement`,
          accountId: clearing,
          source: "bench",
          periodStart: periodStart.toISOString(),
          periodEnd: periodEnd.toISOString(),
          openingBalance: "0",
          closingBalance: closing.toString(),
          lines: lines.slice(0, linesPerCall),
        },
      },
    );
    if (imported.importStatement.__typename !== "StatementImported") throw new Error(`import: ${JSON.stringify(imported.importStatement)}`);
    const statementId = imported.importStatement.statement.id as string;
    for (let at = linesPerCall, part = 2; at < lines.length; at += linesPerCall, part++) {
      const appended = await gql(
        agent,
        endpoint,
        `mutation($input: AppendStatementLinesInput!) { appendStatementLines(input: $input) { __typename ... on Problem { code message } } }`,
        { input: { statementId, idempotencyKey: `${bench.runTag}-part-${part}`, lines: lines.slice(at, at + linesPerCall) } },
      );
      if (appended.appendStatementLines.__typename !== "StatementLinesAppended")
        throw new Error(`append: ${JSON.stringify(appended.appendStatementLines)}`);
    }
    const importSeconds = seconds(importStart);

    const runSeconds: number[] = [];
    let summary: Record<string, number> = {};
    for (let attempt = 0; attempt < 2; attempt++) {
      const started = performance.now();
      const data = await gql(
        agent,
        endpoint,
        `mutation($input: ReconcileStatementInput!) { reconcileStatement(input: $input) { __typename
          ... on StatementReconciled { run { summary { lines matched amountMismatch missingInLedger missingInStatement duplicateInStatement open } } } } }`,
        { input: { statementId, rules: { timeToleranceSeconds: 300 } } },
      );
      runSeconds.push(seconds(started));
      summary = data.reconcileStatement.run.summary;
      log(`  run ${attempt + 1}: ${fmt(runSeconds.at(-1)!, 2)} s, ${JSON.stringify(summary)}`);
    }

    // Reference: one pass reading the same entries (with their refs) and lines, sorted as matching needs.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const started = performance.now();
      await client.query(
        `SELECT count(*) FROM (
           SELECT e.id, t.external_ref, e.amount FROM entries e JOIN transfers t ON t.id = e.transfer_id
            WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3 ORDER BY t.external_ref, e.amount) x`,
        [clearing.replace(/^acct_/, ""), periodStart.toISOString(), periodEnd.toISOString()],
      );
      await client.query("SELECT count(*) FROM (SELECT id FROM statement_lines WHERE statement_id = $1 ORDER BY external_ref, amount) x", [
        statementId.replace(/^stmt_/, ""),
      ]);
      const referenceSeconds = seconds(started);
      const expected = {
        lines: lines.length,
        matched: lines.length - 3,
        amountMismatch: 1,
        missingInLedger: 1,
        missingInStatement: 1,
        duplicateInStatement: 1,
        open: 4,
      };
      return { lines: lines.length, postSeconds, importSeconds, runSeconds, referenceSeconds, summary, expected };
    } finally {
      await client.end();
    }
  } finally {
    agent.destroy();
  }
}

/** Counts that differ from what the statement was made with (there should be none). */
export const errors = (f: ReconciliationFigures) => Object.entries(f.expected).filter(([name, value]) => f.summary[name] !== value).length;

export function print(f: ReconciliationFigures): void {
  log(
    `reconciliation of ${fmt(f.lines)} lines: ${f.runSeconds.map((s) => `${fmt(s, 2)} s`).join(", then ")} (reference pass ${fmt(f.referenceSeconds, 2)} s); classification ${errors(f) === 0 ? "as made" : "WRONG"}`,
  );
}

export function section(f: ReconciliationFigures, stamp: RunStamp): string {
  const [first, again] = f.runSeconds as [number, number];
  const table = {
    headers: ["step", "seconds", "lines/s", "vs reference pass"],
    align: [false, true, true, true],
    rows: [
      ["reconcileStatement (first run)", fmt(first, 2), fmt(f.lines / first), `${fmt(first / f.referenceSeconds, 1)}x`],
      ["reconcileStatement (re-run)", fmt(again, 2), fmt(f.lines / again), `${fmt(again / f.referenceSeconds, 1)}x`],
      ["reference: read and sort the entries and lines (SQL)", fmt(f.referenceSeconds, 2), fmt(f.lines / f.referenceSeconds), "1x"],
      ["import: importStatement + appendStatementLines", fmt(f.importSeconds, 2), fmt(f.lines / f.importSeconds), ""],
      ["posting the transfers (postTransfers, 500 each)", fmt(f.postSeconds, 2), fmt(f.lines / f.postSeconds), ""],
    ],
  };
  const goal = Math.max(first, again) < 60;
  return marked(
    "reconciliation",
    `## Reconciliation of a ${fmt(f.lines)}-line statement

${stampLines(stamp)}

${markdownTable(table)}

Goal: a statement of 100,000 lines reconciles in seconds, not minutes: **${goal ? "met" : "not met"}** (${f.runSeconds.map((s) => `${fmt(s, 1)} s`).join(" and ")}).

- One account (the provider's clearing account) with ${fmt(f.lines - 1)} transfers posted through \`postTransfers\`, each
  with its own \`externalRef\`; the statement has a line per transfer except one (missing in the statement), one a
  minor unit larger (amount mismatch), one the ledger never saw, and one listed twice. Classification:
  ${JSON.stringify(f.summary)} (${errors(f) === 0 ? "as made" : "**differs from what the statement was made with**"}).
- \`reconcileStatement\` over GraphQL, round trip included: the as-of balances, the run record, \`ledger_reconcile\`
  (temporary tables, window functions, one result row per line) and the summary. The re-run repeats it with the
  first run's results in place.
- Reference: one SQL pass over the same data that any matching must at least read (the account's entries of the
  period joined to their transfers' refs, and the statement's lines, each sorted).`,
  );
}

// Reconciliation runs: the statement's lines against the account's entries (ledger_reconcile,
// prisma/sql/reconciliation.sql), and its balances against the ledger's as of the period's
// start and end. A run is a record; re-running after corrections makes a new one.
import type { Database } from "../db/client.js";
import { inTransaction } from "../db/transaction.js";
import type { Access } from "../domain/access.js";
import { postedBalance, type Side } from "../domain/balance.js";
import type { Problem } from "../domain/problems.js";
import { validateRules, type ReconcileRules } from "../domain/statement.js";
import { authorizeWrite } from "../ledger/authorization.js";
import { balancesAt } from "../ledger/balances.js";
import { notifyReconciliation } from "./notify.js";
import { findStatement, refuse, statementNotFound, type Statement } from "./statements.js";

export interface RunSummary {
  lines: number;
  matched: number;
  amountMismatch: number;
  missingInLedger: number;
  missingInStatement: number;
  duplicateInStatement: number;
  /** Exceptions without a resolution, and with one. */
  open: number;
  resolved: number;
}

export interface ReconciliationRun {
  id: string;
  seq: bigint;
  statementId: string;
  rules: ReconcileRules;
  ledgerOpeningBalance: bigint;
  ledgerClosingBalance: bigint;
  summary: RunSummary;
  /** The statement's opening balance plus its lines equals its closing balance. */
  statementConsistent: boolean;
  createdAt: Date;
}

const runColumns = `r.id, r.seq::text, r.statement_id, r.rules, r.ledger_opening_balance::text, r.ledger_closing_balance::text,
  r.summary, r.created_at`;

interface RunRow {
  id: string;
  seq: string;
  statement_id: string;
  rules: ReconcileRules;
  ledger_opening_balance: string;
  ledger_closing_balance: string;
  summary: RunSummary & { statementConsistent: boolean };
  created_at: Date;
}

const runFromRow = (row: RunRow): ReconciliationRun => {
  const { statementConsistent, ...summary } = row.summary;
  return {
    id: row.id,
    seq: BigInt(row.seq),
    statementId: row.statement_id,
    rules: row.rules,
    ledgerOpeningBalance: BigInt(row.ledger_opening_balance),
    ledgerClosingBalance: BigInt(row.ledger_closing_balance),
    summary,
    statementConsistent,
    createdAt: row.created_at,
  };
};

/** Reconciled: no open exception, the opening balances agree, and the statement adds up. */
export const isReconciled = (run: ReconciliationRun, statement: Statement) =>
  run.summary.open === 0 && run.ledgerOpeningBalance === statement.openingBalance && run.statementConsistent;

export type RunOutcome = { ok: true; run: ReconciliationRun; statement: Statement } | { ok: false; problem: Problem };

export async function reconcileStatement(
  db: Database,
  access: Access,
  request: { statementId: string; rules?: { timeToleranceSeconds?: number | null } | null },
): Promise<RunOutcome> {
  const statement = await findStatement(db, access, request.statementId);
  if (!statement) return refuse(statementNotFound(request.statementId));
  await authorizeWrite(db, access, "reconcileStatement", { accounts: [{ id: `acct_${statement.accountId}` }] });
  const rules = validateRules(request.rules);
  if (!rules.ok) return refuse(rules.problem);
  const { rows: accounts } = await db.pool.query<{ normal_side: Side }>("SELECT normal_side FROM accounts WHERE id = $1", [
    statement.accountId,
  ]);
  const normalSide = accounts[0]!.normal_side;
  const at = await balancesAt(db, access.tenantId, statement.accountId, [statement.periodStart, statement.periodEnd], true);
  if (!at.ok) throw new Error(`as-of balances of a statement's account: ${at.reason}`); // the period ended before import
  const [opening, closing] = at.totals.map((totals) => postedBalance(normalSide, totals)) as [bigint, bigint];
  const run = await inTransaction(db.pool, async (client) => {
    // One run of a statement at a time: a second waits for the first and sees its resolutions.
    await client.query("SELECT 1 FROM statements WHERE id = $1 FOR UPDATE", [statement.id]);
    const { rows: made } = await client.query<{ id: string }>(
      `INSERT INTO reconciliation_runs (tenant_id, statement_id, rules, ledger_opening_balance, ledger_closing_balance, summary, key_id, via)
       VALUES ($1, $2, $3, $4, $5, '{}', $6, $7) RETURNING id`,
      [access.tenantId, statement.id, JSON.stringify(rules.value), opening.toString(), closing.toString(), access.keyId, access.via],
    );
    const runId = made[0]!.id;
    const { rows: summarized } = await client.query<{
      summary: { lines: number; byStatus: Record<string, number>; open: number; resolved: number };
    }>("SELECT ledger_reconcile($1, $2, $3) AS summary", [runId, statement.id, rules.value.timeToleranceSeconds * 1000]);
    const { rows: net } = await client.query<{ net: string }>(
      `SELECT coalesce(sum(CASE WHEN direction = $2::"Side" THEN amount ELSE -amount END), 0)::text AS net FROM statement_lines WHERE statement_id = $1`,
      [statement.id, normalSide],
    );
    const { lines, byStatus, open, resolved } = summarized[0]!.summary;
    const summary = {
      lines,
      matched: byStatus.MATCHED ?? 0,
      amountMismatch: byStatus.AMOUNT_MISMATCH ?? 0,
      missingInLedger: byStatus.MISSING_IN_LEDGER ?? 0,
      missingInStatement: byStatus.MISSING_IN_STATEMENT ?? 0,
      duplicateInStatement: byStatus.DUPLICATE_IN_STATEMENT ?? 0,
      open,
      resolved,
      statementConsistent: statement.openingBalance + BigInt(net[0]!.net) === statement.closingBalance,
    };
    const { rows } = await client.query<RunRow>(`UPDATE reconciliation_runs r SET summary = $2 WHERE r.id = $1 RETURNING ${runColumns}`, [
      runId,
      JSON.stringify(summary),
    ]);
    return runFromRow(rows[0]!);
  });
  await notifyReconciliation(db, access.tenantId, statement.id, "RUN_FINISHED");
  return { ok: true, run, statement };
}

/** The statement's runs, newest first (`first` of them). */
export async function runsOf(db: Database, statementId: string, first: number): Promise<ReconciliationRun[]> {
  const { rows } = await db.pool.query<RunRow>(
    `SELECT ${runColumns} FROM reconciliation_runs r WHERE r.statement_id = $1 ORDER BY r.seq DESC LIMIT $2`,
    [statementId, first],
  );
  return rows.map(runFromRow);
}

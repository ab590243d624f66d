// Statements: imported whole or in parts, each call idempotent by its key; lines immutable.
import type pg from "pg";
import type { Database } from "../db/client.js";
import { inTransaction } from "../db/transaction.js";
import type { Access } from "../domain/access.js";
import { requestHash } from "../domain/canonical.js";
import { checkIdempotencyKey } from "../domain/fields.js";
import { fromGlobalId } from "../domain/ids.js";
import type { Limits } from "../domain/limits.js";
import { accountNotFound, idempotencyConflict, invalidInput, limitExceeded, withMessage, type Problem } from "../domain/problems.js";
import {
  validateLines,
  validateStatement,
  type ImportStatementRequest,
  type StatementLine as LineInput,
  type StatementLineInput,
} from "../domain/statement.js";
import { accountVisible, authorizeWrite } from "../ledger/authorization.js";
import { tenantNow } from "../ledger/balances.js";
import { fromStatementGlobalId } from "./ids.js";

export interface Statement {
  id: string;
  tenantId: string;
  accountId: string;
  source: string;
  periodStart: Date;
  periodEnd: Date;
  openingBalance: bigint;
  closingBalance: bigint;
  lineCount: number;
  createdAt: Date;
}

export interface StatementLine {
  id: bigint;
  statementId: string;
  lineNo: number;
  externalId: string;
  externalRef: string | null;
  amount: bigint;
  direction: "DEBIT" | "CREDIT";
  occurredAt: Date;
  description: string;
}

export const statementColumns = `s.id, s.tenant_id, s.account_id, s.source, s.period_start, s.period_end, s.opening_balance::text,
  s.closing_balance::text, s.line_count, s.created_at`;

export interface StatementRow {
  id: string;
  tenant_id: string;
  account_id: string;
  source: string;
  period_start: Date;
  period_end: Date;
  opening_balance: string;
  closing_balance: string;
  line_count: number;
  created_at: Date;
}

export const statementFromRow = (row: StatementRow): Statement => ({
  id: row.id,
  tenantId: row.tenant_id,
  accountId: row.account_id,
  source: row.source,
  periodStart: row.period_start,
  periodEnd: row.period_end,
  openingBalance: BigInt(row.opening_balance),
  closingBalance: BigInt(row.closing_balance),
  lineCount: row.line_count,
  createdAt: row.created_at,
});

export const lineColumns =
  "l.id::text, l.statement_id, l.line_no, l.external_id, l.external_ref, l.amount::text, l.direction, l.occurred_at, l.description";

export interface LineRow {
  id: string;
  statement_id: string;
  line_no: number;
  external_id: string;
  external_ref: string | null;
  amount: string;
  direction: "DEBIT" | "CREDIT";
  occurred_at: Date;
  description: string;
}

export const lineFromRow = (row: LineRow): StatementLine => ({
  id: BigInt(row.id),
  statementId: row.statement_id,
  lineNo: row.line_no,
  externalId: row.external_id,
  externalRef: row.external_ref,
  amount: BigInt(row.amount),
  direction: row.direction,
  occurredAt: row.occurred_at,
  description: row.description,
});

export const statementNotFound = (statementId: string): Problem => withMessage({ code: "StatementNotFound", statementId });

/** A refusal: a typed problem, nothing written. */
export const refuse = (problem: Problem) => ({ ok: false as const, problem });

export type StatementOutcome = { ok: true; replay: boolean; statement: Statement } | { ok: false; problem: Problem };

/** Lines in another currency than the account's are refused (the statement mirrors that account). */
function checkCurrencies(lines: readonly LineInput[], accountCurrency: string, field = "lines"): Problem | null {
  const index = lines.findIndex((line) => line.currency !== accountCurrency);
  return index < 0
    ? null
    : invalidInput(
        `${field}[${index}].currency`,
        "CURRENCY_MISMATCH",
        `the account is in ${accountCurrency}, the line in ${lines[index]!.currency}`,
      );
}

/** One statement: inserts the lines numbered from `firstLineNo` (jsonb_to_recordset keeps it to one statement). */
async function insertLines(client: pg.PoolClient, statementId: string, firstLineNo: number, lines: readonly LineInput[]): Promise<void> {
  if (lines.length === 0) return;
  await client.query(
    `INSERT INTO statement_lines (statement_id, line_no, external_id, external_ref, amount, direction, occurred_at, description)
     SELECT $1, $2 + g.ord - 1, g.external_id, g.external_ref, g.amount, g.direction, g.occurred_at, g.description
       FROM jsonb_to_recordset($3::jsonb) AS g(ord int, external_id text, external_ref text, amount bigint, direction "Side",
                                               occurred_at timestamptz, description text)`,
    [
      statementId,
      firstLineNo,
      JSON.stringify(
        lines.map((line, index) => ({
          ord: index + 1,
          external_id: line.externalId,
          external_ref: line.externalRef,
          amount: line.amount.toString(),
          direction: line.direction,
          occurred_at: line.occurredAt.toISOString(),
          description: line.description,
        })),
      ),
    ],
  );
}

const canonicalLines = (lines: readonly LineInput[]) =>
  lines.map((line) => ({ ...line, amount: line.amount.toString(), occurredAt: line.occurredAt.toISOString() }));

export async function importStatement(
  db: Database,
  access: Access,
  request: ImportStatementRequest,
  limits: Limits,
): Promise<StatementOutcome> {
  await authorizeWrite(db, access, "importStatement", { accounts: [{ id: request.accountId }] });
  const checked = validateStatement(request, limits, await tenantNow(db, access.tenantId));
  if (!checked.ok) return checked;
  const statement = checked.value;
  const accountId = fromGlobalId("Account", request.accountId);
  const { rows: accounts } = await db.pool.query<{ id: string; currency: string }>(
    "SELECT a.id, c.code AS currency FROM accounts a JOIN currencies c ON c.id = a.currency_id WHERE a.id = $1 AND a.tenant_id = $2",
    [accountId, access.tenantId],
  );
  if (accountId === null || !accounts[0]) return refuse(accountNotFound(request.accountId));
  const mismatch = checkCurrencies(statement.lines, accounts[0].currency);
  if (mismatch) return refuse(mismatch);
  const hash = Buffer.from(
    requestHash("importStatement", {
      ...statement,
      accountId,
      periodStart: statement.periodStart.toISOString(),
      periodEnd: statement.periodEnd.toISOString(),
      openingBalance: statement.openingBalance.toString(),
      closingBalance: statement.closingBalance.toString(),
      lines: canonicalLines(statement.lines),
    }),
    "hex",
  );
  return inTransaction(db.pool, async (client) => {
    const { rows } = await client.query<StatementRow>(
      `WITH made AS (
         INSERT INTO statements AS s (tenant_id, account_id, idempotency_key, request_hash, source, period_start, period_end,
                                   opening_balance, closing_balance, line_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
         RETURNING ${statementColumns}
       )
       SELECT * FROM made`,
      [
        access.tenantId,
        accountId,
        statement.idempotencyKey,
        hash,
        statement.source,
        statement.periodStart.toISOString(),
        statement.periodEnd.toISOString(),
        statement.openingBalance.toString(),
        statement.closingBalance.toString(),
        statement.lines.length,
      ],
    );
    if (!rows[0]) {
      const { rows: existing } = await client.query<StatementRow & { request_hash: Buffer }>(
        `SELECT ${statementColumns}, s.request_hash FROM statements s WHERE s.tenant_id = $1 AND s.idempotency_key = $2`,
        [access.tenantId, statement.idempotencyKey],
      );
      const found = existing[0]!;
      if (!found.request_hash.equals(hash)) {
        return refuse(idempotencyConflict(statement.idempotencyKey));
      }
      return { ok: true, replay: true, statement: statementFromRow(found) };
    }
    const made = statementFromRow(rows[0]);
    await insertLines(client, made.id, 1, statement.lines);
    await client.query(
      "INSERT INTO statement_parts (statement_id, idempotency_key, request_hash, first_line_no, line_count) VALUES ($1, $2, $3, 1, $4)",
      [made.id, statement.idempotencyKey, hash, statement.lines.length],
    );
    return { ok: true, replay: false, statement: made };
  });
}

/** The statement if the bearer may see it (its account is visible), else null. */
export async function findStatement(db: Database, access: Access, globalId: string): Promise<Statement | null> {
  const id = fromStatementGlobalId(globalId);
  if (id === null) return null;
  const { rows } = await db.pool.query<StatementRow>(`SELECT ${statementColumns} FROM statements s WHERE s.id = $1 AND s.tenant_id = $2`, [
    id,
    access.tenantId,
  ]);
  const statement = rows[0] ? statementFromRow(rows[0]) : null;
  return statement && accountVisible(access, statement.accountId) ? statement : null;
}

export async function appendStatementLines(
  db: Database,
  access: Access,
  request: { statementId: string; idempotencyKey: string; lines: readonly StatementLineInput[] },
  limits: Limits,
): Promise<StatementOutcome & { firstLineNo?: number }> {
  const statement = await findStatement(db, access, request.statementId);
  if (!statement) return refuse(statementNotFound(request.statementId));
  await authorizeWrite(db, access, "appendStatementLines", { accounts: [{ id: `acct_${statement.accountId}` }] });
  const lines = validateLines(request.lines, statement, limits);
  if (!lines.ok) return lines;
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return refuse(key.problem);
  const { rows: accounts } = await db.pool.query<{ currency: string }>(
    "SELECT c.code AS currency FROM accounts a JOIN currencies c ON c.id = a.currency_id WHERE a.id = $1",
    [statement.accountId],
  );
  const mismatch = checkCurrencies(lines.value, accounts[0]!.currency);
  if (mismatch) return refuse(mismatch);
  const hash = Buffer.from(requestHash("appendStatementLines", { statementId: statement.id, lines: canonicalLines(lines.value) }), "hex");
  return inTransaction(db.pool, async (client) => {
    // The statement's lock orders its parts: line numbers follow one another without a gap.
    const { rows } = await client.query<StatementRow>(`SELECT ${statementColumns} FROM statements s WHERE s.id = $1 FOR UPDATE`, [
      statement.id,
    ]);
    const locked = statementFromRow(rows[0]!);
    const { rows: parts } = await client.query<{ request_hash: Buffer; first_line_no: number }>(
      "SELECT request_hash, first_line_no FROM statement_parts WHERE statement_id = $1 AND idempotency_key = $2",
      [statement.id, request.idempotencyKey],
    );
    if (parts[0]) {
      if (!parts[0].request_hash.equals(hash)) return refuse(idempotencyConflict(request.idempotencyKey));
      return { ok: true, replay: true, statement: locked, firstLineNo: parts[0].first_line_no };
    }
    if (locked.lineCount + lines.value.length > limits.statementLinesMax) {
      return refuse(limitExceeded("statementLinesMax", limits.statementLinesMax, "lines of the statement"));
    }
    const firstLineNo = locked.lineCount + 1;
    await insertLines(client, statement.id, firstLineNo, lines.value);
    await client.query(
      "INSERT INTO statement_parts (statement_id, idempotency_key, request_hash, first_line_no, line_count) VALUES ($1, $2, $3, $4, $5)",
      [statement.id, request.idempotencyKey, hash, firstLineNo, lines.value.length],
    );
    const { rows: updated } = await client.query<StatementRow>(
      `UPDATE statements s SET line_count = line_count + $2 WHERE s.id = $1 RETURNING ${statementColumns}`,
      [statement.id, lines.value.length],
    );
    return { ok: true, replay: false, statement: statementFromRow(updated[0]!), firstLineNo };
  });
}

/** Statements the bearer may see, newest first (of one account, or all). */
export async function listStatements(
  db: Database,
  access: Access,
  accountId: string | null,
  first: number,
  after: { createdAt: Date; id: string } | null,
): Promise<{ rows: Statement[]; hasNextPage: boolean }> {
  const visible = access.accountIds === null ? null : [...access.accountIds];
  const { rows } = await db.pool.query<StatementRow>(
    `SELECT ${statementColumns} FROM statements s
      WHERE s.tenant_id = $1 AND ($2::uuid IS NULL OR s.account_id = $2) AND ($3::uuid[] IS NULL OR s.account_id = ANY($3))
        AND ($4::timestamptz IS NULL OR (s.created_at, s.id) < ($4, $5::uuid))
      ORDER BY s.created_at DESC, s.id DESC LIMIT $6`,
    [access.tenantId, accountId, visible, after?.createdAt.toISOString() ?? null, after?.id ?? null, first + 1],
  );
  return { rows: rows.slice(0, first).map(statementFromRow), hasNextPage: rows.length > first };
}

/** A statement's lines in order, from after `afterLineNo`. */
export async function statementLines(
  db: Database,
  statement: Statement,
  first: number,
  afterLineNo: number | null,
): Promise<{ rows: StatementLine[]; hasNextPage: boolean }> {
  const { rows } = await db.pool.query<LineRow>(
    `SELECT ${lineColumns} FROM statement_lines l WHERE l.statement_id = $1 AND l.line_no > $2 ORDER BY l.line_no LIMIT $3`,
    [statement.id, afterLineNo ?? 0, first + 1],
  );
  return { rows: rows.slice(0, first).map(lineFromRow), hasNextPage: rows.length > first };
}

/**
 * A statement of any size: the first part through importStatement, the rest through
 * appendStatementLines, statementLinesPerCallMax lines each, under keys made from the import's
 * (`<key>/part-<n>`): running the same import again changes nothing and answers the same statement.
 */
export async function importStatementInParts(
  db: Database,
  access: Access,
  request: ImportStatementRequest & { lines: readonly StatementLineInput[] },
  limits: Limits,
): Promise<StatementOutcome> {
  const size = limits.statementLinesPerCallMax;
  const first = await importStatement(db, access, { ...request, lines: request.lines.slice(0, size) }, limits);
  if (!first.ok) return first;
  let outcome: StatementOutcome = first;
  for (let at = size, part = 2; at < request.lines.length; at += size, part++) {
    const appended = await appendStatementLines(
      db,
      access,
      {
        statementId: `stmt_${first.statement.id}`,
        idempotencyKey: `${request.idempotencyKey}/part-${part}`,
        lines: request.lines.slice(at, at + size),
      },
      limits,
    );
    if (!appended.ok) {
      // Name the file's lines: the part's own indexes start at 0.
      const problem = { ...appended.problem, message: `lines ${at + 1}..${at + size} of the file: ${appended.problem.message}` };
      return refuse(problem);
    }
    outcome = { ...appended, replay: first.replay && appended.replay };
  }
  return outcome;
}

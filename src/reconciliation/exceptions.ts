// Reconciliation exceptions (a run's results that are not MATCHED) and their resolutions: a
// correcting transfer posted through the ordinary write path (and its idempotency), or an
// accepted difference with a note. Nothing is edited; each resolution is a record with the
// credential that made it, settles its line or entry for every later run, and is made once.
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Side } from "../domain/balance.js";
import { checkIdempotencyKey, checkText } from "../domain/fields.js";
import type { Limits } from "../domain/limits.js";
import { invalidInput, withMessage, type Problem } from "../domain/problems.js";
import type { AccountRefRequest, TransferRequest } from "../domain/transfer.js";
import { authorizeWrite } from "../ledger/authorization.js";
import type { TransferWithEntries } from "../ledger/records.js";
import { readEntriesOfTransfers, readTransfers } from "../ledger/reads.js";
import { postTransfers } from "../ledger/transfers.js";
import { exceptionGlobalId, fromExceptionGlobalId, statementGlobalId } from "./ids.js";
import { notifyReconciliation } from "./notify.js";
import { findStatement, lineColumns, lineFromRow, refuse, type LineRow, type Statement, type StatementLine } from "./statements.js";

export type ReconciliationStatus = "MATCHED" | "AMOUNT_MISMATCH" | "MISSING_IN_LEDGER" | "MISSING_IN_STATEMENT" | "DUPLICATE_IN_STATEMENT";

export interface Resolution {
  id: string;
  kind: "CORRECTING_TRANSFER" | "ACCEPTED_DIFFERENCE";
  transferId: string | null;
  note: string;
  keyId: string;
  via: "API_KEY" | "ACCESS_TOKEN";
  createdAt: Date;
}

export interface ReconciliationException {
  id: bigint;
  runId: string;
  statementId: string;
  status: ReconciliationStatus;
  line: StatementLine | null;
  entryId: bigint | null;
  entryIds: bigint[];
  lineAmount: bigint | null;
  ledgerAmount: bigint | null;
  direction: Side;
  externalRef: string | null;
  occurredAt: Date;
  resolution: Resolution | null;
}

export const exceptionNotFound = (exceptionId: string): Problem => withMessage({ code: "ReconciliationExceptionNotFound", exceptionId });

const resolutionColumns = "v.id, v.kind, v.transfer_id, v.note, v.key_id, v.via, v.created_at, v.idempotency_key";

interface ResolutionRow {
  id: string;
  kind: Resolution["kind"];
  transfer_id: string | null;
  note: string;
  key_id: string;
  via: Resolution["via"];
  created_at: Date;
  idempotency_key: string;
}

const resolutionFromRow = (row: ResolutionRow): Resolution => ({
  id: row.id,
  kind: row.kind,
  transferId: row.transfer_id,
  note: row.note,
  keyId: row.key_id,
  via: row.via,
  createdAt: row.created_at,
});

interface ResultRow {
  id: string;
  run_id: string;
  statement_id: string;
  line_id: string | null;
  entry_id: string | null;
  status: ReconciliationStatus;
  entry_ids: string[];
  line_amount: string | null;
  ledger_amount: string | null;
  direction: Side;
  external_ref: string | null;
  occurred_at: Date;
  resolution_id: string | null;
}

/**
 * The results of the statement's latest run that are exceptions (of those with ids `ids` when
 * given), each with the resolution that settles it now: its line's or entry's, or, for a
 * correcting transfer's entry, the resolution that posted it.
 */
async function readExceptions(
  db: Database,
  statement: Statement,
  options: {
    open?: boolean | null;
    statuses?: readonly ReconciliationStatus[] | null;
    afterId?: bigint | null;
    first?: number;
    ids?: readonly bigint[];
  },
): Promise<ReconciliationException[]> {
  const { rows } = await db.pool.query<ResultRow>(
    `WITH latest AS (SELECT id FROM reconciliation_runs WHERE statement_id = $1 ORDER BY seq DESC LIMIT 1)
     SELECT r.id::text, r.run_id, $1::uuid AS statement_id, r.line_id::text, r.entry_id::text, r.status, r.entry_ids::text[],
            r.line_amount::text, r.ledger_amount::text, r.direction, r.external_ref, r.occurred_at,
            coalesce(byline.id, byentry.id, r.resolution_id) AS resolution_id
       FROM reconciliation_results r JOIN latest ON r.run_id = latest.id
       LEFT JOIN reconciliation_resolutions byline ON byline.statement_id = $1 AND byline.line_id = r.line_id
       LEFT JOIN reconciliation_resolutions byentry ON byentry.statement_id = $1 AND byentry.entry_id = r.entry_id
      WHERE r.status <> 'MATCHED'
        AND ($2::boolean IS NULL OR (coalesce(byline.id, byentry.id, r.resolution_id) IS NULL) = $2)
        AND ($3::text[] IS NULL OR r.status = ANY($3))
        AND ($4::bigint IS NULL OR r.id > $4)
        AND ($5::bigint[] IS NULL OR r.id = ANY($5))
      ORDER BY r.id LIMIT $6`,
    [
      statement.id,
      options.open ?? null,
      options.statuses ?? null,
      options.afterId?.toString() ?? null,
      options.ids?.map(String) ?? null,
      options.first ?? 1000,
    ],
  );
  const lineIds = rows.flatMap((row) => (row.line_id ? [row.line_id] : []));
  const resolutionIds = rows.flatMap((row) => (row.resolution_id ? [row.resolution_id] : []));
  const [lines, resolutions] = await Promise.all([
    lineIds.length > 0
      ? db.pool.query<LineRow>(`SELECT ${lineColumns} FROM statement_lines l WHERE l.id = ANY($1::bigint[])`, [lineIds])
      : { rows: [] as LineRow[] },
    resolutionIds.length > 0
      ? db.pool.query<ResolutionRow>(`SELECT ${resolutionColumns} FROM reconciliation_resolutions v WHERE v.id = ANY($1::uuid[])`, [
          resolutionIds,
        ])
      : { rows: [] as ResolutionRow[] },
  ]);
  const lineById = new Map(lines.rows.map((row) => [row.id, lineFromRow(row)]));
  const resolutionById = new Map(resolutions.rows.map((row) => [row.id, resolutionFromRow(row)]));
  return rows.map((row) => ({
    id: BigInt(row.id),
    runId: row.run_id,
    statementId: row.statement_id,
    status: row.status,
    line: row.line_id ? lineById.get(row.line_id)! : null,
    entryId: row.entry_id ? BigInt(row.entry_id) : null,
    entryIds: row.entry_ids.map(BigInt),
    lineAmount: row.line_amount === null ? null : BigInt(row.line_amount),
    ledgerAmount: row.ledger_amount === null ? null : BigInt(row.ledger_amount),
    direction: row.direction,
    externalRef: row.external_ref,
    occurredAt: row.occurred_at,
    resolution: row.resolution_id ? resolutionById.get(row.resolution_id)! : null,
  }));
}

/** The exceptions of the statement's latest run, in line order then entry time; `open`: only those without a resolution. */
export async function listExceptions(
  db: Database,
  access: Access,
  filter: { statementId: string; open?: boolean | null; statuses?: readonly ReconciliationStatus[] | null },
  first: number,
  afterId: bigint | null,
): Promise<{ rows: ReconciliationException[]; hasNextPage: boolean } | null> {
  const statement = await findStatement(db, access, filter.statementId);
  if (!statement) return null;
  const rows = await readExceptions(db, statement, { ...filter, afterId, first: first + 1 });
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}

/** An exception of its statement's latest run by its id, if the bearer may see the statement. */
async function findException(
  db: Database,
  access: Access,
  globalId: string,
): Promise<{ statement: Statement; exception: ReconciliationException } | null> {
  const id = fromExceptionGlobalId(globalId);
  if (id === null) return null;
  const { rows } = await db.pool.query<{ statement_id: string }>(
    `SELECT r.statement_id FROM reconciliation_results x JOIN reconciliation_runs r ON r.id = x.run_id
      WHERE x.id = $1 AND r.tenant_id = $2 AND x.status <> 'MATCHED'`,
    [id, access.tenantId],
  );
  if (!rows[0]) return null;
  const statement = await findStatement(db, access, statementGlobalId(rows[0].statement_id));
  if (!statement) return null;
  // Only the latest run's exceptions are resolved: an older run's may have matched since.
  const [found] = await readExceptions(db, statement, { ids: [BigInt(id)] });
  return found ? { statement, exception: found } : null;
}

export interface ResolveRequest {
  exceptionId: string;
  idempotencyKey: string;
  correctingTransfer?: { counterparty: AccountRefRequest; description?: string | null } | null;
  acceptDifference?: { note: string } | null;
}

export type ResolveOutcome =
  | { ok: true; replay: boolean; exception: ReconciliationException; resolution: Resolution; transfer: TransferWithEntries | null }
  | { ok: false; replay: boolean; problem: Problem };

const opposite = (side: Side): Side => (side === "DEBIT" ? "CREDIT" : "DEBIT");

/** The leg on the statement's account that makes the ledger agree with the statement; null where no transfer can. */
function correctionLeg(exception: ReconciliationException): { direction: Side; amount: bigint } | null {
  switch (exception.status) {
    case "MISSING_IN_LEDGER":
      return { direction: exception.direction, amount: exception.lineAmount! };
    case "AMOUNT_MISMATCH": {
      const difference = exception.lineAmount! - exception.ledgerAmount!;
      return difference > 0n
        ? { direction: exception.direction, amount: difference }
        : { direction: opposite(exception.direction), amount: -difference };
    }
    case "MISSING_IN_STATEMENT":
      return { direction: opposite(exception.direction), amount: exception.ledgerAmount! };
    default:
      return null;
  }
}

export async function resolveException(db: Database, access: Access, request: ResolveRequest, limits: Limits): Promise<ResolveOutcome> {
  const refused = (problem: Problem) => ({ ...refuse(problem), replay: false });
  const found = await findException(db, access, request.exceptionId);
  if (!found) return refused(exceptionNotFound(request.exceptionId));
  const { statement, exception } = found;
  await authorizeWrite(db, access, "resolveReconciliationException", { accounts: [{ id: `acct_${statement.accountId}` }] });
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return refused(key.problem);
  const identity: Identity = exception.line ? { line_id: exception.line.id } : { entry_id: exception.entryId ?? exception.entryIds[0]! };
  const existing = await resolutionOf(db, statement.id, identity);
  if (existing) return answerExisting(db, access, exception, existing, key.value);
  if ((request.correctingTransfer == null) === (request.acceptDifference == null)) {
    return refused(invalidInput("resolution", "EXACTLY_ONE_OF", "give exactly one of correctingTransfer and acceptDifference"));
  }
  let transfer: TransferWithEntries | null = null;
  let note = "";
  if (request.acceptDifference) {
    const checked = checkText(request.acceptDifference.note, "acceptDifference.note", "descriptionLengthMax", limits, true);
    if (!checked.ok) return refused(checked.problem);
    note = checked.value;
  } else {
    const leg = correctionLeg(exception);
    if (!leg) {
      return refused(
        invalidInput("correctingTransfer", "RESOLUTION_NOT_APPLICABLE", `a ${exception.status} exception is resolved by accepting it`),
      );
    }
    const { rows } = await db.pool.query<{ currency: string }>(
      "SELECT c.code AS currency FROM accounts a JOIN currencies c ON c.id = a.currency_id WHERE a.id = $1",
      [statement.accountId],
    );
    const own = { id: `acct_${statement.accountId}` };
    const counterparty = request.correctingTransfer!.counterparty;
    const transferRequest: TransferRequest = {
      idempotencyKey: key.value,
      description: request.correctingTransfer!.description ?? `reconciliation correction of ${exceptionGlobalId(exception.id)}`,
      metadata: { reconciliation: { statementId: statementGlobalId(statement.id), exceptionId: exceptionGlobalId(exception.id) } },
      from: leg.direction === "DEBIT" ? own : counterparty,
      to: leg.direction === "DEBIT" ? counterparty : own,
      amount: leg.amount.toString(),
      currency: rows[0]!.currency,
      ...(exception.externalRef ? { externalRef: exception.externalRef } : {}),
    };
    const batch = await postTransfers(db, access, [transferRequest], true, limits);
    if (!batch.ok) return refused(batch.problem);
    const [posted] = batch.outcomes;
    if (!posted!.ok) return { ok: false, replay: posted!.replay, problem: posted!.problem };
    transfer = posted!.transfer;
  }
  const { rows: made } = await db.pool.query<ResolutionRow>(
    `INSERT INTO reconciliation_resolutions AS v (tenant_id, statement_id, line_id, entry_id, result_id, idempotency_key, kind, transfer_id, note, key_id, via)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT DO NOTHING
     RETURNING ${resolutionColumns}`,
    [
      access.tenantId,
      statement.id,
      "line_id" in identity ? identity.line_id.toString() : null,
      "line_id" in identity ? null : identity.entry_id.toString(),
      exception.id.toString(),
      key.value,
      transfer ? "CORRECTING_TRANSFER" : "ACCEPTED_DIFFERENCE",
      transfer?.id ?? null,
      note,
      access.keyId,
      access.via,
    ],
  );
  if (!made[0]) {
    // Resolved at the same moment by another call; its answer stands (a transfer this call posted stays, as posted).
    const winner = (await resolutionOf(db, statement.id, identity))!;
    return answerExisting(db, access, exception, winner, key.value);
  }
  await notifyReconciliation(db, access.tenantId, statement.id, "EXCEPTION_RESOLVED");
  return {
    ok: true,
    replay: false,
    exception: { ...exception, resolution: resolutionFromRow(made[0]) },
    resolution: resolutionFromRow(made[0]),
    transfer,
  };
}

/** What a resolution settles: a statement line, or an entry no line matched. */
type Identity = { line_id: bigint } | { entry_id: bigint };

async function resolutionOf(db: Database, statementId: string, identity: Identity): Promise<ResolutionRow | null> {
  const [column, value] = "line_id" in identity ? ["line_id", identity.line_id] : ["entry_id", identity.entry_id];
  const { rows } = await db.pool.query<ResolutionRow>(
    `SELECT ${resolutionColumns} FROM reconciliation_resolutions v WHERE v.statement_id = $1 AND v.${column} = $2`,
    [statementId, value.toString()],
  );
  return rows[0] ?? null;
}

/** The same call again answers its resolution (a replay); any other is refused. */
async function answerExisting(
  db: Database,
  access: Access,
  exception: ReconciliationException,
  existing: ResolutionRow,
  key: string,
): Promise<ResolveOutcome> {
  if (existing.idempotency_key !== key) {
    return {
      ok: false,
      replay: false,
      problem: withMessage({ code: "ExceptionAlreadyResolved", exceptionId: exceptionGlobalId(exception.id) }),
    };
  }
  const resolution = resolutionFromRow(existing);
  let transfer: TransferWithEntries | null = null;
  if (existing.transfer_id) {
    const [row] = await readTransfers(db, access.tenantId, [existing.transfer_id]);
    const entries = await readEntriesOfTransfers(db, access.tenantId, [existing.transfer_id]);
    transfer = row ? { ...row, entries: entries.sort((a, b) => a.legIndex - b.legIndex) } : null;
  }
  return { ok: true, replay: true, exception: { ...exception, resolution }, resolution, transfer };
}

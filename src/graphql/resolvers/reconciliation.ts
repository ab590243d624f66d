// Thin: the reconciliation fields call src/reconciliation (which authorizes) and map outcomes.
import type { Problem } from "../../domain/problems.js";
import type {
  MutationResolvers,
  QueryResolvers,
  ReconciliationExceptionResolvers,
  ReconciliationResolutionResolvers,
  ReconciliationRunResolvers,
  StatementResolvers,
} from "../../generated/graphql.js";
import { checkAccountVisible, globalAccountVisible } from "../../ledger/authorization.js";
import { listExceptions, resolveException, type ReconciliationException as ExceptionRecord } from "../../reconciliation/exceptions.js";
import { exceptionGlobalId, runGlobalId, statementGlobalId } from "../../reconciliation/ids.js";
import { isReconciled, reconcileStatement, runsOf, type ReconciliationRun as RunRecord } from "../../reconciliation/runs.js";
import {
  appendStatementLines,
  findStatement,
  importStatement,
  listStatements,
  statementLines,
  type Statement as StatementRecord,
} from "../../reconciliation/statements.js";
import type { Context } from "../context.js";
import { connection, decodeCursor, encodeCursor, isInstantIdCursor, isSerialCursor, pageSize } from "../cursors.js";
import { primeTransfer } from "../loaders.js";
import { fromGlobalId } from "../../domain/ids.js";
import { parseInstant } from "../../domain/instant.js";

const problemResult = (problem: Problem, replay = false) => ({ ...problem, replay });

const isNumberCursor = isSerialCursor("n");

export const reconciliationQueries: Pick<Required<QueryResolvers>, "statements" | "statement" | "reconciliationExceptions"> = {
  statements: async (_, { accountId, first, after }, ctx) => {
    if (accountId && !globalAccountVisible(ctx.access, accountId)) return connection([], false, () => "");
    const cursor = decodeCursor(after, isInstantIdCursor);
    const { rows, hasNextPage } = await listStatements(
      ctx.db,
      ctx.access,
      accountId ? (fromGlobalId("Account", accountId) ?? "00000000-0000-0000-0000-000000000000") : null,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor && { createdAt: parseInstant(cursor.t)!, id: cursor.id },
    );
    return connection(rows, hasNextPage, (row) => encodeCursor({ t: row.createdAt.toISOString(), id: row.id }));
  },
  statement: (_, { id }, ctx) => findStatement(ctx.db, ctx.access, id),
  reconciliationExceptions: async (_, { filter, first, after }, ctx) => {
    const cursor = decodeCursor(after, isNumberCursor);
    const page = await listExceptions(
      ctx.db,
      ctx.access,
      filter,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor ? BigInt(cursor.n) : null,
    );
    if (!page) return connection([], false, () => "");
    return connection(page.rows, page.hasNextPage, (row) => encodeCursor({ n: row.id.toString() }));
  },
};

export const reconciliationMutations: Pick<
  Required<MutationResolvers>,
  "importStatement" | "appendStatementLines" | "reconcileStatement" | "resolveReconciliationException"
> = {
  importStatement: async (_, { input }, ctx) => {
    const outcome = await importStatement(ctx.db, ctx.access, input, ctx.limits);
    return outcome.ok
      ? { __typename: "StatementImported" as const, statement: outcome.statement, replay: outcome.replay }
      : problemResult(outcome.problem);
  },
  appendStatementLines: async (_, { input }, ctx) => {
    const outcome = await appendStatementLines(ctx.db, ctx.access, input, ctx.limits);
    return outcome.ok
      ? {
          __typename: "StatementLinesAppended" as const,
          statement: outcome.statement,
          replay: outcome.replay,
          firstLineNo: outcome.firstLineNo!,
        }
      : problemResult(outcome.problem);
  },
  reconcileStatement: async (_, { input }, ctx) => {
    const outcome = await reconcileStatement(ctx.db, ctx.access, input);
    return outcome.ok ? { __typename: "StatementReconciled" as const, run: outcome.run } : problemResult(outcome.problem);
  },
  resolveReconciliationException: async (_, { input }, ctx) => {
    const outcome = await resolveException(ctx.db, ctx.access, input, ctx.limits);
    if (!outcome.ok) return problemResult(outcome.problem, outcome.replay);
    if (outcome.transfer) primeTransfer(ctx.loaders, outcome.transfer);
    return {
      __typename: "ReconciliationExceptionResolved" as const,
      exception: outcome.exception,
      resolution: outcome.resolution,
      replay: outcome.replay,
    };
  },
};

export const Statement: StatementResolvers<Context, StatementRecord> = {
  id: (statement) => statementGlobalId(statement.id),
  account: async (statement, _, ctx) => {
    checkAccountVisible(ctx.access, statement.accountId);
    return (await ctx.loaders.account.load(statement.accountId))!;
  },
  lines: async (statement, { first, after }, ctx) => {
    const cursor = decodeCursor(after, isNumberCursor);
    const { rows, hasNextPage } = await statementLines(
      ctx.db,
      statement,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor ? Number(cursor.n) : null,
    );
    return connection(rows, hasNextPage, (row) => encodeCursor({ n: String(row.lineNo) }));
  },
  latestRun: async (statement, _, ctx) => (await runsOf(ctx.db, statement.id, 1))[0] ?? null,
  runs: (statement, { first }, ctx) => runsOf(ctx.db, statement.id, pageSize(first, ctx.limits.pageSizeMax)),
};

/** A run's statement, read once per request. */
const statementOfRun = async (run: RunRecord, ctx: Context) =>
  (await findStatement(ctx.db, ctx.access, statementGlobalId(run.statementId)))!;

const comparison = (statement: bigint, ledger: bigint) => ({ statement, ledger, difference: statement - ledger });

export const ReconciliationRun: ReconciliationRunResolvers<Context, RunRecord> = {
  id: (run) => runGlobalId(run.id),
  statement: (run, _, ctx) => statementOfRun(run, ctx),
  timeToleranceSeconds: (run) => run.rules.timeToleranceSeconds,
  opening: async (run, _, ctx) => comparison((await statementOfRun(run, ctx)).openingBalance, run.ledgerOpeningBalance),
  closing: async (run, _, ctx) => comparison((await statementOfRun(run, ctx)).closingBalance, run.ledgerClosingBalance),
  reconciled: async (run, _, ctx) => isReconciled(run, await statementOfRun(run, ctx)),
};

export const ReconciliationException: ReconciliationExceptionResolvers<Context, ExceptionRecord> = {
  id: (exception) => exceptionGlobalId(exception.id),
  entries: async (exception, _, ctx) =>
    (await ctx.loaders.entry.loadMany(exception.entryIds)).filter((e) => e !== null && !(e instanceof Error)) as never,
  difference: (exception) => (exception.line ? exception.lineAmount! - (exception.ledgerAmount ?? 0n) : -(exception.ledgerAmount ?? 0n)),
};

export const ReconciliationResolution: ReconciliationResolutionResolvers = {
  transfer: (resolution, _, ctx) => (resolution.transferId ? ctx.loaders.transfer.load(resolution.transferId) : null),
  resolvedAt: (resolution) => resolution.createdAt,
  credential: (resolution) => resolution.via,
  keyId: (resolution) => resolution.keyId,
};

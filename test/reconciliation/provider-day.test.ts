// A payment provider's day, as the payment designs describe it: captures and refunds posted
// through the API, the provider's statement of the same day with four kinds of difference,
// each classified, resolved (by a correcting transfer or accepted), and a re-run that shows the
// statement reconciled.
import { beforeAll, describe, expect, it } from "vitest";
import { advanceClock } from "../support/clock.js";
import { createAccount, key } from "../support/ledger-client.js";
import { useTestService, type TestTenant } from "../support/service.js";
import {
  exceptionsQuery,
  importStatementMutation,
  appendLinesMutation,
  reconcileMutation,
  resolveMutation,
  type LineInput,
} from "../support/reconciliation-api.js";

const service = useTestService();

const captures = 900;
const refunds = 100;

interface Posted {
  ref: string;
  amount: string;
  direction: "DEBIT" | "CREDIT";
  createdAt: string;
}

describe("reconciling a provider's day", () => {
  let tenant: TestTenant;
  let clearing: { id: string; code: string };
  let revenue: { id: string; code: string };
  const posted: Posted[] = [];
  let periodStart: string;
  let periodEnd: string;
  let statementId: string;
  let lines: LineInput[];
  const byStatus = new Map<string, any>();

  beforeAll(async () => {
    tenant = await service.newTenant("provider day");
    clearing = await createAccount(tenant, { code: "psp:stripe:clearing", normalSide: "DEBIT", minBalance: null });
    revenue = await createAccount(tenant, { code: "revenue", normalSide: "CREDIT", minBalance: null });
    periodStart = new Date(Date.now() - 1000).toISOString();
    // 900 captures (money arrives at the provider: the clearing account is debited), then 100
    // refunds of some of them (sharing the charge's ref), posted in batches through the API.
    const transfers = [
      ...Array.from({ length: captures }, (_, i) => ({
        ref: `ch_${i}`,
        amount: String(100 + ((i * 37) % 9000)),
        from: clearing.id,
        to: revenue.id,
      })),
      ...Array.from({ length: refunds }, (_, i) => ({ ref: `ch_${i * 7}`, amount: String(50 + i), from: revenue.id, to: clearing.id })),
    ];
    for (let at = 0; at < transfers.length; at += 100) {
      const data = await tenant.gql(
        `mutation($input: PostTransfersInput!) { postTransfers(input: $input) { __typename ... on TransfersPosted { allSucceeded
          results { ... on TransferPosted { transfer { externalRef createdAt entries { account { id } direction amount } } } } } } }`,
        {
          input: {
            atomic: true,
            transfers: transfers.slice(at, at + 100).map((t) => ({
              idempotencyKey: key("psp"),
              from: { id: t.from },
              to: { id: t.to },
              amount: t.amount,
              currency: "USD",
              externalRef: t.ref,
            })),
          },
        },
      );
      expect(data.postTransfers.allSucceeded).toBe(true);
      for (const { transfer } of data.postTransfers.results) {
        const leg = transfer.entries.find((e: any) => e.account.id === clearing.id);
        posted.push({ ref: transfer.externalRef, amount: leg.amount, direction: leg.direction, createdAt: transfer.createdAt });
      }
    }
    // The period has ended by the tenant's clock once it moves on a minute.
    periodEnd = new Date(Date.now() + 1000).toISOString();
    await advanceClock(service.db.pool, tenant.id, 60_000);

    // The provider's statement: the same movements, except one it does not show, one a minor
    // unit larger, one the ledger never saw, and one listed twice.
    lines = posted.map((p, i) => ({
      externalId: `txn_${i}`,
      // Some lines come without the charge id: they match by amount and time.
      ...(i % 50 === 3 ? {} : { externalRef: p.ref }),
      amount: p.amount,
      direction: p.direction,
      currency: "USD",
      occurredAt: p.createdAt,
      description: p.direction === "DEBIT" ? "charge" : "refund",
    }));
    lines.splice(10, 1); // posted[10]: missing in the statement
    lines[20] = { ...lines[20]!, amount: String(BigInt(lines[20]!.amount) + 1n) }; // posted[21]: one unit more
    lines.push({
      externalId: "txn_unknown",
      externalRef: "ch_unknown",
      amount: "777",
      direction: "DEBIT",
      currency: "USD",
      occurredAt: posted[500]!.createdAt,
    });
    lines.push({ ...lines[30]! }); // a duplicated line (same externalId)
  });

  const signed = (line: LineInput) => (line.direction === "DEBIT" ? BigInt(line.amount) : -BigInt(line.amount));

  it("imports the statement in parts, each part idempotent", async () => {
    const closing = lines.reduce((sum, line) => sum + signed(line), 0n);
    const head = {
      idempotencyKey: key("stmt"),
      accountId: clearing.id,
      source: "stripe",
      periodStart,
      periodEnd,
      openingBalance: "0",
      closingBalance: closing.toString(),
    };
    const imported = await tenant.gql(importStatementMutation, { input: { ...head, lines: lines.slice(0, 400) } });
    expect(imported.importStatement).toMatchObject({ __typename: "StatementImported", replay: false, statement: { lineCount: 400 } });
    statementId = imported.importStatement.statement.id;
    const again = await tenant.gql(importStatementMutation, { input: { ...head, lines: lines.slice(0, 400) } });
    expect(again.importStatement).toMatchObject({ __typename: "StatementImported", replay: true, statement: { id: statementId } });

    const partKey = key("part");
    const part = await tenant.gql(appendLinesMutation, { input: { statementId, idempotencyKey: partKey, lines: lines.slice(400, 800) } });
    expect(part.appendStatementLines).toMatchObject({ __typename: "StatementLinesAppended", replay: false, firstLineNo: 401 });
    const retried = await tenant.gql(appendLinesMutation, {
      input: { statementId, idempotencyKey: partKey, lines: lines.slice(400, 800) },
    });
    expect(retried.appendStatementLines).toMatchObject({ replay: true, firstLineNo: 401, statement: { lineCount: 800 } });
    const conflict = await tenant.gql(appendLinesMutation, { input: { statementId, idempotencyKey: partKey, lines: lines.slice(800) } });
    expect(conflict.appendStatementLines.__typename).toBe("IdempotencyConflict");
    const last = await tenant.gql(appendLinesMutation, { input: { statementId, idempotencyKey: key("part"), lines: lines.slice(800) } });
    expect(last.appendStatementLines).toMatchObject({ firstLineNo: 801, statement: { lineCount: lines.length } });
  });

  it("classifies every line and unmatched entry, and compares the balances", async () => {
    const data = await tenant.gql(reconcileMutation, { input: { statementId, rules: { timeToleranceSeconds: 300 } } });
    const { run } = data.reconcileStatement;
    expect(run.summary).toEqual({
      lines: lines.length,
      matched: lines.length - 3,
      amountMismatch: 1,
      missingInLedger: 1,
      missingInStatement: 1,
      duplicateInStatement: 1,
      open: 4,
      resolved: 0,
    });
    const closing = lines.reduce((sum, line) => sum + signed(line), 0n);
    const ledgerClosing = posted.reduce((sum, p) => sum + (p.direction === "DEBIT" ? BigInt(p.amount) : -BigInt(p.amount)), 0n);
    expect(run.opening).toEqual({ statement: "0", ledger: "0", difference: "0" });
    expect(run.closing).toEqual({
      statement: closing.toString(),
      ledger: ledgerClosing.toString(),
      difference: (closing - ledgerClosing).toString(),
    });
    expect(run).toMatchObject({ statementConsistent: true, reconciled: false, timeToleranceSeconds: 300 });

    const exceptions = await tenant.gql(exceptionsQuery, { filter: { statementId, open: true } });
    for (const exception of exceptions.reconciliationExceptions.nodes) byStatus.set(exception.status, exception);
    expect([...byStatus.keys()].sort()).toEqual(["AMOUNT_MISMATCH", "DUPLICATE_IN_STATEMENT", "MISSING_IN_LEDGER", "MISSING_IN_STATEMENT"]);
    expect(byStatus.get("MISSING_IN_STATEMENT")).toMatchObject({
      line: null,
      externalRef: posted[10]!.ref,
      ledgerAmount: posted[10]!.amount,
    });
    expect(byStatus.get("MISSING_IN_STATEMENT").entries).toHaveLength(1);
    expect(byStatus.get("AMOUNT_MISMATCH")).toMatchObject({
      externalRef: posted[21]!.ref,
      difference: "1",
      line: { externalId: "txn_21" },
    });
    expect(byStatus.get("MISSING_IN_LEDGER")).toMatchObject({
      externalRef: "ch_unknown",
      lineAmount: "777",
      ledgerAmount: null,
      difference: "777",
    });
    expect(byStatus.get("DUPLICATE_IN_STATEMENT").line).toMatchObject({ externalId: "txn_31", lineNo: lines.length });
  });

  it("resolves exceptions by a correcting transfer or by accepting them, once, with the credential that did it", async () => {
    const missing = byStatus.get("MISSING_IN_LEDGER");
    const correctionKey = key("fix");
    const corrected = await tenant.gql(resolveMutation, {
      input: { exceptionId: missing.id, idempotencyKey: correctionKey, correctingTransfer: { counterparty: { id: revenue.id } } },
    });
    const resolved = corrected.resolveReconciliationException;
    expect(resolved).toMatchObject({
      __typename: "ReconciliationExceptionResolved",
      replay: false,
      resolution: { kind: "CORRECTING_TRANSFER", credential: "API_KEY", transfer: { externalRef: "ch_unknown" } },
    });
    expect(resolved.resolution.transfer.entries).toEqual(
      expect.arrayContaining([{ account: { id: clearing.id }, direction: "DEBIT", amount: "777" }]),
    );
    const replayed = await tenant.gql(resolveMutation, {
      input: { exceptionId: missing.id, idempotencyKey: correctionKey, correctingTransfer: { counterparty: { id: revenue.id } } },
    });
    expect(replayed.resolveReconciliationException).toMatchObject({ replay: true, resolution: { id: resolved.resolution.id } });
    const twice = await tenant.gql(resolveMutation, {
      input: { exceptionId: missing.id, idempotencyKey: key("fix"), acceptDifference: { note: "again" } },
    });
    expect(twice.resolveReconciliationException.__typename).toBe("ExceptionAlreadyResolved");

    const duplicate = byStatus.get("DUPLICATE_IN_STATEMENT");
    const notApplicable = await tenant.gql(resolveMutation, {
      input: { exceptionId: duplicate.id, idempotencyKey: key("fix"), correctingTransfer: { counterparty: { id: revenue.id } } },
    });
    expect(notApplicable.resolveReconciliationException).toMatchObject({ __typename: "InvalidInput", reason: "RESOLUTION_NOT_APPLICABLE" });
    const both = await tenant.gql(resolveMutation, {
      input: {
        exceptionId: duplicate.id,
        idempotencyKey: key("fix"),
        acceptDifference: { note: "x" },
        correctingTransfer: { counterparty: { id: revenue.id } },
      },
    });
    expect(both.resolveReconciliationException).toMatchObject({ __typename: "InvalidInput", reason: "EXACTLY_ONE_OF" });

    for (const [status, note] of [
      ["AMOUNT_MISMATCH", "provider fee rounding, accepted by finance"],
      ["MISSING_IN_STATEMENT", "settles on the next statement"],
      ["DUPLICATE_IN_STATEMENT", "the provider listed txn_31 twice"],
    ] as const) {
      const accepted = await tenant.gql(resolveMutation, {
        input: { exceptionId: byStatus.get(status).id, idempotencyKey: key("ok"), acceptDifference: { note } },
      });
      expect(accepted.resolveReconciliationException).toMatchObject({ resolution: { kind: "ACCEPTED_DIFFERENCE", note, transfer: null } });
    }
    const open = await tenant.gql(exceptionsQuery, { filter: { statementId, open: true } });
    expect(open.reconciliationExceptions.nodes).toEqual([]);
  });

  it("shows the statement reconciled on a re-run", async () => {
    const data = await tenant.gql(reconcileMutation, { input: { statementId, rules: { timeToleranceSeconds: 300 } } });
    const { run } = data.reconcileStatement;
    // The corrected line now matches its correcting transfer; the accepted ones stay what they are, settled.
    expect(run.summary).toMatchObject({
      matched: lines.length - 2,
      missingInLedger: 0,
      amountMismatch: 1,
      duplicateInStatement: 1,
      missingInStatement: 1,
      open: 0,
      resolved: 3,
    });
    expect(run.reconciled).toBe(true);
    const statement = await tenant.gql(`query($id: ID!) { statement(id: $id) { runs { id reconciled } latestRun { id } } }`, {
      id: statementId,
    });
    expect(statement.statement.runs.map((r: any) => r.reconciled)).toEqual([true, false]);
    expect(statement.statement.latestRun.id).toBe(run.id);
  });
});

// Statements refused: each mistake is a typed error and writes nothing.
import { describe, expect, it } from "vitest";
import { advanceClock } from "../support/clock.js";
import { createAccount, key, mintToken } from "../support/ledger-client.js";
import { appendLinesMutation, importStatementMutation, reconcileMutation } from "../support/reconciliation-api.js";
import { useTestService, type TestTenant } from "../support/service.js";

const service = useTestService({ statementLinesPerCallMax: 3 });

const hour = 3600_000;
const periodStart = new Date(Date.now() - 3 * hour).toISOString();
const periodEnd = new Date(Date.now() - hour).toISOString();
const inPeriod = new Date(Date.now() - 2 * hour).toISOString();
const line = (overrides: Record<string, unknown> = {}) => ({
  externalId: key("txn"),
  amount: "100",
  direction: "DEBIT",
  currency: "USD",
  occurredAt: inPeriod,
  ...overrides,
});

async function statementInput(tenant: TestTenant, overrides: Record<string, unknown> = {}) {
  const account = await createAccount(tenant, { normalSide: "DEBIT" });
  return {
    idempotencyKey: key("stmt"),
    accountId: account.id,
    source: "bank",
    periodStart,
    periodEnd,
    openingBalance: "0",
    closingBalance: "100",
    lines: [line()],
    ...overrides,
  };
}

async function statementCount(tenant: TestTenant): Promise<number> {
  const { rows } = await service.db.pool.query("SELECT count(*)::int AS n FROM statements WHERE tenant_id = $1", [tenant.id]);
  return rows[0].n;
}

describe("importing a statement with a mistake", () => {
  it.each([
    [
      "a line in another currency than the account",
      { lines: [line({ currency: "EUR" })] },
      { __typename: "InvalidInput", field: "lines[0].currency", reason: "CURRENCY_MISMATCH" },
    ],
    [
      "an amount with a fraction",
      { lines: [line({ amount: "10.5" })] },
      { __typename: "InvalidInput", field: "lines[0].amount", reason: "AMOUNT_NOT_INTEGER" },
    ],
    [
      "an amount that is a JSON number",
      { lines: [line({ amount: 100 })] },
      { __typename: "InvalidInput", field: "lines[0].amount", reason: "AMOUNT_NOT_A_STRING" },
    ],
    ["a zero amount", { lines: [line({ amount: "0" })] }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE" }],
    [
      "a balance that is a JSON number",
      { closingBalance: 100 },
      { __typename: "InvalidInput", field: "closingBalance", reason: "AMOUNT_NOT_A_STRING" },
    ],
    [
      "a period that ends before it starts",
      { periodStart: periodEnd, periodEnd: periodStart },
      { __typename: "InvalidInput", field: "periodEnd", reason: "RANGE_INVERTED" },
    ],
    [
      "a period that has not ended",
      { periodEnd: new Date(Date.now() + hour).toISOString() },
      { __typename: "InvalidInput", field: "periodEnd", reason: "PERIOD_NOT_ENDED" },
    ],
    [
      "a line outside the period",
      { lines: [line({ occurredAt: periodEnd })] },
      { __typename: "InvalidInput", field: "lines[0].occurredAt", reason: "OUT_OF_PERIOD" },
    ],
    [
      "an empty externalId",
      { lines: [line({ externalId: "" })] },
      { __typename: "InvalidInput", field: "lines[0].externalId", reason: "EMPTY" },
    ],
    [
      "more lines than one call may carry",
      { lines: [line(), line(), line(), line()] },
      { __typename: "LimitExceeded", limit: "statementLinesPerCallMax" },
    ],
    ["an unknown account", { accountId: "acct_00000000-0000-4000-8000-000000000000" }, { __typename: "AccountNotFound" }],
    ["an empty source", { source: " " }, { __typename: "InvalidInput", field: "source", reason: "EMPTY" }],
  ])("refuses %s and writes nothing", async (_, overrides, problem) => {
    const tenant = await service.newTenant("statement input");
    const data = await tenant.gql(importStatementMutation, { input: await statementInput(tenant, overrides) });
    expect(data.importStatement).toMatchObject(problem);
    expect(await statementCount(tenant)).toBe(0);
  });

  it("answers the same key with another request as IdempotencyConflict, keeping the first", async () => {
    const tenant = await service.newTenant("statement conflict");
    const input = await statementInput(tenant);
    expect((await tenant.gql(importStatementMutation, { input })).importStatement.__typename).toBe("StatementImported");
    const changed = await tenant.gql(importStatementMutation, { input: { ...input, closingBalance: "101" } });
    expect(changed.importStatement.__typename).toBe("IdempotencyConflict");
    expect(await statementCount(tenant)).toBe(1);
  });

  it("treats another tenant's statement id as unknown for reading, appending and reconciling", async () => {
    const owner = await service.newTenant("statement owner");
    const other = await service.newTenant("statement other");
    const { statement } = (await owner.gql(importStatementMutation, { input: await statementInput(owner) })).importStatement;
    expect((await other.gql(`query($id: ID!) { statement(id: $id) { id } }`, { id: statement.id })).statement).toBeNull();
    const appended = await other.gql(appendLinesMutation, {
      input: { statementId: statement.id, idempotencyKey: key("p"), lines: [line()] },
    });
    expect(appended.appendStatementLines.__typename).toBe("StatementNotFound");
    const run = await other.gql(reconcileMutation, { input: { statementId: statement.id } });
    expect(run.reconcileStatement.__typename).toBe("StatementNotFound");
    const { rows } = await service.db.pool.query("SELECT line_count FROM statements WHERE id = $1", [statement.id.slice(5)]);
    expect(rows[0].line_count).toBe(1);
  });

  it("refuses a read-only token and hides statements of accounts a token may not see", async () => {
    const tenant = await service.newTenant("statement tokens");
    const input = await statementInput(tenant);
    const readOnly = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY" }));
    const refused = await readOnly.request(importStatementMutation, { input });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await statementCount(tenant)).toBe(0);
    const { statement } = (await tenant.gql(importStatementMutation, { input })).importStatement;
    const elsewhere = await createAccount(tenant);
    const limited = service.as(tenant, await mintToken(tenant, { scope: "READ_WRITE", accountIds: [elsewhere.id] }));
    expect((await limited.gql(`query($id: ID!) { statement(id: $id) { id } }`, { id: statement.id })).statement).toBeNull();
    expect((await limited.gql(`{ statements { nodes { id } } }`)).statements.nodes).toEqual([]);
    const own = service.as(tenant, await mintToken(tenant, { scope: "READ_ONLY", accountIds: [input.accountId] }));
    expect((await own.gql(`{ statements { nodes { id } } }`)).statements.nodes).toEqual([{ id: statement.id }]);
  });

  it("refuses a time tolerance out of range", async () => {
    const tenant = await service.newTenant("statement tolerance");
    await advanceClock(service.db.pool, tenant.id, 0);
    const { statement } = (await tenant.gql(importStatementMutation, { input: await statementInput(tenant) })).importStatement;
    const run = await tenant.gql(reconcileMutation, { input: { statementId: statement.id, rules: { timeToleranceSeconds: -1 } } });
    expect(run.reconcileStatement).toMatchObject({ __typename: "InvalidInput", reason: "TOLERANCE_OUT_OF_RANGE" });
  });
});

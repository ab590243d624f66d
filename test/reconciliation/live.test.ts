// reconciliationChanged: a finance screen hears when a run finishes and when an exception is
// resolved, for the statements it may see.
import { describe, expect, it } from "vitest";
import { createAccount, key } from "../support/ledger-client.js";
import { connectLive } from "../support/live-client.js";
import { exceptionsQuery, importStatementMutation, reconcileMutation, resolveMutation } from "../support/reconciliation-api.js";
import { useTestService } from "../support/service.js";

const service = useTestService();

const changes = `subscription($id: ID!) { reconciliationChanged(statementId: $id) { kind statement { id latestRun { summary { open } } } } }`;

describe("reconciliationChanged", () => {
  it("reports a finished run and a resolved exception of the statement, and nothing of others", async () => {
    const tenant = await service.newTenant("reconciliation live");
    const account = await createAccount(tenant, { normalSide: "DEBIT" });
    const hour = 3600_000;
    const statementOf = async () =>
      (
        await tenant.gql(importStatementMutation, {
          input: {
            idempotencyKey: key("stmt"),
            accountId: account.id,
            source: "bank",
            periodStart: new Date(Date.now() - 2 * hour).toISOString(),
            periodEnd: new Date(Date.now() - hour).toISOString(),
            openingBalance: "0",
            closingBalance: "5",
            lines: [
              {
                externalId: key("txn"),
                amount: "5",
                direction: "DEBIT",
                currency: "USD",
                occurredAt: new Date(Date.now() - 1.5 * hour).toISOString(),
              },
            ],
          },
        })
      ).importStatement.statement.id as string;
    const watched = await statementOf();
    const other = await statementOf();
    const live = connectLive(service.service.url, tenant.key);
    const subscription = live.subscribe(changes, { id: watched });
    const unknown = live.subscribe(changes, { id: "stmt_00000000-0000-4000-8000-000000000000" });
    await unknown.ended();
    expect(JSON.stringify(unknown.errors)).toContain("StatementNotFound");
    // Let the subscription register before the changes (its first event is the run below).
    await new Promise((resolve) => setTimeout(resolve, 300));

    await tenant.gql(reconcileMutation, { input: { statementId: other } });
    await tenant.gql(reconcileMutation, { input: { statementId: watched } });
    const [finished] = await subscription.waitFor(1);
    expect(finished).toEqual({
      reconciliationChanged: { kind: "RUN_FINISHED", statement: { id: watched, latestRun: { summary: { open: 1 } } } },
    });

    const [exception] = (await tenant.gql(exceptionsQuery, { filter: { statementId: watched } })).reconciliationExceptions.nodes;
    expect(exception.status).toBe("MISSING_IN_LEDGER");
    await tenant.gql(resolveMutation, {
      input: { exceptionId: exception.id, idempotencyKey: key("ok"), acceptDifference: { note: "bank fee" } },
    });
    const events = await subscription.waitFor(2);
    expect(events[1]).toEqual({
      reconciliationChanged: { kind: "EXCEPTION_RESOLVED", statement: { id: watched, latestRun: { summary: { open: 1 } } } },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscription.events).toHaveLength(2);
    subscription.unsubscribe();
    await live.dispose();
  });
});

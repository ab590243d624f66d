// The dashboard's statement pages in headless Chromium, served by the real service: a provider's
// statement of a clearing account with one line the ledger never saw, reconciled once through the
// API; in the browser (a READ_WRITE token limited to the clearing account) the summary and the
// balances, accepting the exception with a note, "Reconcile now", and a run made through the API
// arriving over reconciliationChanged. A READ_ONLY token's "Accept" shows FORBIDDEN and stays
// signed in. Screenshot: docs/screenshots/dashboard-statement.png.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { byTestId, chromiumMissing, launchChromium, openPage, screenshot, textOf, waitText, type WatchedPage } from "../support/browser.js";
import { advanceClock } from "../support/clock.js";
import { createAccount, createFundingAccount, key, mintToken, transferBetween } from "../support/ledger-client.js";
import { importStatementMutation, reconcileMutation, type LineInput } from "../support/reconciliation-api.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

const e2e = describe.skipIf(chromiumMissing !== null);
if (chromiumMissing) describe("dashboard statements in Chromium", () => it.skip(`skipped: ${chromiumMissing}`, () => {}));

let service: TestService;
let tenant: TestTenant;
let browser: Browser;
let watched: WatchedPage;
let readOnly: WatchedPage;
let clearing: { id: string; code: string };
let statementId: string;

const dashboardUrl = () => service.service.url.replace(/graphql$/, "dashboard/");

async function signIn(page: Page, token: string, hash = ""): Promise<void> {
  await page.goto(dashboardUrl() + hash);
  await byTestId(page, "token-input").fill(token);
  await byTestId(page, "sign-in").click();
  await byTestId(page, "viewer").waitFor();
}

/** The one exception row's id (rex_...); ids change with each run. */
async function exceptionId(page: Page): Promise<string> {
  const row = page.locator('[data-testid^="exception-row-"]');
  await row.first().waitFor();
  expect(await row.count()).toBe(1);
  return (await row.first().getAttribute("data-testid"))!.replace("exception-row-", "");
}

e2e("dashboard statements in Chromium", () => {
  beforeAll(async () => {
    service = await startTestService();
    tenant = await service.newTenant("dashboard statements e2e");
    const funding = await createFundingAccount(tenant);
    clearing = await createAccount(tenant, { code: key("psp:clearing"), name: "Provider clearing", normalSide: "DEBIT", minBalance: null });
    const revenue = await createAccount(tenant, { code: key("revenue"), normalSide: "CREDIT", minBalance: null });
    const periodStart = new Date(Date.now() - 1000).toISOString();
    // Captures (the clearing account is debited); each statement line matches one by amount and time.
    const lines: LineInput[] = [];
    for (const [i, amount] of ["1050", "2500", "499"].entries()) {
      expect((await transferBetween(tenant, clearing.id, revenue.id, amount)).__typename).toBe("TransferPosted");
      lines.push({
        externalId: `txn_${i}`,
        amount,
        direction: "DEBIT",
        currency: "USD",
        occurredAt: new Date().toISOString(),
        description: "charge",
      });
    }
    // Not on the clearing account: its statement below is not the token's.
    await transferBetween(tenant, funding.id, revenue.id, "100");
    lines.push({
      externalId: "txn_unknown",
      amount: "777",
      direction: "DEBIT",
      currency: "USD",
      occurredAt: new Date().toISOString(),
      description: "charge the ledger never saw",
    });
    const periodEnd = new Date(Date.now() + 1000).toISOString();
    // The period has ended by the tenant's clock.
    await advanceClock(service.db.pool, tenant.id, 60_000);
    const imported = await tenant.gql(importStatementMutation, {
      input: {
        idempotencyKey: key("stmt"),
        accountId: clearing.id,
        source: "stripe",
        periodStart,
        periodEnd,
        openingBalance: "0",
        closingBalance: "4826",
        lines,
      },
    });
    expect(imported.importStatement.__typename).toBe("StatementImported");
    statementId = imported.importStatement.statement.id;
    const other = await tenant.gql(importStatementMutation, {
      input: {
        idempotencyKey: key("stmt"),
        accountId: revenue.id,
        source: "bank",
        periodStart,
        periodEnd,
        openingBalance: "0",
        closingBalance: "0",
        lines: [],
      },
    });
    expect(other.importStatement.__typename).toBe("StatementImported");

    const { reconcileStatement } = await tenant.gql(reconcileMutation, { input: { statementId } });
    expect(reconcileStatement.run).toMatchObject({
      reconciled: false,
      summary: { lines: 4, matched: 3, missingInLedger: 1, open: 1, resolved: 0 },
      closing: { statement: "4826", ledger: "4049", difference: "777" },
    });

    browser = await launchChromium();
    const origin = service.service.url.replace(/\/graphql$/, "");
    watched = await openPage(browser, origin);
    readOnly = await openPage(browser, origin);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("lists the token's statements with the latest run's status, from a link on the accounts page", async () => {
    const token = await mintToken(tenant, { scope: "READ_WRITE", accountIds: [clearing.id], ttlSeconds: 600 });
    const { page } = watched;
    await signIn(page, token);
    await byTestId(page, `account-row-${clearing.id}`).waitFor();
    expect(await page.locator('[data-testid^="account-row-"]').count()).toBe(1);
    await byTestId(page, "statements-link").click();
    await waitText(page, `statement-status-${statementId}`, "1 open exception");
    expect(await page.locator('[data-testid^="statement-row-"]').count()).toBe(1);
    expect(await byTestId(page, `statement-row-${statementId}`).textContent()).toContain("stripe");
  });

  it("shows the latest run's summary and the balances against the ledger's", async () => {
    const { page } = watched;
    await byTestId(page, `statement-row-${statementId}`).click();
    await waitText(page, "run-status", "1 open exception");
    expect(await textOf(page, "summary-open")).toBe("1");
    expect(await textOf(page, "summary-matched")).toBe("3");
    expect(await textOf(page, "summary-missingInLedger")).toBe("1");
    expect(await textOf(page, "opening-difference")).toBe("0.00 USD");
    expect(await textOf(page, "closing-statement")).toBe("48.26 USD");
    expect(await textOf(page, "closing-ledger")).toBe("40.49 USD");
    expect(await textOf(page, "closing-difference")).toBe("7.77 USD");
    const id = await exceptionId(page);
    expect(await textOf(page, `exception-status-${id}`)).toBe("missing in ledger");
    const row = await byTestId(page, `exception-row-${id}`).textContent();
    expect(row).toContain("txn_unknown");
    expect(row).toContain("7.77 USD");
  });

  it("shows a READ_ONLY token's Accept refused (FORBIDDEN) in the error box, still signed in", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", accountIds: [clearing.id], ttlSeconds: 600 });
    const { page } = readOnly;
    await signIn(page, token, `#/statements/${statementId}`);
    const id = await exceptionId(page);
    await byTestId(page, `exception-note-${id}`).fill("looks fine");
    await byTestId(page, `exception-accept-${id}`).click();
    await byTestId(page, "statement-error").waitFor();
    expect(await textOf(page, "statement-error")).toContain("FORBIDDEN");
    expect(await byTestId(page, "viewer").isVisible()).toBe(true);
    expect(await byTestId(page, `exception-accept-${id}`).isVisible()).toBe(true);
    await page.close();
  });

  it("accepts the exception with a note, then Reconcile now shows the statement reconciled", async () => {
    const { page } = watched;
    const id = await exceptionId(page);
    await byTestId(page, `exception-note-${id}`).fill("charge refunded by the provider the same day");
    await byTestId(page, `exception-accept-${id}`).click();
    await byTestId(page, `exception-resolution-${id}`).waitFor();
    expect(await textOf(page, `exception-resolution-${id}`)).toContain("accepted charge refunded by the provider the same day");
    expect(await textOf(page, `exception-resolution-${id}`)).toContain("access token");
    expect(await byTestId(page, "statement-error").count()).toBe(0);

    await byTestId(page, "reconcile-now").click();
    await waitText(page, "run-status", "reconciled");
    expect(await textOf(page, "summary-open")).toBe("0");
    expect(await textOf(page, "summary-resolved")).toBe("1");
    // The accepted line stays what it is, settled, in the new run's exceptions.
    const after = await exceptionId(page);
    expect(await textOf(page, `exception-resolution-${after}`)).toContain("charge refunded by the provider the same day");
    await screenshot(page, "dashboard-statement.png", true);
  });

  it("shows a run made through the API without a reload (reconciliationChanged)", async () => {
    const { page } = watched;
    await waitText(page, "live-status", "live");
    const shown = await textOf(page, "run-id");
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const { reconcileStatement } = await tenant.gql(reconcileMutation, { input: { statementId } });
    expect(reconcileStatement.run.id).not.toBe(shown);
    await waitText(page, "run-id", reconcileStatement.run.id);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await textOf(page, "run-status")).toBe("reconciled");

    await byTestId(page, "nav-statements").click();
    await waitText(page, `statement-status-${statementId}`, "reconciled");
  });

  it("needed nothing beyond the service and raised no page errors", () => {
    expect(watched.offOrigin).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    expect(readOnly.offOrigin).toEqual([]);
    expect(readOnly.pageErrors).toEqual([]);
  });
});

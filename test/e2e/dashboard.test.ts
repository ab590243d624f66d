// The example dashboard in headless Chromium, served by the real service: sign in with an access
// token, watch a balance change live after a transfer is posted through the API, read the past
// balance with the as-of picker. Screenshots go to docs/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { byTestId, chromiumMissing, launchChromium, openPage, screenshot, textOf, waitText, type WatchedPage } from "../support/browser.js";
import { createAccount, createFundingAccount, createHold, key, mintToken, transferBetween } from "../support/ledger-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

const e2e = describe.skipIf(chromiumMissing !== null);
if (chromiumMissing) describe("dashboard in Chromium", () => it.skip(`skipped: ${chromiumMissing}`, () => {}));

let service: TestService;
let tenant: TestTenant;
let browser: Browser;
let watched: WatchedPage;
let merchant: { id: string; code: string };
let funding: string;
/** An instant between the first and the second transfer to the merchant. */
let between: Date;

/** datetime-local's value for an instant; the browser runs in UTC. */
const localValue = (date: Date) => date.toISOString().slice(0, 19);

e2e("dashboard in Chromium", () => {
  beforeAll(async () => {
    service = await startTestService();
    tenant = await service.newTenant("dashboard e2e");
    funding = (await createFundingAccount(tenant)).id;
    merchant = await createAccount(tenant, { code: key("merchant:shop"), name: "Corner Shop" });
    const payout = await createAccount(tenant, { code: key("merchant:payouts"), name: "Corner Shop payouts" });
    await transferBetween(tenant, funding, merchant.id, "10000");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    between = new Date(Math.floor(Date.now() / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await transferBetween(tenant, funding, merchant.id, "2500");
    await transferBetween(tenant, merchant.id, payout.id, "1000");
    await createHold(tenant, {
      from: { id: merchant.id },
      to: { id: payout.id },
      amount: "499",
      currency: "USD",
      description: "pending payout",
    });
    browser = await launchChromium();
    watched = await openPage(browser, service.service.url.replace(/\/graphql$/, ""));
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("signs in with an access token limited to the merchant's accounts and shows their balances", async () => {
    const token = await mintToken(tenant, { scope: "READ_ONLY", accountIds: [merchant.id], ttlSeconds: 600 });
    const { page } = watched;
    await page.goto(service.service.url.replace(/graphql$/, "dashboard/"));
    await byTestId(page, "token-input").fill(token);
    await byTestId(page, "sign-in").click();
    await waitText(page, `posted-${merchant.id}`, "115.00 USD");
    expect(await textOf(page, `pending-${merchant.id}`)).toBe("-4.99 USD");
    expect(await textOf(page, `available-${merchant.id}`)).toBe("110.01 USD");
    expect(await page.locator('[data-testid^="account-row-"]').count()).toBe(1);
    expect(await page.evaluate(() => [sessionStorage.getItem("ledger.accessToken") !== null, localStorage.length])).toEqual([true, 0]);
  });

  it("shows a balance change live after a transfer is posted through the API", async () => {
    const { page } = watched;
    await waitText(page, "live-status", "live");
    await transferBetween(tenant, funding, merchant.id, "555");
    await waitText(page, `posted-${merchant.id}`, "120.55 USD");
    expect(await textOf(page, `available-${merchant.id}`)).toBe("115.56 USD");
    await screenshot(page, "dashboard.png");
  });

  it("opens the account with its history, holds and chart, and the as-of picker shows the past balance", async () => {
    const { page } = watched;
    await byTestId(page, `account-row-${merchant.id}`).click();
    await byTestId(page, "account-header").waitFor();
    await page.locator('[data-testid^="entry-row-"]').first().waitFor();
    expect(await page.locator('[data-testid^="entry-row-"]').count()).toBe(5); // 4 transfers and the hold
    expect(await byTestId(page, "holds-table").textContent()).toContain("4.99 USD");
    await byTestId(page, "balance-chart").waitFor();

    await byTestId(page, "asof-input").fill(localValue(between));
    await byTestId(page, "asof-submit").click();
    await waitText(page, "asof-posted", "100.00 USD");
    expect(await textOf(page, "asof-pending")).toBe("0.00 USD");

    // Still live on the account page.
    await transferBetween(tenant, funding, merchant.id, "1");
    await waitText(page, `posted-${merchant.id}`, "120.56 USD");
    await screenshot(page, "dashboard-account.png", true);
  });

  it("needed nothing beyond the service and raised no page errors", () => {
    expect(watched.offOrigin).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
  });
});

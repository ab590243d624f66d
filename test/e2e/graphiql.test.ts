// The service's own GraphiQL in headless Chromium: it loads with nothing but the service, runs a
// query and a mutation with access tokens, and shows a subscription event after a transfer is posted through
// the API. Screenshots go to docs/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { chromiumMissing, launchChromium, openPage, screenshot, type WatchedPage } from "../support/browser.js";
import { createAccount, createFundingAccount, key, mintToken, transferBetween } from "../support/ledger-client.js";
import { until } from "../support/live-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

const e2e = describe.skipIf(chromiumMissing !== null);
if (chromiumMissing) describe("GraphiQL in Chromium", () => it.skip(`skipped: ${chromiumMissing}`, () => {}));

const executeButton = ".graphiql-execute-button";
const responseText = '[data-testid="response-text"]';

let service: TestService;
let tenant: TestTenant;
let browser: Browser;
let watched: WatchedPage;
let origin: string;
let merchant: { id: string; code: string };
let funding: string;
let token: string;

/** GraphiQL opened on an operation (?query=&variables=), its schema loaded with the token. */
async function openOperation(page: Page, query: string, variables: Record<string, unknown>): Promise<void> {
  const schemaLoaded = page.waitForResponse((r) => r.url() === `${origin}/graphql` && (r.request().postData() ?? "").includes("__schema"));
  await page.goto(`${origin}/graphiql/?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}`);
  const response = await schemaLoaded;
  expect(response.status()).toBe(200);
  // Monaco fills the editor a moment after the page renders: run only what is shown.
  const operationName = /^\w+ (\w+)/.exec(query)![1]!;
  await page.locator(".graphiql-query-editor .view-lines", { hasText: operationName }).waitFor();
}

async function responseIncludes(page: Page, text: string): Promise<unknown> {
  await page.waitForFunction(
    ([selector, wanted]) => document.querySelector(selector)?.textContent?.includes(wanted),
    [responseText, text] as const,
    { timeout: 10_000 },
  );
  return JSON.parse((await page.locator(responseText).textContent())!);
}

e2e("GraphiQL in Chromium", () => {
  beforeAll(async () => {
    service = await startTestService();
    origin = service.service.url.replace(/\/graphql$/, "");
    tenant = await service.newTenant("graphiql e2e");
    funding = (await createFundingAccount(tenant)).id;
    merchant = await createAccount(tenant, { code: key("merchant:graphiql") });
    await transferBetween(tenant, funding, merchant.id, "4200");
    token = await mintToken(tenant, { scope: "READ_ONLY", ttlSeconds: 600 });
    browser = await launchChromium();
    watched = await openPage(browser, origin);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it("loads from the service alone and opens with the example operations", async () => {
    const { page } = watched;
    await page.goto(`${origin}/graphiql/`);
    expect(await page.title()).toBe("Ledger GraphiQL");
    await page.locator(executeButton).waitFor();
    const tabs = (await page.locator(".graphiql-tab").allInnerTexts()).join(" | ");
    for (const name of ["AccountByCode", "BalanceAsOf", "BalanceChanged"]) expect(tabs).toContain(name);
    // The token goes to session storage and the schema is loaded again with it.
    const schemaLoaded = page.waitForResponse(
      (r) => r.url() === `${origin}/graphql` && r.request().headers().authorization === `Bearer ${token}`,
    );
    await page.locator('[data-testid="token-input"]').fill(token);
    expect((await (await schemaLoaded).json()).data.__schema).toBeTruthy();
    expect(await page.evaluate(() => sessionStorage.getItem("ledger.accessToken"))).toBe(token);
    await screenshot(page, "graphiql.png");
  });

  it("runs a query with the access token and shows the result", async () => {
    const { page } = watched;
    await openOperation(
      page,
      `query Probe($code: String!) {\n  account(code: $code) {\n    id\n    code\n    balance { posted version }\n  }\n}`,
      { code: merchant.code },
    );
    await page.locator(executeButton).click();
    const result = await responseIncludes(page, merchant.code);
    expect(result).toEqual({ data: { account: { id: merchant.id, code: merchant.code, balance: { posted: "4200", version: "1" } } } });
    // biome-ignore lint/performance/useDomNodeTextContent: Monaco renders spaces as nbsp; innerText reads what is shown
    expect(await page.locator(".graphiql-response .view-lines").innerText()).toContain('"4200"');
  });

  it("shows a subscription event after a transfer is posted through the API", async () => {
    const { page } = watched;
    await openOperation(
      page,
      `subscription Watch($ids: [ID!]!) {\n  balanceChanged(accountIds: $ids) {\n    version\n    balance { posted available }\n    entry { kind direction amount }\n  }\n}`,
      { ids: [merchant.id] },
    );
    const socketOpened = page.waitForEvent("websocket");
    await page.locator(executeButton).click();
    const socket = await socketOpened;
    expect(socket.url()).toBe(`${origin.replace(/^http/, "ws")}/graphql`);
    await until(() => service.service.hub.subscriptionCount() === 1, "the service to hold GraphiQL's subscription");
    await transferBetween(tenant, funding, merchant.id, "58");
    const event = await responseIncludes(page, "balanceChanged");
    expect(event).toEqual({
      data: {
        balanceChanged: {
          version: "2",
          balance: { posted: "4258", available: "4258" },
          entry: { kind: "POSTED", direction: "CREDIT", amount: "58" },
        },
      },
    });
    await screenshot(page, "graphiql-subscription.png");
    await page.locator(executeButton).click(); // stop
  });

  it("posts a transfer with a mutation when the token is read-write", async () => {
    const { page } = watched;
    const writer = await mintToken(tenant, { scope: "READ_WRITE", accountIds: [funding, merchant.id], ttlSeconds: 600 });
    await page.evaluate((value) => sessionStorage.setItem("ledger.accessToken", value), writer);
    const input = { idempotencyKey: key("graphiql"), from: { id: funding }, to: { id: merchant.id }, amount: "100", currency: "USD" };
    await openOperation(
      page,
      `mutation Pay($input: TransferInput!) {\n  postTransfer(input: $input) {\n    __typename\n    ... on TransferPosted { transfer { id } }\n  }\n}`,
      { input },
    );
    await page.locator(executeButton).click();
    const result = (await responseIncludes(page, "TransferPosted")) as { data: { postTransfer: { transfer: { id: string } } } };
    const posted = await tenant.gql(`query($id: ID!) { transfer(id: $id) { entries { account { id } amount direction } } }`, {
      id: result.data.postTransfer.transfer.id,
    });
    expect(posted.transfer.entries).toContainEqual({ account: { id: merchant.id }, amount: "100", direction: "CREDIT" });
  });

  it("needed nothing beyond the service and raised no page errors", () => {
    expect(watched.offOrigin).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
  });
});

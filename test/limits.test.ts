import { afterAll, beforeAll, it } from "vitest";
import { startTestService, type TestService, type TestTenant } from "./support/service.js";

let service: TestService;
let tenant: TestTenant;
beforeAll(async () => { service = await startTestService(); tenant = await service.newTenant("x"); });
afterAll(async () => { await service.stop(); });

const show = (label: string, r: unknown) => console.log(label, JSON.stringify(r).slice(0, 600));

it("explore", async () => {
  const tokens = "query { " + Array.from({ length: 5100 }, () => `__typename`).join(" ") + " }";
  show("tokens", await tenant.request(tokens));
  const pad = Array.from({ length: 5100 }, () => "0").join(",");
  const m = `mutation { createAccount(input: { idempotencyKey: "tok-1", code: "tok-1", name: "n", currency: "USD", normalSide: CREDIT, metadata: { pad: [${pad}] } }) { __typename } }`;
  show("tokensmut", await tenant.request(m));
  show("tokens-just", await tenant.request("query { " + Array.from({ length: 4990 }, () => `__typename`).join(" ") + " }"));
  show("first0", await tenant.request(`{ accounts(first: 0) { nodes { id } } }`));
  show("firstneg", await tenant.request(`{ accounts(first: -1) { nodes { id } } }`));
  show("cursor", await tenant.request(`{ accounts(after: "garbage") { nodes { id } } }`));
  show("acctboth", await tenant.request(`{ account(id: "acct_x", code: "y") { id } }`));
  show("acctnone", await tenant.request(`{ account { id } }`));
  show("nullmin", await tenant.request(`mutation { createAccount(input: { idempotencyKey: "nm-1", code: "nm-1", name: "n", currency: "USD", normalSide: CREDIT, minBalance: null }) { __typename ... on AccountCreated { account { minBalance maxBalance } } } }`));
  show("defmin", await tenant.request(`mutation { createAccount(input: { idempotencyKey: "nm-2", code: "nm-2", name: "n", currency: "USD", normalSide: CREDIT }) { __typename ... on AccountCreated { account { minBalance maxBalance metadata createdAt } } } }`));
  show("defminvar", await tenant.request(`mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on AccountCreated { account { minBalance maxBalance } } } }`, { input: { idempotencyKey: "nm-3", code: "nm-3", name: "n", currency: "USD", normalSide: "CREDIT" } }));
  show("metastr", await tenant.request(`mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on InvalidInput { field reason } } }`, { input: { idempotencyKey: "nm-4", code: "nm-4", name: "n", currency: "USD", normalSide: "CREDIT", metadata: "x" } }));
  show("metalist", await tenant.request(`mutation { createAccount(input: { idempotencyKey: "nm-5", code: "nm-5", name: "n", currency: "USD", normalSide: CREDIT, metadata: [1] }) { __typename ... on InvalidInput { field reason } } }`));
  show("scale", await tenant.request(`mutation { createCurrency(input: { idempotencyKey: "c-5", code: "PTS", scale: 1.5 }) { __typename ... on InvalidInput { field reason } } }`));
  show("nodebad", await tenant.request(`{ a: node(id: "acct_x") { id } b: node(id: "zzz") { id } c: node(id: "ent_99999999") { id } }`));
});

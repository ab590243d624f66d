// Accounts, currencies, reads, tenant isolation and authentication, through the GraphQL API over HTTP.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey, revokeApiKey } from "../src/ledger/tenants.js";
import { checkInvariants } from "./support/invariants.js";
import { ledgerState } from "./support/ledger-state.js";
import { createAccount, createFundingAccount, key, postTransfer, transferBetween } from "./support/ledger-client.js";
import { startTestService, type TestService, type TestTenant } from "./support/service.js";

let service: TestService;
let tenant: TestTenant;
let funding: { id: string; code: string };

beforeAll(async () => {
  service = await startTestService();
  tenant = await service.newTenant("accounts");
  funding = await createFundingAccount(tenant);
});

afterAll(async () => {
  expect(await checkInvariants(service.db.pool)).toEqual([]);
  await service.stop();
});

// ------------------------------------------------------------------ helpers

const accountFields = `id code name currency { code scale } normalSide minBalance maxBalance metadata createdAt
  balance { posted pending available debitsPosted creditsPosted version }`;

const createAccountMutation = `mutation Create($input: CreateAccountInput!) {
  createAccount(input: $input) {
    __typename
    ... on AccountCreated { replay account { ${accountFields} } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on LimitExceeded { limit max }
    ... on AccountCodeTaken { accountCode replay }
    ... on CurrencyNotFound { currency replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

const updateAccountMutation = `mutation Update($input: UpdateAccountInput!) {
  updateAccount(input: $input) {
    __typename
    ... on AccountUpdated { replay updated: account { ${accountFields} } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on LimitExceeded { limit max }
    ... on AccountNotFound { account legIndex replay }
    ... on BoundsViolated { accountId balance replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

const createCurrencyMutation = `mutation Currency($input: CreateCurrencyInput!) {
  createCurrency(input: $input) {
    __typename
    ... on CurrencyCreated { replay created: currency { code scale } }
    ... on Problem { code message }
    ... on InvalidInput { field reason }
    ... on CurrencyCodeTaken { currency replay }
    ... on IdempotencyConflict { idempotencyKey replay }
  }
}`;

const accountInput = (over: Record<string, unknown> = {}) => ({
  idempotencyKey: key("create"),
  code: key("acct"),
  name: "Shirtypuff available",
  currency: "USD",
  normalSide: "CREDIT",
  ...over,
});

async function create(t: TestTenant, input: Record<string, unknown>) {
  return (await t.gql(createAccountMutation, { input })).createAccount;
}

/** The result, with AccountUpdated's aliased account (it would clash with AccountNotFound.account) under `account`. */
async function update(t: TestTenant, input: Record<string, unknown>) {
  const { updated, ...result } = (await t.gql(updateAccountMutation, { input: { idempotencyKey: key("update"), ...input } })).updateAccount;
  return updated === undefined ? result : { ...result, account: updated };
}

/** The result, with CurrencyCreated's aliased currency (it would clash with CurrencyCodeTaken.currency) under `currency`. */
async function createCurrency(t: TestTenant, input: Record<string, unknown>) {
  const { created, ...result } = (await t.gql(createCurrencyMutation, { input: { idempotencyKey: key("currency"), ...input } })).createCurrency;
  return created === undefined ? result : { ...result, currency: created };
}

async function accountById(t: TestTenant, id: string) {
  return (await t.gql(`query($id: ID!) { account(id: $id) { ${accountFields} } }`, { id })).account;
}

/** Rows with this code in this tenant, straight from PostgreSQL. */
async function accountRows(tenantId: string, code: string) {
  const { rows } = await service.db.pool.query(
    `SELECT id, name, min_balance::text, max_balance::text, metadata FROM accounts WHERE tenant_id = $1 AND code = $2`,
    [tenantId, code],
  );
  return rows as { id: string; name: string; min_balance: string | null; max_balance: string | null; metadata: unknown }[];
}

const tenantState = (tenantId: string) => ledgerState(service.db.pool, tenantId);

const rawId = (globalId: string) => globalId.replace(/^acct_/, "");
const unknownAccountId = () => `acct_${randomUUID()}`;
/** A currency code no other test uses: ^[A-Z][A-Z0-9_]{2,15}$ */
const currencyCode = () => `T${randomBytes(5).toString("hex").toUpperCase()}`;
const isoInstant = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ createAccount

describe("createAccount", () => {
  it("creates an account and returns every field, with zero balances and version 0", async () => {
    const metadata = { merchant: "shirtypuff", tier: 2, tags: ["a", "b"] };
    const input = accountInput({ name: "Merchant available", normalSide: "DEBIT", minBalance: "-2500", maxBalance: "1000000", metadata });
    const result = await create(tenant, input);
    expect(result.__typename).toBe("AccountCreated");
    expect(result.replay).toBe(false);
    const { account } = result;
    expect(account).toMatchObject({
      code: input.code,
      name: "Merchant available",
      currency: { code: "USD", scale: 2 },
      normalSide: "DEBIT",
      minBalance: "-2500",
      maxBalance: "1000000",
      metadata: { merchant: "shirtypuff", tier: 2, tags: ["a", "b"] },
      balance: { posted: "0", pending: "0", available: "0", debitsPosted: "0", creditsPosted: "0", version: "0" },
    });
    expect(account.id).toMatch(/^acct_[0-9a-f-]{36}$/);
    expect(account.createdAt).toMatch(isoInstant);
    expect(await accountById(tenant, account.id)).toEqual(account);

    const rows = await accountRows(tenant.id, input.code);
    expect(rows).toEqual([
      { id: rawId(account.id), name: "Merchant available", min_balance: "-2500", max_balance: "1000000", metadata },
    ]);
  });

  it("defaults minBalance to 0 when it is omitted", async () => {
    const result = await create(tenant, accountInput());
    expect(result.__typename).toBe("AccountCreated");
    expect(result.account.minBalance).toBe("0");
    expect(result.account.maxBalance).toBeNull();
    expect(result.account.metadata).toEqual({});
  });

  it("leaves the account without a lower bound when minBalance is explicitly null", async () => {
    const input = accountInput({ minBalance: null });
    const result = await create(tenant, input);
    expect(result.__typename).toBe("AccountCreated");
    expect(result.account.minBalance).toBeNull();
    expect((await accountRows(tenant.id, input.code))[0]?.min_balance).toBeNull();
  });

  it("answers AccountCodeTaken for a code already in use and creates nothing", async () => {
    const first = await create(tenant, accountInput({ name: "Original" }));
    expect(first.__typename).toBe("AccountCreated");
    const before = await tenantState(tenant.id);

    const second = await create(tenant, accountInput({ code: first.account.code, name: "Impostor" }));
    expect(second).toMatchObject({ __typename: "AccountCodeTaken", code: "AccountCodeTaken", accountCode: first.account.code, replay: false });
    expect(second.message).toEqual(expect.any(String));
    expect(await tenantState(tenant.id)).toEqual(before);
    expect((await accountById(tenant, first.account.id)).name).toBe("Original");
  });

  it("answers CurrencyNotFound for a well-formed but unknown currency and creates nothing", async () => {
    const input = accountInput({ currency: "XQZ" });
    const before = await tenantState(tenant.id);
    const result = await create(tenant, input);
    expect(result).toMatchObject({ __typename: "CurrencyNotFound", code: "CurrencyNotFound", currency: "XQZ", replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountRows(tenant.id, input.code)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["a lower-case currency", { currency: "usd" }, "currency", "CURRENCY_CODE_FORMAT"],
    ["a two-letter currency", { currency: "US" }, "currency", "CURRENCY_CODE_FORMAT"],
    ["an empty name", { name: "" }, "name", "EMPTY"],
    ["a blank name", { name: "   " }, "name", "EMPTY"],
    ["an empty code", { code: "" }, "code", "EMPTY"],
    ["inverted bounds", { minBalance: "100", maxBalance: "99" }, "minBalance", "BOUNDS_INVERTED"],
    ["a fractional minBalance", { minBalance: "1.5" }, "minBalance", "AMOUNT_NOT_INTEGER"],
    ["a maxBalance past int64", { maxBalance: "9223372036854775808" }, "maxBalance", "AMOUNT_OUT_OF_RANGE"],
    ["string metadata", { metadata: "not an object" }, "metadata", "METADATA_NOT_OBJECT"],
    ["array metadata", { metadata: [1, 2, 3] }, "metadata", "METADATA_NOT_OBJECT"],
    ["numeric metadata", { metadata: 42 }, "metadata", "METADATA_NOT_OBJECT"],
  ])("answers InvalidInput for %s and leaves no account behind", async (_, over, field, reason) => {
    const input = accountInput(over);
    const before = await tenantState(tenant.id);
    const result = await create(tenant, input);
    expect(result).toMatchObject({ __typename: "InvalidInput", code: "InvalidInput", field, reason });
    expect(result.message).toEqual(expect.any(String));
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountRows(tenant.id, String(input.code))).toEqual([]);
  });

  it("answers LimitExceeded for metadata over metadataBytesMax and leaves no account behind", async () => {
    const input = accountInput({ metadata: { blob: "x".repeat(service.limits.metadataBytesMax) } });
    const before = await tenantState(tenant.id);
    const result = await create(tenant, input);
    expect(result).toMatchObject({
      __typename: "LimitExceeded",
      code: "LimitExceeded",
      limit: "metadataBytesMax",
      max: String(service.limits.metadataBytesMax),
    });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("does not remember an InvalidInput: the same key then works for a corrected request", async () => {
    const idempotencyKey = key("fix");
    const rejected = await create(tenant, accountInput({ idempotencyKey, name: "" }));
    expect(rejected.__typename).toBe("InvalidInput");
    const fixed = await create(tenant, accountInput({ idempotencyKey, name: "Fixed" }));
    expect(fixed).toMatchObject({ __typename: "AccountCreated", replay: false, account: { name: "Fixed" } });
  });

  it("replays createAccount with the same key and input: replay true, same account, nothing new", async () => {
    const input = accountInput({ metadata: { b: 2, a: 1 }, maxBalance: "500" });
    const first = await create(tenant, input);
    expect(first).toMatchObject({ __typename: "AccountCreated", replay: false });
    const before = await tenantState(tenant.id);

    // Same request, keys of the metadata object in another order.
    const again = await create(tenant, { ...input, metadata: { a: 1, b: 2 } });
    expect(again.__typename).toBe("AccountCreated");
    expect(again.replay).toBe(true);
    expect(again.account).toEqual(first.account);
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountRows(tenant.id, input.code)).toHaveLength(1);
  });

  it("answers IdempotencyConflict when a key is reused for a different request, and creates nothing", async () => {
    const idempotencyKey = key("conflict");
    const first = await create(tenant, accountInput({ idempotencyKey }));
    expect(first.__typename).toBe("AccountCreated");
    const before = await tenantState(tenant.id);

    const otherCode = key("other");
    const conflict = await create(tenant, accountInput({ idempotencyKey, code: otherCode }));
    expect(conflict).toMatchObject({ __typename: "IdempotencyConflict", code: "IdempotencyConflict", idempotencyKey, replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountRows(tenant.id, otherCode)).toEqual([]);
  });

  it("answers IdempotencyConflict when a createCurrency key is reused for createAccount", async () => {
    const idempotencyKey = key("shared");
    expect((await createCurrency(tenant, { idempotencyKey, code: currencyCode(), scale: 2 })).__typename).toBe("CurrencyCreated");
    const input = accountInput({ idempotencyKey });
    expect(await create(tenant, input)).toMatchObject({ __typename: "IdempotencyConflict", idempotencyKey });
    expect(await accountRows(tenant.id, input.code)).toEqual([]);
  });

  it("remembers a business rejection: a retry of a taken code answers AccountCodeTaken again with replay true", async () => {
    const taken = await createAccount(tenant);
    const input = accountInput({ code: taken.code });
    expect(await create(tenant, input)).toMatchObject({ __typename: "AccountCodeTaken", replay: false });
    expect(await create(tenant, input)).toMatchObject({ __typename: "AccountCodeTaken", accountCode: taken.code, replay: true });
  });
});

// ------------------------------------------------------------------ updateAccount

describe("updateAccount", () => {
  async function seeded() {
    const input = accountInput({ name: "Before", metadata: { plan: "basic" }, minBalance: "0", maxBalance: "1000" });
    const result = await create(tenant, input);
    expect(result.__typename).toBe("AccountCreated");
    return result.account as { id: string; code: string };
  }

  it("changes the name and leaves omitted fields unchanged", async () => {
    const account = await seeded();
    const result = await update(tenant, { id: account.id, name: "After" });
    expect(result).toMatchObject({
      __typename: "AccountUpdated",
      replay: false,
      account: { id: account.id, name: "After", metadata: { plan: "basic" }, minBalance: "0", maxBalance: "1000" },
    });
    expect(await accountById(tenant, account.id)).toEqual(result.account);
  });

  it("replaces metadata and leaves the name and bounds unchanged", async () => {
    const account = await seeded();
    const result = await update(tenant, { id: account.id, metadata: { plan: "pro", seats: 5 } });
    expect(result.account).toMatchObject({ name: "Before", metadata: { plan: "pro", seats: 5 }, minBalance: "0", maxBalance: "1000" });
    expect((await accountRows(tenant.id, account.code))[0]?.metadata).toEqual({ plan: "pro", seats: 5 });
  });

  it("changes a bound and removes another with null", async () => {
    const account = await seeded();
    const result = await update(tenant, { id: account.id, minBalance: "-50", maxBalance: null });
    expect(result.account).toMatchObject({ name: "Before", minBalance: "-50", maxBalance: null });
    expect((await accountRows(tenant.id, account.code))[0]).toMatchObject({ min_balance: "-50", max_balance: null });
  });

  it("answers BoundsViolated when the current balance lies outside the new bounds, and changes nothing", async () => {
    const account = await createAccount(tenant, { maxBalance: null });
    expect((await transferBetween(tenant, funding.id, account.id, "500")).__typename).toBe("TransferPosted");
    const before = await tenantState(tenant.id);

    const tooLow = await update(tenant, { id: account.id, maxBalance: "499", name: "Never applied" });
    expect(tooLow).toMatchObject({ __typename: "BoundsViolated", code: "BoundsViolated", accountId: account.id, balance: "500", replay: false });
    const tooHigh = await update(tenant, { id: account.id, minBalance: "501" });
    expect(tooHigh).toMatchObject({ __typename: "BoundsViolated", accountId: account.id, balance: "500" });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountById(tenant, account.id)).toMatchObject({ name: "Test account", minBalance: "0", maxBalance: null });

    // Bounds that still contain the balance are fine, the balance itself included.
    const exact = await update(tenant, { id: account.id, minBalance: "500", maxBalance: "500" });
    expect(exact).toMatchObject({ __typename: "AccountUpdated", account: { minBalance: "500", maxBalance: "500", balance: { posted: "500" } } });
  });

  it("answers InvalidInput BOUNDS_INVERTED when a new bound crosses the stored one, and changes nothing", async () => {
    const account = await seeded();
    const result = await update(tenant, { id: account.id, minBalance: "2000" });
    expect(result).toMatchObject({ __typename: "InvalidInput", field: "minBalance", reason: "BOUNDS_INVERTED" });
    expect((await accountRows(tenant.id, account.code))[0]).toMatchObject({ min_balance: "0", max_balance: "1000" });
  });

  it("answers AccountNotFound for an unknown account id and for a malformed one", async () => {
    const before = await tenantState(tenant.id);
    const unknown = unknownAccountId();
    expect(await update(tenant, { id: unknown, name: "x" })).toMatchObject({
      __typename: "AccountNotFound",
      code: "AccountNotFound",
      account: unknown,
      legIndex: null,
      replay: false,
    });
    expect(await update(tenant, { id: "acct_nope", name: "x" })).toMatchObject({ __typename: "AccountNotFound", account: "acct_nope" });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("replays an update with the same key, and answers IdempotencyConflict for a different one", async () => {
    const account = await seeded();
    const idempotencyKey = key("upd");
    const first = await update(tenant, { idempotencyKey, id: account.id, name: "Once" });
    expect(first).toMatchObject({ __typename: "AccountUpdated", replay: false });
    const again = await update(tenant, { idempotencyKey, id: account.id, name: "Once" });
    expect(again).toMatchObject({ __typename: "AccountUpdated", replay: true, account: { id: account.id, name: "Once" } });
    const other = await update(tenant, { idempotencyKey, id: account.id, name: "Twice" });
    expect(other).toMatchObject({ __typename: "IdempotencyConflict", idempotencyKey, replay: false });
    expect((await accountRows(tenant.id, account.code))[0]?.name).toBe("Once");
  });
});

// ------------------------------------------------------------------ createCurrency

describe("createCurrency", () => {
  it("creates a custom currency that a new account can use", async () => {
    const code = currencyCode();
    const result = await createCurrency(tenant, { code, scale: 3 });
    expect(result).toMatchObject({ __typename: "CurrencyCreated", replay: false, currency: { code, scale: 3 } });

    const account = await create(tenant, accountInput({ currency: code }));
    expect(account).toMatchObject({ __typename: "AccountCreated", account: { currency: { code, scale: 3 } } });
    expect((await tenant.gql(`query($code: String!) { currency(code: $code) { code scale } }`, { code })).currency).toEqual({ code, scale: 3 });
    const { currencies } = await tenant.gql(`{ currencies { code scale } }`);
    expect(currencies).toContainEqual({ code, scale: 3 });
  });

  it("marks a tenant's own currency custom: true and the seeded ones custom: false", async () => {
    const code = currencyCode();
    expect((await createCurrency(tenant, { code, scale: 1 })).__typename).toBe("CurrencyCreated");
    const response = await tenant.request(`query($code: String!) { mine: currency(code: $code) { code custom } usd: currency(code: "USD") { code custom } }`, {
      code,
    });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ mine: { code, custom: true }, usd: { code: "USD", custom: false } });
  });

  it("answers CurrencyCodeTaken for USD and creates nothing", async () => {
    const before = await tenantState(tenant.id);
    const result = await createCurrency(tenant, { code: "USD", scale: 2 });
    expect(result).toMatchObject({ __typename: "CurrencyCodeTaken", code: "CurrencyCodeTaken", currency: "USD", replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("answers CurrencyCodeTaken for a repeat under a new key, and replays the original under its key", async () => {
    const code = currencyCode();
    const idempotencyKey = key("cur");
    expect(await createCurrency(tenant, { idempotencyKey, code, scale: 0 })).toMatchObject({ __typename: "CurrencyCreated", replay: false });
    const before = await tenantState(tenant.id);
    expect(await createCurrency(tenant, { code, scale: 0 })).toMatchObject({ __typename: "CurrencyCodeTaken", currency: code, replay: false });
    expect(await createCurrency(tenant, { idempotencyKey, code, scale: 0 })).toMatchObject({
      __typename: "CurrencyCreated",
      replay: true,
      currency: { code, scale: 0 },
    });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["scale -1", { scale: -1 }, "scale", "CURRENCY_SCALE_RANGE"],
    ["scale 19", { scale: 19 }, "scale", "CURRENCY_SCALE_RANGE"],
    ["a lower-case code", { code: "points" }, "code", "CURRENCY_CODE_FORMAT"],
    ["a code with a hyphen", { code: "MY-PTS" }, "code", "CURRENCY_CODE_FORMAT"],
  ])("answers InvalidInput for %s and creates nothing", async (_, over, field, reason) => {
    const before = await tenantState(tenant.id);
    const result = await createCurrency(tenant, { code: currencyCode(), scale: 2, ...over });
    expect(result).toMatchObject({ __typename: "InvalidInput", field, reason });
    expect(await tenantState(tenant.id)).toEqual(before);
  });

  it("rejects a fractional scale as a GraphQL input error and creates nothing", async () => {
    const before = await tenantState(tenant.id);
    const response = await tenant.request(createCurrencyMutation, { input: { idempotencyKey: key("cur"), code: currencyCode(), scale: 1.5 } });
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.message).toMatch(/Int cannot represent non-integer value: 1.5/);
    expect(await tenantState(tenant.id)).toEqual(before);
  });
});

// ------------------------------------------------------------------ queries

describe("queries", () => {
  it("finds an account by id and by code", async () => {
    const { id, code } = await createAccount(tenant);
    const data = await tenant.gql(`query($id: ID!, $code: String!) { byId: account(id: $id) { id code } byCode: account(code: $code) { id code } }`, {
      id,
      code,
    });
    expect(data).toEqual({ byId: { id, code }, byCode: { id, code } });
  });

  it("answers null for an unknown account id or code", async () => {
    const data = await tenant.gql(`query($id: ID!) { a: account(id: $id) { id } b: account(code: "no-such-code") { id } c: account(id: "acct_nope") { id } }`, {
      id: unknownAccountId(),
    });
    expect(data).toEqual({ a: null, b: null, c: null });
  });

  it.each<[string, string]>([
    ["neither id nor code", `{ account { id } }`],
    ["both id and code", `{ account(id: "acct_00000000-0000-4000-8000-000000000000", code: "x") { id } }`],
  ])("answers account with %s with a BAD_USER_INPUT error", async (_, query) => {
    const response = await tenant.request(query);
    expect(response.data?.account ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors?.[0]).toMatchObject({ message: "give exactly one of id and code", extensions: { code: "BAD_USER_INPUT" } });
  });

  it("pages through accounts with a code prefix, newest first, without duplicates or gaps", async () => {
    const prefix = `page:${randomUUID()}:`;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createAccount(tenant, { code: `${prefix}${i}` })).id);

    const query = `query($after: String, $prefix: String) {
      accounts(first: 2, after: $after, filter: { codePrefix: $prefix }) {
        edges { cursor node { id code createdAt } } nodes { id } pageInfo { hasNextPage endCursor } } }`;
    const seen: { id: string; createdAt: string }[] = [];
    const pages: { size: number; hasNextPage: boolean }[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const { accounts }: { accounts: any } = await tenant.gql(query, { after, prefix });
      expect(accounts.nodes.map((n: { id: string }) => n.id)).toEqual(accounts.edges.map((e: { node: { id: string } }) => e.node.id));
      if (accounts.edges.length > 0) expect(accounts.pageInfo.endCursor).toBe(accounts.edges.at(-1).cursor);
      seen.push(...accounts.edges.map((e: { node: { id: string; createdAt: string } }) => e.node));
      pages.push({ size: accounts.edges.length, hasNextPage: accounts.pageInfo.hasNextPage });
      if (!accounts.pageInfo.hasNextPage) break;
      after = accounts.pageInfo.endCursor;
    }
    expect(pages).toEqual([
      { size: 2, hasNextPage: true },
      { size: 2, hasNextPage: true },
      { size: 1, hasNextPage: false },
    ]);
    const ids = seen.map((a) => a.id);
    expect(new Set(ids).size).toBe(5);
    expect([...ids].sort()).toEqual([...created].sort());
    const times = seen.map((a) => Date.parse(a.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it("filters accounts by currency and by code prefix", async () => {
    const prefix = `filter:${randomUUID()}:`;
    const eur1 = await createAccount(tenant, { code: `${prefix}1`, currency: "EUR" });
    const eur2 = await createAccount(tenant, { code: `${prefix}2`, currency: "EUR" });
    const usd = await createAccount(tenant, { code: `${prefix}3`, currency: "USD" });
    const list = async (filter: Record<string, unknown>) =>
      ((await tenant.gql(`query($filter: AccountFilter) { accounts(first: 100, filter: $filter) { nodes { id code currency { code } } } }`, { filter }))
        .accounts.nodes as { id: string; code: string; currency: { code: string } }[]);

    expect((await list({ codePrefix: prefix })).map((a) => a.id).sort()).toEqual([eur1.id, eur2.id, usd.id].sort());
    expect((await list({ codePrefix: prefix, currency: "EUR" })).map((a) => a.id).sort()).toEqual([eur1.id, eur2.id].sort());
    expect((await list({ codePrefix: prefix, currency: "JPY" }))).toEqual([]);
    expect((await list({ codePrefix: prefix, currency: "NOPE" }))).toEqual([]);
    for (const account of await list({ currency: "EUR" })) expect(account.currency.code).toBe("EUR");
  });

  it("treats _ and % in a codePrefix as plain characters, not wildcards", async () => {
    const prefix = `literal:${randomUUID()}:`;
    const underscore = await createAccount(tenant, { code: `${prefix}a_1` });
    const percent = await createAccount(tenant, { code: `${prefix}b%1` });
    await createAccount(tenant, { code: `${prefix}ax1` });
    await createAccount(tenant, { code: `${prefix}bx1` });
    const list = async (codePrefix: string) =>
      ((await tenant.gql(`query($p: String) { accounts(first: 100, filter: { codePrefix: $p }) { nodes { id } } }`, { p: codePrefix }))
        .accounts.nodes as { id: string }[]).map((a) => a.id);

    expect(await list(`${prefix}a_`)).toEqual([underscore.id]);
    expect(await list(`${prefix}b%`)).toEqual([percent.id]);
    expect(await list(`${prefix}%`)).toEqual([]);
  });

  it("lists the seeded currencies with their scales: USD 2, JPY 0, BTC 8", async () => {
    const { currencies } = await tenant.gql(`{ currencies { code scale } }`);
    const byCode = new Map((currencies as { code: string; scale: number }[]).map((c) => [c.code, c]));
    expect(byCode.get("USD")).toEqual({ code: "USD", scale: 2 });
    expect(byCode.get("JPY")).toEqual({ code: "JPY", scale: 0 });
    expect(byCode.get("BTC")).toEqual({ code: "BTC", scale: 8 });
    expect(byCode.size).toBe(currencies.length);
  });

  it("resolves an account, a transfer and an entry through node(id)", async () => {
    const account = await createAccount(tenant);
    const posted = await transferBetween(tenant, funding.id, account.id, "125");
    expect(posted.__typename).toBe("TransferPosted");
    const transferId: string = posted.transfer.id;
    const entryId: string = posted.transfer.entries[1].id;
    expect(entryId).toMatch(/^ent_\d+$/);
    expect(transferId).toMatch(/^tr_[0-9a-f-]{36}$/);

    const data = await tenant.gql(
      `query($a: ID!, $t: ID!, $e: ID!) {
        a: node(id: $a) { __typename id ... on Account { code } }
        t: node(id: $t) { __typename id ... on Transfer { entries { id } } }
        e: node(id: $e) { __typename id ... on Entry { amount direction account { id } transfer { id } } }
      }`,
      { a: account.id, t: transferId, e: entryId },
    );
    expect(data).toEqual({
      a: { __typename: "Account", id: account.id, code: account.code },
      t: { __typename: "Transfer", id: transferId, entries: posted.transfer.entries.map((e: { id: string }) => ({ id: e.id })) },
      e: { __typename: "Entry", id: entryId, amount: "125", direction: "CREDIT", account: { id: account.id }, transfer: { id: transferId } },
    });
  });

  it.each<[string, string]>([
    ["an unknown account id", `acct_${randomUUID()}`],
    ["an unknown transfer id", `tr_${randomUUID()}`],
    ["an unknown entry id", "ent_9223372036854775807"],
    ["a malformed account id", "acct_nope"],
    ["a malformed entry id", "ent_0"],
    ["an entry id past int64", "ent_9223372036854775808"],
    ["an id without a known prefix", "user_1"],
    ["an empty id", ""],
  ])("answers node(id) with null for %s", async (_, id) => {
    const response = await tenant.request(`query($id: ID!) { node(id: $id) { id } }`, { id });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ node: null });
  });

  it("finds a transfer by id with its entries in leg order, and answers null for unknown or malformed ids", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const posted = await postTransfer(tenant, {
      description: "split",
      metadata: { order: 1 },
      legs: [
        { account: { id: funding.id }, direction: "DEBIT", amount: "30", currency: "USD" },
        { account: { code: b.code }, direction: "CREDIT", amount: "20", currency: "USD" },
        { account: { id: a.id }, direction: "CREDIT", amount: "10", currency: "USD" },
      ],
    });
    expect(posted.__typename).toBe("TransferPosted");
    const query = `query($id: ID!) { transfer(id: $id) { id idempotencyKey description metadata createdAt entries { account { id } direction amount } } }`;
    const { transfer } = await tenant.gql(query, { id: posted.transfer.id });
    expect(transfer).toMatchObject({ id: posted.transfer.id, idempotencyKey: posted.transfer.idempotencyKey, description: "split", metadata: { order: 1 } });
    expect(transfer.createdAt).toMatch(isoInstant);
    expect(transfer.entries).toEqual([
      { account: { id: funding.id }, direction: "DEBIT", amount: "30" },
      { account: { id: b.id }, direction: "CREDIT", amount: "20" },
      { account: { id: a.id }, direction: "CREDIT", amount: "10" },
    ]);
    expect((await tenant.gql(query, { id: `tr_${randomUUID()}` })).transfer).toBeNull();
    expect((await tenant.gql(query, { id: "tr_nope" })).transfer).toBeNull();
    expect((await tenant.gql(query, { id: a.id })).transfer).toBeNull();
  });

  it("filters transfers by account and by creation time", async () => {
    const account = await createAccount(tenant);
    const other = await createAccount(tenant);
    const posts = [];
    for (const amount of ["1", "2", "3"]) {
      posts.push(await transferBetween(tenant, funding.id, account.id, amount));
      // Distinct milliseconds, so a millisecond DateTime separates the transfers.
      await sleep(5);
    }
    expect((await transferBetween(tenant, funding.id, other.id, "4")).__typename).toBe("TransferPosted");
    const [t1, t2, t3] = posts.map((p) => p.transfer as { id: string; createdAt: string });

    const list = async (filter: Record<string, unknown>) =>
      ((await tenant.gql(`query($filter: TransferFilter) { transfers(first: 100, filter: $filter) { nodes { id } pageInfo { hasNextPage } } }`, { filter }))
        .transfers.nodes as { id: string }[]).map((t) => t.id);

    expect(await list({ accountId: account.id })).toEqual([t3!.id, t2!.id, t1!.id]);
    expect(await list({ accountId: other.id })).toHaveLength(1);
    expect(await list({ accountId: account.id, createdFrom: t2!.createdAt })).toEqual([t3!.id, t2!.id]);
    expect(await list({ accountId: account.id, createdTo: t2!.createdAt })).toEqual([t1!.id]);
    expect(await list({ accountId: account.id, createdFrom: t2!.createdAt, createdTo: t3!.createdAt })).toEqual([t2!.id]);
    expect(await list({ accountId: account.id, createdFrom: "2000-01-01T00:00:00Z", createdTo: "2000-01-02T00:00:00Z" })).toEqual([]);
    expect(await list({ accountId: unknownAccountId() })).toEqual([]);
  });

  it("lists an account's entries newest first and pages them by cursor", async () => {
    const account = await createAccount(tenant);
    for (const amount of ["1", "2", "3", "4", "5"]) {
      expect((await transferBetween(tenant, funding.id, account.id, amount)).__typename).toBe("TransferPosted");
    }
    const query = `query($id: ID!, $after: String) { account(id: $id) { entries(first: 2, after: $after) {
      edges { cursor node { id amount balanceAfter { posted version } } } pageInfo { hasNextPage endCursor } } } }`;
    const pages: { amounts: string[]; versions: string[]; posted: string[]; hasNextPage: boolean }[] = [];
    const ids: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const { entries }: { entries: any } = (await tenant.gql(query, { id: account.id, after })).account;
      type Edge = { node: { id: string; amount: string; balanceAfter: { posted: string; version: string } } };
      ids.push(...entries.edges.map((e: Edge) => e.node.id));
      pages.push({
        amounts: entries.edges.map((e: Edge) => e.node.amount),
        versions: entries.edges.map((e: Edge) => e.node.balanceAfter.version),
        posted: entries.edges.map((e: Edge) => e.node.balanceAfter.posted),
        hasNextPage: entries.pageInfo.hasNextPage,
      });
      if (!entries.pageInfo.hasNextPage) break;
      after = entries.pageInfo.endCursor;
    }
    expect(pages).toEqual([
      { amounts: ["5", "4"], versions: ["5", "4"], posted: ["15", "10"], hasNextPage: true },
      { amounts: ["3", "2"], versions: ["3", "2"], posted: ["6", "3"], hasNextPage: true },
      { amounts: ["1"], versions: ["1"], posted: ["1"], hasNextPage: false },
    ]);
    expect(new Set(ids).size).toBe(5);
  });

  it.each<[string, string]>([
    ["accounts", `query($after: String) { accounts(after: $after) { nodes { id } } }`],
    ["transfers", `query($after: String) { transfers(after: $after) { nodes { id } } }`],
    ["entries", `query($after: String, $id: ID!) { account(id: $id) { entries(after: $after) { nodes { id } } } }`],
  ])("answers an invalid %s cursor with a BAD_USER_INPUT error", async (_, query) => {
    const garbage = ["garbage!", Buffer.from(JSON.stringify({ v: "x", s: "y", t: "z" })).toString("base64url"), ""];
    for (const after of garbage) {
      const response = await tenant.request(query, { after, id: funding.id });
      expect(response.errors?.[0]).toMatchObject({ message: "invalid cursor", extensions: { code: "BAD_USER_INPUT" } });
    }
  });

  it("returns the configured limits", async () => {
    const { limits } = await tenant.gql(`{ limits { pageSizeMax transferBatchSizeMax legsPerTransferMax metadataBytesMax
      descriptionLengthMax idempotencyKeyLengthMax queryDepthMax queryAliasesMax queryTokensMax queryCostMax } }`);
    const configured = service.limits;
    expect(limits).toEqual({
      pageSizeMax: configured.pageSizeMax,
      transferBatchSizeMax: configured.transferBatchSizeMax,
      legsPerTransferMax: configured.legsPerTransferMax,
      metadataBytesMax: configured.metadataBytesMax,
      descriptionLengthMax: configured.descriptionLengthMax,
      idempotencyKeyLengthMax: configured.idempotencyKeyLengthMax,
      queryDepthMax: configured.queryDepthMax,
      queryAliasesMax: configured.queryAliasesMax,
      queryTokensMax: configured.queryTokensMax,
      queryCostMax: configured.queryCostMax,
    });
  });
});

// ------------------------------------------------------------------ tenant isolation

describe("tenant isolation", () => {
  let other: TestTenant;
  let foreign: { id: string; code: string };
  let foreignTransfer: { id: string; entries: { id: string }[] };
  let otherFunding: { id: string };

  beforeAll(async () => {
    other = await service.newTenant("isolation-b");
    otherFunding = await createFundingAccount(other);
    foreign = await createAccount(tenant, { code: key("private") });
    const posted = await transferBetween(tenant, funding.id, foreign.id, "700");
    expect(posted.__typename).toBe("TransferPosted");
    foreignTransfer = posted.transfer;
  });

  it("does not show another tenant's account by id, by code or through node", async () => {
    const data = await other.gql(
      `query($id: ID!, $code: String!) { byId: account(id: $id) { id } byCode: account(code: $code) { id } node(id: $id) { id } }`,
      { id: foreign.id, code: foreign.code },
    );
    expect(data).toEqual({ byId: null, byCode: null, node: null });
  });

  it("does not show another tenant's transfer or entries through transfer(id) or node", async () => {
    const data = await other.gql(`query($t: ID!, $e: ID!) { transfer(id: $t) { id } t: node(id: $t) { id } e: node(id: $e) { id } }`, {
      t: foreignTransfer.id,
      e: foreignTransfer.entries[0]!.id,
    });
    expect(data).toEqual({ transfer: null, t: null, e: null });
  });

  it("does not list another tenant's accounts or transfers", async () => {
    const data = await other.gql(
      `query($prefix: String, $id: ID) {
        prefixed: accounts(first: 100, filter: { codePrefix: $prefix }) { nodes { id } }
        all: accounts(first: 100) { nodes { id } }
        transfers(first: 100) { nodes { id } }
        filtered: transfers(first: 100, filter: { accountId: $id }) { nodes { id } }
      }`,
      { prefix: foreign.code, id: foreign.id },
    );
    expect(data.prefixed.nodes).toEqual([]);
    expect(data.all.nodes.map((n: { id: string }) => n.id)).toEqual([otherFunding.id]);
    expect(data.transfers.nodes).toEqual([]);
    expect(data.filtered.nodes).toEqual([]);
  });

  it("answers AccountNotFound for another tenant's account in a transfer, exactly as for an unknown id", async () => {
    const beforeA = await tenantState(tenant.id);
    const beforeB = await tenantState(other.id);

    const unknown = unknownAccountId();
    const foreignResult = await transferBetween(other, otherFunding.id, foreign.id, "10");
    const unknownResult = await transferBetween(other, otherFunding.id, unknown, "10");
    const byCode = await postTransfer(other, { from: { id: otherFunding.id }, to: { code: foreign.code }, amount: "10", currency: "USD" });

    expect(foreignResult).toMatchObject({ __typename: "AccountNotFound", code: "AccountNotFound", account: foreign.id, legIndex: 1, replay: false });
    expect(unknownResult).toMatchObject({ __typename: "AccountNotFound", account: unknown, legIndex: 1, replay: false });
    expect(byCode).toMatchObject({ __typename: "AccountNotFound", account: foreign.code, legIndex: 1 });
    // Same shape: nothing tells a foreign account from one that does not exist.
    const shape = (r: Record<string, unknown>) => ({ ...r, account: "<id>", message: String(r.message).replace(String(r.account), "<id>") });
    expect(shape(foreignResult)).toEqual(shape(unknownResult));

    expect(await tenantState(tenant.id)).toEqual(beforeA);
    expect(await tenantState(other.id)).toEqual(beforeB);
  });

  it("answers AccountNotFound when updating another tenant's account, which stays unchanged", async () => {
    const before = await tenantState(tenant.id);
    const result = await update(other, { id: foreign.id, name: "Hijacked", minBalance: null });
    expect(result).toMatchObject({ __typename: "AccountNotFound", account: foreign.id, replay: false });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect((await accountById(tenant, foreign.id)).name).toBe("Test account");
  });

  it("keeps codes, idempotency keys and custom currencies per tenant", async () => {
    const idempotencyKey = key("shared-key");
    const code = currencyCode();
    const mine = await create(tenant, accountInput({ idempotencyKey, code: key("same") }));
    expect(mine.__typename).toBe("AccountCreated");
    // The other tenant may use the same key and the same code: no replay, no conflict, no AccountCodeTaken.
    const theirs = await create(other, accountInput({ idempotencyKey, code: mine.account.code }));
    expect(theirs).toMatchObject({ __typename: "AccountCreated", replay: false, account: { code: mine.account.code } });
    expect(theirs.account.id).not.toBe(mine.account.id);

    expect((await createCurrency(tenant, { code, scale: 1 })).__typename).toBe("CurrencyCreated");
    expect((await other.gql(`query($code: String!) { currency(code: $code) { code } }`, { code })).currency).toBeNull();
    const { currencies } = await other.gql(`{ currencies { code } }`);
    expect(currencies.map((c: { code: string }) => c.code)).not.toContain(code);
    expect(await create(other, accountInput({ currency: code }))).toMatchObject({ __typename: "CurrencyNotFound", currency: code });
    expect((await createCurrency(other, { code, scale: 4 })).currency).toEqual({ code, scale: 4 });
  });
});

// ------------------------------------------------------------------ authentication

describe("authentication", () => {
  const query = `{ limits { pageSizeMax } }`;

  it("answers a request without an Authorization header with HTTP 401 UNAUTHENTICATED", async () => {
    const response = await service.post({ query });
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it.each<[string, () => string]>([
    ["an unknown key", () => `Bearer lk_${randomBytes(32).toString("base64url")}`],
    ["a key without the lk_ prefix", () => `Bearer ${randomBytes(32).toString("base64url")}`],
    ["another scheme", () => `Basic ${Buffer.from("user:pass").toString("base64")}`],
    ["a bare key without Bearer", () => tenant.key],
    ["an empty bearer", () => "Bearer "],
  ])("answers %s with HTTP 401 UNAUTHENTICATED", async (_, header) => {
    const response = await service.post({ query }, { authorization: header() });
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("does no work for an unauthenticated mutation", async () => {
    const input = accountInput();
    const response = await service.post({ query: createAccountMutation, variables: { input } }, { authorization: "Bearer lk_wrong" });
    expect(response.status).toBe(401);
    const { rows } = await service.db.pool.query(`SELECT count(*)::int AS n FROM accounts WHERE code = $1`, [input.code]);
    expect(rows[0].n).toBe(0);
  });

  it("answers a revoked key with HTTP 401 from the next request on", async () => {
    const revoked = await service.newTenant("revoked");
    expect((await revoked.request(query)).status).toBe(200);
    const apiKey = await service.db.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(revoked.key) } });
    expect(await revokeApiKey(service.db, apiKey.id)).toBe(1);

    const response = await revoked.request(query);
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // Other tenants' keys are untouched.
    expect((await tenant.request(query)).status).toBe(200);
  });
});

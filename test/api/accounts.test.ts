// Accounts through the GraphQL API over HTTP: creating, updating and reading them.
import {
  accountById,
  accountInput,
  accountReads,
  create,
  createCurrency,
  currencyCode,
  isoInstant,
  rawId,
  sleep,
  unknownAccountId,
  update,
} from "../support/accounts-api.js";
import { assertResult, createAccount, expectResult, key, postTransfer, transferBetween } from "../support/ledger-client.js";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useFundedTenant, useTestService } from "../support/service.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "accounts");
const { accountRows, tenantState } = accountReads(service);

// ------------------------------------------------------------------ createAccount

describe("createAccount", () => {
  it("creates an account and returns every field, with zero balances and version 0", async () => {
    const metadata = { merchant: "shirtypuff", tier: 2, tags: ["a", "b"] };
    const input = accountInput({ name: "Merchant available", normalSide: "DEBIT", minBalance: "-2500", maxBalance: "1000000", metadata });
    const result = await create(tenant, input);
    assertResult(result, "AccountCreated");
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
    expect(rows).toEqual([{ id: rawId(account.id), name: "Merchant available", min_balance: "-2500", max_balance: "1000000", metadata }]);
  });

  it("defaults minBalance to 0 when it is omitted", async () => {
    const result = await create(tenant, accountInput());
    assertResult(result, "AccountCreated");
    expect(result.account.minBalance).toBe("0");
    expect(result.account.maxBalance).toBeNull();
    expect(result.account.metadata).toEqual({});
  });

  it("leaves the account without a lower bound when minBalance is explicitly null", async () => {
    const input = accountInput({ minBalance: null });
    const result = await create(tenant, input);
    assertResult(result, "AccountCreated");
    expect(result.account.minBalance).toBeNull();
    expect((await accountRows(tenant.id, input.code))[0]?.min_balance).toBeNull();
  });

  it("answers AccountCodeTaken for a code already in use and creates nothing", async () => {
    const first = await create(tenant, accountInput({ name: "Original" }));
    assertResult(first, "AccountCreated");
    const before = await tenantState(tenant.id);

    const second = await create(tenant, accountInput({ code: first.account.code, name: "Impostor" }));
    expect(second).toMatchObject({
      __typename: "AccountCodeTaken",
      code: "AccountCodeTaken",
      accountCode: first.account.code,
      replay: false,
    });
    expect(second).toMatchObject({ message: expect.any(String) });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect((await accountById(tenant, first.account.id))?.name).toBe("Original");
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
    expect(result).toMatchObject({ message: expect.any(String) });
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
    const first = expectResult(await create(tenant, input), "AccountCreated");
    expect(first).toMatchObject({ __typename: "AccountCreated", replay: false });
    const before = await tenantState(tenant.id);

    // Same request, keys of the metadata object in another order.
    const again = await create(tenant, { ...input, metadata: { a: 1, b: 2 } });
    assertResult(again, "AccountCreated");
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
    assertResult(result, "AccountCreated");
    return result.account as { id: string; code: string };
  }

  it("changes the name and leaves omitted fields unchanged", async () => {
    const account = await seeded();
    const result = expectResult(await update(tenant, { id: account.id, name: "After" }), "AccountUpdated");
    expect(result).toMatchObject({
      __typename: "AccountUpdated",
      replay: false,
      account: { id: account.id, name: "After", metadata: { plan: "basic" }, minBalance: "0", maxBalance: "1000" },
    });
    expect(await accountById(tenant, account.id)).toEqual(result.account);
  });

  it("replaces metadata and leaves the name and bounds unchanged", async () => {
    const account = await seeded();
    const result = expectResult(await update(tenant, { id: account.id, metadata: { plan: "pro", seats: 5 } }), "AccountUpdated");
    expect(result.account).toMatchObject({ name: "Before", metadata: { plan: "pro", seats: 5 }, minBalance: "0", maxBalance: "1000" });
    expect((await accountRows(tenant.id, account.code))[0]?.metadata).toEqual({ plan: "pro", seats: 5 });
  });

  it("changes a bound and removes another with null", async () => {
    const account = await seeded();
    const result = expectResult(await update(tenant, { id: account.id, minBalance: "-50", maxBalance: null }), "AccountUpdated");
    expect(result.account).toMatchObject({ name: "Before", minBalance: "-50", maxBalance: null });
    expect((await accountRows(tenant.id, account.code))[0]).toMatchObject({ min_balance: "-50", max_balance: null });
  });

  it("answers BoundsViolated when the current balance lies outside the new bounds, and changes nothing", async () => {
    const account = await createAccount(tenant, { maxBalance: null });
    expect((await transferBetween(tenant, funding.id, account.id, "500")).__typename).toBe("TransferPosted");
    const before = await tenantState(tenant.id);

    const tooLow = await update(tenant, { id: account.id, maxBalance: "499", name: "Never applied" });
    expect(tooLow).toMatchObject({
      __typename: "BoundsViolated",
      code: "BoundsViolated",
      accountId: account.id,
      balance: "500",
      replay: false,
    });
    const tooHigh = await update(tenant, { id: account.id, minBalance: "501" });
    expect(tooHigh).toMatchObject({ __typename: "BoundsViolated", accountId: account.id, balance: "500" });
    expect(await tenantState(tenant.id)).toEqual(before);
    expect(await accountById(tenant, account.id)).toMatchObject({ name: "Test account", minBalance: "0", maxBalance: null });

    // Bounds that still contain the balance are fine, the balance itself included.
    const exact = await update(tenant, { id: account.id, minBalance: "500", maxBalance: "500" });
    expect(exact).toMatchObject({
      __typename: "AccountUpdated",
      account: { minBalance: "500", maxBalance: "500", balance: { posted: "500" } },
    });
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

// ------------------------------------------------------------------ queries

describe("queries", () => {
  it("finds an account by id and by code", async () => {
    const { id, code } = await createAccount(tenant);
    const data = await tenant.gql(
      `query($id: ID!, $code: String!) { byId: account(id: $id) { id code } byCode: account(code: $code) { id code } }`,
      {
        id,
        code,
      },
    );
    expect(data).toEqual({ byId: { id, code }, byCode: { id, code } });
  });

  it("answers null for an unknown account id or code", async () => {
    const data = await tenant.gql(
      `query($id: ID!) { a: account(id: $id) { id } b: account(code: "no-such-code") { id } c: account(id: "acct_nope") { id } }`,
      {
        id: unknownAccountId(),
      },
    );
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
      (
        await tenant.gql(
          `query($filter: AccountFilter) { accounts(first: 100, filter: $filter) { nodes { id code currency { code } } } }`,
          { filter },
        )
      ).accounts.nodes as { id: string; code: string; currency: { code: string } }[];

    expect((await list({ codePrefix: prefix })).map((a) => a.id).sort()).toEqual([eur1.id, eur2.id, usd.id].sort());
    expect((await list({ codePrefix: prefix, currency: "EUR" })).map((a) => a.id).sort()).toEqual([eur1.id, eur2.id].sort());
    expect(await list({ codePrefix: prefix, currency: "JPY" })).toEqual([]);
    expect(await list({ codePrefix: prefix, currency: "NOPE" })).toEqual([]);
    for (const account of await list({ currency: "EUR" })) expect(account.currency.code).toBe("EUR");
  });

  it("treats _ and % in a codePrefix as plain characters, not wildcards", async () => {
    const prefix = `literal:${randomUUID()}:`;
    const underscore = await createAccount(tenant, { code: `${prefix}a_1` });
    const percent = await createAccount(tenant, { code: `${prefix}b%1` });
    await createAccount(tenant, { code: `${prefix}ax1` });
    await createAccount(tenant, { code: `${prefix}bx1` });
    const list = async (codePrefix: string) =>
      (
        (await tenant.gql(`query($p: String) { accounts(first: 100, filter: { codePrefix: $p }) { nodes { id } } }`, { p: codePrefix }))
          .accounts.nodes as { id: string }[]
      ).map((a) => a.id);

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
    assertResult(posted, "TransferPosted");
    const transferId: string = posted.transfer.id;
    const entryId: string = posted.transfer.entries[1]!.id;
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
      e: {
        __typename: "Entry",
        id: entryId,
        amount: "125",
        direction: "CREDIT",
        account: { id: account.id },
        transfer: { id: transferId },
      },
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
    assertResult(posted, "TransferPosted");
    const query = `query($id: ID!) { transfer(id: $id) { id idempotencyKey description metadata createdAt entries { account { id } direction amount } } }`;
    const { transfer } = await tenant.gql(query, { id: posted.transfer.id });
    expect(transfer).toMatchObject({
      id: posted.transfer.id,
      idempotencyKey: posted.transfer.idempotencyKey,
      description: "split",
      metadata: { order: 1 },
    });
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
      posts.push(expectResult(await transferBetween(tenant, funding.id, account.id, amount), "TransferPosted"));
      // Distinct milliseconds, so a millisecond DateTime separates the transfers.
      await sleep(5);
    }
    expect((await transferBetween(tenant, funding.id, other.id, "4")).__typename).toBe("TransferPosted");
    const [t1, t2, t3] = posts.map((p) => p.transfer as { id: string; createdAt: string });

    const list = async (filter: Record<string, unknown>) =>
      (
        (
          await tenant.gql(
            `query($filter: TransferFilter) { transfers(first: 100, filter: $filter) { nodes { id } pageInfo { hasNextPage } } }`,
            { filter },
          )
        ).transfers.nodes as { id: string }[]
      ).map((t) => t.id);

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

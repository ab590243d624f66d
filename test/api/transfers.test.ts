import { describe, expect, it } from "vitest";
import { ledgerState as sharedLedgerState } from "../support/ledger-state.js";
import {
  assertResult,
  balanceOf,
  createAccount,
  createFundingAccount,
  expectResult,
  key,
  postTransfer,
  postTransfersMutation,
  transferBetween,
} from "../support/ledger-client.js";
import { useFundedTenant, useTestService } from "../support/service.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "transfers");

const ledgerState = () => sharedLedgerState(service.db.pool, tenant.id);

describe("posting transfers", () => {
  it("moves money with the two-leg shorthand and returns the resulting balances", async () => {
    const merchant = await createAccount(tenant);
    const result = await transferBetween(tenant, funding.id, merchant.id, "1050");
    assertResult(result, "TransferPosted");
    expect(result.replay).toBe(false);
    expect(result.transfer.entries.map((e: any) => [e.direction, e.amount, e.account.id])).toEqual([
      ["DEBIT", "1050", funding.id],
      ["CREDIT", "1050", merchant.id],
    ]);
    const merchantBalance = result.balances.find((b: any) => b.account.id === merchant.id)?.balance;
    expect(merchantBalance).toEqual({
      posted: "1050",
      pending: "0",
      available: "1050",
      debitsPosted: "0",
      creditsPosted: "1050",
      version: "1",
    });
    expect(await balanceOf(tenant, merchant.id)).toEqual(merchantBalance);
  });

  it("posts a multi-leg transfer across accounts referenced by id and by code", async () => {
    const fees = await createAccount(tenant, { code: key("fees") });
    const seller = await createAccount(tenant);
    const result = await postTransfer(tenant, {
      description: "sale with fee",
      metadata: { orderId: "o-1" },
      legs: [
        { account: { id: funding.id }, direction: "DEBIT", amount: "10000", currency: "USD" },
        { account: { id: seller.id }, direction: "CREDIT", amount: "9700", currency: "USD" },
        { account: { code: fees.code }, direction: "CREDIT", amount: "300", currency: "USD" },
      ],
    });
    assertResult(result, "TransferPosted");
    expect(result.transfer.description).toBe("sale with fee");
    expect(result.transfer.metadata).toEqual({ orderId: "o-1" });
    expect((await balanceOf(tenant, seller.id)).posted).toBe("9700");
    expect((await balanceOf(tenant, fees.id)).posted).toBe("300");
  });

  it("posts a balanced multi-currency transfer (an FX conversion)", async () => {
    const fundingEur = await createFundingAccount(tenant, "EUR");
    const usd = await createAccount(tenant);
    const eur = await createAccount(tenant, { currency: "EUR" });
    const fx = await createAccount(tenant, { minBalance: null });
    const fxEur = await createAccount(tenant, { minBalance: null, currency: "EUR" });
    await transferBetween(tenant, fundingEur.id, eur.id, "1000", "EUR");
    const result = await postTransfer(tenant, {
      legs: [
        { account: { id: eur.id }, direction: "DEBIT", amount: "1000", currency: "EUR" },
        { account: { id: fxEur.id }, direction: "CREDIT", amount: "1000", currency: "EUR" },
        { account: { id: fx.id }, direction: "DEBIT", amount: "1100", currency: "USD" },
        { account: { id: usd.id }, direction: "CREDIT", amount: "1100", currency: "USD" },
      ],
    });
    expect(result.__typename).toBe("TransferPosted");
    expect((await balanceOf(tenant, usd.id)).posted).toBe("1100");
    expect((await balanceOf(tenant, eur.id)).posted).toBe("0");
  });

  it("versions grow by one per entry and entries carry the balances after them", async () => {
    const account = await createAccount(tenant);
    for (const amount of ["100", "250", "5"]) await transferBetween(tenant, funding.id, account.id, amount);
    await transferBetween(tenant, account.id, funding.id, "55");
    const data = await tenant.gql(
      `query($id: ID!) { account(id: $id) { entries(first: 10) { nodes { direction amount balanceAfter { posted version } } } } }`,
      { id: account.id },
    );
    expect(data.account.entries.nodes).toEqual([
      { direction: "DEBIT", amount: "55", balanceAfter: { posted: "300", version: "4" } },
      { direction: "CREDIT", amount: "5", balanceAfter: { posted: "355", version: "3" } },
      { direction: "CREDIT", amount: "250", balanceAfter: { posted: "350", version: "2" } },
      { direction: "CREDIT", amount: "100", balanceAfter: { posted: "100", version: "1" } },
    ]);
  });

  it("a DEBIT-normal account grows with debits", async () => {
    const cash = await createAccount(tenant, { normalSide: "DEBIT" });
    const equity = await createAccount(tenant, { normalSide: "CREDIT" });
    const result = await transferBetween(tenant, cash.id, equity.id, "700");
    expect(result.__typename).toBe("TransferPosted");
    expect((await balanceOf(tenant, cash.id)).posted).toBe("700");
    expect((await balanceOf(tenant, equity.id)).posted).toBe("700");
  });
});

describe("business rejections", () => {
  it("rejects an overdraft with InsufficientFunds and changes nothing", async () => {
    const payer = await createAccount(tenant);
    const payee = await createAccount(tenant);
    await transferBetween(tenant, funding.id, payer.id, "500");
    const before = await ledgerState();
    const result = await transferBetween(tenant, payer.id, payee.id, "501");
    expect(result).toMatchObject({
      __typename: "InsufficientFunds",
      code: "InsufficientFunds",
      accountId: payer.id,
      available: "500",
      requested: "501",
      minBalance: "0",
      legIndex: 0,
    });
    expect(await ledgerState()).toEqual(before);
  });

  it("allows an overdraft down to a negative minBalance and no further", async () => {
    const credit = await createAccount(tenant, { minBalance: "-1000" });
    const other = await createAccount(tenant);
    expect((await transferBetween(tenant, credit.id, other.id, "1000")).__typename).toBe("TransferPosted");
    expect((await transferBetween(tenant, credit.id, other.id, "1")).__typename).toBe("InsufficientFunds");
    expect((await balanceOf(tenant, credit.id)).posted).toBe("-1000");
  });

  it("rejects going above maxBalance with BalanceLimitExceeded", async () => {
    const capped = await createAccount(tenant, { maxBalance: "1000" });
    expect((await transferBetween(tenant, funding.id, capped.id, "1000")).__typename).toBe("TransferPosted");
    const result = await transferBetween(tenant, funding.id, capped.id, "1");
    expect(result).toMatchObject({ __typename: "BalanceLimitExceeded", accountId: capped.id, balanceAfter: "1001", maxBalance: "1000" });
  });

  it("rejects a leg in another currency than its account with CurrencyMismatch", async () => {
    const eur = await createAccount(tenant, { currency: "EUR" });
    const before = await ledgerState();
    const result = await transferBetween(tenant, funding.id, eur.id, "10", "USD");
    expect(result).toMatchObject({ __typename: "CurrencyMismatch", accountId: eur.id, accountCurrency: "EUR", legCurrency: "USD" });
    expect(await ledgerState()).toEqual(before);
  });

  it("rejects unknown accounts with AccountNotFound", async () => {
    const before = await ledgerState();
    const unknownId = "acct_00000000-0000-4000-8000-000000000000";
    const byId = await transferBetween(tenant, funding.id, unknownId, "10");
    expect(byId).toMatchObject({ __typename: "AccountNotFound", account: unknownId, legIndex: 1 });
    const malformed = await transferBetween(tenant, "acct_nope", funding.id, "10");
    expect(malformed).toMatchObject({ __typename: "AccountNotFound", account: "acct_nope", legIndex: 0 });
    const byCode = await postTransfer(tenant, { from: { id: funding.id }, to: { code: "no-such-code" }, amount: "10", currency: "USD" });
    expect(byCode).toMatchObject({ __typename: "AccountNotFound", account: "no-such-code" });
    expect(await ledgerState()).toEqual(before);
  });

  it("answers one account named twice by id and by code as it answers it named twice by id: InvalidInput, not remembered", async () => {
    const account = await createAccount(tenant);
    const idempotencyKey = key("dup");
    const before = await ledgerState();
    const twice = await postTransfer(tenant, {
      idempotencyKey,
      from: { id: account.id },
      to: { code: account.code },
      amount: "10",
      currency: "USD",
    });
    expect(twice).toMatchObject({ __typename: "InvalidInput", reason: "DUPLICATE_ACCOUNT", field: "legs[1]" });
    const byId = await postTransfer(tenant, {
      idempotencyKey,
      from: { id: account.id },
      to: { id: account.id },
      amount: "10",
      currency: "USD",
    });
    expect(byId).toMatchObject({ __typename: "InvalidInput", reason: "DUPLICATE_ACCOUNT" });
    expect(await ledgerState()).toEqual(before);
    // Not remembered: the corrected request may use the same key.
    const fixed = await postTransfer(tenant, {
      idempotencyKey,
      from: { id: funding.id },
      to: { id: account.id },
      amount: "10",
      currency: "USD",
    });
    expect(fixed).toMatchObject({ __typename: "TransferPosted", replay: false });
  });

  it("answers a malformed currency code on a leg as createAccount does: InvalidInput CURRENCY_CODE_FORMAT, never CurrencyMismatch", async () => {
    const account = await createAccount(tenant);
    const before = await ledgerState();
    for (const currency of ["usd", "US", "UЅD"]) {
      const result = await postTransfer(tenant, { from: { id: funding.id }, to: { id: account.id }, amount: "10", currency });
      expect(result, currency).toMatchObject({ __typename: "InvalidInput", reason: "CURRENCY_CODE_FORMAT", field: "currency" });
    }
    expect(await ledgerState()).toEqual(before);
    const data = await tenant.gql(
      `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on InvalidInput { reason field } } }`,
      { input: { idempotencyKey: key("a"), code: key("code"), name: "n", currency: "usd", normalSide: "CREDIT" } },
    );
    expect(data.createAccount).toEqual({ __typename: "InvalidInput", reason: "CURRENCY_CODE_FORMAT", field: "currency" });
  });

  it("rejects totals that would leave the signed 64-bit range with AmountOverflow", async () => {
    const huge = await createAccount(tenant, { minBalance: null });
    const sink = await createAccount(tenant, { maxBalance: null });
    const max = "9223372036854775807";
    expect((await transferBetween(tenant, huge.id, sink.id, max)).__typename).toBe("TransferPosted");
    const before = await ledgerState();
    const result = await transferBetween(tenant, huge.id, sink.id, "1");
    expect(result).toMatchObject({ __typename: "AmountOverflow", accountId: huge.id, legIndex: 0 });
    expect(await ledgerState()).toEqual(before);
  });
});

describe("bad input", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["zero amount", { amount: "0" }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE", field: "amount" }],
    ["negative amount", { amount: "-5" }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE" }],
    ["fractional amount", { amount: "10.5" }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_INTEGER" }],
    ["fractional amount as a number", { amount: 10.5 }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_A_STRING" }],
    ["an integer amount as a JSON number", { amount: 10 }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_A_STRING", field: "amount" }],
    ["an amount with a leading zero", { amount: "010" }, { __typename: "InvalidInput", reason: "AMOUNT_LEADING_ZERO", field: "amount" }],
    ["non-numeric amount", { amount: "ten" }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_INTEGER" }],
    ["exponent amount", { amount: "1e3" }, { __typename: "InvalidInput", reason: "AMOUNT_NOT_INTEGER" }],
    ["out-of-range amount", { amount: "9223372036854775808" }, { __typename: "InvalidInput", reason: "AMOUNT_OUT_OF_RANGE" }],
    ["huge amount", { amount: "9".repeat(100) }, { __typename: "InvalidInput", reason: "AMOUNT_OUT_OF_RANGE" }],
    ["same account on both legs", { sameAccount: true }, { __typename: "InvalidInput", reason: "DUPLICATE_ACCOUNT" }],
    ["empty idempotency key", { idempotencyKey: "" }, { __typename: "InvalidInput", reason: "EMPTY", field: "idempotencyKey" }],
    ["overlong idempotency key", { idempotencyKey: "k".repeat(256) }, { __typename: "LimitExceeded", limit: "idempotencyKeyLengthMax" }],
    ["oversized metadata", { metadata: { blob: "x".repeat(5000) } }, { __typename: "LimitExceeded", limit: "metadataBytesMax" }],
    ["metadata that is not an object", { metadata: [1, 2] }, { __typename: "InvalidInput", reason: "METADATA_NOT_OBJECT" }],
    ["both forms at once", { legs: [] }, { __typename: "InvalidInput", reason: "TRANSFER_FORM" }],
    ["an overlong description", { description: "d".repeat(1001) }, { __typename: "LimitExceeded", limit: "descriptionLengthMax" }],
  ];

  it.each(cases)("rejects %s with a typed error and changes nothing", async (_name, change, expected) => {
    const a = await createAccount(tenant);
    const before = await ledgerState();
    const { sameAccount, ...overrides } = change;
    const result = await postTransfer(tenant, {
      from: { id: funding.id },
      to: { id: sameAccount ? funding.id : a.id },
      amount: "10",
      currency: "USD",
      ...overrides,
    });
    expect(result).toMatchObject(expected);
    expect(result).toMatchObject({ message: expect.any(String) });
    expect(await ledgerState()).toEqual(before);
  });

  it("rejects unbalanced legs with UnbalancedTransfer and changes nothing", async () => {
    const a = await createAccount(tenant);
    const before = await ledgerState();
    const result = await postTransfer(tenant, {
      legs: [
        { account: { id: funding.id }, direction: "DEBIT", amount: "100", currency: "USD" },
        { account: { id: a.id }, direction: "CREDIT", amount: "99", currency: "USD" },
      ],
    });
    expect(result).toMatchObject({ __typename: "UnbalancedTransfer", currency: "USD", debits: "100", credits: "99" });
    expect(await ledgerState()).toEqual(before);
  });

  it("rejects mixed currencies that do not balance per currency", async () => {
    const eur = await createAccount(tenant, { currency: "EUR" });
    const result = await postTransfer(tenant, {
      legs: [
        { account: { id: funding.id }, direction: "DEBIT", amount: "100", currency: "USD" },
        { account: { id: eur.id }, direction: "CREDIT", amount: "100", currency: "EUR" },
      ],
    });
    expect(result).toMatchObject({ __typename: "UnbalancedTransfer" });
  });

  it("rejects a single leg", async () => {
    const result = await postTransfer(tenant, {
      legs: [{ account: { id: funding.id }, direction: "DEBIT", amount: "1", currency: "USD" }],
    });
    expect(result).toMatchObject({ __typename: "InvalidInput", reason: "TOO_FEW_LEGS" });
  });

  it("rejects an account of another tenant exactly as an unknown one", async () => {
    const other = await service.newTenant("other");
    const foreign = await createAccount(other);
    const foreignResult = await transferBetween(tenant, funding.id, foreign.id, "10");
    const unknownResult = await transferBetween(tenant, funding.id, "acct_00000000-0000-4000-8000-00000000abcd", "10");
    expect(foreignResult.__typename).toBe("AccountNotFound");
    expect(Object.keys(foreignResult).sort()).toEqual(Object.keys(unknownResult).sort());
    expect((await balanceOf(other, foreign.id)).version).toBe("0");
  });
});

describe("batches", () => {
  it("atomic: one failing item posts nothing and the others answer BatchAborted", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const before = await ledgerState();
    const data = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: true,
        transfers: [
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" },
          { idempotencyKey: key(), from: { id: b.id }, to: { id: a.id }, amount: "1", currency: "USD" },
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: b.id }, amount: "5", currency: "USD" },
        ],
      },
    });
    const batch = expectResult(data.postTransfers, "TransfersPosted");
    expect(batch.allSucceeded).toBe(false);
    expect(batch.results.map((r: any) => r.__typename)).toEqual(["BatchAborted", "InsufficientFunds", "BatchAborted"]);
    expect(batch.results[0]).toMatchObject({ failedIndex: 1 });
    expect(await ledgerState()).toEqual(before);
  });

  it("atomic: an invalid item aborts the batch before the database", async () => {
    const a = await createAccount(tenant);
    const before = await ledgerState();
    const data = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: true,
        transfers: [
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" },
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "0", currency: "USD" },
        ],
      },
    });
    assertResult(data.postTransfers, "TransfersPosted");
    expect(data.postTransfers.results.map((r: any) => r.__typename)).toEqual(["BatchAborted", "InvalidInput"]);
    expect(await ledgerState()).toEqual(before);
  });

  it("atomic: later items see the balances earlier items made", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const data = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: true,
        transfers: [
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" },
          { idempotencyKey: key(), from: { id: a.id }, to: { id: b.id }, amount: "100", currency: "USD" },
        ],
      },
    });
    assertResult(data.postTransfers, "TransfersPosted");
    expect(data.postTransfers.allSucceeded).toBe(true);
    expect((await balanceOf(tenant, b.id)).posted).toBe("100");
    expect((await balanceOf(tenant, a.id)).version).toBe("2");
  });

  it("non-atomic: each item succeeds or fails on its own", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const data = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: false,
        transfers: [
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" },
          { idempotencyKey: key(), from: { id: b.id }, to: { id: a.id }, amount: "1", currency: "USD" },
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: b.id }, amount: "0", currency: "USD" },
          { idempotencyKey: key(), from: { id: funding.id }, to: { id: b.id }, amount: "5", currency: "USD" },
        ],
      },
    });
    assertResult(data.postTransfers, "TransfersPosted");
    expect(data.postTransfers.results.map((r: any) => r.__typename)).toEqual([
      "TransferPosted",
      "InsufficientFunds",
      "InvalidInput",
      "TransferPosted",
    ]);
    expect(data.postTransfers.allSucceeded).toBe(false);
    expect((await balanceOf(tenant, a.id)).posted).toBe("100");
    expect((await balanceOf(tenant, b.id)).posted).toBe("5");
  });

  it("rejects two items with one idempotency key", async () => {
    const a = await createAccount(tenant);
    const shared = key();
    const data = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: false,
        transfers: [
          { idempotencyKey: shared, from: { id: funding.id }, to: { id: a.id }, amount: "1", currency: "USD" },
          { idempotencyKey: shared, from: { id: funding.id }, to: { id: a.id }, amount: "2", currency: "USD" },
        ],
      },
    });
    assertResult(data.postTransfers, "TransfersPosted");
    expect(data.postTransfers.results.map((r: any) => r.__typename)).toEqual(["TransferPosted", "InvalidInput"]);
    expect(data.postTransfers.results[1]).toMatchObject({ reason: "DUPLICATE_IDEMPOTENCY_KEY" });
  });

  it("rejects an empty batch and one over the batch size limit", async () => {
    const empty = await tenant.gql(postTransfersMutation, { input: { atomic: true, transfers: [] } });
    expect(empty.postTransfers).toMatchObject({ __typename: "InvalidInput", reason: "EMPTY" });
  });
});

describe("immutability", () => {
  it("the database rejects UPDATE and DELETE of posted transfers and entries", async () => {
    const a = await createAccount(tenant);
    await transferBetween(tenant, funding.id, a.id, "10");
    for (const sql of [
      "UPDATE entries SET amount = amount + 1 WHERE tenant_id = $1",
      "DELETE FROM entries WHERE tenant_id = $1",
      "UPDATE transfers SET description = 'edited' WHERE tenant_id = $1",
      "DELETE FROM transfers WHERE tenant_id = $1",
    ]) {
      await expect(service.db.pool.query(sql, [tenant.id])).rejects.toThrow(/immutable/);
    }
    await expect(service.db.pool.query("TRUNCATE entries CASCADE")).rejects.toThrow(/immutable/);
  });

  it("the database refuses a balance outside the account's bounds even from raw SQL", async () => {
    const a = await createAccount(tenant);
    await expect(service.db.pool.query("UPDATE accounts SET debits_posted = 1 WHERE id = $1", [a.id.slice(5)])).rejects.toThrow(
      /accounts_balance_within_bounds/,
    );
  });
});

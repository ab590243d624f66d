// Reversals through the GraphQL API: full and partial, linked both ways, bounded unless forced,
// idempotent; every rejection leaves the ledger untouched.
import { describe, expect, it } from "vitest";
import { ledgerState as sharedLedgerState } from "../support/ledger-state.js";
import {
  assertResult,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  fullBalanceOf,
  key,
  postTransfer,
  reverseTransfer,
  transferBetween,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";

const service = useTestService();

type Balances = { account: { id: string }; balance: Record<string, string> }[];
const balanceIn = (balances: Balances, accountId: string) => balances.find((b) => b.account.id === accountId)?.balance;

/** A tenant whose customer paid the merchant `paid` out of 1000. */
async function setup(paid = "300") {
  const tenant = await service.newTenant("reversals");
  const funding = await createFundingAccount(tenant);
  const customer = await createAccount(tenant);
  const merchant = await createAccount(tenant);
  await transferBetween(tenant, funding.id, customer.id, "1000");
  const payment = await transferBetween(tenant, customer.id, merchant.id, paid);
  assertResult(payment, "TransferPosted");
  return { tenant, funding, customer, merchant, payment: payment.transfer as { id: string } };
}

const ledgerState = (tenant: TestTenant) => sharedLedgerState(service.db.pool, tenant.id);

async function reversalsOf(tenant: TestTenant, transferId: string): Promise<string[]> {
  const data = await tenant.gql(`query($id: ID!) { transfer(id: $id) { reversedBy { id } } }`, { id: transferId });
  return data.transfer.reversedBy.map((t: { id: string }) => t.id);
}

describe("reversals", () => {
  it("a full reversal posts the legs inverted, links both ways and returns the balances right after", async () => {
    const { tenant, customer, merchant, payment } = await setup();
    const result = await reverseTransfer(tenant, payment.id);
    assertResult(result, "TransferReversed");
    expect(result.replay).toBe(false);
    expect(result.transfer.forced).toBe(false);
    expect(result.transfer.reverses?.id).toBe(payment.id);
    expect(result.transfer.entries).toEqual([
      { direction: "CREDIT", amount: "300", account: { id: customer.id } },
      { direction: "DEBIT", amount: "300", account: { id: merchant.id } },
    ]);
    expect(balanceIn(result.balances, customer.id)).toMatchObject({ posted: "1000", available: "1000" });
    expect(balanceIn(result.balances, merchant.id)).toMatchObject({ posted: "0", available: "0" });
    expect(await reversalsOf(tenant, payment.id)).toEqual([result.transfer.id]);
    expect(await fullBalanceOf(tenant, merchant.id)).toMatchObject({ posted: "0", debitsPosted: "300", creditsPosted: "300" });
  });

  it("partial reversals add up to the original and never beyond it", async () => {
    const { tenant, customer, merchant, payment } = await setup();
    const first = expectResult(await reverseTransfer(tenant, payment.id, { amount: "100" }), "TransferReversed");
    expect(first.transfer.entries.map((e: { amount: string }) => e.amount)).toEqual(["100", "100"]);
    expect(balanceIn(first.balances, merchant.id)).toMatchObject({ posted: "200" });
    const second = await reverseTransfer(tenant, payment.id, { amount: "150" });
    assertResult(second, "TransferReversed");
    expect(await reverseTransfer(tenant, payment.id, { amount: "51" })).toMatchObject({
      code: "ReversalExceedsRemaining",
      transferId: payment.id,
      remaining: "50",
      requested: "51",
      replay: false,
    });
    // Without an amount a reversal takes all that is left.
    const rest = expectResult(await reverseTransfer(tenant, payment.id), "TransferReversed");
    expect(rest.transfer.entries.map((e: { amount: string }) => e.amount)).toEqual(["50", "50"]);
    expect(await reverseTransfer(tenant, payment.id, { amount: "1" })).toMatchObject({
      code: "ReversalExceedsRemaining",
      remaining: "0",
      requested: "1",
    });
    expect(await reverseTransfer(tenant, payment.id)).toMatchObject({ code: "ReversalExceedsRemaining", remaining: "0" });
    expect(await reversalsOf(tenant, payment.id)).toEqual([first.transfer.id, second.transfer.id, rest.transfer.id]);
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "1000" });
    expect(await fullBalanceOf(tenant, merchant.id)).toMatchObject({ posted: "0" });
  });

  it("reversing a reversal is NotReversible with reason REVERSAL", async () => {
    const { tenant, payment } = await setup();
    const reversal = expectResult(await reverseTransfer(tenant, payment.id, { amount: "10" }), "TransferReversed");
    expect(await reverseTransfer(tenant, reversal.transfer.id)).toMatchObject({
      code: "NotReversible",
      reason: "REVERSAL",
      id: reversal.transfer.id,
      replay: false,
    });
  });

  it("a hold id is NotReversible with reason HOLD and names the hold", async () => {
    const { tenant, customer, merchant } = await setup();
    const { hold } = expectResult(
      await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "50", currency: "USD" }),
      "HoldCreated",
    );
    expect(await reverseTransfer(tenant, hold.id)).toMatchObject({ code: "NotReversible", reason: "HOLD", id: hold.id });
  });

  it("an unknown or another tenant's hold id answers TransferNotFound, not a GraphQL error", async () => {
    const { tenant } = await setup();
    const other = await setup();
    const { hold: foreignHold } = expectResult(
      await createHold(other.tenant, {
        from: { id: other.customer.id },
        to: { id: other.merchant.id },
        amount: "5",
        currency: "USD",
      }),
      "HoldCreated",
    );
    for (const holdId of ["hold_00000000-0000-4000-8000-000000000000", foreignHold.id]) {
      const response = await tenant.request(
        `mutation($input: ReverseTransferInput!) { reverseTransfer(input: $input) { __typename ... on Problem { code } } }`,
        { input: { idempotencyKey: key("reverse"), transferId: holdId } },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data.reverseTransfer).toEqual({ __typename: "TransferNotFound", code: "TransferNotFound" });
    }
  });

  it("an unknown transfer and another tenant's transfer both answer TransferNotFound, alike", async () => {
    const { tenant } = await setup();
    const other = await setup();
    const unknownId = "tr_00000000-0000-4000-8000-000000000000";
    const unknown = await reverseTransfer(tenant, unknownId);
    const foreign = await reverseTransfer(tenant, other.payment.id);
    expect(unknown).toMatchObject({ code: "TransferNotFound", transferId: unknownId, replay: false });
    expect(foreign).toMatchObject({ code: "TransferNotFound", transferId: other.payment.id, replay: false });
    // Nothing but the echoed id tells them apart.
    const masked = (p: unknown, id: string) => JSON.parse(JSON.stringify(p).replaceAll(id, "<id>"));
    expect(masked(foreign, other.payment.id)).toEqual(masked(unknown, unknownId));
    expect(await reverseTransfer(tenant, "tr_not-an-id")).toMatchObject({ code: "TransferNotFound", transferId: "tr_not-an-id" });
    expect(await reversalsOf(other.tenant, other.payment.id)).toEqual([]);
  });

  it("a transfer with three legs is reversed whole only: a partial amount is InvalidInput PARTIAL_MULTI_LEG", async () => {
    const tenant = await service.newTenant("reversals");
    const funding = await createFundingAccount(tenant);
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const split = expectResult(
      await postTransfer(tenant, {
        legs: [
          { account: { id: funding.id }, direction: "DEBIT", amount: "300", currency: "USD" },
          { account: { id: a.id }, direction: "CREDIT", amount: "100", currency: "USD" },
          { account: { id: b.id }, direction: "CREDIT", amount: "200", currency: "USD" },
        ],
      }),
      "TransferPosted",
    );
    expect(await reverseTransfer(tenant, split.transfer.id, { amount: "100" })).toMatchObject({
      code: "InvalidInput",
      field: "amount",
      reason: "PARTIAL_MULTI_LEG",
    });
    const whole = await reverseTransfer(tenant, split.transfer.id);
    assertResult(whole, "TransferReversed");
    expect(whole.transfer.entries).toEqual([
      { direction: "CREDIT", amount: "300", account: { id: funding.id } },
      { direction: "DEBIT", amount: "100", account: { id: a.id } },
      { direction: "DEBIT", amount: "200", account: { id: b.id } },
    ]);
    expect(balanceIn(whole.balances, a.id)).toMatchObject({ posted: "0" });
    expect(balanceIn(whole.balances, b.id)).toMatchObject({ posted: "0" });
    expect(await reverseTransfer(tenant, split.transfer.id)).toMatchObject({ code: "ReversalExceedsRemaining", remaining: "0" });
  });

  it("bounds apply to a reversal: a receiver that spent the money answers InsufficientFunds", async () => {
    const { tenant, funding, merchant, payment } = await setup();
    await transferBetween(tenant, merchant.id, funding.id, "250");
    const before = await ledgerState(tenant);
    expect(await reverseTransfer(tenant, payment.id)).toMatchObject({
      code: "InsufficientFunds",
      accountId: merchant.id,
      available: "50",
      requested: "300",
      minBalance: "0",
    });
    expect(await ledgerState(tenant)).toEqual(before);
  });

  it("a forced reversal may break the minimum, is shown as forced, and the account then accepts credits but refuses debits", async () => {
    const { tenant, funding, customer, merchant, payment } = await setup();
    await transferBetween(tenant, merchant.id, funding.id, "250");
    const forced = await reverseTransfer(tenant, payment.id, { force: true });
    assertResult(forced, "TransferReversed");
    expect(forced.transfer.forced).toBe(true);
    expect(balanceIn(forced.balances, merchant.id)).toMatchObject({ posted: "-250", available: "-250" });
    expect(balanceIn(forced.balances, customer.id)).toMatchObject({ posted: "1000" });
    const data = await tenant.gql(`query($id: ID!) { transfer(id: $id) { forced reverses { id } } }`, { id: forced.transfer.id });
    expect(data.transfer).toEqual({ forced: true, reverses: { id: payment.id } });
    expect(await transferBetween(tenant, merchant.id, funding.id, "1")).toMatchObject({
      code: "InsufficientFunds",
      accountId: merchant.id,
      available: "-250",
      requested: "1",
    });
    expect(await transferBetween(tenant, funding.id, merchant.id, "10")).toMatchObject({ __typename: "TransferPosted" });
    expect(await fullBalanceOf(tenant, merchant.id)).toMatchObject({ posted: "-240", available: "-240" });
  });

  it("the transfer a capture posted can be reversed (a refund after capture)", async () => {
    const { tenant, customer, merchant } = await setup("1");
    const { hold } = expectResult(
      await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "400", currency: "USD" }),
      "HoldCreated",
    );
    const capture = await captureHold(tenant, hold.id);
    assertResult(capture, "HoldCaptured");
    const refund = await reverseTransfer(tenant, capture.transfer.id, { amount: "150" });
    assertResult(refund, "TransferReversed");
    expect(refund.transfer.reverses?.id).toBe(capture.transfer.id);
    expect(balanceIn(refund.balances, customer.id)).toMatchObject({ posted: "749", pending: "0", available: "749" });
    expect(balanceIn(refund.balances, merchant.id)).toMatchObject({ posted: "251" });
    const rest = expectResult(await reverseTransfer(tenant, capture.transfer.id), "TransferReversed");
    expect(rest.transfer.entries.map((e: { amount: string }) => e.amount)).toEqual(["250", "250"]);
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "999" });
  });

  it("a replayed reversal returns the same transfer; the same key with another request is an IdempotencyConflict", async () => {
    const { tenant, payment } = await setup();
    const idempotencyKey = key("reverse");
    const first = expectResult(await reverseTransfer(tenant, payment.id, { idempotencyKey, amount: "40" }), "TransferReversed");
    const before = await ledgerState(tenant);
    const again = await reverseTransfer(tenant, payment.id, { idempotencyKey, amount: "40" });
    expect(again).toMatchObject({ __typename: "TransferReversed", replay: true, transfer: { id: first.transfer.id } });
    expect(await ledgerState(tenant)).toEqual(before);
    expect(await reverseTransfer(tenant, payment.id, { idempotencyKey, amount: "41" })).toMatchObject({
      code: "IdempotencyConflict",
      idempotencyKey,
    });
    expect(await reverseTransfer(tenant, payment.id, { idempotencyKey, amount: "40", force: true })).toMatchObject({
      code: "IdempotencyConflict",
    });
    expect(await reversalsOf(tenant, payment.id)).toEqual([first.transfer.id]);
  });

  it("a replayed rejection returns the stored rejection, even after the state changed", async () => {
    const { tenant, funding, merchant, payment } = await setup();
    await transferBetween(tenant, merchant.id, funding.id, "250");
    const idempotencyKey = key("reverse");
    expect(await reverseTransfer(tenant, payment.id, { idempotencyKey })).toMatchObject({ code: "InsufficientFunds", replay: false });
    await transferBetween(tenant, funding.id, merchant.id, "1000");
    expect(await reverseTransfer(tenant, payment.id, { idempotencyKey })).toMatchObject({
      code: "InsufficientFunds",
      available: "50",
      replay: true,
    });
  });

  it("every bad reversal request changes nothing", async () => {
    const { tenant, customer, merchant, payment } = await setup();
    const reversal = expectResult(await reverseTransfer(tenant, payment.id, { amount: "100" }), "TransferReversed");
    const { hold } = expectResult(
      await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "5", currency: "USD" }),
      "HoldCreated",
    );
    const before = await ledgerState(tenant);
    const conflictKey = key("reverse");
    await reverseTransfer(tenant, payment.id, { idempotencyKey: conflictKey, amount: "300" });
    const afterStoredRejection = await ledgerState(tenant);
    expect(afterStoredRejection).toEqual(before);
    const bad: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { transferId: payment.id, amount: "201" },
        { code: "ReversalExceedsRemaining", remaining: "200" },
      ],
      [
        { transferId: payment.id, amount: "0" },
        { code: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE" },
      ],
      [
        { transferId: payment.id, amount: "-5" },
        { code: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE" },
      ],
      [
        { transferId: payment.id, amount: "1.5" },
        { code: "InvalidInput", reason: "AMOUNT_NOT_INTEGER" },
      ],
      [{ transferId: reversal.transfer.id }, { code: "NotReversible", reason: "REVERSAL" }],
      [{ transferId: hold.id }, { code: "NotReversible", reason: "HOLD" }],
      [{ transferId: "tr_00000000-0000-4000-8000-000000000001" }, { code: "TransferNotFound" }],
      [{ transferId: payment.id, idempotencyKey: conflictKey, amount: "1" }, { code: "IdempotencyConflict" }],
      [{ transferId: payment.id, idempotencyKey: "" }, { code: "InvalidInput" }],
    ];
    for (const [input, expected] of bad) {
      const { transferId, ...rest } = input as { transferId: string };
      expect(await reverseTransfer(tenant, transferId, rest)).toMatchObject(expected);
    }
    expect(await ledgerState(tenant)).toEqual(before);
    expect(await reversalsOf(tenant, payment.id)).toEqual([reversal.transfer.id]);
  });
});

describe("updateAccount bounds with open holds", () => {
  const updateMutation = `mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
    __typename ... on AccountUpdated { replay account { minBalance } } ... on Problem { code } ... on BoundsViolated { accountId balance } } }`;
  const update = async (tenant: TestTenant, input: Record<string, unknown>) =>
    (await tenant.gql(updateMutation, { input: { idempotencyKey: key("update"), ...input } })).updateAccount;

  it("raising minBalance above the available balance of an account with an open hold answers BoundsViolated", async () => {
    const { tenant, customer, merchant } = await setup("1");
    await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "700", currency: "USD" });
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "999", available: "299" });
    expect(await update(tenant, { id: customer.id, minBalance: "300" })).toMatchObject({
      code: "BoundsViolated",
      accountId: customer.id,
      balance: "999",
    });
    const data = await tenant.gql(`query($id: ID!) { account(id: $id) { minBalance } }`, { id: customer.id });
    expect(data.account.minBalance).toBe("0");
    expect(await update(tenant, { id: customer.id, minBalance: "299" })).toMatchObject({
      __typename: "AccountUpdated",
      account: { minBalance: "299" },
    });
  });

  it("lowering maxBalance below posted plus incoming holds answers BoundsViolated", async () => {
    const { tenant, customer, merchant } = await setup("100");
    await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "50", currency: "USD" });
    expect(await update(tenant, { id: merchant.id, maxBalance: "149" })).toMatchObject({
      code: "BoundsViolated",
      accountId: merchant.id,
      balance: "100",
    });
    expect(await update(tenant, { id: merchant.id, maxBalance: "150" })).toMatchObject({ __typename: "AccountUpdated" });
  });
});

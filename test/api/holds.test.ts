// Holds through the GraphQL API: reserve, capture in parts, void, expire; balances and bounds.
import { describe, expect, it } from "vitest";
import { advanceClock, freezeClock, runExpiryJob, tenantNow } from "../support/clock.js";
import {
  assertResult,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  fullBalanceOf,
  key,
  transferBetween,
  voidHold,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";
import { startExpiryJob } from "../../src/ledger/expiry.js";

const service = useTestService();

/** A fresh tenant with a customer holding `funds` and a merchant. */
async function setup(funds = "1000") {
  const tenant = await service.newTenant("holds");
  const funding = await createFundingAccount(tenant);
  const customer = await createAccount(tenant);
  const merchant = await createAccount(tenant);
  await transferBetween(tenant, funding.id, customer.id, funds);
  return { tenant, customer, merchant };
}

const holdBetween = (tenant: TestTenant, from: string, to: string, amount: string, extra: Record<string, unknown> = {}) =>
  createHold(tenant, { from: { id: from }, to: { id: to }, amount, currency: "USD", ...extra });

describe("holds", () => {
  it("a hold raises pending totals, lowers available, and leaves posted alone", async () => {
    const { tenant, customer, merchant } = await setup();
    const result = await holdBetween(tenant, customer.id, merchant.id, "300");
    assertResult(result, "HoldCreated");
    expect(result.hold).toMatchObject({ status: "OPEN", amount: "300", remainingAmount: "300", capturedAmount: "0" });
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({
      posted: "1000",
      pending: "-300",
      available: "700",
      debitsPending: "300",
    });
    expect(await fullBalanceOf(tenant, merchant.id)).toMatchObject({ posted: "0", pending: "300", available: "0", creditsPending: "300" });
    const customerAfter = result.balances.find((b: { account: { id: string } }) => b.account.id === customer.id);
    expect(customerAfter?.balance).toMatchObject({ available: "700", version: "2" });
  });

  it("bounds are checked against the available balance, so money cannot be promised twice", async () => {
    const { tenant, customer, merchant } = await setup();
    await holdBetween(tenant, customer.id, merchant.id, "700");
    const second = await holdBetween(tenant, customer.id, merchant.id, "400");
    expect(second).toMatchObject({ code: "InsufficientFunds", available: "300", requested: "400" });
    const spend = await transferBetween(tenant, customer.id, merchant.id, "301");
    expect(spend).toMatchObject({ code: "InsufficientFunds", available: "300" });
  });

  it("partial captures post transfers until nothing remains; a capture beyond what remains is refused", async () => {
    const { tenant, customer, merchant } = await setup();
    const { hold } = expectResult(await holdBetween(tenant, customer.id, merchant.id, "500"), "HoldCreated");
    const first = await captureHold(tenant, hold.id, { amount: "200" });
    assertResult(first, "HoldCaptured");
    expect(first.hold).toMatchObject({ status: "OPEN", capturedAmount: "200", remainingAmount: "300" });
    expect(first.transfer.hold?.id).toBe(hold.id);
    expect(await captureHold(tenant, hold.id, { amount: "301" })).toMatchObject({
      code: "CaptureExceedsRemaining",
      remaining: "300",
      requested: "301",
    });
    const rest = expectResult(await captureHold(tenant, hold.id), "HoldCaptured");
    expect(rest.hold).toMatchObject({ status: "CAPTURED", capturedAmount: "500", remainingAmount: "0" });
    expect(await captureHold(tenant, hold.id, { amount: "1" })).toMatchObject({ code: "HoldNotOpen", status: "CAPTURED" });
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "500", pending: "0", available: "500" });
    expect(await fullBalanceOf(tenant, merchant.id)).toMatchObject({ posted: "500", pending: "0" });
  });

  it("a void releases what remains, once", async () => {
    const { tenant, customer, merchant } = await setup();
    const { hold } = expectResult(await holdBetween(tenant, customer.id, merchant.id, "500"), "HoldCreated");
    await captureHold(tenant, hold.id, { amount: "100" });
    const voided = expectResult(await voidHold(tenant, hold.id), "HoldVoided");
    expect(voided.hold).toMatchObject({ status: "VOIDED", capturedAmount: "100", voidedAmount: "400", remainingAmount: "0" });
    expect(await voidHold(tenant, hold.id)).toMatchObject({ code: "HoldNotOpen", status: "VOIDED" });
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "900", available: "900", pending: "0" });
  });

  it("a hold is expired from expiresAt on: capture is refused even before the job runs, and the job releases it once", async () => {
    const { tenant, customer, merchant } = await setup();
    const now = await tenantNow(service.db, tenant.id);
    const expiresAt = new Date(now.getTime() + 60_000).toISOString();
    const { hold } = expectResult(
      await holdBetween(tenant, customer.id, merchant.id, "500", { expiresInSeconds: undefined, expiresAt }),
      "HoldCreated",
    );
    await freezeClock(service.db.pool, tenant.id, new Date(Date.parse(expiresAt) - 1));
    const data = await tenant.gql(`query($id: ID!) { hold(id: $id) { status } }`, { id: hold.id });
    expect(data.hold.status).toBe("OPEN");
    await freezeClock(service.db.pool, tenant.id, expiresAt);
    const listed = await tenant.gql(`query($id: ID!) { hold(id: $id) { status expiredAmount remainingAmount } }`, { id: hold.id });
    expect(listed.hold).toEqual({ status: "EXPIRED", expiredAmount: "500", remainingAmount: "0" });
    expect(await captureHold(tenant, hold.id)).toMatchObject({ code: "HoldExpired", holdId: hold.id });
    expect(await runExpiryJob(service.db.pool)).toBeGreaterThanOrEqual(0);
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ posted: "1000", available: "1000", pending: "0" });
    expect(await voidHold(tenant, hold.id)).toMatchObject({ code: "HoldExpired" });
  });

  it("the expiry job releases an expired hold's pending amounts", async () => {
    const { tenant, customer, merchant } = await setup();
    await holdBetween(tenant, customer.id, merchant.id, "250", { expiresInSeconds: 5 });
    await advanceClock(service.db.pool, tenant.id, 6000);
    expect(await runExpiryJob(service.db.pool)).toBeGreaterThanOrEqual(1);
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ available: "1000", pending: "0" });
    const data = await tenant.gql(
      `query($id: ID!) { account(id: $id) { holds(status: EXPIRED) { nodes { status expiredAmount closedAt } } } }`,
      { id: customer.id },
    );
    expect(data.account.holds.nodes).toHaveLength(1);
    expect(data.account.holds.nodes[0].closedAt).not.toBeNull();
  });

  it("the service's expiry timer releases expired holds on its own, and two timers release each hold once", async () => {
    const { tenant, customer, merchant } = await setup();
    const { hold } = expectResult(await holdBetween(tenant, customer.id, merchant.id, "400", { expiresInSeconds: 5 }), "HoldCreated");
    await advanceClock(service.db.pool, tenant.id, 6000);
    const jobs = [startExpiryJob(service.db, 20), startExpiryJob(service.db, 20)];
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        const { rows } = await service.db.pool.query("SELECT status FROM holds WHERE id = $1", [hold.id.replace("hold_", "")]);
        if (rows[0].status === "EXPIRED") break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all(jobs.map((job) => job.stop()));
    }
    const data = await tenant.gql(`query($id: ID!) { hold(id: $id) { status expiredAmount closedAt entries { kind } } }`, { id: hold.id });
    expect(data.hold.status).toBe("EXPIRED");
    expect(data.hold.closedAt).not.toBeNull();
    expect(data.hold.entries.filter((e: { kind: string }) => e.kind === "RELEASE")).toHaveLength(2);
    expect(await fullBalanceOf(tenant, customer.id)).toMatchObject({ available: "1000", pending: "0", version: "3" });
  });

  it("replaying a createHold returns the same hold", async () => {
    const { tenant, customer, merchant } = await setup();
    const idempotencyKey = key("hold");
    const first = expectResult(await holdBetween(tenant, customer.id, merchant.id, "100", { idempotencyKey }), "HoldCreated");
    const again = await holdBetween(tenant, customer.id, merchant.id, "100", { idempotencyKey });
    expect(again).toMatchObject({ replay: true, hold: { id: first.hold.id } });
    const conflict = await holdBetween(tenant, customer.id, merchant.id, "101", { idempotencyKey });
    expect(conflict).toMatchObject({ code: "IdempotencyConflict" });
  });
});

// Races on one hold or transfer, fired concurrently through the GraphQL API and repeated 200
// times each: every repetition must end in exactly one legal outcome, the loser must get a typed
// problem, and the reserved amount must be released (or captured) exactly once. After each
// repetition both accounts' posted/pending/available and versions are compared with a running
// expectation: a double release or double capture shows up as a wrong amount or an extra version.
import { beforeAll, describe, expect, it } from "vitest";
import { freezeClock, runExpiryJob, tenantNow } from "../support/clock.js";
import {
  assertResult,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  reverseTransfer,
  transferBetween,
  voidHold,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";
import { iso } from "../support/instants.js";

const service = useTestService();

const repetitions = 200;
// Repetitions run in lanes: each lane does its share one after another, lanes run side by side.
const laneCount = 10;
const raceTimeout = 120_000;

/** What an account's balance must be: amounts signed on its normal side (CREDIT here). */
interface Expected {
  posted: number;
  pending: number;
  version: number;
}

/** A customer (funded) and a merchant of one tenant, used by one lane only. */
interface Lane {
  tenant: TestTenant;
  customer: { id: string };
  merchant: { id: string };
  expected: { customer: Expected; merchant: Expected };
}

const funds = 1_000_000;

async function newLane(tenant: TestTenant): Promise<Lane> {
  const [funding, customer, merchant] = await Promise.all([createFundingAccount(tenant), createAccount(tenant), createAccount(tenant)]);
  expect((await transferBetween(tenant, funding.id, customer.id, String(funds))).__typename).toBe("TransferPosted");
  return {
    tenant,
    customer,
    merchant,
    expected: { customer: { posted: funds, pending: 0, version: 1 }, merchant: { posted: 0, pending: 0, version: 0 } },
  };
}

async function newLanes(name: string): Promise<Lane[]> {
  const tenant = await service.newTenant(name);
  return Promise.all(Array.from({ length: laneCount }, () => newLane(tenant)));
}

/**
 * One entry on each account (a hold, capture, release, transfer or reversal), from the customer
 * toward the merchant: `posted` moves posted money, `pending` reserves (or, negative, gives back).
 */
function step(lane: Lane, { posted = 0, pending = 0 }: { posted?: number; pending?: number }): void {
  const { customer, merchant } = lane.expected;
  customer.posted -= posted;
  merchant.posted += posted;
  customer.pending -= pending;
  merchant.pending += pending;
  customer.version++;
  merchant.version++;
}

/** The balance the API must report. All holds here go customer -> merchant, so only the
 * customer's (negative) pending lowers its available; the merchant's pending raises its balance. */
const balanceFor = ({ posted, pending, version }: Expected) => ({
  posted: String(posted),
  pending: String(pending),
  available: String(posted + Math.min(pending, 0)),
  version: String(version),
});

/** Runs `repetition(lane, index)` `repetitions` times, one lane after another within a lane. */
async function repeat(lanes: Lane[], repetition: (lane: Lane, index: number) => Promise<void>): Promise<void> {
  await Promise.all(
    lanes.map(async (lane, l) => {
      for (let index = l; index < repetitions; index += lanes.length) await repetition(lane, index);
    }),
  );
}

const holdFields = `status amount capturedAmount voidedAmount expiredAmount remainingAmount closedAt entries { kind account { id } amount }`;
const balanceRead = `balance { posted pending available version }`;

/** The hold (if given) and both accounts' balances in one read. */
async function stateOf(lane: Lane, holdId?: string) {
  const data = await lane.tenant.gql(
    `query($hold: ID!, $withHold: Boolean!, $customer: ID!, $merchant: ID!) { hold(id: $hold) @include(if: $withHold) { ${holdFields} }
      customer: account(id: $customer) { ${balanceRead} } merchant: account(id: $merchant) { ${balanceRead} } }`,
    { hold: holdId ?? "", withHold: holdId !== undefined, customer: lane.customer.id, merchant: lane.merchant.id },
  );
  return { hold: data.hold, customer: data.customer.balance, merchant: data.merchant.balance };
}

/** Both accounts' balances equal the running expectation. */
function expectBalances(lane: Lane, state: { customer: unknown; merchant: unknown }): void {
  expect(state.customer).toEqual(balanceFor(lane.expected.customer));
  expect(state.merchant).toEqual(balanceFor(lane.expected.merchant));
}

const kindsOf = (hold: { entries: { kind: string }[] }) => hold.entries.map((entry) => entry.kind).sort();

async function holdOf100(lane: Lane, extra: Record<string, unknown> = {}) {
  const created = await createHold(lane.tenant, {
    from: { id: lane.customer.id },
    to: { id: lane.merchant.id },
    amount: "100",
    currency: "USD",
    ...extra,
  });
  assertResult(created, "HoldCreated");
  step(lane, { pending: 100 });
  return created.hold as { id: string; expiresAt: string };
}

describe("races", () => {
  it(
    "a full capture racing a void of the same hold: exactly one wins, the other gets HoldNotOpen",
    async () => {
      const lanes = await newLanes("race-capture-void");
      const winners = { captured: 0, voided: 0 };
      await repeat(lanes, async (lane) => {
        const { id: holdId } = await holdOf100(lane);
        const [capture, voided] = await Promise.all([captureHold(lane.tenant, holdId), voidHold(lane.tenant, holdId)]);
        if (capture.__typename === "HoldCaptured") {
          winners.captured++;
          expect(voided).toMatchObject({ code: "HoldNotOpen", holdId, status: "CAPTURED" });
          step(lane, { posted: 100, pending: -100 });
        } else {
          winners.voided++;
          expect(voided).toMatchObject({ __typename: "HoldVoided" });
          expect(capture).toMatchObject({ code: "HoldNotOpen", holdId, status: "VOIDED" });
          step(lane, { pending: -100 });
        }
        const state = await stateOf(lane, holdId);
        if (capture.__typename === "HoldCaptured") {
          expect(state.hold).toMatchObject({ status: "CAPTURED", capturedAmount: "100", voidedAmount: "0", remainingAmount: "0" });
          expect(kindsOf(state.hold)).toEqual(["CAPTURE", "CAPTURE", "HOLD", "HOLD"]);
        } else {
          expect(state.hold).toMatchObject({ status: "VOIDED", capturedAmount: "0", voidedAmount: "100", remainingAmount: "0" });
          expect(kindsOf(state.hold)).toEqual(["HOLD", "HOLD", "RELEASE", "RELEASE"]);
        }
        expect(state.hold.closedAt).not.toBeNull();
        expectBalances(lane, state);
      });
      expect(winners.captured + winners.voided).toBe(repetitions);
    },
    raceTimeout,
  );

  describe("capture racing expiry", () => {
    // A tenant's clock only moves forward, so each lane has its own tenant and freezes it
    // forward from one repetition to the next: each hold expires 60 s after the current instant.
    const lanes: Lane[] = [];

    beforeAll(async () => {
      for (let l = 0; l < laneCount; l++) lanes.push(await newLane(await service.newTenant(`race-expiry-${l}`)));
    });

    async function holdExpiringIn60s(lane: Lane) {
      const now = await tenantNow(service.db, lane.tenant.id);
      // A whole millisecond, written as the API writes instants, so freezing at this string is exact.
      const expiresAt = iso(new Date(now.getTime() + 60_000));
      const hold = await holdOf100(lane, { expiresInSeconds: undefined, expiresAt });
      expect(hold.expiresAt).toBe(expiresAt);
      return { holdId: hold.id, expiresAt };
    }

    it(
      "at now == expiresAt the hold is expired: capture (and void) get HoldExpired and it is released exactly once",
      async () => {
        await repeat(lanes, async (lane, index) => {
          const { holdId, expiresAt } = await holdExpiringIn60s(lane);
          await freezeClock(service.db.pool, lane.tenant.id, expiresAt);
          // Every third repetition a void joins the race too.
          const withVoid = index % 3 === 0;
          const [capture, , voided] = await Promise.all([
            captureHold(lane.tenant, holdId),
            runExpiryJob(service.db.pool),
            withVoid ? voidHold(lane.tenant, holdId) : Promise.resolve(undefined),
          ]);
          expect(capture).toMatchObject({ code: "HoldExpired", holdId, expiresAt });
          if (withVoid) expect(voided).toMatchObject({ code: "HoldExpired", holdId, expiresAt });
          step(lane, { pending: -100 });
          const state = await stateOf(lane, holdId);
          expect(state.hold).toMatchObject({
            status: "EXPIRED",
            capturedAmount: "0",
            voidedAmount: "0",
            expiredAmount: "100",
            remainingAmount: "0",
          });
          expect(state.hold.closedAt).not.toBeNull();
          // Released exactly once: one RELEASE entry per leg (and one version each, checked below).
          expect(kindsOf(state.hold)).toEqual(["HOLD", "HOLD", "RELEASE", "RELEASE"]);
          expectBalances(lane, state);
        });
      },
      raceTimeout,
    );

    it(
      "1 ms before expiresAt the capture wins and the expiry job releases nothing of the hold",
      async () => {
        await repeat(lanes, async (lane) => {
          const { holdId, expiresAt } = await holdExpiringIn60s(lane);
          await freezeClock(service.db.pool, lane.tenant.id, new Date(Date.parse(expiresAt) - 1));
          const [capture] = await Promise.all([captureHold(lane.tenant, holdId), runExpiryJob(service.db.pool)]);
          expect(capture).toMatchObject({ __typename: "HoldCaptured", hold: { id: holdId, status: "CAPTURED", capturedAmount: "100" } });
          step(lane, { posted: 100, pending: -100 });
          // The job runs across all tenants, so its count says nothing about this hold; the hold's
          // own entries and the accounts' versions do.
          const state = await stateOf(lane, holdId);
          expect(state.hold).toMatchObject({
            status: "CAPTURED",
            capturedAmount: "100",
            voidedAmount: "0",
            expiredAmount: "0",
            remainingAmount: "0",
          });
          expect(kindsOf(state.hold)).toEqual(["CAPTURE", "CAPTURE", "HOLD", "HOLD"]);
          expectBalances(lane, state);
          // From expiresAt on there is still nothing to release: the job must leave the captured hold alone.
          await freezeClock(service.db.pool, lane.tenant.id, expiresAt);
          await runExpiryJob(service.db.pool);
          const later = await stateOf(lane, holdId);
          expect(kindsOf(later.hold)).toEqual(["CAPTURE", "CAPTURE", "HOLD", "HOLD"]);
          expectBalances(lane, later);
        });
      },
      raceTimeout,
    );
  });

  it(
    "two partial captures that together exceed the hold: one is captured, the other gets CaptureExceedsRemaining",
    async () => {
      const lanes = await newLanes("race-partial-captures");
      await repeat(lanes, async (lane) => {
        const { id: holdId } = await holdOf100(lane);
        const results = await Promise.all([
          captureHold(lane.tenant, holdId, { amount: "60" }),
          captureHold(lane.tenant, holdId, { amount: "60" }),
        ]);
        expect(results.filter((result) => result.__typename === "HoldCaptured")).toHaveLength(1);
        expect(results.filter((result) => result.__typename !== "HoldCaptured")).toEqual([
          expect.objectContaining({ code: "CaptureExceedsRemaining", holdId, remaining: "40", requested: "60" }),
        ]);
        // 60 posted; the other 40 stays reserved by the still open hold.
        step(lane, { posted: 60, pending: -60 });
        const state = await stateOf(lane, holdId);
        expect(state.hold).toMatchObject({
          status: "OPEN",
          capturedAmount: "60",
          remainingAmount: "40",
          voidedAmount: "0",
          expiredAmount: "0",
        });
        expect(kindsOf(state.hold)).toEqual(["CAPTURE", "CAPTURE", "HOLD", "HOLD"]);
        expectBalances(lane, state);
      });
    },
    raceTimeout,
  );

  it(
    "two reversals that together exceed the original: one is reversed, the other gets ReversalExceedsRemaining",
    async () => {
      const lanes = await newLanes("race-reversals");
      await repeat(lanes, async (lane) => {
        const original = await transferBetween(lane.tenant, lane.customer.id, lane.merchant.id, "100");
        assertResult(original, "TransferPosted");
        step(lane, { posted: 100 });
        const transferId = original.transfer.id;
        const results = await Promise.all([
          reverseTransfer(lane.tenant, transferId, { amount: "60" }),
          reverseTransfer(lane.tenant, transferId, { amount: "60" }),
        ]);
        const reversed = results.filter((result) => result.__typename === "TransferReversed");
        expect(reversed).toHaveLength(1);
        expect(reversed[0]?.transfer.reverses?.id).toBe(transferId);
        expect(results.filter((result) => result.__typename !== "TransferReversed")).toEqual([
          expect.objectContaining({ code: "ReversalExceedsRemaining", transferId, remaining: "40", requested: "60" }),
        ]);
        step(lane, { posted: -60 });
        const data = await lane.tenant.gql(`query($id: ID!) { transfer(id: $id) { reversedBy { id } } }`, { id: transferId });
        expect(data.transfer.reversedBy).toEqual([{ id: reversed[0]?.transfer.id }]);
        expectBalances(lane, await stateOf(lane));
      });
    },
    raceTimeout,
  );

  it(
    "20 concurrent captures of 10 on a hold of 100: exactly 10 succeed and the hold ends CAPTURED",
    async () => {
      const lane = await newLane(await service.newTenant("race-many-captures"));
      const { id: holdId } = await holdOf100(lane);
      const results = await Promise.all(Array.from({ length: 20 }, () => captureHold(lane.tenant, holdId, { amount: "10" })));
      expect(results.filter((result) => result.__typename === "HoldCaptured")).toHaveLength(10);
      // Once nothing remains the hold is CAPTURED, so every loser finds it closed.
      expect(results.filter((result) => result.__typename !== "HoldCaptured")).toEqual(
        Array.from({ length: 10 }, () => expect.objectContaining({ code: "HoldNotOpen", holdId, status: "CAPTURED" })),
      );
      for (let capture = 0; capture < 10; capture++) step(lane, { posted: 10, pending: -10 });
      const state = await stateOf(lane, holdId);
      expect(state.hold).toMatchObject({ status: "CAPTURED", capturedAmount: "100", remainingAmount: "0" });
      expect(state.hold.closedAt).not.toBeNull();
      expect(kindsOf(state.hold).filter((kind) => kind === "CAPTURE")).toHaveLength(20);
      expectBalances(lane, state);
    },
    raceTimeout,
  );
});

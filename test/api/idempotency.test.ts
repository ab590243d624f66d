import { describe, expect, it } from "vitest";
import {
  assertResult,
  balanceOf,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  key,
  postTransferMutation,
  postTransfersMutation,
  reverseTransfer,
} from "../support/ledger-client.js";
import { ledgerState } from "../support/ledger-state.js";
import { useFundedTenant, useTestService } from "../support/service.js";
import type { TransferInput } from "../generated/operations.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "idempotency");

const post = async (input: TransferInput) => (await tenant.gql(postTransferMutation, { input })).postTransfer;

describe("idempotency keys", () => {
  it("a retry with the same key and request returns the original transfer, marked as a replay", async () => {
    const a = await createAccount(tenant);
    const input = { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "300", currency: "USD" };
    const first = expectResult(await post(input), "TransferPosted");
    await post({ idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "1", currency: "USD" });
    const retry = expectResult(await post(input), "TransferPosted");
    expect(first.replay).toBe(false);
    expect(retry.replay).toBe(true);
    expect(retry.transfer).toEqual(first.transfer);
    // The balances are those right after the original, not the current ones.
    expect(retry.balances).toEqual(first.balances);
    expect((await balanceOf(tenant, a.id)).posted).toBe("301");
  });

  it("the same key with a different request answers IdempotencyConflict and changes nothing", async () => {
    const a = await createAccount(tenant);
    const idempotencyKey = key();
    await post({ idempotencyKey, from: { id: funding.id }, to: { id: a.id }, amount: "300", currency: "USD" });
    const conflict = await post({ idempotencyKey, from: { id: funding.id }, to: { id: a.id }, amount: "301", currency: "USD" });
    expect(conflict).toMatchObject({ __typename: "IdempotencyConflict", code: "IdempotencyConflict", idempotencyKey });
    expect((await balanceOf(tenant, a.id)).posted).toBe("300");
  });

  it("an earlier business rejection is replayed even after the funds arrive", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const input = { idempotencyKey: key(), from: { id: a.id }, to: { id: b.id }, amount: "50", currency: "USD" };
    const first = await post(input);
    expect(first).toMatchObject({ __typename: "InsufficientFunds", replay: false });
    await post({ idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" });
    const retry = await post(input);
    expect(retry).toMatchObject({ __typename: "InsufficientFunds", replay: true, available: "0" });
    expect((await balanceOf(tenant, b.id)).posted).toBe("0");
  });

  it("keys are scoped to the tenant", async () => {
    const other = await service.newTenant("other");
    const otherFunding = await createFundingAccount(other);
    const otherAccount = await createAccount(other);
    const a = await createAccount(tenant);
    const shared = key();
    const mine = await post({ idempotencyKey: shared, from: { id: funding.id }, to: { id: a.id }, amount: "1", currency: "USD" });
    const theirs = (
      await other.gql(postTransferMutation, {
        input: { idempotencyKey: shared, from: { id: otherFunding.id }, to: { id: otherAccount.id }, amount: "2", currency: "USD" },
      })
    ).postTransfer;
    expect(mine.__typename).toBe("TransferPosted");
    assertResult(theirs, "TransferPosted");
    expect(theirs.replay).toBe(false);
  });

  it("a transfer posted in a batch is recognised when retried alone", async () => {
    const a = await createAccount(tenant);
    const item = { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "7", currency: "USD" };
    const batch = await tenant.gql(postTransfersMutation, { input: { atomic: false, transfers: [item] } });
    const retry = expectResult(await post(item), "TransferPosted");
    expect(retry.replay).toBe(true);
    expect(batch.postTransfers).toMatchObject({ results: [{ transfer: { id: retry.transfer.id } }] });
  });

  it("retrying an atomic batch that failed replays the rejection and frees the aborted keys", async () => {
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    const good = { idempotencyKey: key(), from: { id: funding.id }, to: { id: a.id }, amount: "10", currency: "USD" };
    const bad = { idempotencyKey: key(), from: { id: b.id }, to: { id: a.id }, amount: "10", currency: "USD" };
    const first = await tenant.gql(postTransfersMutation, { input: { atomic: true, transfers: [good, bad] } });
    expect(expectResult(first.postTransfers, "TransfersPosted").results.map((r) => r.__typename)).toEqual([
      "BatchAborted",
      "InsufficientFunds",
    ]);
    const retry = await tenant.gql(postTransfersMutation, { input: { atomic: true, transfers: [good, bad] } });
    expect(expectResult(retry.postTransfers, "TransfersPosted").results[1]).toMatchObject({
      __typename: "InsufficientFunds",
      replay: true,
    });
    // The good item's key was released: on its own it posts now.
    const alone = await post(good);
    expect(alone).toMatchObject({ __typename: "TransferPosted", replay: false });
  });

  it("createAccount is idempotent too", async () => {
    const mutation = `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on AccountCreated { replay account { id } } ... on Problem { code } } }`;
    const input = { idempotencyKey: key(), code: key("code"), name: "n", currency: "USD", normalSide: "CREDIT" };
    const first = (await tenant.gql(mutation, { input })).createAccount;
    const retry = (await tenant.gql(mutation, { input })).createAccount;
    expect(retry).toEqual({ ...first, replay: true });
    const conflict = (await tenant.gql(mutation, { input: { ...input, name: "other" } })).createAccount;
    expect(conflict).toEqual({ __typename: "IdempotencyConflict", code: "IdempotencyConflict" });
  });
});

describe("externalRef is part of the request", () => {
  const refOf = (externalRef: string | undefined) => (externalRef === undefined ? {} : { externalRef });

  it.each<[string, string | undefined, string | undefined]>([
    ["changed", "ch_1", "ch_2"],
    ["added", undefined, "ch_1"],
    ["left out", "ch_1", undefined],
  ])(
    "the same key with the externalRef %s is IdempotencyConflict for every write that takes one, and writes nothing",
    async (_, first, second) => {
      const a = await createAccount(tenant);
      const legs = { from: { id: funding.id }, to: { id: a.id }, amount: "100", currency: "USD" };
      const hold = expectResult(await createHold(tenant, legs), "HoldCreated");
      const charge = expectResult(await post({ idempotencyKey: key(), ...legs }), "TransferPosted");
      const writes: [string, (idempotencyKey: string, externalRef: string | undefined) => Promise<any>][] = [
        ["postTransfer", (idempotencyKey, ref) => post({ idempotencyKey, ...legs, ...refOf(ref) })],
        [
          "postTransfers",
          async (idempotencyKey, ref) =>
            expectResult(
              (
                await tenant.gql(postTransfersMutation, {
                  input: { atomic: true, transfers: [{ idempotencyKey, ...legs, ...refOf(ref) }] },
                })
              ).postTransfers,
              "TransfersPosted",
            ).results[0],
        ],
        ["createHold", (idempotencyKey, ref) => createHold(tenant, { idempotencyKey, ...legs, ...refOf(ref) })],
        ["captureHold", (idempotencyKey, ref) => captureHold(tenant, hold.hold.id, { idempotencyKey, amount: "10", ...refOf(ref) })],
        [
          "reverseTransfer",
          (idempotencyKey, ref) => reverseTransfer(tenant, charge.transfer.id, { idempotencyKey, amount: "10", ...refOf(ref) }),
        ],
      ];
      for (const [operation, write] of writes) {
        const idempotencyKey = key(operation);
        const original = await write(idempotencyKey, first);
        expect(original.replay, operation).toBe(false);
        const before = await ledgerState(service.db.pool, tenant.id);
        expect(await write(idempotencyKey, second), operation).toMatchObject({ __typename: "IdempotencyConflict", idempotencyKey });
        expect(await ledgerState(service.db.pool, tenant.id), operation).toEqual(before);
        // The original request is still answered from the key.
        expect(await write(idempotencyKey, first), operation).toMatchObject({ __typename: original.__typename, replay: true });
      }
    },
  );
});

describe("idempotency storm", () => {
  it("50 concurrent identical requests with one key make exactly one transfer", async () => {
    const a = await createAccount(tenant);
    const input = { idempotencyKey: key("storm"), from: { id: funding.id }, to: { id: a.id }, amount: "999", currency: "USD" };
    const responses = await Promise.all(Array.from({ length: 50 }, () => tenant.request(postTransferMutation, { input })));
    for (const response of responses) expect(response.errors).toBeUndefined();
    const results = responses.map((r) => expectResult(r.data!.postTransfer, "TransferPosted"));
    expect(new Set(results.map((r) => r.transfer.id)).size).toBe(1);
    expect(results.filter((r) => !r.replay)).toHaveLength(1);
    const { rows } = await service.db.pool.query("SELECT count(*)::int AS n FROM transfers WHERE tenant_id = $1 AND idempotency_key = $2", [
      tenant.id,
      input.idempotencyKey,
    ]);
    expect(rows[0].n).toBe(1);
    expect((await balanceOf(tenant, a.id)).posted).toBe("999");
  });

  it("50 concurrent createAccount requests with one key make exactly one account", async () => {
    const mutation = `mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename ... on AccountCreated { replay account { id } } } }`;
    const input = { idempotencyKey: key("storm"), code: key("code"), name: "n", currency: "USD", normalSide: "CREDIT" };
    const responses = await Promise.all(Array.from({ length: 50 }, () => tenant.request(mutation, { input })));
    for (const response of responses) expect(response.errors).toBeUndefined();
    expect(new Set(responses.map((r) => r.data.createAccount.account.id)).size).toBe(1);
    expect(responses.filter((r) => !r.data.createAccount.replay)).toHaveLength(1);
  });
});

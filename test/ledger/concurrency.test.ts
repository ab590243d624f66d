// 32 clients post among 5 accounts for 5 seconds, rings included: with a careless lock order
// A->B, B->C and C->A deadlock. No internal error may reach a client, every acknowledged
// transfer must exist exactly once, and the invariants must hold.
import { beforeAll, expect, it } from "vitest";
import { checkInvariants } from "../support/invariants.js";
import {
  createAccount,
  createFundingAccount,
  expectResult,
  key,
  postTransferMutation,
  postTransfersMutation,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";

const service = useTestService();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await service.newTenant("concurrency");
});

const clients = 32;
const durationMs = 5000;

it("32 concurrent clients posting among 5 accounts, with rings, never see an internal error", async () => {
  const funding = await createFundingAccount(tenant);
  const accounts = await Promise.all(Array.from({ length: 5 }, () => createAccount(tenant)));
  for (const account of accounts) {
    const seeded = await tenant.gql(postTransferMutation, {
      input: { idempotencyKey: key(), from: { id: funding.id }, to: { id: account.id }, amount: "100000", currency: "USD" },
    });
    expect(seeded.postTransfer.__typename).toBe("TransferPosted");
  }
  const acknowledged: string[] = [];
  const rejected: Record<string, number> = {};
  const errors: unknown[] = [];
  const deadline = Date.now() + durationMs;

  async function client(index: number): Promise<void> {
    let step = 0;
    while (Date.now() < deadline) {
      step++;
      const ring = (index + step) % 5;
      const from = accounts[ring]!;
      const to = accounts[(ring + 1) % 5]!;
      const amount = String(1 + ((index * 7 + step) % 50));
      // Every fourth request is a three-leg ring through a batch, the rest two-leg transfers.
      const response =
        step % 4 === 0
          ? await tenant.request(postTransfersMutation, {
              input: {
                atomic: true,
                transfers: [0, 1, 2].map((offset) => ({
                  idempotencyKey: key(),
                  from: { id: accounts[(ring + offset) % 5]!.id },
                  to: { id: accounts[(ring + offset + 2) % 5]!.id },
                  amount,
                  currency: "USD",
                })),
              },
            })
          : await tenant.request(postTransferMutation, {
              input: { idempotencyKey: key(), from: { id: from.id }, to: { id: to.id }, amount, currency: "USD" },
            });
      if (response.errors || !response.data) {
        errors.push(response.errors ?? response);
        continue;
      }
      const results =
        "postTransfer" in response.data
          ? [response.data.postTransfer]
          : expectResult(response.data.postTransfers, "TransfersPosted").results;
      for (const result of results) {
        if (result.__typename === "TransferPosted") acknowledged.push(result.transfer.id);
        else rejected[result.__typename] = (rejected[result.__typename] ?? 0) + 1;
      }
    }
  }

  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  expect(errors).toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(100);
  // Only business outcomes may be rejections (overdrafts when a ring drains an account).
  expect(Object.keys(rejected).filter((code) => !["InsufficientFunds", "BatchAborted"].includes(code))).toEqual([]);
  expect(new Set(acknowledged).size).toBe(acknowledged.length);
  const { rows } = await service.db.pool.query("SELECT id FROM transfers WHERE id = ANY($1::uuid[])", [
    acknowledged.map((id) => id.slice(3)),
  ]);
  expect(rows.length).toBe(acknowledged.length);
  expect(await checkInvariants(service.db.pool)).toEqual([]);
}, 60_000);

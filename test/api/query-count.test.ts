// A history page costs a constant number of database queries however many rows it returns:
// DataLoaders batch the nested accounts and transfers.
import { beforeAll, expect, it } from "vitest";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";

const service = useTestService();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await service.newTenant("query-count");
});

const historyQuery = `query($id: ID!, $first: Int!) {
  account(id: $id) {
    balance { posted }
    entries(first: $first) {
      edges { node { amount account { code } balanceAfter { posted } transfer { description entries { amount account { code currency { code } } } } } }
    }
  }
}`;

/** Counts the statements the service sends to PostgreSQL while `work` runs. */
async function countQueries(work: () => Promise<unknown>): Promise<number> {
  const pool = service.db.pool;
  const original = pool.query;
  let count = 0;
  pool.query = ((...args: unknown[]) => {
    count++;
    return (original as (...a: unknown[]) => unknown).apply(pool, args);
  }) as typeof pool.query;
  try {
    await work();
  } finally {
    pool.query = original;
  }
  return count;
}

it("a history page of 3 rows and one of 60 rows cost the same number of queries", async () => {
  const funding = await createFundingAccount(tenant);
  const small = await createAccount(tenant);
  const large = await createAccount(tenant);
  for (let i = 0; i < 3; i++) await transferBetween(tenant, funding.id, small.id, "1");
  // The large page's entries come from many accounts and transfers, all to be batched.
  const others = await Promise.all(Array.from({ length: 6 }, () => createAccount(tenant, { minBalance: null })));
  for (let i = 0; i < 60; i++) {
    expect((await transferBetween(tenant, others[i % 6]!.id, large.id, "1")).__typename).toBe("TransferPosted");
  }

  const smallCount = await countQueries(async () => {
    const data = await tenant.gql(historyQuery, { id: small.id, first: 60 });
    expect(data.account.entries.edges).toHaveLength(3);
  });
  const largeCount = await countQueries(async () => {
    const data = await tenant.gql(historyQuery, { id: large.id, first: 60 });
    expect(data.account.entries.edges).toHaveLength(60);
  });
  expect(smallCount).toBeGreaterThan(0);
  expect(largeCount).toBe(smallCount);
});

// Server-side group commit (src/db/write-queue.ts in front of prisma/sql/engine.sql): concurrent
// writes share batches, and every request still gets exactly the answer it would get alone.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectDatabase, type Database } from "../../src/db/client.js";
import { assert } from "../../src/domain/assert.js";
import type { TransferWithEntries } from "../../src/ledger/records.js";
import { postTransfers, type BatchOutcome, type PostOutcome } from "../../src/ledger/transfers.js";
import { writeRetries } from "../../src/ops/metrics.js";
import type { TransferRequest } from "../../src/domain/transfer.js";
import { balanceOf, createAccount, expectResult, key, postTransfer, postTransferMutation } from "../support/ledger-client.js";
import { apiKeyAccess, useFundedTenant, useTestService } from "../support/service.js";

const service = useTestService();
const { tenant, funding } = useFundedTenant(service, "group commit");
/** One lane: batches run one at a time, each in the order its requests were sent. */
let oneLane: Database;

beforeAll(async () => {
  oneLane = connectDatabase(inject("databaseUrl"), 4, { lanes: 1, commandsPerBatchMax: 500 });
  // Test hooks on transfers, keyed by a description no other test uses: one that always fails
  // (a bug a constraint would catch) and one that deadlocks twice, then lets the insert through.
  await service.db.pool.query(`
    CREATE SEQUENCE IF NOT EXISTS test_flaky_seq;
    CREATE OR REPLACE FUNCTION test_transfer_hooks() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.description LIKE 'poison %' THEN RAISE EXCEPTION 'test: poisoned transfer'; END IF;
      IF NEW.description LIKE 'deadlock twice %' AND nextval('test_flaky_seq') % 3 <> 0 THEN
        RAISE EXCEPTION 'test: deadlock' USING ERRCODE = '40P01';
      END IF;
      RETURN NEW;
    END $$;
    CREATE OR REPLACE TRIGGER test_transfer_hooks BEFORE INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION test_transfer_hooks();`);
});

afterAll(async () => {
  await service.db.pool.query("DROP TRIGGER IF EXISTS test_transfer_hooks ON transfers; DROP FUNCTION IF EXISTS test_transfer_hooks()");
  await oneLane.close();
});

const transferTo = (to: string, amount: string, extra: Partial<TransferRequest> = {}): TransferRequest => ({
  idempotencyKey: key("gc"),
  from: { id: funding.id },
  to: { id: to },
  amount,
  currency: "USD",
  ...extra,
});

/** Sends every request before awaiting any: on one lane they share one batch, in this order. */
const together = (requests: { transfers: TransferRequest[]; atomic: boolean }[]) =>
  Promise.all(requests.map(({ transfers, atomic }) => postTransfers(oneLane, apiKeyAccess(tenant.id), transfers, atomic, service.limits)));

const only = (batch: BatchOutcome): PostOutcome => {
  assert(batch.ok, "the batch was taken");
  return batch.outcomes[0]!;
};

/** The transfer an outcome posted (failing the test when it posted none). */
const posted = (outcome: PostOutcome | undefined): TransferWithEntries => {
  if (!outcome?.ok) throw new Error(`expected a posted transfer, got ${outcome ? outcome.problem.code : "nothing"}`);
  return outcome.transfer;
};

describe("group commit", () => {
  it("groups concurrent HTTP requests into fewer batches than requests, each answered on its own", async () => {
    const accounts = await Promise.all(Array.from({ length: 8 }, () => createAccount(tenant)));
    const before = service.db.writes.stats();
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        postTransfer(tenant, { from: { id: funding.id }, to: { id: accounts[i % 8]!.id }, amount: String(i + 1), currency: "USD" }),
      ),
    );
    const after = service.db.writes.stats();
    const posted = results.map((r) => expectResult(r, "TransferPosted"));
    expect(new Set(posted.map((r) => r.transfer.id)).size).toBe(64);
    expect(after.commands - before.commands).toBe(64);
    expect(after.batches - before.batches).toBeLessThan(64);
    for (const [index, account] of accounts.entries()) {
      const expected = Array.from({ length: 8 }, (_, k) => BigInt(index + 1 + 8 * k)).reduce((a, b) => a + b, 0n);
      expect((await balanceOf(tenant, account.id)).posted).toBe(String(expected));
    }
  });

  it("one batch of replays, conflicts, rejections and a hot account answers as if each had come alone, in order", async () => {
    const hot = await createAccount(tenant);
    const spender = await createAccount(tenant);
    const shared = key("shared");
    const before = oneLane.writes.stats();
    const [first, replay, conflict, fund, overdraft, spend, later] = await together([
      { transfers: [transferTo(hot.id, "100", { idempotencyKey: shared })], atomic: true },
      { transfers: [transferTo(hot.id, "100", { idempotencyKey: shared })], atomic: true },
      { transfers: [transferTo(hot.id, "101", { idempotencyKey: shared })], atomic: true },
      { transfers: [transferTo(spender.id, "50")], atomic: true },
      // 60 from an account with 50: refused, and remembered under its key.
      {
        transfers: [{ idempotencyKey: key("over"), from: { id: spender.id }, to: { id: hot.id }, amount: "60", currency: "USD" }],
        atomic: true,
      },
      {
        transfers: [{ idempotencyKey: key("spend"), from: { id: spender.id }, to: { id: hot.id }, amount: "50", currency: "USD" }],
        atomic: true,
      },
      { transfers: [transferTo(hot.id, "7")], atomic: true },
    ]).then((batches) => batches.map(only));
    expect(oneLane.writes.stats().batches - before.batches).toBe(1);
    expect(first).toMatchObject({ ok: true, replay: false });
    expect(replay).toMatchObject({ ok: true, replay: true });
    expect(posted(replay).id).toBe(posted(first).id);
    expect(conflict).toMatchObject({ ok: false, problem: { code: "IdempotencyConflict" } });
    expect(fund).toMatchObject({ ok: true });
    expect(overdraft).toMatchObject({ ok: false, replay: false, problem: { code: "InsufficientFunds", available: "50", requested: "60" } });
    expect(spend).toMatchObject({ ok: true });
    expect(later).toMatchObject({ ok: true });
    // Versions in the order sent: the hot account's entries were 100, 50, 7.
    const hotEntries = [first, spend, later].map((o) => posted(o).entries.find((e) => e.accountId === hot.id.slice("acct_".length))!);
    expect(hotEntries.map((e) => [e.amount, e.accountVersion])).toEqual([
      [100n, 1n],
      [50n, 2n],
      [7n, 3n],
    ]);
    expect(await balanceOf(tenant, hot.id)).toMatchObject({ posted: "157", version: "3" });
    expect(await balanceOf(tenant, spender.id)).toMatchObject({ posted: "0", version: "2" });
  });

  it("an atomic postTransfers stays all-or-nothing inside a shared batch, and its neighbours stand", async () => {
    const target = await createAccount(tenant, { maxBalance: "10" });
    const other = await createAccount(tenant);
    const [alone, atomic, after] = await together([
      { transfers: [transferTo(other.id, "5")], atomic: true },
      { transfers: [transferTo(target.id, "6"), transferTo(target.id, "6")], atomic: true },
      { transfers: [transferTo(target.id, "4")], atomic: true },
    ]);
    expect(only(alone!)).toMatchObject({ ok: true });
    expect(atomic).toMatchObject({
      ok: true,
      outcomes: [
        { ok: false, problem: { code: "BatchAborted", failedIndex: 1 } },
        { ok: false, problem: { code: "BalanceLimitExceeded" } },
      ],
    });
    expect(only(after!)).toMatchObject({ ok: true });
    expect(await balanceOf(tenant, target.id)).toMatchObject({ posted: "4", version: "1" });
    expect(await balanceOf(tenant, other.id)).toMatchObject({ posted: "5", version: "1" });
  });

  it("a request that fails with an unexpected database error fails alone; its neighbours in the batch commit", async () => {
    const account = await createAccount(tenant);
    const before = oneLane.writes.stats();
    const requests = Array.from({ length: 9 }, (_, i) => ({
      transfers: [transferTo(account.id, "1", { description: i === 4 ? `poison ${randomUUID()}` : "" })],
      atomic: true,
    }));
    const settled = await Promise.allSettled(
      requests.map(({ transfers }) => postTransfers(oneLane, apiKeyAccess(tenant.id), transfers, true, service.limits)),
    );
    expect(settled.map((s) => s.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(String((settled[4] as PromiseRejectedResult).reason)).toContain("test: poisoned transfer");
    for (const [i, s] of settled.entries()) if (i !== 4) expect(only((s as PromiseFulfilledResult<any>).value)).toMatchObject({ ok: true });
    expect(oneLane.writes.stats().isolated - before.isolated).toBe(1);
    expect(await balanceOf(tenant, account.id)).toMatchObject({ posted: "8", version: "8" });
  });

  it("deadlocks are retried inside the service and never reach the client", async () => {
    const account = await createAccount(tenant);
    const before = service.db.writes.stats();
    const deadlockRetries = async () => (await writeRetries.get()).values.find((v) => v.labels.reason === "deadlock")?.value ?? 0;
    const countedBefore = await deadlockRetries();
    const result = await postTransfer(tenant, {
      description: `deadlock twice ${randomUUID()}`,
      from: { id: funding.id },
      to: { id: account.id },
      amount: "3",
      currency: "USD",
    });
    expect(result).toMatchObject({ __typename: "TransferPosted", replay: false });
    expect(service.db.writes.stats().retries - before.retries).toBeGreaterThanOrEqual(1);
    expect((await deadlockRetries()) - countedBefore).toBe(service.db.writes.stats().retries - before.retries);
    expect(await balanceOf(tenant, account.id)).toMatchObject({ posted: "3", version: "1" });
  });

  it("the same key sent 20 times at once through several lanes has one effect; the others are replays of it", async () => {
    const account = await createAccount(tenant);
    const idempotencyKey = key("storm");
    const input = { idempotencyKey, from: { id: funding.id }, to: { id: account.id }, amount: "9", currency: "USD" };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => tenant.gql(postTransferMutation, { input }).then((d) => d.postTransfer)),
    );
    const posted = answers.map((a) => expectResult(a, "TransferPosted"));
    expect(new Set(posted.map((a) => a.transfer.id)).size).toBe(1);
    expect(posted.filter((a) => !a.replay)).toHaveLength(1);
    expect(await balanceOf(tenant, account.id)).toMatchObject({ posted: "9", version: "1" });
  });
});

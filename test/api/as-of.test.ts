// As-of balances through GraphQL: the balance at T is the sum of the entries up to T, it never
// changes once answered (also while writers race the readers), and balanceHistory reports
// ended periods with the balance before each period's end. Expected values are summed straight
// from the entries table. Instants go both ways to the microsecond.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Instant, parseInstant } from "../../src/domain/instant.js";
import { advanceClock, freezeClock, tenantNow } from "../support/clock.js";
import {
  balanceFields,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  transferBetween,
  voidHold,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";

const service = useTestService();

type Balance = Record<
  "posted" | "pending" | "available" | "debitsPosted" | "creditsPosted" | "debitsPending" | "creditsPending" | "version",
  string
>;

const rawId = (accountId: string) => accountId.slice("acct_".length);

/** The balance of a CREDIT-normal account summed from its entries at or before (or strictly before) `at`. */
async function sumOfEntries(accountId: string, at: Date, strictlyBefore = false): Promise<Balance> {
  const { rows } = await service.db.pool.query(
    `SELECT count(*) AS n,
            coalesce(sum(amount) FILTER (WHERE kind IN ('POSTED', 'CAPTURE') AND direction = 'DEBIT'), 0) AS dp,
            coalesce(sum(amount) FILTER (WHERE kind IN ('POSTED', 'CAPTURE') AND direction = 'CREDIT'), 0) AS cp,
            coalesce(sum(CASE kind WHEN 'HOLD' THEN amount WHEN 'POSTED' THEN 0 ELSE -amount END) FILTER (WHERE direction = 'DEBIT'), 0) AS dq,
            coalesce(sum(CASE kind WHEN 'HOLD' THEN amount WHEN 'POSTED' THEN 0 ELSE -amount END) FILTER (WHERE direction = 'CREDIT'), 0) AS cq
     FROM entries WHERE account_id = $1 AND created_at ${strictlyBefore ? "<" : "<="} $2::timestamptz`,
    [rawId(accountId), at.toISOString()],
  );
  const [dp, cp, dq, cq] = ["dp", "cp", "dq", "cq"].map((k) => BigInt(rows[0][k]));
  return {
    posted: String(cp! - dp!),
    pending: String(cq! - dq!),
    available: String(cp! - dp! - dq!),
    debitsPosted: String(dp),
    creditsPosted: String(cp),
    debitsPending: String(dq),
    creditsPending: String(cq),
    version: String(rows[0].n),
  };
}

/** Entry instants of an account in fractional milliseconds (microsecond precision). */
async function entryInstants(accountId: string): Promise<number[]> {
  const { rows } = await service.db.pool.query(
    "SELECT extract(epoch FROM created_at)::numeric * 1000 AS ms FROM entries WHERE account_id = $1 ORDER BY account_version",
    [rawId(accountId)],
  );
  return rows.map((r) => Number(r.ms));
}

const asOfQuery = `query($id: ID!, $asOf: DateTime) { account(id: $id) { balance(asOf: $asOf) { ${balanceFields} } } }`;

async function balanceAsOf(tenant: TestTenant, accountId: string, at: Date): Promise<Balance> {
  const data = await tenant.gql(asOfQuery, { id: accountId, asOf: at.toISOString() });
  return data.account.balance;
}

describe("instants to the microsecond", () => {
  it("balance(asOf: an entry's own createdAt) includes the entry; one microsecond before excludes it", async () => {
    const tenant = await service.newTenant("as-of microseconds");
    const funding = await createFundingAccount(tenant);
    const account = (await createAccount(tenant)).id;
    await transferBetween(tenant, funding.id, account, "10");
    const second = expectResult(await transferBetween(tenant, funding.id, account, "20"), "TransferPosted");
    const createdAt: string = second.transfer.createdAt;
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // The very instant PostgreSQL stored, not one cut to the millisecond.
    const { rows } = await service.db.pool.query("SELECT created_at = $2::timestamptz AS same FROM transfers WHERE id = $1", [
      second.transfer.id.slice("tr_".length),
      createdAt,
    ]);
    expect(rows[0].same).toBe(true);
    const at = (text: string) => tenant.gql(asOfQuery, { id: account, asOf: text }).then((d) => d.account.balance);
    expect(await at(createdAt)).toMatchObject({ posted: "30", version: "2" });
    const oneMicroBefore = parseInstant(createdAt)!.epochMicros - 1n;
    expect(await at(Instant.ofEpochMicros(oneMicroBefore).toISOString())).toMatchObject({ posted: "10", version: "1" });
    // Entries carry it too, and so do the entry filters.
    const entries = await tenant.gql(
      `query($id: ID!, $from: DateTime) { account(id: $id) { entries(filter: { createdFrom: $from }) { nodes { amount createdAt } } } }`,
      { id: account, from: createdAt },
    );
    expect(entries.account.entries.nodes).toEqual([{ amount: "20", createdAt }]);
  });

  it("refuses an instant finer than a microsecond, or without a time zone, as a bad request", async () => {
    const tenant = await service.newTenant("as-of precision");
    const account = (await createAccount(tenant)).id;
    for (const text of ["2026-01-01T00:00:00.1234567Z", "2026-01-01T00:00:00", "2026-02-30T00:00:00Z", "yesterday"]) {
      const response = await tenant.request(asOfQuery, { id: account, asOf: text });
      expect(response.errors?.[0]?.message, text).toContain("DateTime must be an ISO 8601 instant");
    }
  });
});

/** A tenant with funding, a customer and a merchant, and a history of transfers and holds spread over time. */
async function withHistory() {
  const tenant = await service.newTenant("as-of");
  const funding = await createFundingAccount(tenant);
  const customer = await createAccount(tenant);
  const merchant = await createAccount(tenant);
  let holdId: string | null = null;
  for (let i = 0; i < 30; i++) {
    switch (i % 6) {
      case 0:
        await transferBetween(tenant, funding.id, customer.id, String(100 + i));
        break;
      case 1:
        await transferBetween(tenant, customer.id, merchant.id, String(10 + i));
        break;
      case 2:
        holdId = expectResult(
          await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "50", currency: "USD" }),
          "HoldCreated",
        ).hold.id;
        break;
      case 3:
        await captureHold(tenant, holdId!, { amount: "20" });
        break;
      case 4:
        await advanceClock(service.db.pool, tenant.id, 1000 + 137 * i);
        break;
      case 5:
        await voidHold(tenant, holdId!);
        break;
    }
  }
  return { tenant, funding, customer, merchant };
}

describe("as-of balances", () => {
  it("for random instants the balance as of T equals the sum of the entries up to T, and later reads of T answer the same", async () => {
    const { tenant, funding, customer, merchant } = await withHistory();
    const accounts = [customer.id, merchant.id];
    const instants = [...(await entryInstants(customer.id)), ...(await entryInstants(merchant.id))];
    const first = Math.floor(Math.min(...instants));
    const last = Math.ceil(Math.max(...instants));
    // So every T up to last + 1 ms lies in the tenant's past.
    await advanceClock(service.db.pool, tenant.id, 50);

    const answered = new Map<string, Balance>();
    const instantArb = fc.oneof(
      fc.integer({ min: first - 1, max: last + 1 }),
      // Right at (the millisecond of) an entry, and just after it.
      fc.constantFrom(...instants).chain((ms) => fc.constantFrom(Math.floor(ms), Math.ceil(ms))),
    );
    await fc.assert(
      fc.asyncProperty(instantArb, fc.constantFrom(0, 1), async (ms, which) => {
        const at = new Date(ms);
        const accountId = accounts[which]!;
        const balance = await balanceAsOf(tenant, accountId, at);
        expect(balance).toEqual(await sumOfEntries(accountId, at));
        answered.set(`${accountId} ${at.toISOString()}`, balance);
      }),
      { numRuns: 60 },
    );

    // More history after the instants asked about: the answers stay.
    for (let i = 0; i < 5; i++) {
      await transferBetween(tenant, funding.id, customer.id, "7");
      await transferBetween(tenant, customer.id, merchant.id, "3");
    }
    await createHold(tenant, { from: { id: customer.id }, to: { id: merchant.id }, amount: "5", currency: "USD" });
    for (const [asked, balance] of answered) {
      const [accountId, at] = asked.split(" ");
      expect(await balanceAsOf(tenant, accountId!, new Date(at!)), asked).toEqual(balance);
    }
  });

  it("as-of answers for a recent instant never change while writers post concurrently", async () => {
    const tenant = await service.newTenant("as-of race");
    const funding = await createFundingAccount(tenant);
    const a = await createAccount(tenant);
    const b = await createAccount(tenant);
    await transferBetween(tenant, funding.id, a.id, "1000000");

    let writing = true;
    const writes: Promise<void>[] = [];
    for (let w = 0; w < 8; w++) {
      writes.push(
        (async () => {
          for (let i = 0; writing; i++) {
            const [from, to] = [
              [funding.id, a.id],
              [a.id, b.id],
              [b.id, a.id],
            ][(w + i) % 3]!;
            await transferBetween(tenant, from!, to!, String(1 + ((w * 7 + i) % 10)));
          }
        })(),
      );
    }

    const recorded: { accountId: string; at: Date; balance: Balance }[] = [];
    const reads: Promise<void>[] = [];
    for (let r = 0; r < 3; r++) {
      reads.push(
        (async () => {
          for (let i = 0; writing; i++) {
            // A few milliseconds back from the tenant's now: writers may still be posting at it.
            const at = new Date((await tenantNow(service.db, tenant.id)).getTime() - 1 - ((r + i) % 5));
            const accountId = (r + i) % 2 === 0 ? a.id : b.id;
            recorded.push({ accountId, at, balance: await balanceAsOf(tenant, accountId, at) });
          }
        })(),
      );
    }
    // The loops run for about two seconds; nothing below depends on how long they ran.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    writing = false;
    await Promise.all([...writes, ...reads]);

    expect(recorded.length).toBeGreaterThan(0);
    for (const { accountId, at, balance } of recorded) {
      const where = `${accountId} as of ${at.toISOString()}`;
      expect(await balanceAsOf(tenant, accountId, at), where).toEqual(balance);
      expect(await sumOfEntries(accountId, at), where).toEqual(balance);
    }
  });

  it("an instant in the future, or the tenant's now itself, is refused with AS_OF_IN_FUTURE", async () => {
    const tenant = await service.newTenant("as-of future");
    const account = await createAccount(tenant);
    const now = await tenantNow(service.db, tenant.id);
    const future = await tenant.request(asOfQuery, { id: account.id, asOf: new Date(now.getTime() + 60_000).toISOString() });
    expect(future.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "AS_OF_IN_FUTURE" });

    // With the clock frozen, "now" is an exact instant: asOf must be earlier than it.
    const frozen = new Date(Math.ceil(now.getTime() / 1000) * 1000 + 1000);
    await freezeClock(service.db.pool, tenant.id, frozen);
    const atNow = await tenant.request(asOfQuery, { id: account.id, asOf: frozen.toISOString() });
    expect(atNow.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "AS_OF_IN_FUTURE" });
    const justBefore = await tenant.request(asOfQuery, { id: account.id, asOf: new Date(frozen.getTime() - 1).toISOString() });
    expect(justBefore.errors).toBeUndefined();
  });

  it("an instant before the account's first entry answers zeros and version 0", async () => {
    const tenant = await service.newTenant("as-of before");
    const funding = await createFundingAccount(tenant);
    const account = await createAccount(tenant);
    await advanceClock(service.db.pool, tenant.id, 10);
    await transferBetween(tenant, funding.id, account.id, "500");
    const [firstEntry] = await entryInstants(account.id);
    await advanceClock(service.db.pool, tenant.id, 10);
    const zeros = {
      posted: "0",
      pending: "0",
      available: "0",
      debitsPosted: "0",
      creditsPosted: "0",
      debitsPending: "0",
      creditsPending: "0",
      version: "0",
    };
    expect(await balanceAsOf(tenant, account.id, new Date(Math.floor(firstEntry!) - 1))).toEqual(zeros);
    expect(await balanceAsOf(tenant, account.id, new Date(Math.ceil(firstEntry!)))).toMatchObject({ posted: "500", version: "1" });
  });
});

describe("balance history", () => {
  it("reports only ended hours and days, each with the balance of the entries before its end", async () => {
    const tenant = await service.newTenant("history");
    const funding = await createFundingAccount(tenant);
    const account = await createAccount(tenant);
    const pool = service.db.pool;
    // Entries in several hours of one day, then on the next two days.
    for (const [i, gapMs] of [40, 40, 40, 40, 40, 24 * 60, 24 * 60].map((minutes) => minutes * 60_000).entries()) {
      await transferBetween(tenant, funding.id, account.id, String(100 + i));
      await transferBetween(tenant, funding.id, account.id, String(1 + i));
      await advanceClock(pool, tenant.id, gapMs);
    }
    const instants = await entryInstants(account.id);
    const from = new Date(Math.floor(instants[0]!));

    for (const [granularity, periodMs] of [
      ["HOUR", 3_600_000],
      ["DAY", 86_400_000],
    ] as const) {
      const before = await tenantNow(service.db, tenant.id);
      const data = await tenant.gql(
        `query($id: ID!, $from: DateTime!, $to: DateTime!, $g: Granularity!) {
          account(id: $id) { balanceHistory(from: $from, to: $to, granularity: $g) { periodStart periodEnd balance { ${balanceFields} } } } }`,
        { id: account.id, from: from.toISOString(), to: before.toISOString(), g: granularity },
      );
      const after = await tenantNow(service.db, tenant.id);
      const points: { periodStart: string; periodEnd: string; balance: Balance }[] = data.account.balanceHistory;
      const floor = (ms: number) => Math.floor(ms / periodMs) * periodMs;

      // From the period containing `from` up to the last one that had ended when asked.
      expect(points.length).toBeGreaterThan(1);
      expect(Date.parse(points[0]!.periodStart)).toBe(floor(from.getTime()));
      const lastEnd = Date.parse(points.at(-1)!.periodEnd);
      expect(lastEnd).toBeGreaterThanOrEqual(floor(before.getTime()));
      expect(lastEnd).toBeLessThanOrEqual(floor(after.getTime()));
      for (const [i, point] of points.entries()) {
        const end = new Date(point.periodEnd);
        expect(end.getTime() - Date.parse(point.periodStart)).toBe(periodMs);
        if (i > 0) expect(point.periodStart).toBe(points[i - 1]!.periodEnd);
        expect(point.balance, `${granularity} ending ${point.periodEnd}`).toEqual(await sumOfEntries(account.id, end, true));
        // The same as asking as of the last millisecond of the period (when no entry falls inside it).
        if (!instants.some((ms) => ms >= end.getTime() - 1 && ms < end.getTime())) {
          expect(await balanceAsOf(tenant, account.id, new Date(end.getTime() - 1))).toEqual(point.balance);
        }
      }
      // The entries spread over several periods, so the history shows the balance moving.
      expect(new Set(points.map((p) => p.balance.posted)).size).toBeGreaterThan(1);
    }
  });
});

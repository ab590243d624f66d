// History through the GraphQL API: entry and transfer filters, hold listings, what entries link
// to, and the argument checks of balanceHistory. Each filter must return exactly the expected items.
import { beforeAll, describe, expect, it } from "vitest";
import { advanceClock, freezeClock, tenantNow } from "../support/clock.js";
import {
  assertResult,
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  postTransfer,
  voidHold,
} from "../support/ledger-client.js";
import { type TestTenant, useTestService } from "../support/service.js";
import { iso } from "../support/instants.js";

const service = useTestService();
const hour = 3600_000;
const day = 24 * hour;
const at = (base: number, ms: number) => iso(new Date(base + ms));

/** Midnight UTC two days after the tenant's now: a frozen clock may start there. */
async function aheadMidnight(tenant: TestTenant): Promise<number> {
  const now = await tenantNow(service.db, tenant.id);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2);
}

/**
 * One tenant; alice's history, one change an hour from T0 (frozen clock):
 * v1 +1h POSTED CREDIT 1000 (from funding, metadata channel web, order o1/eu)
 * v2 +2h POSTED DEBIT 200 (to bob, channel pos)    v3 +3h POSTED DEBIT 50 (to bob, channel web, order o2/us)
 * v4 +4h HOLD DEBIT 300 (toward bob)               v5 +5h CAPTURE DEBIT 100 (capture metadata channel capture)
 * v6 +6h RELEASE DEBIT 200 (void)                  v7 +7h POSTED CREDIT 20 (from bob, no metadata)
 */
const world = {} as {
  tenant: TestTenant;
  T0: number;
  alice: string;
  bob: string;
  tr: Record<"t1" | "t2" | "t3" | "t5" | "t7", string>;
  holdId: string;
};

beforeAll(async () => {
  const tenant = await service.newTenant("history");
  const T0 = await aheadMidnight(tenant);
  const pool = service.db.pool;
  await freezeClock(pool, tenant.id, at(T0, 0));
  const funding = await createFundingAccount(tenant);
  const alice = (await createAccount(tenant)).id;
  const bob = (await createAccount(tenant)).id;
  const post = async (ms: number, from: string, to: string, amount: string, metadata?: Record<string, unknown>) => {
    await freezeClock(pool, tenant.id, at(T0, ms));
    const result = await postTransfer(tenant, { from: { id: from }, to: { id: to }, amount, currency: "USD", metadata });
    assertResult(result, "TransferPosted");
    return result.transfer.id as string;
  };
  const t1 = await post(1 * hour, funding.id, alice, "1000", { channel: "web", order: { id: "o1", region: "eu" } });
  const t2 = await post(2 * hour, alice, bob, "200", { channel: "pos" });
  const t3 = await post(3 * hour, alice, bob, "50", { channel: "web", order: { id: "o2", region: "us" } });
  await freezeClock(pool, tenant.id, at(T0, 4 * hour));
  const { hold } = expectResult(
    await createHold(tenant, {
      from: { id: alice },
      to: { id: bob },
      amount: "300",
      currency: "USD",
      expiresInSeconds: 86400,
    }),
    "HoldCreated",
  );
  await freezeClock(pool, tenant.id, at(T0, 5 * hour));
  const capture = await captureHold(tenant, hold.id, { amount: "100", metadata: { channel: "capture" } });
  assertResult(capture, "HoldCaptured");
  await freezeClock(pool, tenant.id, at(T0, 6 * hour));
  expect((await voidHold(tenant, hold.id)).__typename).toBe("HoldVoided");
  const t7 = await post(7 * hour, bob, alice, "20");
  await freezeClock(pool, tenant.id, at(T0, 8 * hour));
  Object.assign(world, { tenant, T0, alice, bob, holdId: hold.id, tr: { t1, t2, t3, t5: capture.transfer.id, t7 } });
});

const entriesQuery = `query($id: ID!, $filter: EntryFilter, $first: Int) { account(id: $id) {
  entries(filter: $filter, first: $first) { nodes { kind direction amount } } } }`;

/** alice's entries under `filter`, newest first, as "KIND DIRECTION amount". */
async function aliceEntries(filter: Record<string, unknown>): Promise<string[]> {
  const data = await world.tenant.gql(entriesQuery, { id: world.alice, filter, first: 50 });
  return data.account.entries.nodes.map((e: { kind: string; direction: string; amount: string }) => `${e.kind} ${e.direction} ${e.amount}`);
}

const transfersQuery = `query($filter: TransferFilter) { transfers(filter: $filter, first: 50) { nodes { id } } }`;

async function transferIds(filter: Record<string, unknown>): Promise<string[]> {
  const data = await world.tenant.gql(transfersQuery, { filter });
  return data.transfers.nodes.map((t: { id: string }) => t.id);
}

/** The extensions of the single GraphQL error a query must answer (without the development stack trace). */
async function errorOf(tenant: TestTenant, query: string, variables: Record<string, unknown>) {
  const response = await tenant.request(query, variables);
  expect(response.errors).toHaveLength(1);
  const { stacktrace: _, ...extensions } = response.errors![0]!.extensions ?? {};
  return extensions;
}

describe("Account.entries filters", () => {
  it("with no filter every change of the account is listed, newest first", async () => {
    expect(await aliceEntries({})).toEqual([
      "POSTED CREDIT 20",
      "RELEASE DEBIT 200",
      "CAPTURE DEBIT 100",
      "HOLD DEBIT 300",
      "POSTED DEBIT 50",
      "POSTED DEBIT 200",
      "POSTED CREDIT 1000",
    ]);
  });

  it("createdFrom is inclusive and createdTo exclusive", async () => {
    const { T0 } = world;
    expect(await aliceEntries({ createdFrom: at(T0, 2 * hour), createdTo: at(T0, 5 * hour) })).toEqual([
      "HOLD DEBIT 300",
      "POSTED DEBIT 50",
      "POSTED DEBIT 200",
    ]);
    expect(await aliceEntries({ createdFrom: at(T0, 6 * hour) })).toEqual(["POSTED CREDIT 20", "RELEASE DEBIT 200"]);
    expect(await aliceEntries({ createdTo: at(T0, 2 * hour + 1) })).toEqual(["POSTED DEBIT 200", "POSTED CREDIT 1000"]);
  });

  it("amountMin and amountMax bound the entry's amount, both inclusive", async () => {
    expect(await aliceEntries({ amountMin: "100", amountMax: "300" })).toEqual([
      "RELEASE DEBIT 200",
      "CAPTURE DEBIT 100",
      "HOLD DEBIT 300",
      "POSTED DEBIT 200",
    ]);
    expect(await aliceEntries({ amountMax: "50" })).toEqual(["POSTED CREDIT 20", "POSTED DEBIT 50"]);
    expect(await aliceEntries({ amountMin: "1000", amountMax: "1000" })).toEqual(["POSTED CREDIT 1000"]);
  });

  it("direction keeps the entries on that side", async () => {
    expect(await aliceEntries({ direction: "CREDIT" })).toEqual(["POSTED CREDIT 20", "POSTED CREDIT 1000"]);
    expect(await aliceEntries({ direction: "DEBIT" })).toHaveLength(5);
  });

  it("kinds keeps the entries of those kinds", async () => {
    expect(await aliceEntries({ kinds: ["HOLD", "RELEASE"] })).toEqual(["RELEASE DEBIT 200", "HOLD DEBIT 300"]);
    expect(await aliceEntries({ kinds: ["CAPTURE"] })).toEqual(["CAPTURE DEBIT 100"]);
    expect(await aliceEntries({ kinds: ["POSTED"] })).toEqual([
      "POSTED CREDIT 20",
      "POSTED DEBIT 50",
      "POSTED DEBIT 200",
      "POSTED CREDIT 1000",
    ]);
  });

  it("transferMetadata keeps entries whose transfer's metadata contains the object, nested objects included", async () => {
    expect(await aliceEntries({ transferMetadata: { channel: "web" } })).toEqual(["POSTED DEBIT 50", "POSTED CREDIT 1000"]);
    expect(await aliceEntries({ transferMetadata: { order: { region: "us" } } })).toEqual(["POSTED DEBIT 50"]);
    expect(await aliceEntries({ transferMetadata: { order: { id: "o1", region: "eu" }, channel: "web" } })).toEqual(["POSTED CREDIT 1000"]);
    expect(await aliceEntries({ transferMetadata: { order: { id: "o1", region: "us" } } })).toEqual([]);
    expect(await aliceEntries({ transferMetadata: { channel: "capture" } })).toEqual(["CAPTURE DEBIT 100"]);
  });

  it("filters combine with AND", async () => {
    expect(await aliceEntries({ direction: "DEBIT", kinds: ["POSTED"], amountMin: "100" })).toEqual(["POSTED DEBIT 200"]);
    expect(await aliceEntries({ direction: "DEBIT", createdFrom: at(world.T0, 3 * hour), amountMax: "250" })).toEqual([
      "RELEASE DEBIT 200",
      "CAPTURE DEBIT 100",
      "POSTED DEBIT 50",
    ]);
  });

  it("inverted or empty ranges and an empty kinds list are BAD_USER_INPUT errors", async () => {
    const { tenant, alice, T0 } = world;
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { createdFrom: at(T0, 5 * hour), createdTo: at(T0, 2 * hour) },
        { reason: "BOUNDS_INVERTED", field: "filter.createdFrom" },
      ],
      [{ createdFrom: at(T0, 5 * hour), createdTo: at(T0, 5 * hour) }, { reason: "BOUNDS_INVERTED" }],
      [
        { amountMin: "301", amountMax: "300" },
        { reason: "BOUNDS_INVERTED", field: "filter.amountMin" },
      ],
      [{ kinds: [] }, { reason: "EMPTY", field: "filter.kinds" }],
    ];
    for (const [filter, extensions] of cases) {
      expect(await errorOf(tenant, entriesQuery, { id: alice, filter })).toMatchObject({ code: "BAD_USER_INPUT", ...extensions });
    }
  });
});

describe("Query.transfers filters", () => {
  it("accountId alone lists the transfers with an entry on the account, newest first", async () => {
    const { tr, alice } = world;
    expect(await transferIds({ accountId: alice })).toEqual([tr.t7, tr.t5, tr.t3, tr.t2, tr.t1]);
  });

  it("with accountId, amount and direction apply to the entry on that account", async () => {
    const { tr, alice, bob } = world;
    expect(await transferIds({ accountId: alice, direction: "DEBIT" })).toEqual([tr.t5, tr.t3, tr.t2]);
    expect(await transferIds({ accountId: alice, amountMin: "100" })).toEqual([tr.t5, tr.t2, tr.t1]);
    expect(await transferIds({ accountId: alice, amountMax: "100" })).toEqual([tr.t7, tr.t5, tr.t3]);
    expect(await transferIds({ accountId: bob, direction: "CREDIT", amountMax: "100" })).toEqual([tr.t5, tr.t3]);
    expect(await transferIds({ accountId: bob, direction: "DEBIT" })).toEqual([tr.t7]);
  });

  it("metadata keeps transfers whose metadata contains the object, nested objects included", async () => {
    const { tr, bob } = world;
    expect(await transferIds({ metadata: { channel: "web" } })).toEqual([tr.t3, tr.t1]);
    expect(await transferIds({ metadata: { order: { region: "eu" } } })).toEqual([tr.t1]);
    expect(await transferIds({ metadata: { order: { region: "eu" } }, accountId: bob })).toEqual([]);
    expect(await transferIds({ metadata: { channel: "nowhere" } })).toEqual([]);
  });

  it("createdFrom is inclusive and createdTo exclusive", async () => {
    const { tr, T0 } = world;
    expect(await transferIds({ createdFrom: at(T0, 3 * hour), createdTo: at(T0, 7 * hour) })).toEqual([tr.t5, tr.t3]);
    expect(await transferIds({ createdFrom: at(T0, 7 * hour) })).toEqual([tr.t7]);
  });

  it("direction or an amount without accountId is UNSUPPORTED_FILTER, never an empty page", async () => {
    for (const filter of [
      { direction: "DEBIT" },
      { amountMin: "1" },
      { amountMax: "1" },
      { metadata: { channel: "web" }, direction: "CREDIT" },
    ]) {
      expect(await errorOf(world.tenant, transfersQuery, { filter })).toMatchObject({
        code: "BAD_USER_INPUT",
        reason: "UNSUPPORTED_FILTER",
      });
    }
  });

  it("inverted ranges are BOUNDS_INVERTED", async () => {
    const { tenant, alice, T0 } = world;
    for (const filter of [
      { createdFrom: at(T0, 2 * hour), createdTo: at(T0, hour) },
      { accountId: alice, amountMin: "10", amountMax: "9" },
    ]) {
      expect(await errorOf(tenant, transfersQuery, { filter })).toMatchObject({ code: "BAD_USER_INPUT", reason: "BOUNDS_INVERTED" });
    }
  });
});

describe("entries link to their transfer and hold", () => {
  it("HOLD and RELEASE entries name the hold only, CAPTURE both, POSTED the transfer only", async () => {
    const data = await world.tenant.gql(
      `query($id: ID!) { account(id: $id) { entries(first: 50) {
      nodes { kind amount transfer { id } hold { id } } } } }`,
      { id: world.alice },
    );
    const { holdId, tr } = world;
    expect(data.account.entries.nodes).toEqual([
      { kind: "POSTED", amount: "20", transfer: { id: tr.t7 }, hold: null },
      { kind: "RELEASE", amount: "200", transfer: null, hold: { id: holdId } },
      { kind: "CAPTURE", amount: "100", transfer: { id: tr.t5 }, hold: { id: holdId } },
      { kind: "HOLD", amount: "300", transfer: null, hold: { id: holdId } },
      { kind: "POSTED", amount: "50", transfer: { id: tr.t3 }, hold: null },
      { kind: "POSTED", amount: "200", transfer: { id: tr.t2 }, hold: null },
      { kind: "POSTED", amount: "1000", transfer: { id: tr.t1 }, hold: null },
    ]);
  });

  it("a hold lists its legs, its captures and all its entries oldest first", async () => {
    const { tenant, alice, bob, holdId, tr } = world;
    const data = await tenant.gql(
      `query($id: ID!) { hold(id: $id) { status amount capturedAmount voidedAmount remainingAmount
      legs { account { id } direction amount } captures { id hold { id } } entries { kind account { id } direction amount } } }`,
      { id: holdId },
    );
    expect(data.hold).toEqual({
      status: "VOIDED",
      amount: "300",
      capturedAmount: "100",
      voidedAmount: "200",
      remainingAmount: "0",
      legs: [
        { account: { id: alice }, direction: "DEBIT", amount: "300" },
        { account: { id: bob }, direction: "CREDIT", amount: "300" },
      ],
      captures: [{ id: tr.t5, hold: { id: holdId } }],
      entries: [
        { kind: "HOLD", account: { id: alice }, direction: "DEBIT", amount: "300" },
        { kind: "HOLD", account: { id: bob }, direction: "CREDIT", amount: "300" },
        { kind: "CAPTURE", account: { id: alice }, direction: "DEBIT", amount: "100" },
        { kind: "CAPTURE", account: { id: bob }, direction: "CREDIT", amount: "100" },
        { kind: "RELEASE", account: { id: alice }, direction: "DEBIT", amount: "200" },
        { kind: "RELEASE", account: { id: bob }, direction: "CREDIT", amount: "200" },
      ],
    });
  });
});

describe("Account.holds, hold(id) and node(id)", () => {
  const holdsQuery = `query($id: ID!, $status: HoldStatus, $first: Int, $after: String) { account(id: $id) {
    holds(status: $status, first: $first, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } } } }`;

  /** A tenant whose payer has holds in every status: captured, voided, expired (not released), three open. */
  async function holdsWorld() {
    const tenant = await service.newTenant("holds-history");
    const funding = await createFundingAccount(tenant);
    const payer = (await createAccount(tenant)).id;
    const payee = (await createAccount(tenant)).id;
    await postTransfer(tenant, { from: { id: funding.id }, to: { id: payer }, amount: "1000", currency: "USD" });
    const hold = async (extra: Record<string, unknown> = {}) =>
      expectResult(
        await createHold(tenant, { from: { id: payer }, to: { id: payee }, amount: "10", currency: "USD", ...extra }),
        "HoldCreated",
      ).hold.id as string;
    const captured = await hold();
    await captureHold(tenant, captured);
    const voided = await hold();
    await voidHold(tenant, voided);
    const expired = await hold({ expiresInSeconds: 5 });
    await advanceClock(service.db.pool, tenant.id, 6000);
    const open = [await hold(), await hold(), await hold()];
    // A partial capture leaves a hold open.
    await captureHold(tenant, open[0]!, { amount: "4" });
    return { tenant, payer, payee, captured, voided, expired, open };
  }

  it("holds(status) lists the holds in that status newest first, and pages with after/endCursor", async () => {
    const w = await holdsWorld();
    const list = async (vars: Record<string, unknown>) => (await w.tenant.gql(holdsQuery, { id: w.payer, ...vars })).account.holds;
    const ids = (page: { nodes: { id: string }[] }) => page.nodes.map((n) => n.id);
    const [o1, o2, o3] = w.open;
    expect(ids(await list({}))).toEqual([o3, o2, o1, w.expired, w.voided, w.captured]);
    expect(ids(await list({ status: "CAPTURED" }))).toEqual([w.captured]);
    expect(ids(await list({ status: "VOIDED" }))).toEqual([w.voided]);
    expect((await list({ status: "EXPIRED" })).nodes).toEqual([{ id: w.expired, status: "EXPIRED" }]);
    const firstPage = await list({ status: "OPEN", first: 2 });
    expect(ids(firstPage)).toEqual([o3, o2]);
    expect(firstPage.pageInfo.hasNextPage).toBe(true);
    const secondPage = await list({ status: "OPEN", first: 2, after: firstPage.pageInfo.endCursor });
    expect(secondPage.nodes).toEqual([{ id: o1, status: "OPEN" }]);
    expect(secondPage.pageInfo.hasNextPage).toBe(false);
    // The payee's side of the same holds is listed too.
    expect(ids(await w.tenant.gql(holdsQuery, { id: w.payee, status: "OPEN" }).then((d) => d.account.holds))).toEqual([o3, o2, o1]);
  });

  it("hold(id) and node(id) find a hold; another tenant's hold id answers null", async () => {
    const w = await holdsWorld();
    const [partial] = w.open;
    const data = await w.tenant.gql(
      `query($id: ID!) { hold(id: $id) { id status amount capturedAmount remainingAmount }
      node(id: $id) { __typename id ... on Hold { status remainingAmount } } }`,
      { id: partial },
    );
    expect(data.hold).toEqual({ id: partial, status: "OPEN", amount: "10", capturedAmount: "4", remainingAmount: "6" });
    expect(data.node).toEqual({ __typename: "Hold", id: partial, status: "OPEN", remainingAmount: "6" });
    const stranger = await service.newTenant("stranger");
    const foreign = await stranger.gql(`query($id: ID!) { hold(id: $id) { id } node(id: $id) { id } }`, { id: partial });
    expect(foreign).toEqual({ hold: null, node: null });
  });
});

describe("balanceHistory arguments", () => {
  const historyQuery = `query($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!) { account(id: $id) {
    balanceHistory(from: $from, to: $to, granularity: $granularity) { periodStart periodEnd balance { posted } } } }`;

  /** A tenant whose account received 500 at T0 + 1h, with the clock frozen at T0 + 2 days. */
  async function historyWorld() {
    const tenant = await service.newTenant("balance-history");
    const T0 = await aheadMidnight(tenant);
    await freezeClock(service.db.pool, tenant.id, at(T0, hour));
    const funding = await createFundingAccount(tenant);
    const account = (await createAccount(tenant)).id;
    await postTransfer(tenant, { from: { id: funding.id }, to: { id: account }, amount: "500", currency: "USD" });
    await freezeClock(service.db.pool, tenant.id, at(T0, 2 * day));
    return { tenant, T0, account };
  }

  it("answers the balance at the end of each ended period", async () => {
    const { tenant, T0, account } = await historyWorld();
    const data = await tenant.gql(historyQuery, { id: account, from: at(T0, -day), to: at(T0, 3 * day), granularity: "DAY" });
    expect(data.account.balanceHistory).toEqual([
      { periodStart: at(T0, -day), periodEnd: at(T0, 0), balance: { posted: "0" } },
      { periodStart: at(T0, 0), periodEnd: at(T0, day), balance: { posted: "500" } },
      { periodStart: at(T0, day), periodEnd: at(T0, 2 * day), balance: { posted: "500" } },
    ]);
  });

  it("from after to is BAD_USER_INPUT with reason BOUNDS_INVERTED", async () => {
    const { tenant, T0, account } = await historyWorld();
    expect(await errorOf(tenant, historyQuery, { id: account, from: at(T0, day), to: at(T0, 0), granularity: "HOUR" })).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "BOUNDS_INVERTED",
      field: "from",
    });
  });

  it("more periods than limits.balanceHistoryPointsMax is BAD_USER_INPUT naming the limit; exactly that many is answered", async () => {
    const { tenant, T0, account } = await historyWorld();
    const max = service.limits.balanceHistoryPointsMax;
    expect((await tenant.gql(`{ limits { balanceHistoryPointsMax } }`)).limits.balanceHistoryPointsMax).toBe(max);
    expect(await errorOf(tenant, historyQuery, { id: account, from: at(T0, -max * hour), to: at(T0, 0), granularity: "HOUR" })).toEqual({
      code: "BAD_USER_INPUT",
      reason: "LimitExceeded",
      field: "balanceHistoryPointsMax",
    });
    const data = await tenant.gql(historyQuery, { id: account, from: at(T0, -max * hour), to: at(T0, -hour), granularity: "HOUR" });
    expect(data.account.balanceHistory).toHaveLength(max);
    expect(data.account.balanceHistory.at(-1)).toEqual({ periodStart: at(T0, -hour), periodEnd: at(T0, 0), balance: { posted: "0" } });
  });
});
